//! A `Translator` as a `Trainable`: its paired data, its two networks and pix2pix's step
//! (D on real and translated pairs, then G on the adversarial loss plus the weighted L1
//! distance to the targets).

use tch::{Device, Tensor};

use super::Translator;
use crate::error::Poll;
use crate::error::Result;
use crate::flat_params::FlatParams;
use crate::losses::{discriminator_loss, generator_loss};
use crate::shared_options::half_life_factor;
use crate::train::stats::Stats;
use crate::train::{BatchOf, Context, Optimised, StepPath, Trainable, TrainingData};

/// Inputs `[N, *in_shape]` and their targets `[N, *out_shape]`, checked and on the device.
pub struct Pairs {
    pub inputs: Tensor,
    pub targets: Tensor,
}

impl TrainingData for Pairs {
    type Batch = Pairs;

    fn sizes(&self) -> Vec<i64> {
        vec![self.inputs.size()[0]]
    }

    fn batch(&self, indices: &[Tensor]) -> Result<Pairs> {
        let rows = &indices[0];
        Ok(Pairs {
            inputs: self.inputs.f_index_select(0, rows)?,
            targets: self.targets.f_index_select(0, rows)?,
        })
    }
}

/// pix2pix's step; the critic iteration keeps the batch's translations for G's update.
#[derive(Default)]
struct Pix2Pix {
    kept: Option<(Pairs, Tensor)>,
}

impl StepPath<Translator> for Pix2Pix {
    fn discriminator_pass(
        &mut self,
        ctx: &mut Context<Translator>,
        real: &Pairs,
        _last: bool,
    ) -> Result<(Stats, Vec<Tensor>)> {
        let (model, config) = (ctx.model, &ctx.model.config);
        let outputs = model.generator.forward(&real.inputs, true, Some(&mut *ctx.streams));
        let discriminator = &model.discriminator;
        let real_logits = discriminator.forward(&real.inputs, &real.targets, true);
        let fake_logits = discriminator.forward(&real.inputs, &outputs.detach(), true);
        let parts = discriminator_loss(config.loss, &real_logits, &fake_logits);
        // Halved, as pix2pix does, to slow D against G.
        let loss = (&parts.real + &parts.fake) * 0.5;
        let stats = Stats::of(vec![
            ("loss/d", loss.shallow_clone()),
            ("loss/d/real", parts.real),
            ("loss/d/fake", parts.fake),
        ])?;
        let grad = discriminator.params().gradient(&loss)?;
        let pairs =
            Pairs { inputs: real.inputs.shallow_clone(), targets: real.targets.shallow_clone() };
        self.kept = Some((pairs, outputs));
        Ok((stats, vec![grad]))
    }

    fn generator_pass(&mut self, ctx: &mut Context<Translator>) -> Result<(Stats, Vec<Tensor>)> {
        let (real, outputs) = self.kept.take().expect("the critic iteration keeps its items");
        let (model, config) = (ctx.model, &ctx.model.config);
        let logits = model.discriminator.forward(&real.inputs, &outputs, true);
        let adversarial = generator_loss(config.loss, &logits, None);
        let l1 = (&outputs - &real.targets).abs().mean(None);
        let loss = &adversarial * config.adversarial_weight + &l1 * config.l1_weight;
        let stats = Stats::of(vec![("loss/g", adversarial), ("loss/g/l1", l1)])?;
        Ok((stats, vec![model.generator.params().gradient(&loss)?]))
    }
}

impl Trainable for Translator {
    type Data = Pairs;

    fn device(&self) -> Device {
        self.device
    }

    fn seed(&self) -> u64 {
        self.config.seed
    }

    fn networks(&self) -> Vec<Optimised<'_>> {
        let config = &self.config;
        Optimised::pair(
            self.discriminator.params(),
            self.generator.params(),
            (config.lr_d, config.lr_g),
            (config.betas_d, config.betas_g),
        )
    }

    fn params_mut(&mut self, index: usize) -> &mut FlatParams {
        match index {
            0 => self.discriminator.params_mut(),
            _ => self.generator.params_mut(),
        }
    }

    fn lr_factor(&self, step: i64) -> f64 {
        half_life_factor(self.config.lr_half_life, step)
    }

    fn step_path(&self) -> Box<dyn StepPath<Translator>> {
        Box::new(Pix2Pix::default())
    }

    fn fit_data(&mut self, inputs: &Tensor, targets: Option<&Tensor>, _: Poll) -> Result<Pairs> {
        self.step_batch(inputs, targets)
    }

    fn step_batch(&self, inputs: &Tensor, targets: Option<&Tensor>) -> Result<BatchOf<Self>> {
        let (inputs, targets) = self.check_pairs(inputs, targets)?;
        Ok(Pairs { inputs, targets })
    }

    fn generators_updated(&mut self, update: i64) {
        if let Some(ema) = self.ema.as_mut() {
            ema.update(&self.generator, update);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{NanPolicy, Trainer};
    use crate::translate::TranslatorConfig;
    use tch::Kind;

    /// pix2pix trains through the same skeleton: both networks move, and the step reports
    /// the L1 term beside the adversarial loss.
    #[test]
    fn pix2pix_steps_through_the_same_trainer() {
        let (translator, rng) =
            Translator::with_training_stream(TranslatorConfig::tiny(), Device::Cpu).unwrap();
        let mut trainer = Trainer::new(translator, rng);
        let before: Vec<Tensor> =
            trainer.model().networks().iter().map(|n| n.params.flat.copy()).collect();
        let x = Tensor::rand([4, 1, 16, 16], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let batch = trainer.model().step_batch(&x, Some(&(-&x))).unwrap();
        let stats = trainer.train_step(&[batch], NanPolicy::Raise).unwrap();
        assert!(stats.generator.get("loss/g/l1").is_some_and(|l1| l1 > 0.0));
        for (network, old) in trainer.model().networks().iter().zip(&before) {
            assert!(!network.params.flat.equal(old), "{} did not move", network.name);
        }
        let missing = trainer.model().step_batch(&x, None).err().map(|e| e.to_string());
        assert!(missing.unwrap_or_default().contains("target"));
    }
}
