//! Training: the `Trainer` owns a GAN's optimisers, step count, log window, replica and
//! random streams, and runs the fused training step (D update(s), G update, EMA) and the
//! `fit` loop over an in-memory data set. How a step computes its losses and gradients
//! is a `StepPath`: autograd, or the hand-differentiated MLP step.

mod autograd;
mod fused_mlp;
pub(crate) mod sampler;
pub mod stats;
pub mod streams;

use tch::{Device, Kind, Tensor};

use crate::clusters::Clusters;
use crate::config::GanConfig;
use crate::error::{invalid, Error, Result};
use crate::gan::Gan;
use crate::optim::Adam;
use crate::rng::Rng;
use sampler::EpochSampler;
use stats::{DiscriminatorStats, Record, StepStats, Window};
use streams::Streams;

/// What to do when a loss is NaN or infinite. Either way the bad update is not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NanPolicy {
    Raise,
    Skip,
}

impl NanPolicy {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "raise" => Ok(NanPolicy::Raise),
            "skip" => Ok(NanPolicy::Skip),
            other => invalid(format!("unknown on_nan '{other}': choose one of 'raise', 'skip'")),
        }
    }

    /// Whether step number `step` may apply its update: `Ok(true)` when the `values` of
    /// `what` are all finite, `Ok(false)` when they are not and the policy skips, else the
    /// error naming them.
    pub fn check(self, step: i64, what: &str, values: &[f64]) -> Result<bool> {
        if values.iter().all(|v| v.is_finite()) {
            return Ok(true);
        }
        match self {
            NanPolicy::Skip => Ok(false),
            NanPolicy::Raise => Err(Error::NonFinite {
                step,
                detail: format!(
                    "{what} = {values:?}; the update was not applied. Lower the learning rates, \
                     add a regulariser, or pass on_nan='skip'"
                ),
            }),
        }
    }
}

/// Real training items, with class labels `[B]` when the GAN is conditional.
pub struct Batch {
    pub images: Tensor,
    pub labels: Option<Tensor>,
}

pub struct FitOptions {
    pub steps: i64,
    pub batch_size: i64,
    pub log_every: i64,
    pub on_nan: NanPolicy,
}

impl FitOptions {
    /// Checks the options for training on `n` items in `world_size` processes, with batch
    /// sizes that must be multiples of `pac`.
    pub fn check(&self, n: i64, world_size: i64, pac: i64) -> Result<()> {
        if self.steps < 0 {
            return invalid(format!("steps must be >= 0, got {}", self.steps));
        }
        if self.batch_size < 1 || self.batch_size > n {
            return invalid(format!(
                "batch_size must lie in [1, {n}] (the data size), got {}",
                self.batch_size
            ));
        }
        if self.batch_size % pac != 0 {
            return invalid(format!(
                "batch_size {} must be a multiple of pac={pac}",
                self.batch_size
            ));
        }
        if self.log_every < 1 {
            return invalid(format!("log_every must be >= 1, got {}", self.log_every));
        }
        let global_batch = self.batch_size * world_size;
        if global_batch > n {
            return invalid(format!(
                "batch_size x processes = {global_batch} exceeds the data ({n} items)"
            ));
        }
        Ok(())
    }
}

/// The history of a `fit` call, and its calls of the monitor.
pub(crate) struct FitLog {
    log_every: i64,
    history: Vec<Record>,
}

impl FitLog {
    pub fn new(log_every: i64) -> Self {
        FitLog { log_every, history: vec![] }
    }

    /// Logs the `stats` of the step that made `step` steps in all and `done` in this call:
    /// a record when `step` is a multiple of `log_every`, then `monitor(done, record)`.
    /// `Ok(true)` when the monitor asks to stop.
    pub fn stop_after(
        &mut self,
        stats: &StepStats,
        window: &mut Window,
        step: i64,
        done: i64,
        monitor: &mut impl FnMut(i64, Option<&Record>) -> Result<()>,
    ) -> Result<bool> {
        window.add(stats);
        let record = (step % self.log_every == 0).then(|| window.take(step));
        if let Some(record) = &record {
            self.history.push(record.clone());
        }
        match monitor(done, record.as_ref()) {
            Ok(()) => Ok(false),
            Err(Error::Interrupted) => Ok(true),
            Err(e) => Err(e),
        }
    }

    pub fn outcome(self, interrupted: bool) -> FitOutcome {
        FitOutcome { history: self.history, interrupted }
    }
}

pub struct FitOutcome {
    /// One record per `log_every` steps.
    pub history: Vec<Record>,
    pub interrupted: bool,
}

/// What a step path may read and draw from.
pub(crate) struct Context<'a> {
    pub gan: &'a Gan,
    pub streams: &'a mut Streams,
    /// Steps done before this one.
    pub step: i64,
}

/// How a training step computes losses and gradients. The skeleton around it (finite
/// checks, gradient averaging across replicas, Adam, EMA, statistics) is `train_step`.
pub(crate) trait StepPath: Send {
    /// One critic iteration on `real` and freshly generated items: D's losses and the
    /// gradient of their sum w.r.t. D's flat parameters. On the `last` iteration the
    /// generated items are kept for `generator_pass`.
    fn discriminator_pass(
        &mut self,
        ctx: &mut Context,
        real: &Batch,
        last: bool,
    ) -> Result<(DiscriminatorStats, Tensor)>;

    /// G's loss on the items kept by the last critic iteration, and its gradient w.r.t.
    /// G's flat parameters.
    fn generator_pass(&mut self, ctx: &mut Context) -> Result<(f64, Tensor)>;
}

/// Mixed into the seed for the stream that finds a self-conditioned GAN's clusters.
const CLUSTER_STREAM: u64 = 0xC1_05_7E_25;

pub struct Trainer {
    pub gan: Gan,
    pub g_optim: Adam,
    pub d_optim: Adam,
    /// Training steps done.
    pub step: i64,
    /// Statistics of the steps since the last log record.
    pub log_window: Window,
    pub streams: Streams,
    path: Box<dyn StepPath>,
}

impl Trainer {
    pub fn new(config: GanConfig, device: Device) -> Result<Self> {
        let (gan, rng) = Gan::with_training_stream(config, device)?;
        let config = &gan.config;
        let g_optim = Adam::new(&gan.generator.params, config.lr_g, config.betas_g);
        let d_optim = Adam::new(&gan.discriminator.params, config.lr_d, config.betas_d);
        let path: Box<dyn StepPath> = match fused_mlp::FusedMlp::for_gan(&gan) {
            Some(fused) => Box::new(fused),
            None => Box::new(autograd::Autograd::default()),
        };
        let streams = Streams { rng, device: gan.device, replica: None };
        Ok(Trainer { gan, g_optim, d_optim, step: 0, log_window: Window::default(), streams, path })
    }

    fn check_finite(&self, what: &str, values: &[f64], on_nan: NanPolicy) -> Result<bool> {
        on_nan.check(self.step + 1, what, values)
    }

    /// One fused training step. Critic iteration `i` uses `real_batches[i % len]`; each
    /// batch holds images `[B, *data_shape]` on the GAN's device (and their labels when
    /// the GAN is conditional).
    pub fn train_step(&mut self, real_batches: &[Batch], on_nan: NanPolicy) -> Result<StepStats> {
        let batch = real_batches[0].images.size()[0];
        let pac = self.gan.config.pac;
        if batch % pac != 0 {
            return invalid(format!("batch size {batch} must be a multiple of pac={pac}"));
        }
        let n_critic = self.gan.config.n_critic as usize;
        let lr_factor = self.gan.config.lr_factor(self.step);
        self.d_optim.lr = self.gan.config.lr_d * lr_factor;
        self.g_optim.lr = self.gan.config.lr_g * lr_factor;
        let mut d_stats = DiscriminatorStats::default();
        for i in 0..n_critic {
            let mut ctx = Context { gan: &self.gan, streams: &mut self.streams, step: self.step };
            let (stats, grad) = self.path.discriminator_pass(
                &mut ctx,
                &real_batches[i % real_batches.len()],
                i + 1 == n_critic,
            )?;
            d_stats = stats;
            if !self.check_finite("discriminator loss", &d_stats.values(), on_nan)? {
                return Ok(self.finish_step(d_stats, f64::NAN, true));
            }
            self.streams.sync_gradient(&grad)?;
            self.d_optim.update(&mut self.gan.discriminator.params, &grad);
        }
        let mut ctx = Context { gan: &self.gan, streams: &mut self.streams, step: self.step };
        let (g_loss, grad) = self.path.generator_pass(&mut ctx)?;
        if !self.check_finite("generator loss", &[g_loss], on_nan)? {
            return Ok(self.finish_step(d_stats, g_loss, true));
        }
        self.streams.sync_gradient(&grad)?;
        self.g_optim.update(&mut self.gan.generator.params, &grad);
        if let Some(ema) = self.gan.ema.as_mut() {
            ema.update(&self.gan.generator, self.step);
        }
        Ok(self.finish_step(d_stats, g_loss, false))
    }

    fn finish_step(
        &mut self,
        discriminator: DiscriminatorStats,
        generator: f64,
        skipped: bool,
    ) -> StepStats {
        self.step += 1;
        self.gan.calibration = None; // D has changed

        StepStats { discriminator, generator, l1: None, skipped }
    }

    /// Trains for `options.steps` steps on `data` `[N, *data_shape]`, which stays resident
    /// on the device; batches are drawn by index from a seeded per-epoch permutation.
    /// A record is logged whenever the step count is a multiple of `log_every`.
    /// `monitor(steps_done, record)` runs after every step, with the record on logging
    /// steps; returning `Error::Interrupted` ends training with the history so far.
    pub fn fit(
        &mut self,
        data: &Tensor,
        labels: Option<&Tensor>,
        options: &FitOptions,
        mut monitor: impl FnMut(i64, Option<&Record>) -> Result<()>,
    ) -> Result<FitOutcome> {
        let data = self.gan.check_batch(data, "training data")?;
        let n = data.size()[0];
        if self.gan.config.clusters > 0 && self.gan.clusters.is_none() && labels.is_none() {
            // Every replica finds the same clusters: same data, same seed.
            let mut rng = Rng::new(self.gan.config.seed ^ CLUSTER_STREAM);
            self.gan.clusters = Some(Clusters::fit(&data, self.gan.config.clusters, &mut rng)?);
        }
        let labels = self.gan.data_labels(&data, labels, "labels")?;
        options.check(n, self.streams.world_size(), self.gan.config.pac)?;
        // Replicas draw the same global batch and each keeps its slice.
        let global_batch = options.batch_size * self.streams.world_size();
        let mut sampler = EpochSampler::new(n, global_batch, self.gan.config.seed, self.gan.device);
        let n_critic = self.gan.config.n_critic;
        let mut log = FitLog::new(options.log_every);
        for done in 1..=options.steps {
            let batches = (0..n_critic)
                .map(|i| {
                    let global = sampler.indices((self.step * n_critic + i) as u64);
                    let indices = self.streams.own_slice(global, options.batch_size);
                    Ok(Batch {
                        images: data.f_index_select(0, &indices)?,
                        labels: labels.as_ref().map(|l| l.index_select(0, &indices)),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let stats = self.train_step(&batches, options.on_nan)?;
            if log.stop_after(&stats, &mut self.log_window, self.step, done, &mut monitor)? {
                self.gan.refresh_ema_statistics();
                return Ok(log.outcome(true));
            }
        }
        self.gan.refresh_ema_statistics();
        Ok(log.outcome(false))
    }

    /// The record of the steps since the last one, if any: `fit` logs whole windows of
    /// `log_every` steps, and this takes the partial one at the end of training.
    pub fn flush_log(&mut self) -> Option<Record> {
        (!self.log_window.is_empty()).then(|| self.log_window.take(self.step))
    }
}

/// Values of scalar tensors, in one copy from the device.
pub(crate) fn scalars(tensors: &[Tensor]) -> Result<Vec<f64>> {
    let stacked = Tensor::f_stack(tensors, 0)?.f_to_kind(Kind::Double)?;
    Ok(Vec::<f64>::try_from(&stacked)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Arch;
    use tch::{Kind, Tensor};

    /// Top-k training takes the same step on the fused MLP path as through autograd, once
    /// the share has annealed to its floor.
    #[test]
    fn top_k_steps_agree_on_both_paths() {
        let config = GanConfig {
            data_shape: vec![2],
            arch: Arch::Mlp,
            latent_dim: 3,
            hidden_dim: 8,
            depth: 2,
            top_k: 0.25,
            ..Default::default()
        };
        let batch =
            Batch { images: Tensor::randn([16, 2], (Kind::Float, Device::Cpu)), labels: None };
        let mut fused = Trainer::new(config.clone(), Device::Cpu).unwrap();
        let mut plain = Trainer::new(config.clone(), Device::Cpu).unwrap();
        plain.path = Box::new(autograd::Autograd::default());
        let mut full = Trainer::new(GanConfig { top_k: 1.0, ..config }, Device::Cpu).unwrap();
        for trainer in [&mut fused, &mut plain, &mut full] {
            trainer.step = 5000; // past the annealing: G learns from 4 of 16 fakes
        }
        for _ in 0..3 {
            for trainer in [&mut fused, &mut plain] {
                trainer.train_step(std::slice::from_ref(&batch), NanPolicy::Raise).unwrap();
            }
        }
        let (a, b) = (&fused.gan.generator.params.flat, &plain.gan.generator.params.flat);
        let difference = (a - b).abs().max().double_value(&[]);
        assert!(difference < 1e-5, "{difference}");
        // Without top-k the step differs.
        for _ in 0..3 {
            full.train_step(std::slice::from_ref(&batch), NanPolicy::Raise).unwrap();
        }
        assert!((&full.gan.generator.params.flat - a).abs().max().double_value(&[]) > 1e-4);
    }

    /// After `fit`, the EMA generator's batch norm holds its own statistics: in eval mode
    /// it renders the standing batch as training mode does, up to the spread between the
    /// chunks they were averaged over. The copied statistics of the trained generator miss
    /// by a hundred times more.
    #[test]
    fn fit_leaves_the_ema_generator_its_own_batch_norm_statistics() {
        let config = GanConfig {
            arch: Arch::Resnet,
            data_shape: vec![3, 32, 32],
            base_channels: 4,
            latent_dim: 8,
            num_classes: 3,
            ema: Some(0.5),
            ..Default::default()
        };
        let mut trainer = Trainer::new(config, Device::Cpu).unwrap();
        let data = Tensor::rand([16, 3, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let labels = Tensor::arange(16, (Kind::Int64, Device::Cpu)).remainder(3);
        let options =
            FitOptions { steps: 3, batch_size: 8, log_every: 3, on_nan: NanPolicy::Raise };
        let mismatch = |gan: &Gan| {
            let (z, labels) = gan.standing_batch();
            let ema = &gan.ema.as_ref().unwrap().generator;
            let eval = tch::no_grad(|| ema.forward(&z, labels.as_ref(), false));
            let train = tch::no_grad(|| ema.forward(&z, labels.as_ref(), true));
            (eval - train).abs().max().double_value(&[])
        };
        trainer.fit(&data, Some(&labels), &options, |_, _| Ok(())).unwrap();
        let own = mismatch(&trainer.gan);
        trainer
            .train_step(
                &[Batch { images: data.narrow(0, 0, 8), labels: Some(labels.narrow(0, 0, 8)) }],
                NanPolicy::Raise,
            )
            .unwrap();
        let copied = mismatch(&trainer.gan);
        assert!(own < 0.05 && copied > 20.0 * own, "own {own}, copied {copied}");
    }
}
