//! The step path for any GAN: losses built on autograd's graph, gradients by backward.

use tch::{Kind, Tensor};

use super::clusters;
use super::Batch;
use super::Gan;
use crate::augment::augment;
use crate::config::LossKind;
use crate::error::Result;
use crate::losses::{discriminator_loss, generator_loss, gradient_penalty, r1_penalty, strongest};
use crate::train::stats::Stats;
use crate::train::{Context, StepPath};

/// E[sign(D(real))] of a critic iteration, which adaptive augmentation holds at its target.
pub const REAL_SIGN: &str = "augment/real_sign";
/// How many real items (across replicas) `REAL_SIGN` averages over.
pub const AUGMENTED_ITEMS: &str = "augment/items";

/// What the last critic iteration keeps for G's update.
struct Kept {
    /// The generated items, with their graph, and their labels.
    fake: Tensor,
    labels: Option<Tensor>,
    /// The real batch, which the relativistic loss pairs G's items with.
    real: Batch,
}

#[derive(Default)]
pub struct Autograd {
    kept: Option<Kept>,
}

impl StepPath<Gan> for Autograd {
    fn discriminator_pass(
        &mut self,
        ctx: &mut Context<Gan>,
        real: &Batch,
        last: bool,
    ) -> Result<(Stats, Vec<Tensor>)> {
        let (gan, config) = (ctx.model, &ctx.model.config);
        let batch = real.images.size()[0];
        // Lazy regularisation: R1 and R2 on the same steps.
        let penalty_step = ctx.step % config.r1_every == 0;
        let r1_now = config.r1_gamma > 0.0 && penalty_step;
        let r2_now = config.r2_gamma > 0.0 && penalty_step;
        let z = ctx.streams.draw(batch, &[config.latent_dim], false);
        // A class each: the caller's kind, or a cluster drawn at its share apart from z.
        let drawn = match gan.code_shares() {
            Some(shares) => {
                Some(clusters::of_quantiles(&ctx.streams.draw(batch, &[], true), &shares))
            }
            None => {
                config.conditional().then(|| ctx.streams.draw_classes(batch, config.num_classes))
            }
        };
        let fake_labels = gan.conditioning(&z, drawn.as_ref());
        // Only the last generation is reused for G's update (PyTorch's DCGAN example does
        // the same); earlier ones need no graph.
        let generate = || gan.generator.forward(&z, fake_labels.as_ref(), true);
        let generated = if last { generate() } else { tch::no_grad(generate) };
        let fake_input = generated.detach().set_requires_grad(r2_now);
        let real_input = real.images.detach().set_requires_grad(r1_now);
        let p = gan.augment_probability();
        let augmented_real = augment(&real_input, &config.augment, p, ctx.streams);
        let augmented_fake = augment(&fake_input, &config.augment, p, ctx.streams);
        let real_logits =
            gan.discriminator.loss_logits(&augmented_real, real.labels.as_ref(), true);
        let fake_logits =
            gan.discriminator.loss_logits(&augmented_fake, fake_labels.as_ref(), true);
        let parts = discriminator_loss(config.loss, &real_logits, &fake_logits);
        let mut loss = &parts.real + &parts.fake;
        let mut logged = vec![];
        if config.uses_gradient_penalty() {
            let ones = vec![1; config.data_shape.len()];
            let alpha = ctx.streams.draw(batch, &ones, true);
            let mixed = (&real.images + (&fake_input - &real.images) * &alpha)
                .detach()
                .set_requires_grad(true);
            let augmented_mixed = augment(&mixed, &config.augment, p, ctx.streams);
            let logits = gan.discriminator.forward(&augmented_mixed, real.labels.as_ref(), true);
            let penalty = gradient_penalty(&mixed, &logits)?;
            loss = loss + &penalty * config.gp_weight;
            logged.push(("loss/d/gp", penalty));
        }
        if r1_now {
            let penalty = r1_penalty(&real_input, &real_logits)?;
            loss = loss + &penalty * (config.r1_gamma / 2.0 * config.r1_every as f64);
            logged.push(("loss/d/r1", penalty));
        }
        if r2_now {
            let penalty = r1_penalty(&fake_input, &fake_logits)?;
            loss = loss + &penalty * (config.r2_gamma / 2.0 * config.r1_every as f64);
            logged.push(("loss/d/r2", penalty));
        }
        let losses = [
            ("loss/d", loss.shallow_clone()),
            ("loss/d/real", parts.real),
            ("loss/d/fake", parts.fake),
        ];
        logged.splice(0..0, losses);
        let adaptive = gan.adaptive_augment.is_some();
        if adaptive {
            // Averaged across replicas like a gradient, so that every replica adjusts alike.
            let real_sign = real_logits.detach().sign().mean(Kind::Float);
            ctx.streams.sync_gradient(&real_sign)?;
            logged.push(("augment/p", real_sign.full_like(p)));
            logged.push((REAL_SIGN, real_sign));
        }
        let mut stats = Stats::of(logged)?;
        if adaptive {
            stats.note(AUGMENTED_ITEMS, (batch * ctx.streams.world_size()) as f64);
        }
        let grad = gan.discriminator.params().gradient(&loss)?;
        if last {
            let real = Batch {
                images: real.images.shallow_clone(),
                labels: real.labels.as_ref().map(Tensor::shallow_clone),
            };
            self.kept = Some(Kept { fake: generated, labels: fake_labels, real });
        }
        Ok((stats, vec![grad]))
    }

    fn generator_pass(&mut self, ctx: &mut Context<Gan>) -> Result<(Stats, Vec<Tensor>)> {
        let Kept { fake, labels, real } =
            self.kept.take().expect("the last critic iteration keeps its items");
        let (gan, config) = (ctx.model, &ctx.model.config);
        let p = gan.augment_probability();
        let augmented = augment(&fake, &config.augment, p, ctx.streams);
        let mut logits = gan.discriminator.loss_logits(&augmented, labels.as_ref(), true);
        // The relativistic loss pairs each item with a real one, judged by D as it is now.
        let mut real_logits = (config.loss == LossKind::Relativistic).then(|| {
            let augmented = augment(&real.images, &config.augment, p, ctx.streams);
            tch::no_grad(|| gan.discriminator.loss_logits(&augmented, real.labels.as_ref(), true))
        });
        if let Some(k) = config.top_k_count(logits.size()[0], ctx.step) {
            let strongest = strongest(&logits, k);
            logits = logits.f_index_select(0, &strongest)?;
            real_logits = real_logits.map(|r| r.f_index_select(0, &strongest)).transpose()?;
        }
        let loss = generator_loss(config.loss, &logits, real_logits.as_ref());
        let grad = gan.generator.params().gradient(&loss)?;
        Ok((Stats::of(vec![("loss/g", loss)])?, vec![grad]))
    }
}
