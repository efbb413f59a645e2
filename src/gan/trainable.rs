//! A GAN as a `Trainable`: its two networks, its data (items, and their labels or the
//! clusters it conditions on) and its step paths, autograd or the fused MLP step.

use tch::{Device, Tensor};

use super::autograd::{Autograd, AUGMENTED_ITEMS, REAL_SIGN};
use super::clusters::Clusters;
use super::fused_mlp::FusedMlp;
use super::recluster;
use super::Gan;
use crate::error::{invalid, Poll, Result};
use crate::flat_params::FlatParams;
use crate::rng::Rng;
use crate::train::stats::Stats;
use crate::train::{Optimised, StepPath, Trainable, TrainingData};

/// Real training items, with class labels `[B]` when the GAN is conditional.
pub struct Batch {
    pub images: Tensor,
    pub labels: Option<Tensor>,
}

/// A GAN's training set on its device: items, and their labels when it is conditional.
pub struct GanData {
    images: Tensor,
    labels: Option<Tensor>,
}

impl TrainingData for GanData {
    type Batch = Batch;

    fn sizes(&self) -> Vec<i64> {
        vec![self.images.size()[0]]
    }

    fn batch(&self, indices: &[Tensor]) -> Result<Batch> {
        let rows = &indices[0];
        Ok(Batch {
            images: self.images.f_index_select(0, rows)?,
            labels: self.labels.as_ref().map(|l| l.index_select(0, rows)),
        })
    }
}

/// Mixed into the seed for the stream that finds a self-conditioned GAN's clusters.
const CLUSTER_STREAM: u64 = 0xC1_05_7E_25;

impl Trainable for Gan {
    type Data = GanData;

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
        self.config.lr_factor(step)
    }

    fn critic_iterations(&self) -> i64 {
        self.config.n_critic
    }

    fn batch_multiple(&self) -> i64 {
        self.config.pac
    }

    fn step_path(&self) -> Box<dyn StepPath<Gan>> {
        match FusedMlp::for_gan(self) {
            Some(fused) => Box::new(fused),
            None => Box::new(Autograd::default()),
        }
    }

    fn fit_data(&mut self, items: &Tensor, labels: Option<&Tensor>, poll: Poll) -> Result<GanData> {
        let images = self.check_batch(items, "training data")?;
        if labels.is_none() && self.needs_cluster_features() {
            // Pretrained features, handed in for these items: the clusters they make.
            let features = self.take_cluster_features(images.size()[0])?;
            let mut rng = Rng::new(self.config.seed ^ CLUSTER_STREAM);
            let k = self.config.clusters;
            self.set_clusters(recluster::cluster_on(&features, &images, k, &mut rng, poll)?)?;
        } else if self.config.clusters > 0 && self.clusters().is_none() && labels.is_none() {
            // Every replica finds the same clusters: same data, same seed.
            let mut rng = Rng::new(self.config.seed ^ CLUSTER_STREAM);
            self.set_clusters(Clusters::fit(&images, self.config.clusters, &mut rng, poll)?)?;
        }
        // The data clustered last trains on with the clusters it was given then.
        let stored = labels.is_none().then(|| self.stored_assignments(&images)).flatten();
        if let Some(assignments) = stored {
            return Ok(GanData { images, labels: Some(assignments) });
        }
        let labels = self.data_labels(&images, labels, "labels")?;
        Ok(GanData { images, labels })
    }

    fn after_step(&mut self, data: &mut GanData, steps: i64, poll: Poll) -> Result<()> {
        let every = self.config.recluster_every;
        let (Some(clusters), Some(previous)) = (self.clusters(), data.labels.as_ref()) else {
            return Ok(());
        };
        if every == 0 || steps % every != 0 {
            return Ok(());
        }
        // Every replica re-clusters alike: same D, same data, a stream of the step.
        let mut rng = Rng::new(self.config.seed ^ CLUSTER_STREAM ^ (steps as u64).rotate_left(32));
        let features = recluster::features_of(&self.discriminator, &data.images);
        let found = recluster::recluster(
            &features,
            &data.images,
            previous,
            &clusters.centroids,
            &mut rng,
            poll,
        )?;
        data.labels = found.in_features.as_ref().map(|found| found.assignments.shallow_clone());
        self.set_clusters(found)
    }

    fn step_batch(&self, items: &Tensor, labels: Option<&Tensor>) -> Result<Batch> {
        let images = self.check_batch(items, "batch")?;
        let labels = self.data_labels(&images, labels, "labels")?;
        let (batch, pac) = (images.size()[0], self.config.pac);
        if batch % pac != 0 {
            return invalid(format!("batch size {batch} must be a multiple of pac={pac}"));
        }
        Ok(Batch { images, labels })
    }

    fn discriminators_updated(&mut self, stats: &Stats) {
        self.weights_changed();
        let seen = stats.get(REAL_SIGN).zip(stats.get(AUGMENTED_ITEMS));
        if let (Some(ada), Some((real_sign, items))) = (self.adaptive_augment.as_mut(), seen) {
            ada.observe(real_sign, items, self.config.augment_target);
        }
    }

    fn generators_updated(&mut self, update: i64) {
        if let Some(ema) = self.ema.as_mut() {
            ema.update(&self.generator, update);
        }
    }

    fn fit_finished(&mut self) {
        self.refresh_ema_statistics();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Arch, GanConfig};
    use crate::error::Error;
    use crate::train::stats::Record;
    use crate::train::{FitOptions, NanPolicy, Trainer};
    use tch::Kind;

    fn trainer(config: GanConfig) -> Trainer<Gan> {
        let (gan, rng) = Gan::with_training_stream(config, Device::Cpu).unwrap();
        Trainer::new(gan, rng)
    }

    /// Top-k training takes the same step on the fused MLP path as through autograd, once
    /// the share has annealed to its floor.
    #[test]
    fn top_k_steps_agree_on_both_paths() {
        let config = GanConfig { top_k: 0.25, ..GanConfig::tiny_mlp() };
        let batch =
            Batch { images: Tensor::randn([16, 2], (Kind::Float, Device::Cpu)), labels: None };
        let mut fused = trainer(config.clone());
        let mut plain = trainer(config.clone());
        let mut full = trainer(GanConfig { top_k: 1.0, ..config });
        // Past the annealing: G learns from 4 of 16 fakes.
        fused.force(fused.model().step_path(), 5000);
        plain.force(Box::new(Autograd::default()), 5000);
        full.force(full.model().step_path(), 5000);
        for _ in 0..3 {
            for trainer in [&mut fused, &mut plain] {
                trainer.train_step(std::slice::from_ref(&batch), NanPolicy::Raise).unwrap();
            }
        }
        let (a, b) =
            (&fused.model().generator.params().flat, &plain.model().generator.params().flat);
        let difference = (a - b).abs().max().double_value(&[]);
        assert!(difference < 1e-5, "{difference}");
        // Without top-k the step differs.
        for _ in 0..3 {
            full.train_step(std::slice::from_ref(&batch), NanPolicy::Raise).unwrap();
        }
        let moved = (&full.model().generator.params().flat - a).abs().max().double_value(&[]);
        assert!(moved > 1e-4);
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
        let mut trainer = trainer(config);
        let data = Tensor::rand([16, 3, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let labels = Tensor::arange(16, (Kind::Int64, Device::Cpu)).remainder(3);
        let options =
            FitOptions { steps: 3, batch_size: 8, log_every: 3, on_nan: NanPolicy::Raise };
        let mismatch = |gan: &Gan| {
            let (z, labels) = gan.standing_batch();
            let ema = &gan.ema.as_ref().unwrap().generator();
            let eval = tch::no_grad(|| ema.forward(&z, labels.as_ref(), false));
            let train = tch::no_grad(|| ema.forward(&z, labels.as_ref(), true));
            (eval - train).abs().max().double_value(&[])
        };
        trainer.fit(&data, Some(&labels), &options, |_, _| Ok(())).unwrap();
        let own = mismatch(trainer.model());
        let batch =
            trainer.model().step_batch(&data.narrow(0, 0, 8), Some(&labels.narrow(0, 0, 8)));
        trainer.train_step(&[batch.unwrap()], NanPolicy::Raise).unwrap();
        let copied = mismatch(trainer.model());
        assert!(own < 0.05 && copied > 20.0 * own, "own {own}, copied {copied}");
    }

    fn mlp_gan() -> Trainer<Gan> {
        let config = GanConfig { ema: Some(0.9), ..GanConfig::tiny_mlp() };
        let (gan, rng) = Gan::with_training_stream(config, Device::Cpu).unwrap();
        Trainer::new(gan, rng)
    }

    fn options(steps: i64) -> FitOptions {
        FitOptions { steps, batch_size: 8, log_every: 2, on_nan: NanPolicy::Raise }
    }

    fn max_difference(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    /// Training in chunks draws the batches and latents of one call: the weights and the
    /// log records agree.
    #[test]
    fn fit_in_chunks_trains_as_one_call() {
        let data = Tensor::randn([40, 2], (Kind::Float, Device::Cpu));
        let (mut whole, mut chunked) = (mlp_gan(), mlp_gan());
        let history = whole.fit(&data, None, &options(6), |_, _| Ok(())).unwrap().history;
        let mut chunks = vec![];
        for steps in [2, 4] {
            chunks
                .extend(chunked.fit(&data, None, &options(steps), |_, _| Ok(())).unwrap().history);
        }
        assert_eq!(history.len(), 3);
        assert_eq!(history, chunks);
        for (a, b) in whole.model().networks().iter().zip(chunked.model().networks()) {
            assert!(max_difference(&a.params.flat, &b.params.flat) < 1e-6, "{}", a.name);
        }
        assert_eq!((whole.step(), chunked.step()), (6, 6));
    }

    /// A non-finite loss applies nothing: skipped, the step is counted and no weight moves;
    /// raised, the error names the step.
    #[test]
    fn a_non_finite_loss_updates_nothing() {
        let mut trainer = mlp_gan();
        let before: Vec<Tensor> =
            trainer.model().networks().iter().map(|n| n.params.flat.copy()).collect();
        let nan = Tensor::full([8, 2], f64::NAN, (Kind::Float, Device::Cpu));
        let batch = Batch { images: nan, labels: None };
        let stats = trainer.train_step(std::slice::from_ref(&batch), NanPolicy::Skip).unwrap();
        assert!(stats.skipped && trainer.step() == 1);
        for (network, old) in trainer.model().networks().iter().zip(&before) {
            assert!(network.params.flat.equal(old), "{} moved", network.name);
        }
        let error = trainer.train_step(&[batch], NanPolicy::Raise).unwrap_err();
        assert!(matches!(error, Error::NonFinite { step: 2, .. }), "{error}");
    }

    /// The monitor's interruption ends `fit` with the history so far.
    #[test]
    fn an_interrupting_monitor_stops_training() {
        let data = Tensor::randn([40, 2], (Kind::Float, Device::Cpu));
        let mut trainer = mlp_gan();
        let stop_after_three = |done: i64, _: Option<&Record>| {
            if done == 3 {
                Err(Error::Interrupted)
            } else {
                Ok(())
            }
        };
        let outcome = trainer.fit(&data, None, &options(10), stop_after_three).unwrap();
        assert!(outcome.interrupted && trainer.step() == 3 && outcome.history.len() == 1);
        assert_eq!(trainer.flush_log().map(|r| r.step), Some(3), "the partial window");
    }

    /// An interruption while the clusters are fitted, before the first step, ends `fit`
    /// with nothing trained and no clusters kept; the next `fit` fits them again.
    #[test]
    fn an_interruption_while_clustering_stops_before_the_first_step() {
        let data = Tensor::randn([40, 2], (Kind::Float, Device::Cpu));
        let config = GanConfig { clusters: 3, ..GanConfig::tiny_mlp() };
        let mut trainer = trainer(config);
        let mut polls = 0;
        let stop_while_clustering = |done: i64, _: Option<&Record>| {
            polls += 1;
            if done == 0 && polls == 2 {
                Err(Error::Interrupted)
            } else {
                Ok(())
            }
        };
        let outcome = trainer.fit(&data, None, &options(4), stop_while_clustering).unwrap();
        assert!(outcome.interrupted && outcome.history.is_empty() && trainer.step() == 0);
        assert!(trainer.model().clusters().is_none());
        trainer.fit(&data, None, &options(4), |_, _| Ok(())).unwrap();
        assert!(trainer.model().clusters().is_some() && trainer.step() == 4);
    }
}
