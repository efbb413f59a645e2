//! Training a `Translator`: its optimisers, step count, log window and random streams,
//! the fused pix2pix step (D on real and translated pairs, then G on the adversarial
//! loss plus the weighted L1 distance, then the EMA) and the `fit` loop over paired data.

use tch::{Device, Tensor};

use super::{Translator, TranslatorConfig};
use crate::error::Result;
use crate::losses::{discriminator_loss, generator_loss};
use crate::optim::Adam;
use crate::train::sampler::EpochSampler;
use crate::train::stats::{DiscriminatorStats, Record, StepStats, Window};
use crate::train::streams::Streams;
use crate::train::{scalars, FitLog, FitOptions, FitOutcome, NanPolicy};

pub struct TranslatorTrainer {
    pub model: Translator,
    pub g_optim: Adam,
    pub d_optim: Adam,
    /// Training steps done.
    pub step: i64,
    pub log_window: Window,
    pub streams: Streams,
}

impl TranslatorTrainer {
    pub fn new(config: TranslatorConfig, device: Device) -> Result<Self> {
        let (model, rng) = Translator::with_training_stream(config, device)?;
        let config = &model.config;
        let g_optim = Adam::new(&model.generator.params, config.lr_g, config.betas_g);
        let d_optim = Adam::new(&model.discriminator.params, config.lr_d, config.betas_d);
        let streams = Streams { rng, device, replica: None };
        Ok(TranslatorTrainer {
            model,
            g_optim,
            d_optim,
            step: 0,
            log_window: Window::default(),
            streams,
        })
    }

    /// One fused step on `inputs` `[B, *in_shape]` and `targets` `[B, *out_shape]`, on the
    /// model's device and checked.
    pub fn train_step(
        &mut self,
        inputs: &Tensor,
        targets: &Tensor,
        on_nan: NanPolicy,
    ) -> Result<StepStats> {
        let (model, config) = (&self.model, &self.model.config);
        let outputs = model.generator.forward(inputs, true, Some(&mut self.streams));
        let discriminator = &model.discriminator;
        let real_logits = discriminator.forward(inputs, targets, true);
        let fake_logits = discriminator.forward(inputs, &outputs.detach(), true);
        let parts = discriminator_loss(config.loss, &real_logits, &fake_logits);
        // Halved, as pix2pix does, to slow D against G.
        let d_loss = (&parts.real + &parts.fake) * 0.5;
        let values = scalars(&[d_loss.shallow_clone(), parts.real, parts.fake])?;
        let d_stats = DiscriminatorStats {
            total: values[0],
            real: values[1],
            fake: values[2],
            ..Default::default()
        };
        let step = self.step + 1;
        if !on_nan.check(step, "discriminator loss", &d_stats.values())? {
            return Ok(self.finish_step(d_stats, f64::NAN, None, true));
        }
        let grad = discriminator.params.gradient(&d_loss)?;
        self.streams.sync_gradient(&grad)?;
        self.d_optim.update(&mut self.model.discriminator.params, &grad);

        let model = &self.model;
        let adversarial =
            generator_loss(config.loss, &model.discriminator.forward(inputs, &outputs, true));
        let l1 = (&outputs - targets).abs().mean(None);
        let g_loss = &adversarial * config.adversarial_weight + &l1 * config.l1_weight;
        let values = scalars(&[adversarial, l1])?;
        let (adversarial, l1) = (values[0], values[1]);
        if !on_nan.check(step, "generator loss", &[adversarial, l1])? {
            return Ok(self.finish_step(d_stats, adversarial, Some(l1), true));
        }
        let grad = model.generator.params.gradient(&g_loss)?;
        self.streams.sync_gradient(&grad)?;
        self.g_optim.update(&mut self.model.generator.params, &grad);
        if let Some(ema) = self.model.ema.as_mut() {
            ema.update(&self.model.generator, self.step);
        }
        Ok(self.finish_step(d_stats, adversarial, Some(l1), false))
    }

    fn finish_step(
        &mut self,
        discriminator: DiscriminatorStats,
        generator: f64,
        l1: Option<f64>,
        skipped: bool,
    ) -> StepStats {
        self.step += 1;
        StepStats { discriminator, generator, l1, skipped }
    }

    /// Trains for `options.steps` steps on the pairs (`inputs[i]`, `targets[i]`), which
    /// stay resident on the device; batches are drawn as a GAN's `fit` draws them, so a
    /// resumed run sees the same batches. `monitor` is called as by `Trainer::fit`.
    pub fn fit(
        &mut self,
        inputs: &Tensor,
        targets: &Tensor,
        options: &FitOptions,
        mut monitor: impl FnMut(i64, Option<&Record>) -> Result<()>,
    ) -> Result<FitOutcome> {
        let (inputs, targets) = self.model.check_pairs(inputs, targets)?;
        let n = inputs.size()[0];
        options.check(n, self.streams.world_size(), 1)?;
        let global_batch = options.batch_size * self.streams.world_size();
        let mut sampler =
            EpochSampler::new(n, global_batch, self.model.config.seed, self.model.device);
        let mut log = FitLog::new(options.log_every);
        for done in 1..=options.steps {
            let global = sampler.indices(self.step as u64);
            let indices = self.streams.own_slice(global, options.batch_size);
            let x = inputs.f_index_select(0, &indices)?;
            let y = targets.f_index_select(0, &indices)?;
            let stats = self.train_step(&x, &y, options.on_nan)?;
            if log.stop_after(&stats, &mut self.log_window, self.step, done, &mut monitor)? {
                return Ok(log.outcome(true));
            }
        }
        Ok(log.outcome(false))
    }

    /// The record of the steps since the last one, if any.
    pub fn flush_log(&mut self) -> Option<Record> {
        (!self.log_window.is_empty()).then(|| self.log_window.take(self.step))
    }
}
