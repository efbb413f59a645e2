//! Adversarial training, whatever the model: the `Trainer` owns the optimisers, step
//! count, log window and random streams, runs the fused training step (critic
//! iterations, the generators' update, the EMA) and the `fit` loop over in-memory data.
//! A model takes part by implementing `Trainable` (its networks, data and hooks); how a
//! step computes losses and gradients is its `StepPath`, which lives with the model.
//! Nothing here knows any model.

mod fit;
pub(crate) mod sampler;
pub mod stats;
pub mod streams;

pub use fit::{FitOptions, FitOutcome, NanPolicy};

use tch::{Device, Kind, Tensor};

use crate::error::{Error, Poll, Result};
use crate::flat_params::FlatParams;
use crate::optim::Adam;
use crate::replica::Replica;
use crate::rng::Rng;
use fit::FitLog;
use sampler::EpochSampler;
use stats::{Record, Stats, StepStats, Window};
use streams::Streams;

/// The side of the game a network plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Discriminator,
    Generator,
}

/// A network the trainer updates with Adam.
pub struct Optimised<'a> {
    /// Its name in checkpoints: "generator", "discriminator".
    pub name: &'static str,
    pub side: Side,
    pub params: &'a FlatParams,
    pub betas: (f64, f64),
    /// The learning rate before the model's schedule (`Trainable::lr_factor`).
    pub lr: f64,
}

impl<'a> Optimised<'a> {
    /// A model's one discriminator and one generator, with their learning rates and betas.
    pub fn pair(
        discriminator: &'a FlatParams,
        generator: &'a FlatParams,
        (lr_d, lr_g): (f64, f64),
        (betas_d, betas_g): ((f64, f64), (f64, f64)),
    ) -> Vec<Self> {
        vec![
            Optimised {
                name: "discriminator",
                side: Side::Discriminator,
                params: discriminator,
                betas: betas_d,
                lr: lr_d,
            },
            Optimised {
                name: "generator",
                side: Side::Generator,
                params: generator,
                betas: betas_g,
                lr: lr_g,
            },
        ]
    }
}

/// Data a `fit` call draws batches from: one or more sets of items, each visited in its
/// own seeded order (one set for a GAN's images or pix2pix's pairs; two unpaired sets
/// for a model that translates both ways).
pub trait TrainingData {
    type Batch;
    /// The number of items of each set.
    fn sizes(&self) -> Vec<i64>;
    /// The batch made of items `indices[s]` of each set `s`.
    fn batch(&self, indices: &[Tensor]) -> Result<Self::Batch>;
}

/// A batch of the data of model `M`.
pub type BatchOf<M> = <<M as Trainable>::Data as TrainingData>::Batch;

/// A model the adversarial trainer can train.
pub trait Trainable: Send + Sized + 'static {
    type Data: TrainingData;

    fn device(&self) -> Device;
    /// Seeds the order in which `fit` visits the data.
    fn seed(&self) -> u64;
    /// The networks Adam updates, discriminators and generators, always in this order.
    fn networks(&self) -> Vec<Optimised<'_>>;
    /// The parameters of `networks()[index]`.
    fn params_mut(&mut self, index: usize) -> &mut FlatParams;
    /// How the learning rates are scaled after `step` steps.
    fn lr_factor(&self, _step: i64) -> f64 {
        1.0
    }
    /// Critic iterations per step, each on its own batch.
    fn critic_iterations(&self) -> i64 {
        1
    }
    /// A whole multiple of this is the only batch size the model takes.
    fn batch_multiple(&self) -> i64 {
        1
    }
    /// How this model's steps compute losses and gradients.
    fn step_path(&self) -> Box<dyn StepPath<Self>>;
    /// The training data of a `fit` call from the caller's tensors (a GAN's items and
    /// labels, a translator's inputs and targets), checked and on the device; the model
    /// may first learn from them what training needs (a GAN's clusters), asking `poll`
    /// between the pieces of that work.
    fn fit_data(
        &mut self,
        items: &Tensor,
        other: Option<&Tensor>,
        poll: Poll,
    ) -> Result<Self::Data>;
    /// Runs in `fit` after each step, `steps` steps done, before anything sees the new
    /// state: the model may relearn from its data what training needs (a GAN's clusters),
    /// asking `poll` between the pieces of that work.
    fn after_step(&mut self, _data: &mut Self::Data, _steps: i64, _poll: Poll) -> Result<()> {
        Ok(())
    }
    /// One batch for `Trainer::train_step` from the caller's tensors, checked.
    fn step_batch(&self, items: &Tensor, other: Option<&Tensor>) -> Result<BatchOf<Self>>;
    /// Runs after every update of the discriminators, with what the pass reported.
    fn discriminators_updated(&mut self, _stats: &Stats) {}
    /// Runs after the generators' update number `update` (counted from 0): the EMA.
    fn generators_updated(&mut self, update: i64);
    /// Runs when `fit` ends, stopped or not.
    fn fit_finished(&mut self) {}
}

/// What a step path may read and draw from.
pub struct Context<'a, M> {
    pub model: &'a M,
    pub streams: &'a mut Streams,
    /// Steps done before this one.
    pub step: i64,
}

/// How a training step computes losses and gradients. The skeleton around it (finite
/// checks, gradient averaging across replicas, Adam, the model's hooks, statistics) is
/// `Trainer::train_step`.
pub trait StepPath<M: Trainable>: Send {
    /// One critic iteration on `real` and freshly generated items: the discriminators'
    /// losses and the gradient of their sum w.r.t. each discriminator's flat parameters,
    /// in `networks()` order. On the `last` iteration the generated items are kept for
    /// `generator_pass`.
    fn discriminator_pass(
        &mut self,
        ctx: &mut Context<M>,
        real: &BatchOf<M>,
        last: bool,
    ) -> Result<(Stats, Vec<Tensor>)>;

    /// The generators' losses on what the last critic iteration kept, and the gradient
    /// w.r.t. each generator's flat parameters, in `networks()` order.
    fn generator_pass(&mut self, ctx: &mut Context<M>) -> Result<(Stats, Vec<Tensor>)>;
}

/// Mixed into the model's seed for the order of data sets after the first.
const SET_STREAM: u64 = 0x0005_E70F_DA7A;

pub struct Trainer<M: Trainable> {
    model: M,
    /// One per network, in `networks()` order.
    optimisers: Vec<Adam>,
    /// Training steps done.
    step: i64,
    /// Statistics of the steps since the last log record.
    log_window: Window,
    streams: Streams,
    path: Box<dyn StepPath<M>>,
}

impl<M: Trainable> Trainer<M> {
    /// A trainer of `model`, whose training draws continue the random stream `rng`.
    pub fn new(model: M, rng: Rng) -> Self {
        let optimisers = model.networks().iter().map(|n| Adam::new(n.params, n.betas)).collect();
        let streams = Streams { rng, device: model.device(), replica: None };
        let path = model.step_path();
        Trainer { model, optimisers, step: 0, log_window: Window::default(), streams, path }
    }

    pub fn model(&self) -> &M {
        &self.model
    }

    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    /// Training steps done.
    pub fn step(&self) -> i64 {
        self.step
    }

    /// Steps through `path` instead of the model's own, and counts from `step`: tests
    /// compare step paths at a given point of training.
    #[cfg(test)]
    pub(crate) fn force(&mut self, path: Box<dyn StepPath<M>>, step: i64) {
        (self.path, self.step) = (path, step);
    }

    /// Trains as one replica of a data-parallel group, or alone with `None`.
    pub fn set_replica(&mut self, replica: Option<Replica>) {
        self.streams.replica = replica;
    }

    /// Applies each network's gradient in `grads` (the networks of `side`, in order) with
    /// the learning rate of the current step.
    fn update(&mut self, side: Side, grads: &[Tensor]) -> Result<()> {
        let factor = self.model.lr_factor(self.step);
        let rates: Vec<(usize, f64)> = (self.model.networks().iter().enumerate())
            .filter(|(_, network)| network.side == side)
            .map(|(index, network)| (index, network.lr * factor))
            .collect();
        assert_eq!(rates.len(), grads.len(), "one gradient per network of the side");
        for (&(index, lr), grad) in rates.iter().zip(grads) {
            self.streams.sync_gradient(grad)?;
            self.optimisers[index].update(self.model.params_mut(index), grad, lr);
        }
        Ok(())
    }

    /// One fused training step. Critic iteration `i` uses `real_batches[i % len]`, each
    /// checked and on the model's device.
    pub fn train_step(
        &mut self,
        real_batches: &[BatchOf<M>],
        on_nan: NanPolicy,
    ) -> Result<StepStats> {
        let n_critic = self.model.critic_iterations() as usize;
        let mut discriminator = Stats::default();
        for i in 0..n_critic {
            let mut ctx =
                Context { model: &self.model, streams: &mut self.streams, step: self.step };
            let real = &real_batches[i % real_batches.len()];
            let (stats, grads) = self.path.discriminator_pass(&mut ctx, real, i + 1 == n_critic)?;
            discriminator = stats;
            if !on_nan.check(self.step + 1, "discriminator loss", &discriminator.values())? {
                return Ok(self.finish_step(discriminator, Stats::default(), true));
            }
            self.update(Side::Discriminator, &grads)?;
            self.model.discriminators_updated(&discriminator);
        }
        let mut ctx = Context { model: &self.model, streams: &mut self.streams, step: self.step };
        let (generator, grads) = self.path.generator_pass(&mut ctx)?;
        if !on_nan.check(self.step + 1, "generator loss", &generator.values())? {
            return Ok(self.finish_step(discriminator, generator, true));
        }
        self.update(Side::Generator, &grads)?;
        self.model.generators_updated(self.step);
        Ok(self.finish_step(discriminator, generator, false))
    }

    fn finish_step(&mut self, discriminator: Stats, generator: Stats, skipped: bool) -> StepStats {
        self.step += 1;
        StepStats { discriminator, generator, skipped }
    }

    /// Trains for `options.steps` steps on the data the model makes of `items` and
    /// `other` (`Trainable::fit_data`), which stays resident on the device. Batches are
    /// drawn by index from seeded per-epoch permutations, so a resumed run sees the
    /// batches an unbroken one would. A record is logged whenever the step count is a
    /// multiple of `log_every`. `monitor(steps_done, record)` runs after every step, with
    /// the record on logging steps; returning `Error::Interrupted` ends training with the
    /// history so far.
    pub fn fit(
        &mut self,
        items: &Tensor,
        other: Option<&Tensor>,
        options: &FitOptions,
        mut monitor: impl FnMut(i64, Option<&Record>) -> Result<()>,
    ) -> Result<FitOutcome> {
        // Ctrl-C during the work before the first step (clustering, on a busy machine
        // maybe for minutes) stops training as it does between steps.
        let mut data = match self.model.fit_data(items, other, &mut || monitor(0, None)) {
            Err(Error::Interrupted) => return Ok(FitLog::new(options.log_every).outcome(true)),
            data => data?,
        };
        let world_size = self.streams.world_size();
        for n in data.sizes() {
            options.check(n, world_size, self.model.batch_multiple())?;
        }
        // Replicas draw the same global batch and each keeps its slice.
        let global_batch = options.batch_size * world_size;
        let (seed, device) = (self.model.seed(), self.model.device());
        let mut samplers: Vec<EpochSampler> = (data.sizes().into_iter().enumerate())
            .map(|(set, n)| {
                let stream = (set as u64).wrapping_mul(SET_STREAM);
                EpochSampler::new(n, global_batch, seed ^ stream, device)
            })
            .collect();
        let n_critic = self.model.critic_iterations();
        let mut log = FitLog::new(options.log_every);
        let mut interrupted = false;
        for done in 1..=options.steps {
            let batches = (0..n_critic)
                .map(|i| {
                    let number = (self.step * n_critic + i) as u64;
                    let indices: Vec<Tensor> = (samplers.iter_mut())
                        .map(|s| self.streams.own_slice(s.indices(number), options.batch_size))
                        .collect();
                    data.batch(&indices)
                })
                .collect::<Result<Vec<_>>>()?;
            let stats = self.train_step(&batches, options.on_nan)?;
            match self.model.after_step(&mut data, self.step, &mut || monitor(done, None)) {
                Err(Error::Interrupted) => interrupted = true,
                other => other?,
            }
            if log.stop_after(&stats, &mut self.log_window, self.step, done, &mut monitor)?
                || interrupted
            {
                interrupted = true;
                break;
            }
        }
        self.model.fit_finished();
        Ok(log.outcome(interrupted))
    }

    /// The record of the steps since the last one, if any: `fit` logs whole windows of
    /// `log_every` steps, and this takes the partial one at the end of training.
    pub fn flush_log(&mut self) -> Option<Record> {
        (!self.log_window.is_empty()).then(|| self.log_window.take(self.step))
    }

    /// What a checkpoint stores of the training state.
    pub(crate) fn state(&self) -> (&[Adam], i64, &Rng) {
        (&self.optimisers, self.step, &self.streams.rng)
    }

    /// Restores what `state` gave: optimiser moments are copied in place by the caller.
    pub(crate) fn restore_state(&mut self, step: i64, update_counts: &[i64], rng: Rng) {
        self.step = step;
        for (adam, &count) in self.optimisers.iter_mut().zip(update_counts) {
            adam.steps = count;
        }
        self.streams.rng = rng;
    }
}

/// Values of scalar tensors, in one copy from the device.
pub fn scalars(tensors: &[Tensor]) -> Result<Vec<f64>> {
    let stacked = Tensor::f_stack(tensors, 0)?.f_to_kind(Kind::Double)?;
    Ok(Vec::<f64>::try_from(&stacked)?)
}
