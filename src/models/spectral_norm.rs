//! Spectral normalisation (Miyato et al. 2018, "Spectral Normalization for Generative
//! Adversarial Networks"): each weight is divided by an estimate of its largest singular
//! value, so every layer is 1-Lipschitz. The estimate is refined by one power iteration
//! per training forward pass; its left singular vector `weight_u` is kept as a buffer.

use tch::nn::{self, ModuleT};
use tch::Tensor;

#[derive(Debug)]
struct NormalisedWeight {
    weight: Tensor,
    u: Tensor,
}

fn unit(x: Tensor) -> Tensor {
    let norm = x.norm() + 1e-12;
    x / norm
}

impl NormalisedWeight {
    fn new(p: &nn::Path, weight: Tensor) -> Self {
        let rows = weight.size()[0];
        // A fixed start keeps initialisation deterministic; power iteration only fails
        // from a start orthogonal to the top singular vector.
        let mut u = p.ones_no_train("weight_u", &[rows]);
        tch::no_grad(|| {
            let _ = u.g_div_scalar_((rows as f64).sqrt());
        });
        NormalisedWeight { weight, u }
    }

    /// W / sigma(W); gradients flow through W and sigma, not through the singular vectors.
    fn get(&self, train: bool) -> Tensor {
        let matrix = self.weight.flatten(1, -1); // [out, in * kernel * kernel]
        let (u, v) = tch::no_grad(|| {
            let v = unit(matrix.tr().mv(&self.u));
            if !train {
                return (self.u.shallow_clone(), v);
            }
            let u = unit(matrix.mv(&v));
            self.u.shallow_clone().copy_(&u);
            (u, v)
        });
        let sigma = u.dot(&matrix.mv(&v));
        &self.weight / sigma
    }
}

#[derive(Debug)]
pub struct Conv2d {
    weight: NormalisedWeight,
    bias: Option<Tensor>,
    stride: i64,
    padding: i64,
}

impl Conv2d {
    /// Normalises the weight of `conv` (built with `stride` and `padding`), whose
    /// variables live under `p`.
    pub fn new(p: &nn::Path, conv: nn::Conv2D, stride: i64, padding: i64) -> Self {
        Conv2d { weight: NormalisedWeight::new(p, conv.ws), bias: conv.bs, stride, padding }
    }
}

impl ModuleT for Conv2d {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        xs.conv2d(&self.weight.get(train), self.bias.as_ref(), [self.stride; 2], [self.padding; 2], [1; 2], 1)
    }
}

#[derive(Debug)]
pub struct Linear {
    weight: NormalisedWeight,
    bias: Option<Tensor>,
}

impl Linear {
    pub fn new(p: &nn::Path, linear: nn::Linear) -> Self {
        Linear { weight: NormalisedWeight::new(p, linear.ws), bias: linear.bs }
    }
}

impl ModuleT for Linear {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        xs.linear(&self.weight.get(train), self.bias.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn power_iteration_finds_the_largest_singular_value() {
        let vs = nn::VarStore::new(Device::Cpu);
        let p = vs.root() / "0";
        let linear = Linear::new(&p, nn::linear(&p, 6, 4, Default::default()));
        tch::no_grad(|| {
            let values = Tensor::from_slice(&[3.0f32, 1.0, 0.5, 0.25]).diag(0);
            let mut w = linear.weight.weight.shallow_clone();
            w.zero_();
            let _ = w.narrow(1, 0, 4).copy_(&values);
        });
        for _ in 0..30 {
            let _ = linear.forward_t(&Tensor::zeros([1, 6], (Kind::Float, Device::Cpu)), true);
        }
        let normalised = linear.weight.get(false);
        let (_, singular_values, _) = normalised.svd(true, false);
        let top = singular_values.double_value(&[0]);
        assert!((top - 1.0).abs() < 1e-4, "largest singular value after normalisation: {top}");
        let names: Vec<String> = vs.variables().into_keys().collect();
        assert!(names.contains(&"0.weight_u".to_string()), "{names:?}");
    }
}
