//! Adversarial losses as pure functions of discriminator logits, and the gradient
//! penalties on D's input gradients.

use tch::Tensor;

use crate::config::LossKind;
use crate::error::Result;

/// The discriminator's loss, split into its real and fake halves (for logging).
pub struct DiscriminatorLoss {
    pub real: Tensor,
    pub fake: Tensor,
}

pub fn discriminator_loss(kind: LossKind, real_logits: &Tensor, fake_logits: &Tensor) -> DiscriminatorLoss {
    let (real, fake) = match kind {
        // -log sigmoid(r) - log(1 - sigmoid(f)), written with softplus for stability.
        LossKind::Bce => ((-real_logits).softplus().mean(None), fake_logits.softplus().mean(None)),
        LossKind::Lsgan => (
            (real_logits - 1.0).square().mean(None) * 0.5,
            fake_logits.square().mean(None) * 0.5,
        ),
        LossKind::Hinge => ((-real_logits + 1.0).relu().mean(None), (fake_logits + 1.0).relu().mean(None)),
        LossKind::WganGp => (-real_logits.mean(None), fake_logits.mean(None)),
    };
    DiscriminatorLoss { real, fake }
}

pub fn generator_loss(kind: LossKind, fake_logits: &Tensor) -> Tensor {
    match kind {
        // Non-saturating: -log sigmoid(f).
        LossKind::Bce => (-fake_logits).softplus().mean(None),
        LossKind::Lsgan => (fake_logits - 1.0).square().mean(None) * 0.5,
        LossKind::Hinge | LossKind::WganGp => -fake_logits.mean(None),
    }
}

/// Norms of d logits / d inputs, one per logit `[L]`: with PacGAN a logit judges a group
/// of inputs, and its gradient spans the group. The graph is kept so that penalties on the
/// norms train D.
fn input_gradient_norms(inputs: &Tensor, logits: &Tensor) -> Result<Tensor> {
    let grads = Tensor::f_run_backward(&[logits.sum(None)], &[inputs], true, true)?;
    Ok(grads[0].reshape([logits.size()[0], -1]).norm_scalaropt_dim(2, [1i64].as_slice(), false))
}

/// Gulrajani et al. 2017: E[(||grad_x D(x)|| - 1)^2] at `mixed` points between real and
/// fake samples. `mixed` must require grad; the result stays differentiable w.r.t. D.
pub fn gradient_penalty(mixed: &Tensor, logits: &Tensor) -> Result<Tensor> {
    Ok((input_gradient_norms(mixed, logits)? - 1.0).square().mean(None))
}

/// Mescheder et al. 2018: E[||grad_x D(x)||^2] at real samples `real` (requiring grad),
/// without the gamma / 2 factor.
pub fn r1_penalty(real: &Tensor, logits: &Tensor) -> Result<Tensor> {
    Ok(input_gradient_norms(real, logits)?.square().mean(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(t: &Tensor) -> f64 {
        t.double_value(&[])
    }

    #[test]
    fn losses_match_their_formulas() {
        let real = Tensor::from_slice(&[2.0f32, -1.0]);
        let fake = Tensor::from_slice(&[0.5f32, -3.0]);
        let sp = |x: f64| (1.0 + x.exp()).ln();
        let bce = discriminator_loss(LossKind::Bce, &real, &fake);
        assert!((scalar(&bce.real) - (sp(-2.0) + sp(1.0)) / 2.0).abs() < 1e-6);
        assert!((scalar(&bce.fake) - (sp(0.5) + sp(-3.0)) / 2.0).abs() < 1e-6);
        let hinge = discriminator_loss(LossKind::Hinge, &real, &fake);
        assert!((scalar(&hinge.real) - (0.0 + 2.0) / 2.0).abs() < 1e-6);
        assert!((scalar(&hinge.fake) - (1.5 + 0.0) / 2.0).abs() < 1e-6);
        let ls = generator_loss(LossKind::Lsgan, &fake);
        assert!((scalar(&ls) - 0.5 * (0.25 + 16.0) / 2.0).abs() < 1e-6);
        assert!((scalar(&generator_loss(LossKind::WganGp, &fake)) - 1.25).abs() < 1e-6);
    }

    #[test]
    fn penalty_is_zero_for_unit_gradient() {
        // D(x) = x . w with |w| = 1 has gradient norm 1 everywhere.
        let w = Tensor::from_slice(&[0.6f32, 0.8]);
        let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).view([2, 2]).set_requires_grad(true);
        let logits = x.matmul(&w);
        assert!(scalar(&gradient_penalty(&x, &logits).unwrap()).abs() < 1e-10);
        let doubled = x.matmul(&(&w * 2.0));
        assert!((scalar(&gradient_penalty(&x, &doubled).unwrap()) - 1.0).abs() < 1e-5);
        assert!((scalar(&r1_penalty(&x, &doubled).unwrap()) - 4.0).abs() < 1e-5);
        // One logit for both rows (packing two samples): the gradient spans both.
        let packed = doubled.sum(None).view([1]);
        assert!((scalar(&r1_penalty(&x, &packed).unwrap()) - 8.0).abs() < 1e-5);
    }
}
