//! The fused training step (D update(s), G update, EMA) and the `fit` loop over an
//! in-memory data set.

use tch::{Kind, Tensor};

use crate::error::{invalid, Error, Result};
use crate::gan::Gan;
use crate::losses::{discriminator_loss, generator_loss, gradient_penalty, r1_penalty};
use crate::rng::Rng;

/// What to do when a loss is NaN or infinite. Either way the bad update is not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NanPolicy {
    Raise,
    Skip,
}

/// Named scalar statistics of a step.
pub type Stats = Vec<(String, f64)>;

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

pub struct FitOutcome {
    /// One record per `log_every` steps: "step" and the mean of each statistic.
    pub history: Vec<Stats>,
    pub interrupted: bool,
}

/// Outcome of a check of the losses before an update.
pub(crate) enum Verdict {
    Apply,
    Skip,
}

impl Gan {
    pub(crate) fn check_finite(&self, what: &str, values: &[f64], on_nan: NanPolicy) -> Result<Verdict> {
        if values.iter().all(|v| v.is_finite()) {
            return Ok(Verdict::Apply);
        }
        match on_nan {
            NanPolicy::Skip => Ok(Verdict::Skip),
            NanPolicy::Raise => Err(Error::NonFinite {
                step: self.step + 1,
                detail: format!(
                    "{what} = {values:?}; the update was not applied. Lower the learning rates, \
                     add a regulariser, or pass on_nan='skip'"
                ),
            }),
        }
    }

    /// One fused training step. Critic iteration `i` uses `real_batches[i % len]`; each
    /// batch holds images `[B, *data_shape]` on the GAN's device (and their labels when
    /// the GAN is conditional).
    pub fn train_step(&mut self, real_batches: &[Batch], on_nan: NanPolicy) -> Result<Stats> {
        let config = &self.config;
        let batch = real_batches[0].images.size()[0];
        if batch % config.pac != 0 {
            return invalid(format!("batch size {batch} must be a multiple of pac={}", config.pac));
        }
        if self.fused_mlp.is_some() {
            return self.fused_mlp_step(real_batches, on_nan);
        }
        let (kind, latent_dim, n_critic) = (config.loss, config.latent_dim, config.n_critic as usize);
        let r1_now = config.r1_gamma > 0.0 && self.step % config.r1_every == 0;
        let r1_weight = config.r1_gamma / 2.0 * config.r1_every as f64;
        let mut fake = None;
        let mut d_stats = vec![];
        for critic_iteration in 0..n_critic {
            let real = &real_batches[critic_iteration % real_batches.len()];
            let z = self.draw(batch, &[latent_dim], false);
            let fake_labels = self.draw_labels(batch);
            let last = critic_iteration + 1 == n_critic;
            // Only the last generation is reused for G's update (PyTorch's DCGAN example
            // does the same); earlier ones need no graph.
            let generate = || self.generator.forward(&z, fake_labels.as_ref(), true);
            let generated = if last { generate() } else { tch::no_grad(generate) };
            let fake_input = generated.detach();
            let real_input = real.images.detach().set_requires_grad(r1_now);
            let (augmented_real, augmented_fake) = (self.augment(&real_input), self.augment(&fake_input));
            let real_logits = self.discriminator.forward(&augmented_real, real.labels.as_ref(), true);
            let fake_logits = self.discriminator.forward(&augmented_fake, fake_labels.as_ref(), true);
            let parts = discriminator_loss(kind, &real_logits, &fake_logits);
            let mut loss = &parts.real + &parts.fake;
            let mut logged = vec![("loss/d/real", parts.real), ("loss/d/fake", parts.fake)];
            if self.config.uses_gradient_penalty() {
                let ones = vec![1; self.config.data_shape.len()];
                let alpha = self.draw(batch, &ones, true);
                let mixed = (&real.images + (&fake_input - &real.images) * &alpha).detach().set_requires_grad(true);
                let augmented_mixed = self.augment(&mixed);
                let logits = self.discriminator.forward(&augmented_mixed, real.labels.as_ref(), true);
                let penalty = gradient_penalty(&mixed, &logits)?;
                loss = loss + &penalty * self.config.gp_weight;
                logged.push(("loss/d/gp", penalty));
            }
            if r1_now {
                let penalty = r1_penalty(&real_input, &real_logits)?;
                loss = loss + &penalty * r1_weight;
                logged.push(("loss/d/r1", penalty));
            }
            logged.insert(0, ("loss/d", loss.shallow_clone()));
            let values = scalars(&logged.iter().map(|(_, t)| t.shallow_clone()).collect::<Vec<_>>())?;
            d_stats = logged.iter().map(|(name, _)| name.to_string()).zip(values.iter().copied()).collect();
            if let Verdict::Skip = self.check_finite("discriminator loss", &values, on_nan)? {
                return Ok(self.finish_step(d_stats, f64::NAN, true));
            }
            let grad = self.discriminator.params.gradient(&loss)?;
            self.sync_gradient(&grad)?;
            self.d_optim.update(&mut self.discriminator.params, &grad);
            if last {
                fake = Some((generated, fake_labels));
            }
        }
        let (fake, fake_labels) = fake.expect("n_critic >= 1");
        let augmented_fake = self.augment(&fake);
        let g_loss = generator_loss(kind, &self.discriminator.forward(&augmented_fake, fake_labels.as_ref(), true));
        let g_value = g_loss.f_double_value(&[])?;
        if let Verdict::Skip = self.check_finite("generator loss", &[g_value], on_nan)? {
            return Ok(self.finish_step(d_stats, g_value, true));
        }
        let grad = self.generator.params.gradient(&g_loss)?;
        self.sync_gradient(&grad)?;
        self.g_optim.update(&mut self.generator.params, &grad);
        if let Some(ema) = self.ema.as_mut() {
            ema.update(&self.generator);
        }
        Ok(self.finish_step(d_stats, g_value, false))
    }

    pub(crate) fn finish_step(&mut self, mut stats: Stats, g_value: f64, skipped: bool) -> Stats {
        self.step += 1;
        stats.push(("loss/g".into(), g_value));
        stats.push(("nan/skipped".into(), if skipped { 1.0 } else { 0.0 }));
        stats
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
        mut monitor: impl FnMut(i64, Option<&Stats>) -> Result<()>,
    ) -> Result<FitOutcome> {
        let data = self.check_batch(data, "training data")?;
        let n = data.size()[0];
        let labels = self.check_labels(labels, n, "labels")?;
        if options.steps < 0 {
            return invalid(format!("steps must be >= 0, got {}", options.steps));
        }
        if options.batch_size < 1 || options.batch_size > n {
            return invalid(format!("batch_size must lie in [1, {n}] (the data size), got {}", options.batch_size));
        }
        if options.batch_size % self.config.pac != 0 {
            return invalid(format!("batch_size {} must be a multiple of pac={}", options.batch_size, self.config.pac));
        }
        if options.log_every < 1 {
            return invalid(format!("log_every must be >= 1, got {}", options.log_every));
        }
        // Replicas draw the same global batch and each keeps its slice.
        let global_batch = options.batch_size * self.world_size();
        if global_batch > n {
            return invalid(format!("batch_size x processes = {global_batch} exceeds the data ({n} items)"));
        }
        let mut sampler = EpochSampler::new(n, global_batch, self.config.seed, self.device);
        let n_critic = self.config.n_critic;
        let mut history = vec![];
        for done in 1..=options.steps {
            let batches = (0..n_critic)
                .map(|i| {
                    let indices = self.own_slice(sampler.indices((self.step * n_critic + i) as u64), options.batch_size);
                    Ok(Batch {
                        images: data.f_index_select(0, &indices)?,
                        labels: labels.as_ref().map(|l| l.index_select(0, &indices)),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let stats = self.train_step(&batches, options.on_nan)?;
            self.log_window.add(&stats);
            let record = (self.step % options.log_every == 0).then(|| self.log_window.take(self.step));
            if let Some(record) = &record {
                history.push(record.clone());
            }
            match monitor(done, record.as_ref()) {
                Ok(()) => {}
                Err(Error::Interrupted) => return Ok(FitOutcome { history, interrupted: true }),
                Err(e) => return Err(e),
            }
        }
        Ok(FitOutcome { history, interrupted: false })
    }
}

/// Per-epoch permutations that depend only on the seed and the epoch, so batch `k` is the
/// same whether training ran in one call or was resumed from a checkpoint.
struct EpochSampler {
    n: i64,
    batch_size: i64,
    seed: u64,
    device: tch::Device,
    epoch: Option<(u64, Tensor)>,
}

impl EpochSampler {
    fn new(n: i64, batch_size: i64, seed: u64, device: tch::Device) -> Self {
        EpochSampler { n, batch_size, seed, device, epoch: None }
    }

    fn indices(&mut self, batch_number: u64) -> Tensor {
        let per_epoch = (self.n / self.batch_size) as u64;
        let epoch = batch_number / per_epoch;
        if self.epoch.as_ref().map(|(e, _)| *e) != Some(epoch) {
            let mut rng = Rng::new(self.seed ^ 0x5EED_0F_DA7A ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            self.epoch = Some((epoch, rng.permutation(self.n as usize, self.device)));
        }
        let (_, permutation) = self.epoch.as_ref().expect("set above");
        permutation.narrow(0, (batch_number % per_epoch) as i64 * self.batch_size, self.batch_size)
    }
}

/// Running means of the statistics between two log records; skipped steps are counted,
/// not averaged; statistics taken only on some steps (lazy R1) average over those steps.
/// Kept across `fit` calls so that chunked training logs like one call.
#[derive(Default)]
pub struct Window {
    /// Name, sum and count, in order of first appearance.
    sums: Vec<(String, f64, f64)>,
    skipped: f64,
}

impl Window {
    fn add(&mut self, stats: &Stats) {
        let skipped = stats.iter().any(|(name, v)| name == "nan/skipped" && *v > 0.0);
        self.skipped += if skipped { 1.0 } else { 0.0 };
        for (name, value) in stats {
            let index = match self.sums.iter().position(|(n, _, _)| n == name) {
                Some(index) => index,
                None => {
                    self.sums.push((name.clone(), 0.0, 0.0));
                    self.sums.len() - 1
                }
            };
            if !skipped {
                let (_, sum, count) = &mut self.sums[index];
                *sum += value;
                *count += 1.0;
            }
        }
    }

    fn take(&mut self, step: i64) -> Stats {
        let mut record = vec![("step".to_string(), step as f64)];
        for (name, sum, count) in &self.sums {
            let value = if name == "nan/skipped" { self.skipped } else { sum / count }; // NaN if all were skipped
            record.push((name.clone(), value));
        }
        *self = Window::default();
        record
    }
}

/// Values of scalar tensors, in one copy from the device.
pub(crate) fn scalars(tensors: &[Tensor]) -> Result<Vec<f64>> {
    let stacked = Tensor::f_stack(tensors, 0)?.f_to_kind(Kind::Double)?;
    Ok(Vec::<f64>::try_from(&stacked)?)
}
