//! A GAN as a model: its configuration, generator, discriminator and optional EMA
//! generator on one device, and the stream that draws latents for sampling. Training
//! state lives in `train::Trainer`.

pub mod adaptive_augment;
mod autograd;
pub mod clusters;
mod fused_mlp;
pub mod latents;
mod options;
pub mod recluster;
mod stored;
mod trainable;

pub use latents::check_truncation;
pub use options::config_from_json;
pub use trainable::{Batch, GanData};

use tch::{Device, Kind, Tensor};

use self::adaptive_augment::AdaptiveAugment;
use self::clusters::{Clusters, FeatureClusters};
use crate::batch::{check_output_size, checked_batch};
use crate::calibration::Calibration;
use crate::config::{ClusterFeatures, GanConfig};
use crate::error::{invalid, Error, Result};
use crate::models;
use crate::network::{Ema, Network};
use crate::options::TableConfig;
use crate::rng::{classes_of, Rng};
use crate::weights::named_variables;

pub struct Gan {
    config: GanConfig,
    device: Device,
    generator: Network,
    discriminator: Network,
    ema: Option<Ema>,
    /// Latents of `sample` calls without a seed, kept apart so sampling never changes training.
    sample_rng: Rng,
    /// D's calibration for guided sampling, fitted after training (`guide::calibrate`);
    /// any change of the weights drops it.
    calibration: Option<Calibration>,
    /// With `config.clusters`, the clusters of the training data, found by the first `fit`.
    clusters: Option<Clusters>,
    /// With `config.augment_target`, how often D's inputs are augmented, as training
    /// has adjusted it.
    adaptive_augment: Option<AdaptiveAugment>,
    /// With `cluster_features="efficientnet"`, the features of the data the next `fit`
    /// clusters, handed in by `stage_cluster_features`.
    staged_features: Option<Tensor>,
}

/// Batch norm's running-statistics momentum (PyTorch's and tch's default).
const BATCH_NORM_MOMENTUM: f64 = 0.1;

/// Items per pass of `refresh_ema_statistics`: a training batch's size, and small enough
/// for 128 px images.
const STANDING_CHUNK: i64 = 64;

impl Gan {
    pub fn new(config: GanConfig, device: Device) -> Result<Self> {
        Ok(Gan::with_training_stream(config, device)?.0)
    }

    /// A new GAN, and the random stream its training continues from: the seed's stream
    /// initialises the networks, forks the sampling stream, and goes on drawing batches.
    pub fn with_training_stream(config: GanConfig, device: Device) -> Result<(Self, Rng)> {
        config.validate()?;
        let mut rng = Rng::new(config.seed);
        let generator = Network::generator(device, &config);
        let discriminator = Network::discriminator(device, &config);
        let init = models::family(config.arch).weight_init();
        models::initialise(generator.vs(), init, &mut rng);
        models::initialise(discriminator.vs(), init, &mut rng);
        let ema = config
            .ema
            .map(|decay| Ema::new(decay, Network::generator(device, &config), &generator));
        let sample_rng = rng.fork();
        let (calibration, clusters) = (None, None);
        let adaptive_augment = (config.augment_target > 0.0).then(AdaptiveAugment::default);
        let gan = Gan {
            config,
            device,
            generator,
            discriminator,
            ema,
            sample_rng,
            calibration,
            clusters,
            adaptive_augment,
            staged_features: None,
        };
        Ok((gan, rng))
    }

    pub fn config(&self) -> &GanConfig {
        &self.config
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// The trained generator.
    pub fn generator(&self) -> &Network {
        &self.generator
    }

    pub fn discriminator(&self) -> &Network {
        &self.discriminator
    }

    /// The EMA copy of the generator, where the GAN keeps one.
    pub fn ema(&self) -> Option<&Ema> {
        self.ema.as_ref()
    }

    /// A stream of its own for a sampling call without a seed, forked from the sampling
    /// stream, which moves on.
    pub fn fork_sample_rng(&mut self) -> Rng {
        self.sample_rng.fork()
    }

    /// The probability with which each of `config.augment`'s transformations reaches an
    /// image D sees: adjusted during training with `augment_target`, else 1.
    pub fn augment_probability(&self) -> f64 {
        self.adaptive_augment.as_ref().map_or(1.0, |ada| ada.p)
    }

    /// Checks that `data` is a finite float batch `[N, *data_shape]` and moves it to the
    /// device.
    pub fn check_batch(&self, data: &Tensor, what: &str) -> Result<Tensor> {
        checked_batch(data, &self.config.data_shape, what, self.device)
    }

    /// `n` latents `[n, latent_width]` from the sampling stream, or from a stream seeded
    /// with `seed`, with z truncated by `truncation` (1: not at all; see `truncated`).
    pub fn latent(&mut self, n: i64, seed: Option<u64>, truncation: f64) -> Result<Tensor> {
        if n < 1 {
            return invalid(format!("n must be at least 1 (latents), got {n}"));
        }
        check_output_size(n, self.latent_width(), "latents")?;
        check_truncation(truncation)?;
        let latents = match seed {
            Some(seed) => self.draw_latents(&mut Rng::new(seed), n),
            None => {
                let mut rng = self.sample_rng.clone();
                let latents = self.draw_latents(&mut rng, n);
                self.sample_rng = rng;
                latents
            }
        };
        self.truncated(&latents, truncation)
    }

    /// Checks class labels for `n` items: required (int, `[n]`, in `0..num_classes`) by a
    /// conditional GAN, refused by an unconditional one. Returns them on the device.
    pub fn check_labels(
        &self,
        labels: Option<&Tensor>,
        n: i64,
        what: &str,
    ) -> Result<Option<Tensor>> {
        let classes = self.config.num_classes;
        let labels = match (labels, classes) {
            (None, 0) => return Ok(None),
            (Some(_), 0) => {
                return invalid(format!(
                    "{what} given, but this GAN is unconditional (num_classes=0)"
                ))
            }
            (None, _) => {
                return invalid(format!(
                    "this GAN is class-conditional (num_classes={classes}): pass {what}"
                ))
            }
            (Some(labels), _) => labels,
        };
        if labels.size() != [n] {
            return invalid(format!(
                "{what} must have shape [{n}], one per item, got {:?}",
                labels.size()
            ));
        }
        if labels.is_floating_point() || labels.is_complex() || labels.kind() == Kind::Bool {
            return Err(Error::ArgumentType(format!(
                "{what} must be integers, got {:?}",
                labels.kind()
            )));
        }
        let labels = labels.f_to_device(self.device)?.f_to_kind(Kind::Int64)?;
        let (low, high) = (labels.f_min()?.int64_value(&[]), labels.f_max()?.int64_value(&[]));
        if low < 0 || high >= classes {
            return invalid(format!(
                "{what} must lie in [0, {}], got values from {low} to {high}",
                classes - 1
            ));
        }
        Ok(Some(labels))
    }

    pub fn calibration(&self) -> Option<&Calibration> {
        self.calibration.as_ref()
    }

    /// Keeps `calibration`, fitted on the current D, for guided sampling.
    pub fn set_calibration(&mut self, calibration: Calibration) {
        self.calibration = Some(calibration);
    }

    /// Forgets what described the old weights: D's calibration.
    pub fn weights_changed(&mut self) {
        self.calibration = None;
    }

    pub fn clusters(&self) -> Option<&Clusters> {
        self.clusters.as_ref()
    }

    /// Keeps the clusters G and D are conditioned on, which must be `config.clusters`
    /// centroids of the data's size (and, re-clustered, as many centres of D's features).
    pub fn set_clusters(&mut self, clusters: Clusters) -> Result<()> {
        let k = self.config.clusters;
        let (centroids, weights) = (clusters.centroids.size(), clusters.weights.size());
        let centres = clusters.in_features.as_ref().map(|found| found.centres.size());
        if centroids != [k, self.config.data_numel()]
            || weights != [k]
            || centres.as_ref().is_some_and(|centres| centres.len() != 2 || centres[0] != k)
        {
            return invalid(format!(
                "clusters of shape {centroids:?}, shares {weights:?} and feature centres \
                 {centres:?} do not match clusters={k} of items with {} values",
                self.config.data_numel()
            ));
        }
        let device = self.device;
        self.clusters = Some(Clusters {
            centroids: clusters.centroids.to_device(device),
            weights: clusters.weights.to_device(device),
            in_features: clusters.in_features.map(|found| FeatureClusters {
                centres: found.centres.to_device(device),
                assignments: found.assignments.to_device(device),
                fingerprint: found.fingerprint.to_device(Device::Cpu),
            }),
        });
        Ok(())
    }

    /// The clusters `[N]` a self-conditioned GAN trains items `data` `[N, ...]` with.
    pub fn item_clusters(&self, data: &Tensor) -> Result<Tensor> {
        if self.config.clusters == 0 {
            return invalid("clusters_of asks a self-conditioned GAN, and this one has clusters=0");
        }
        let data = self.check_batch(data, "images")?;
        if let Some(assignments) = self.stored_assignments(&data) {
            return Ok(assignments);
        }
        Ok(self
            .data_labels(&data, None, "images")?
            .expect("a self-conditioned GAN labels its data"))
    }

    /// The clusters `[N]` the data last clustered (on features) was given then, when
    /// `images` are that data: it keeps them, so a resumed run goes on as an unbroken one.
    pub fn stored_assignments(&self, images: &Tensor) -> Option<Tensor> {
        let found = self.clusters.as_ref()?.in_features.as_ref()?;
        let same = found.assignments.size()[0] == images.size()[0]
            && recluster::same_data(&found.fingerprint, images);
        same.then(|| found.assignments.shallow_clone())
    }

    /// The cluster of each item of `data` `[N, ...]`: the nearest centre of its D features
    /// once the clusters were found there, else (and for clusters of pretrained features,
    /// which only the training data has) of its pixels.
    fn data_clusters(&self, clusters: &Clusters, data: &Tensor) -> Tensor {
        let on_d = self.config.cluster_features == ClusterFeatures::Pixels;
        match &clusters.in_features {
            Some(found) if on_d => recluster::nearest(
                &recluster::features_of(&self.discriminator, data),
                &found.centres,
            ),
            _ => clusters.assign(data),
        }
    }

    /// Hands in the pooled features `[N, F]` of the `N` items the next `fit` trains on, for
    /// clusters of pretrained features (`cluster_features`); they are scaled to unit length.
    pub fn stage_cluster_features(&mut self, features: &Tensor) -> Result<()> {
        let shape = features.size();
        if shape.len() != 2 || shape[0] == 0 || shape[1] == 0 {
            return invalid(format!("cluster features must be [N, F], got shape {shape:?}"));
        }
        let features = features.f_to_device(self.device)?.f_to_kind(Kind::Float)?;
        if !bool::try_from(features.isfinite().all())? {
            return invalid(
                "the cluster features contain NaN or infinite values: is the feature network's \
                 weight file corrupt?",
            );
        }
        let norms = features.norm_scalaropt_dim(2.0, [1i64].as_slice(), true).clamp_min(1e-12);
        self.staged_features = Some(features / norms);
        Ok(())
    }

    /// Whether the next `fit` needs `stage_cluster_features` first: the GAN clusters on
    /// pretrained features and has no clusters yet (data other than the data they were
    /// found on takes the cluster of its nearest mean item).
    pub fn needs_cluster_features(&self) -> bool {
        let config = &self.config;
        config.clusters > 0
            && config.cluster_features == ClusterFeatures::Efficientnet
            && self.clusters.is_none()
    }

    /// The staged features of `n` items, taken, or the error that says they are missing.
    pub(super) fn take_cluster_features(&mut self, n: i64) -> Result<Tensor> {
        match self.staged_features.take() {
            Some(features) if features.size()[0] == n => Ok(features),
            Some(features) => invalid(format!(
                "cluster features of {} items staged for training data of {n}",
                features.size()[0]
            )),
            None => invalid(
                "cluster_features='efficientnet' clusters the data's EfficientNet-Lite0 features, \
                 which GAN.fit computes (a Rust caller stages them with stage_cluster_features)",
            ),
        }
    }

    /// The shares `[k]` of a self-conditioned GAN's clusters (equal before any training).
    pub fn cluster_shares(&self) -> Option<Tensor> {
        let count = self.config.clusters;
        (count > 0).then(|| match &self.clusters {
            Some(found) => found.weights.shallow_clone(),
            None => Tensor::full([count], 1.0 / count as f64, (Kind::Double, self.device)),
        })
    }

    /// Class labels of real items `data` `[N, ...]`: their clusters when the GAN conditions
    /// on its own (which `fit` must have found), else `labels` checked as `check_labels` does.
    pub fn data_labels(
        &self,
        data: &Tensor,
        labels: Option<&Tensor>,
        what: &str,
    ) -> Result<Option<Tensor>> {
        if self.config.clusters == 0 {
            return self.check_labels(labels, data.size()[0], what);
        }
        if labels.is_some() {
            return invalid(format!(
                "{what} given, but this GAN conditions on its own clusters (clusters={})",
                self.config.clusters
            ));
        }
        match &self.clusters {
            Some(found) => Ok(Some(self.data_clusters(found, data))),
            None => invalid(format!(
                "this GAN (clusters={}) finds the clusters of its data when fit() first trains \
                 it: call fit",
                self.config.clusters
            )),
        }
    }

    /// The EMA generator when there is one and `use_ema` allows it, else the trained one.
    pub fn sampling_generator(&self, use_ema: bool) -> &Network {
        match (&self.ema, use_ema) {
            (Some(ema), true) => ema.generator(),
            _ => &self.generator,
        }
    }

    /// Re-estimates the EMA generator's batch-norm statistics from its own activations
    /// (BigGAN's standing statistics). `Ema` copies the trained generator's, which
    /// describe other weights: on the averaged ones they leave features off-centre and
    /// edges soft. The statistics become the mean of those of `standing_batch`'s chunks of
    /// `STANDING_CHUNK`, each normalised by its own statistics as a training batch is.
    pub fn refresh_ema_statistics(&mut self) {
        let Some(ema) = self.ema.as_ref() else { return };
        let (z, labels) = self.standing_batch();
        let statistics: Vec<Tensor> = named_variables(ema.generator().vs())
            .into_iter()
            .filter(|(name, _)| name.ends_with("running_mean") || name.ends_with("running_var"))
            .map(|(_, v)| v)
            .collect();
        tch::no_grad(|| {
            let mut means: Vec<Tensor> = statistics.iter().map(Tensor::zeros_like).collect();
            let label_chunks = labels.as_ref().map(|l| l.split(STANDING_CHUNK, 0));
            for (k, chunk) in z.split(STANDING_CHUNK, 0).iter().enumerate() {
                // From zero, a training-mode pass leaves momentum x the chunk's statistics.
                for mut s in statistics.iter().map(Tensor::shallow_clone) {
                    let _ = s.zero_();
                }
                let _ = ema.generator().forward(chunk, label_chunks.as_ref().map(|l| &l[k]), true);
                for (mean, s) in means.iter_mut().zip(&statistics) {
                    let chunk_statistic = s / BATCH_NORM_MOMENTUM;
                    *mean += (chunk_statistic - &*mean) / (k + 1) as f64;
                }
            }
            for (mut s, mean) in statistics.into_iter().zip(means) {
                s.copy_(&mean);
            }
        });
    }

    /// The z (and the labels or cluster codes G reads) of the latents whose statistics
    /// `refresh_ema_statistics` keeps: 512 items of uniform classes (clusters at their
    /// shares), from a fixed stream, so that replicas and resumed runs agree.
    pub fn standing_batch(&self) -> (Tensor, Option<Tensor>) {
        const ITEMS: i64 = 512;
        const STREAM: u64 = 0x57_A4_D1_46;
        let mut rng = Rng::new(self.config.seed ^ STREAM);
        let latents = self.draw_latents(&mut rng, ITEMS);
        let drawn = self.config.conditional().then(|| {
            classes_of(&rng.uniform_tensor(&[ITEMS], self.device), self.config.num_classes)
        });
        let labels = self.conditioning(&latents, drawn.as_ref());
        (self.style_part(&latents), labels)
    }

    /// Renders latents `[N, latent_dim]` or `[N, latent_width]` (of classes `labels` `[N]`
    /// when conditional) with the EMA generator when there is one and `use_ema` allows it.
    /// Batch norm uses its running statistics.
    pub fn generate(&self, z: &Tensor, labels: Option<&Tensor>, use_ema: bool) -> Result<Tensor> {
        let z = self.check_latents(z, "latents")?;
        let n = z.size()[0];
        check_output_size(n, self.config.data_numel(), "generated items")?;
        let labels = self.check_labels(labels, n, "labels")?;
        let generator = self.sampling_generator(use_ema);
        // Chunks bound the memory of large requests.
        const CHUNK: i64 = 512;
        let chunks: Vec<Tensor> = tch::no_grad(|| {
            let label_chunks = labels.as_ref().map(|l| l.split(CHUNK, 0));
            z.split(CHUNK, 0)
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    self.render(generator, c, label_chunks.as_ref().map(|l| &l[i]), false)
                })
                .collect()
        });
        // Convolutions leave images channels last; callers get the usual layout.
        Ok(Tensor::f_cat(&chunks, 0)?.f_contiguous()?)
    }

    pub fn sample(
        &mut self,
        n: i64,
        seed: Option<u64>,
        labels: Option<&Tensor>,
        use_ema: bool,
        truncation: f64,
    ) -> Result<Tensor> {
        let z = self.latent(n, seed, truncation)?;
        self.generate(&z, self.sampling_labels(n, labels).as_ref(), use_ema)
    }

    /// The classes `n` samples render: the caller's `labels`, else a conditional GAN's
    /// classes in turn.
    pub fn sampling_labels(&self, n: i64, labels: Option<&Tensor>) -> Option<Tensor> {
        match labels {
            Some(labels) => Some(labels.shallow_clone()),
            None if self.config.conditional() => Some(
                Tensor::arange(n, (Kind::Int64, self.device)).remainder(self.config.num_classes),
            ),
            None => None,
        }
    }
}
