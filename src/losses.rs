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

pub fn discriminator_loss(
    kind: LossKind,
    real_logits: &Tensor,
    fake_logits: &Tensor,
) -> DiscriminatorLoss {
    let (real, fake) = match kind {
        // -log sigmoid(r) - log(1 - sigmoid(f)), written with softplus for stability.
        LossKind::Bce => ((-real_logits).softplus().mean(None), fake_logits.softplus().mean(None)),
        LossKind::Lsgan => {
            ((real_logits - 1.0).square().mean(None) * 0.5, fake_logits.square().mean(None) * 0.5)
        }
        LossKind::Hinge => {
            ((-real_logits + 1.0).relu().mean(None), (fake_logits + 1.0).relu().mean(None))
        }
        LossKind::WganGp => (-real_logits.mean(None), fake_logits.mean(None)),
        LossKind::Relativistic => {
            let pairs = (fake_logits - real_logits).softplus().mean(None);
            (pairs.shallow_clone(), pairs.zeros_like())
        }
    };
    DiscriminatorLoss { real, fake }
}

/// G's loss on D's logits of its items. `real_logits`, of as many real items, are only
/// read by the relativistic loss, which needs them.
pub fn generator_loss(
    kind: LossKind,
    fake_logits: &Tensor,
    real_logits: Option<&Tensor>,
) -> Tensor {
    match kind {
        // Non-saturating: -log sigmoid(f).
        LossKind::Bce => (-fake_logits).softplus().mean(None),
        LossKind::Lsgan => (fake_logits - 1.0).square().mean(None) * 0.5,
        LossKind::Hinge | LossKind::WganGp => -fake_logits.mean(None),
        LossKind::Relativistic => {
            let real = real_logits.expect("the relativistic loss is given D's real logits");
            (real - fake_logits).softplus().mean(None)
        }
    }
}

/// One logit per item `[N]`: the mean over the positions of logits `[N, positions]`, where
/// D judges several; logits `[N]` as they are.
fn per_item(logits: &Tensor) -> Tensor {
    if logits.dim() == 1 {
        logits.shallow_clone()
    } else {
        logits.mean_dim(1, false, None)
    }
}

/// Top-k training (Sinha et al. 2020): the indices of the `k` fakes D rates most real.
pub fn strongest(fake_logits: &Tensor, k: i64) -> Tensor {
    per_item(&fake_logits.detach()).topk(k, 0, true, false).1
}

/// Losses with their gradients w.r.t. the logits in closed form, for steps that skip
/// autograd. `logits` `[2, G]` holds the real logits in row 0 and the fake ones in row 1;
/// returns the losses `[2]` (real, fake; as `discriminator_loss`) and d (real + fake) / d logits.
pub fn discriminator_loss_and_gradient(kind: LossKind, logits: &Tensor) -> (Tensor, Tensor) {
    let count = logits.size()[1] as f64;
    let per_row = |losses: Tensor| losses.mean_dim([1i64].as_slice(), false, None);
    // -1 for real, +1 for fake: the sign with which each logit enters its loss.
    let signs = Tensor::from_slice(&[-1.0f32, 1.0]).to_device(logits.device()).view([2, 1]);
    match kind {
        LossKind::Bce => {
            let signed = logits * &signs;
            (per_row(signed.softplus()), signed.sigmoid() * (signs / count))
        }
        LossKind::Lsgan => {
            let errors: Tensor = logits - (-&signs + 1.0) / 2.0; // targets 1 (real) and 0 (fake)
            (per_row(errors.square() * 0.5), errors / count)
        }
        LossKind::Hinge => {
            let margins = logits * &signs + 1.0;
            (per_row(margins.relu()), margins.gt(0.0).to_kind(logits.kind()) * (signs / count))
        }
        LossKind::WganGp => (per_row(logits * &signs), (signs / count).expand_as(logits)),
        LossKind::Relativistic => unreachable!("the fused step takes no relativistic loss"),
    }
}

/// `generator_loss` and its gradient w.r.t. `fake_logits` `[G]`, in closed form.
pub fn generator_loss_and_gradient(kind: LossKind, fake_logits: &Tensor) -> (Tensor, Tensor) {
    let count = fake_logits.size()[0] as f64;
    match kind {
        LossKind::Bce => {
            let negated = -fake_logits;
            (negated.softplus().mean(None), negated.sigmoid() / -count)
        }
        LossKind::Lsgan => {
            let errors = fake_logits - 1.0;
            (errors.square().mean(None) * 0.5, errors / count)
        }
        LossKind::Hinge | LossKind::WganGp => {
            (-fake_logits.mean(None), fake_logits.full_like(-1.0 / count))
        }
        LossKind::Relativistic => unreachable!("the fused step takes no relativistic loss"),
    }
}

/// Norms of d logits / d inputs, one per logit `[L]`: with PacGAN a logit judges a group
/// of inputs, and its gradient spans the group. The graph is kept so that penalties on the
/// norms train D.
fn input_gradient_norms(inputs: &Tensor, logits: &Tensor) -> Result<Tensor> {
    let logits = per_item(logits);
    let grads = Tensor::f_run_backward(&[logits.sum(None)], &[inputs], true, true)?;
    Ok(grads[0].reshape([logits.size()[0], -1]).norm_scalaropt_dim(2, [1i64].as_slice(), false))
}

/// Gulrajani et al. 2017: E[(||grad_x D(x)|| - 1)^2] at `mixed` points between real and
/// fake samples. `mixed` must require grad; the result stays differentiable w.r.t. D.
pub fn gradient_penalty(mixed: &Tensor, logits: &Tensor) -> Result<Tensor> {
    Ok((input_gradient_norms(mixed, logits)? - 1.0).square().mean(None))
}

/// Mescheder et al. 2018: E[||grad_x D(x)||^2] at `inputs` (requiring grad), without the
/// gamma / 2 factor. At real samples it is R1; at generated ones, R2.
pub fn r1_penalty(inputs: &Tensor, logits: &Tensor) -> Result<Tensor> {
    Ok(input_gradient_norms(inputs, logits)?.square().mean(None))
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
        let ls = generator_loss(LossKind::Lsgan, &fake, None);
        assert!((scalar(&ls) - 0.5 * (0.25 + 16.0) / 2.0).abs() < 1e-6);
        assert!((scalar(&generator_loss(LossKind::WganGp, &fake, None)) - 1.25).abs() < 1e-6);
        // Pairs (2, 0.5) and (-1, -3): D's loss softplus(f - r), G's the mirror.
        let paired = discriminator_loss(LossKind::Relativistic, &real, &fake);
        assert!((scalar(&paired.real) - (sp(-1.5) + sp(-2.0)) / 2.0).abs() < 1e-6);
        assert_eq!(scalar(&paired.fake), 0.0);
        let mirrored = generator_loss(LossKind::Relativistic, &fake, Some(&real));
        assert!((scalar(&mirrored) - (sp(1.5) + sp(2.0)) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn closed_form_gradients_match_autograd() {
        for kind in [LossKind::Bce, LossKind::Lsgan, LossKind::Hinge, LossKind::WganGp] {
            let logits = Tensor::from_slice(&[2.0f32, -1.0, 0.3, 0.5, -3.0, -0.7])
                .view([2, 3])
                .set_requires_grad(true);
            let parts = discriminator_loss(kind, &logits.get(0), &logits.get(1));
            let expected =
                Tensor::run_backward(&[&parts.real + &parts.fake], &[&logits], false, false)
                    .remove(0);
            let (losses, grad) = discriminator_loss_and_gradient(kind, &logits.detach());
            assert!((scalar(&losses.get(0)) - scalar(&parts.real)).abs() < 1e-6, "{kind:?}");
            assert!((scalar(&losses.get(1)) - scalar(&parts.fake)).abs() < 1e-6, "{kind:?}");
            assert!(
                grad.allclose(&expected, 1e-5, 1e-7, false),
                "{kind:?}: {grad:?} vs {expected:?}"
            );

            let fake = logits.get(1);
            let loss = generator_loss(kind, &fake, None);
            let expected =
                Tensor::run_backward(&[&loss], &[&logits], false, false).remove(0).get(1);
            let (value, grad) = generator_loss_and_gradient(kind, &fake.detach());
            assert!((scalar(&value) - scalar(&loss)).abs() < 1e-6, "{kind:?}");
            assert!(
                grad.allclose(&expected, 1e-5, 1e-7, false),
                "{kind:?}: {grad:?} vs {expected:?}"
            );
        }
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
