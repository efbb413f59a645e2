//! Spectral normalisation (Miyato et al. 2018, "Spectral Normalization for Generative
//! Adversarial Networks"): each weight is divided by an estimate of its largest singular
//! value, so every layer is 1-Lipschitz. The estimate is refined by one power iteration
//! per training forward pass; its left singular vector `weight_u` is kept as a buffer.

use tch::nn;
use tch::Tensor;

#[derive(Debug)]
pub struct NormalisedWeight {
    weight: Tensor,
    u: Tensor,
}

fn unit(x: Tensor) -> Tensor {
    let norm = x.norm() + 1e-12;
    x / norm
}

impl NormalisedWeight {
    pub fn new(p: &nn::Path, weight: Tensor) -> Self {
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
    pub fn get(&self, train: bool) -> Tensor {
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

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn power_iteration_finds_the_largest_singular_value() {
        let vs = nn::VarStore::new(Device::Cpu);
        let p = vs.root() / "0";
        let weight = NormalisedWeight::new(&p, nn::linear(&p, 6, 4, Default::default()).ws);
        tch::no_grad(|| {
            let values = Tensor::from_slice(&[3.0f32, 1.0, 0.5, 0.25]).diag(0);
            let mut w = weight.weight.shallow_clone();
            let _ = w.zero_();
            w.narrow(1, 0, 4).copy_(&values);
        });
        for _ in 0..30 {
            let _ = weight.get(true);
        }
        let normalised = weight.get(false);
        let (_, singular_values, _) = normalised.svd(true, false);
        let top = singular_values.double_value(&[0]);
        assert!((top - 1.0).abs() < 1e-4, "largest singular value after normalisation: {top}");
        let names: Vec<String> = vs.variables().into_keys().collect();
        assert!(names.contains(&"0.weight_u".to_string()), "{names:?}");
    }
}
