//! Adam (Kingma & Ba 2014) over all of a network's parameters at once, on their flat
//! buffer (`flat_params`).

use tch::Tensor;

use crate::flat_params::FlatParams;

/// Adam's state; the learning rate is the model's, handed to every update.
pub struct Adam {
    pub betas: (f64, f64),
    pub eps: f64,
    /// Number of updates applied; drives the bias correction.
    pub steps: i64,
    pub exp_avg: Tensor,
    pub exp_avg_sq: Tensor,
    /// Work space for the squared gradient and the denominator, reused every update:
    /// fresh buffers of this size cost page faults on every step.
    scratch: Tensor,
}

impl Adam {
    pub fn new(params: &FlatParams, betas: (f64, f64)) -> Self {
        Adam {
            betas,
            eps: 1e-8,
            steps: 0,
            exp_avg: params.flat.zeros_like(),
            exp_avg_sq: params.flat.zeros_like(),
            scratch: params.flat.zeros_like(),
        }
    }

    pub fn update(&mut self, params: &mut FlatParams, grad: &Tensor, lr: f64) {
        let (beta1, beta2) = self.betas;
        self.steps += 1;
        let correction1 = 1.0 - beta1.powi(self.steps as i32);
        let correction2 = 1.0 - beta2.powi(self.steps as i32);
        tch::no_grad(|| {
            let _ = self.exp_avg.lerp_(grad, 1.0 - beta1);
            let _ = self.exp_avg_sq.lerp_(&grad.mul_out(&self.scratch, grad), 1.0 - beta2);
            // p -= lr / c1 * m / (sqrt(v / c2) + eps), with the step size folded into the
            // denominator because addcdiv_ takes no scale here.
            let mut denom = self.exp_avg_sq.sqrt_out(&self.scratch);
            let _ = denom.g_mul_scalar_(-correction1 / (lr * correction2.sqrt()));
            let _ = denom.g_add_scalar_(-self.eps * correction1 / lr);
            let _ = params.flat.addcdiv_(&self.exp_avg, &denom);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::{self, OptimizerConfig};
    use tch::{Device, Kind};

    /// Compares with libtorch's own Adam on a tiny linear model.
    #[test]
    fn matches_libtorch_adam() {
        let build = |vs: &nn::VarStore| nn::linear(vs.root() / "fc", 3, 2, Default::default());
        tch::manual_seed(0);
        let vs_ref = nn::VarStore::new(Device::Cpu);
        let net_ref = build(&vs_ref);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = build(&vs);
        let mut vs_copy = vs;
        vs_copy.copy(&vs_ref).unwrap();
        let vs = vs_copy;
        let mut opt_ref = nn::Adam { beta1: 0.5, beta2: 0.999, wd: 0.0, eps: 1e-8, amsgrad: false }
            .build(&vs_ref, 0.01)
            .unwrap();
        let mut flat = FlatParams::new(&vs);
        let mut adam = Adam::new(&flat, (0.5, 0.999));
        let x = Tensor::randn([8, 3], (Kind::Float, Device::Cpu));
        for _ in 0..5 {
            let loss_ref = nn::Module::forward(&net_ref, &x).square().mean(None);
            opt_ref.backward_step(&loss_ref);
            let loss = nn::Module::forward(&net, &x).square().mean(None);
            let grad = flat.gradient(&loss).unwrap();
            adam.update(&mut flat, &grad, 0.01);
        }
        let diff = (&net.ws - &net_ref.ws).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "max difference {diff}");
    }
}
