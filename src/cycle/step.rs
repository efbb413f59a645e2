//! A `CycleGan` as a `Trainable`: two unpaired sets drawn independently, four networks,
//! and CycleGAN's step (both discriminators on real images and pooled translations, then
//! both generators on the adversarial, cycle and identity losses).

use tch::{Device, Tensor};

use super::{CycleGan, Direction, Half};
use crate::config::half_life_factor;
use crate::error::Poll;
use crate::error::{invalid, Result};
use crate::flat_params::{gradients, FlatParams};
use crate::losses::{discriminator_loss, generator_loss};
use crate::train::stats::Stats;
use crate::train::{BatchOf, Context, Optimised, Side, StepPath, Trainable, TrainingData};

/// Images of domain a `[N_a, *shape_a]` and of domain b `[N_b, *shape_b]`, unrelated
/// item by item; checked and on the device.
pub struct Unpaired {
    pub a: Tensor,
    pub b: Tensor,
}

impl TrainingData for Unpaired {
    type Batch = Unpaired;

    fn sizes(&self) -> Vec<i64> {
        vec![self.a.size()[0], self.b.size()[0]]
    }

    fn batch(&self, indices: &[Tensor]) -> Result<Unpaired> {
        Ok(Unpaired {
            a: self.a.f_index_select(0, &indices[0])?,
            b: self.b.f_index_select(0, &indices[1])?,
        })
    }
}

/// What the discriminators' pass keeps for the generators': the real batch and its
/// translations a→b and b→a, still attached to the generators' graphs.
struct Kept {
    real: Unpaired,
    fake_b: Tensor,
    fake_a: Tensor,
}

#[derive(Default)]
struct CycleStep {
    kept: Option<Kept>,
}

impl StepPath<CycleGan> for CycleStep {
    fn discriminator_pass(
        &mut self,
        ctx: &mut Context<CycleGan>,
        real: &Unpaired,
        _last: bool,
    ) -> Result<(Stats, Vec<Tensor>)> {
        let (model, config) = (ctx.model, &ctx.model.config);
        let (to_b, to_a) = (&model.a_to_b, &model.b_to_a);
        let fake_b = to_b.generator.forward(&real.a, true, Some(&mut *ctx.streams));
        let fake_a = to_a.generator.forward(&real.b, true, Some(&mut *ctx.streams));
        let mut losses = vec![];
        for (half, real, fake) in [(to_a, &real.a, &fake_a), (to_b, &real.b, &fake_b)] {
            let pooled = half
                .pool
                .lock()
                .expect("a step holds the pool alone")
                .query(fake, &mut *ctx.streams)?;
            let real_logits = half.discriminator.judge(real, true);
            let fake_logits = half.discriminator.judge(&pooled, true);
            losses.push(discriminator_loss(config.loss, &real_logits, &fake_logits));
        }
        // Halved, as CycleGAN does, to slow D against G; the two are independent.
        let real_loss = (&losses[0].real + &losses[1].real) * 0.5;
        let fake_loss = (&losses[0].fake + &losses[1].fake) * 0.5;
        let total = &real_loss + &fake_loss;
        let stats = Stats::of(vec![
            ("loss/d", total.shallow_clone()),
            ("loss/d/real", real_loss),
            ("loss/d/fake", fake_loss),
        ])?;
        let grads = gradients(&total, &[to_a.discriminator.params(), to_b.discriminator.params()])?;
        let real = Unpaired { a: real.a.shallow_clone(), b: real.b.shallow_clone() };
        self.kept = Some(Kept { real, fake_b, fake_a });
        Ok((stats, grads))
    }

    fn generator_pass(&mut self, ctx: &mut Context<CycleGan>) -> Result<(Stats, Vec<Tensor>)> {
        let Kept { real, fake_b, fake_a } =
            self.kept.take().expect("the critic pass keeps its items");
        let (model, config) = (ctx.model, &ctx.model.config);
        let (to_b, to_a) = (&model.a_to_b, &model.b_to_a);
        let judged = |half: &Half, fake: &Tensor| half.discriminator.judge(fake, true);
        let adversarial = generator_loss(config.loss, &judged(to_b, &fake_b), None)
            + generator_loss(config.loss, &judged(to_a, &fake_a), None);
        let distance = |x: &Tensor, y: &Tensor| (x - y).abs().mean(None);
        let streams = &mut *ctx.streams;
        let mut run = |half: &Half, x: &Tensor| half.generator.forward(x, true, Some(streams));
        let cycle = distance(&run(to_a, &fake_b), &real.a) + distance(&run(to_b, &fake_a), &real.b);
        let mut loss = &adversarial * config.adversarial_weight + &cycle * config.cycle_weight;
        let mut terms = vec![("loss/g", adversarial), ("loss/g/cycle", cycle)];
        if config.identity_weight > 0.0 {
            let identity =
                distance(&run(to_b, &real.b), &real.b) + distance(&run(to_a, &real.a), &real.a);
            loss = loss + &identity * config.identity_weight;
            terms.push(("loss/g/identity", identity));
        }
        let stats = Stats::of(terms)?;
        let grads = gradients(&loss, &[to_b.generator.params(), to_a.generator.params()])?;
        Ok((stats, grads))
    }
}

impl Trainable for CycleGan {
    type Data = Unpaired;

    fn device(&self) -> Device {
        self.device
    }

    fn seed(&self) -> u64 {
        self.config.seed
    }

    fn networks(&self) -> Vec<Optimised<'_>> {
        let config = &self.config;
        let network = |name, side, params, (lr, betas)| Optimised { name, side, params, lr, betas };
        let (d, g) = ((config.lr_d, config.betas_d), (config.lr_g, config.betas_g));
        vec![
            network("discriminator_a", Side::Discriminator, self.b_to_a.discriminator.params(), d),
            network("discriminator_b", Side::Discriminator, self.a_to_b.discriminator.params(), d),
            network("generator_ab", Side::Generator, self.a_to_b.generator.params(), g),
            network("generator_ba", Side::Generator, self.b_to_a.generator.params(), g),
        ]
    }

    fn params_mut(&mut self, index: usize) -> &mut FlatParams {
        match index {
            0 => self.b_to_a.discriminator.params_mut(),
            1 => self.a_to_b.discriminator.params_mut(),
            2 => self.a_to_b.generator.params_mut(),
            _ => self.b_to_a.generator.params_mut(),
        }
    }

    fn lr_factor(&self, step: i64) -> f64 {
        half_life_factor(self.config.lr_half_life, step)
    }

    fn step_path(&self) -> Box<dyn StepPath<CycleGan>> {
        Box::new(CycleStep::default())
    }

    fn fit_data(&mut self, a: &Tensor, b: Option<&Tensor>, _: Poll) -> Result<Unpaired> {
        self.step_batch(a, b)
    }

    fn step_batch(&self, a: &Tensor, b: Option<&Tensor>) -> Result<BatchOf<Self>> {
        let Some(b) = b else {
            return invalid("a CycleGAN trains on two sets: give images of domain b too");
        };
        Ok(Unpaired { a: self.checked(a, Direction::AToB)?, b: self.checked(b, Direction::BToA)? })
    }

    fn generators_updated(&mut self, update: i64) {
        for half in [&mut self.a_to_b, &mut self.b_to_a] {
            if let Some(ema) = half.ema.as_mut() {
                ema.update(&half.generator, update);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cycle::CycleConfig;
    use crate::train::{FitOptions, NanPolicy, Trainer};
    use tch::Kind;

    fn trainer(config: CycleConfig) -> Trainer<CycleGan> {
        let (model, rng) = CycleGan::with_training_stream(config, Device::Cpu).unwrap();
        Trainer::new(model, rng)
    }

    /// A step moves all four networks and reports the cycle and identity terms; sets of
    /// different sizes train together, and a missing set is named.
    #[test]
    fn cyclegan_steps_through_the_same_trainer() {
        let mut trainer = trainer(CycleConfig { ema: Some(0.9), ..CycleConfig::tiny() });
        let before: Vec<Tensor> =
            trainer.model().networks().iter().map(|n| n.params.flat.copy()).collect();
        let a = Tensor::rand([12, 1, 16, 16], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let b = Tensor::rand([7, 1, 16, 16], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let options =
            FitOptions { steps: 3, batch_size: 4, log_every: 1, on_nan: NanPolicy::Raise };
        let history = trainer.fit(&a, Some(&b), &options, |_, _| Ok(())).unwrap().history;
        let names: Vec<&str> = history[2].means.iter().map(|(name, _)| *name).collect();
        assert!(names.contains(&"loss/g/cycle") && names.contains(&"loss/g/identity"), "{names:?}");
        for (network, old) in trainer.model().networks().iter().zip(&before) {
            assert!(!network.params.flat.equal(old), "{} did not move", network.name);
        }
        let error = trainer.model().step_batch(&a, None).err().map(|e| e.to_string());
        assert!(error.unwrap_or_default().contains("domain b"));
    }
}
