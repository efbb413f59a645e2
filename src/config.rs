//! The configuration of a GAN: everything needed to rebuild its networks and optimisers.
//! Saved as JSON beside the weights; `options` checks it and builds it from the keyword
//! arguments of `rustgan.GAN`.

use crate::option_table::{named_choices, Bounds, Kind};
use crate::shared_options::model_option_table;
pub use crate::shared_options::{half_life_factor, LossKind, Precision};

named_choices! {
    pub enum Arch ("arch") {
        /// Radford et al. 2015: transposed convolutions in G, strided convolutions in D.
        Dcgan = "dcgan",
        /// Fully connected networks, for vectors such as 2D points.
        Mlp = "mlp",
        /// SNGAN/BigGAN-style residual networks for 28-128 px images.
        Resnet = "resnet",
        /// Projected GAN: a FastGAN generator against a discriminator that judges images
        /// through frozen ImageNet features (EfficientNet-Lite0), for 32-256 px images.
        Projected = "projected",
    }
}

named_choices! {
    /// What a self-conditioned GAN's clusters are fitted on.
    pub enum ClusterFeatures ("cluster_features") {
        /// The images' pixels (with `recluster_every`, D's features later on).
        Pixels = "pixels",
        /// The pooled features of the shipped EfficientNet-Lite0, trained on ImageNet,
        /// which `GAN.fit` computes once per fit (`Gan::stage_cluster_features`).
        Efficientnet = "efficientnet",
    }
}

named_choices! {
    /// Differentiable augmentations of DiffAugment (Zhao et al. 2020), applied to every
    /// image D sees, real or generated, so that D cannot memorise a small data set.
    pub enum Augment ("augment") {
        /// Random brightness, saturation and contrast.
        Color = "color",
        /// Random shifts by up to 1/8 of the image size, zero-padded.
        Translation = "translation",
        /// A random square of half the image size set to zero.
        Cutout = "cutout",
    }
}

/// Per-step decay of top-k training's share: halves in about 700 steps, as Sinha et al.'s
/// 0.99 per epoch does over a long run.
const TOP_K_DECAY: f64 = 0.999;

/// Largest size accepted for any one dimension (latent, width, data entry).
pub const MAX_DIM: i64 = 1 << 16;
/// Most classes of a conditional GAN: D's projection holds a feature vector per class.
pub const MAX_CLASSES: i64 = 1 << 12;
/// Most layers, pieces or packed samples: beyond it a typo would exhaust memory.
const MAX_COUNT: i64 = 64;

const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}

model_option_table! {
    /// The options of `rustgan.GAN`.
    pub struct GanConfig, table SPECS {
        /// Shape of one data item: `[C, H, W]` for images, `[D]` for vectors.
        data_shape: Vec<i64> = vec![1, 28, 28], Kind::Shape { max: MAX_DIM },
            "shape of one item: (C, H, W) for images, (D,) for vectors";
        arch: Arch = Arch::Dcgan, Kind::Choice(Arch::NAMES),
            "network family: 'dcgan', 'resnet', 'projected' (images) or 'mlp'";
        /// Size of the latent code z ~ N(0, I).
        latent_dim: i64 = 64, int(1, MAX_DIM), "size of the latent code z ~ N(0, I)";
        /// Size the projected discriminator resizes images to before its feature network.
        projected_size: i64 = 64, int(1, MAX_DIM),
            "input size of the projected discriminator's feature network (arch='projected')";
        /// The projected discriminator also judges the images' pixels with a small
        /// discriminator of its own, as much as all feature stages together (Kumari et al.
        /// 2022 pair a pixel D with pretrained-feature ones): ImageNet features barely see
        /// colour, pixels do.
        pixel_head: bool = false, Kind::Bool,
            "arch='projected': D judges pixels beside the frozen features";
        /// Width of the hidden layers of the MLP networks.
        hidden_dim: i64 = 128, int(1, MAX_DIM), "width of the MLP networks' hidden layers";
        /// Number of hidden layers of the MLP networks.
        depth: i64 = 3, int(1, MAX_COUNT), "hidden layers of the MLP networks";
        /// Batch norm after each hidden layer of the MLP generator, as PacGAN's 2D generator.
        batch_norm_g: bool = false, Kind::Bool, "batch norm in the MLP generator's hidden layers";
        /// Width of the MLP discriminator's hidden layers; 0 takes the generator's.
        hidden_dim_d: i64 = 0, int(0, MAX_DIM), "width of the MLP discriminator (0: hidden_dim)";
        /// Number of the MLP discriminator's hidden layers; 0 takes the generator's.
        depth_d: i64 = 0, int(0, MAX_COUNT), "hidden layers of the MLP discriminator (0: depth)";
        /// Maxout pieces per hidden unit of the MLP discriminator (Goodfellow et al. 2013),
        /// as PacGAN's 2D discriminator; 1 is LeakyReLU(0.2).
        maxout: i64 = 1, int(1, MAX_COUNT),
            "maxout pieces per MLP discriminator unit (1: LeakyReLU)";
        /// Discriminator updates per generator update (5 is usual with WGAN-GP).
        n_critic: i64 = 1, int(1, MAX_COUNT), "D updates per G update";
        /// Weight of the gradient penalty of WGAN-GP.
        gp_weight: f64 = 10.0, Kind::Float(Bounds::NON_NEGATIVE),
            "weight of WGAN-GP's gradient penalty";
        /// Adds WGAN-GP's gradient penalty (weight `gp_weight`) to any loss. Always on for
        /// WGAN-GP.
        gradient_penalty: bool = false, Kind::Bool, "WGAN-GP's penalty with any loss";
        /// R1 penalty gamma / 2 * E|grad_x D(x_real)|^2 (Mescheder et al. 2018); 0 is off.
        r1_gamma: f64 = 0.0, Kind::Float(Bounds::NON_NEGATIVE), "R1 penalty weight (0: off)";
        /// Lazy regularisation (Karras et al. 2020): R1 every `r1_every` steps, scaled up to
        /// match.
        r1_every: i64 = 1, int(1, MAX_DIM), "lazy R1: apply it every N steps";
        /// R2 penalty gamma / 2 * E|grad_x D(x_fake)|^2 on generated items (R3GAN pairs it
        /// with R1 of the same gamma), on the steps R1 is applied; 0 is off.
        r2_gamma: f64 = 0.0, Kind::Float(Bounds::NON_NEGATIVE), "R2 penalty weight (0: off)";
        /// Spectral normalisation of every D layer (Miyato et al. 2018); D then has no
        /// batch norm.
        spectral_norm: bool = false, Kind::Bool, "spectrally normalised D";
        /// PacGAN (Lin et al. 2018): D judges `pac` samples at once. Batches must be
        /// multiples.
        pac: i64 = 1, int(1, MAX_COUNT), "PacGAN: D judges this many samples at once";
        /// Top-k training (Sinha et al. 2020): G learns from the fakes D rates most real, a
        /// share that anneals from 1 as 0.999^step down to `top_k`. 1 is off.
        top_k: f64 = 1.0, Kind::Float(Bounds::SHARE),
            "top-k training: least share of fakes G learns from (1: off)";
        /// DiffAugment policy; empty is off. Images only.
        augment: Vec<Augment> = vec![], Kind::Choices(Augment::NAMES), "DiffAugment policy";
        /// Adaptive augmentation (Karras et al. 2020): each of `augment`'s transformations
        /// reaches an image with a probability p, from 0, adjusted every 4 steps towards
        /// E[sign(D(real))] = this target (0.6 in the paper); 0 applies them always.
        augment_target: f64 = 0.0, Kind::Float(Bounds::FRACTION),
            "adaptive augmentation: target of E[sign(D(real))] (0: augment always)";
        /// Number of classes of a class-conditional GAN (labels 0..k-1); 0 is
        /// unconditional. D is a projection discriminator.
        num_classes: i64 = 0, int(0, MAX_CLASSES),
            "classes of a conditional GAN (0: unconditional)";
        /// Self-conditioning: G and D are conditioned on this many k-means clusters of the
        /// training data, drawn at their shares; 0 is off.
        clusters: i64 = 0, int(0, MAX_CLASSES),
            "self-conditioning on k-means clusters of the data (0: off)";
        /// Re-clusters a self-conditioned GAN's data on D's features every this many steps
        /// (Liu et al. 2020), matching the new clusters to the old; 0 keeps the clusters of
        /// pixels found at the start.
        recluster_every: i64 = 0, int(0, i64::MAX),
            "re-cluster on D's features every N steps (0: keep the pixel clusters)";
        /// What the clusters are fitted on: the images' pixels, or the pooled ImageNet
        /// features of EfficientNet-Lite0, which tell shapes and objects apart where pixels
        /// group colours and places. New images outside the training data (`step`,
        /// `clusters_of`) take the cluster of their nearest mean image.
        cluster_features: ClusterFeatures = ClusterFeatures::Pixels,
            Kind::Choice(ClusterFeatures::NAMES),
            "what clusters are fitted on: 'pixels' or 'efficientnet' (ImageNet features)";
        /// A self-conditioned GAN's latent carries its cluster as a code of its own, after
        /// z (`[N, latent_dim + clusters]`), which editing searches and sets; else (as
        /// saved before) the quantile of z's first coordinate picks the cluster.
        cluster_code: bool = true, Kind::Bool,
            "a self-conditioned GAN's latent carries its cluster as a code after z";
        /// A conditioned residual G reads its class through conditional batch norm (a gain
        /// and shift per class in every up-block, as SNGAN) instead of a one-hot beside z.
        conditional_batch_norm: bool = true, Kind::Bool,
            "a conditioned resnet G reads its class through batch norm (else beside z)";
    }
    shared (losses LossKind::NAMES) {}
}

/// The options the hand-differentiated MLP step (`gan::fused_mlp`) follows at any value.
/// A GAN takes that step when `arch` is 'mlp', its loss one of `FUSED_MLP_LOSSES` and
/// every option not listed here at its default: a new option takes autograd's path until
/// the fused step learns it and it joins this list.
pub const FUSED_MLP_OPTIONS: &[&str] = &[
    "data_shape",
    "latent_dim",
    "hidden_dim",
    "depth",
    "hidden_dim_d",
    "depth_d",
    "lr_g",
    "lr_d",
    "betas_g",
    "betas_d",
    "lr_half_life",
    "n_critic",
    "pac",
    "top_k",
    "ema",
    "seed",
    // Read only by image networks or beside options that keep their defaults here.
    "base_channels",
    "gp_weight",
    "r1_every",
    "augment_target",
    "recluster_every",
    "cluster_code",
    "conditional_batch_norm",
];

/// The losses the fused MLP step differentiates in closed form.
pub const FUSED_MLP_LOSSES: &[LossKind] = &[LossKind::Bce, LossKind::Lsgan, LossKind::Hinge];

impl GanConfig {
    /// Number of values in one data item.
    pub fn data_numel(&self) -> i64 {
        self.data_shape.iter().product()
    }

    /// Inputs of G's first layer: z and, when conditioned through its input, a one-hot label.
    pub fn generator_input_dim(&self) -> i64 {
        if self.class_batch_norm() {
            self.latent_dim
        } else {
            self.latent_dim + self.conditioning_classes()
        }
    }

    /// Whether G reads its class through conditional batch norm.
    pub fn class_batch_norm(&self) -> bool {
        self.arch == Arch::Resnet && self.conditional_batch_norm && self.conditioning_classes() > 0
    }

    /// Whether the caller supplies class labels (a class-conditional GAN).
    pub fn conditional(&self) -> bool {
        self.num_classes > 0
    }

    /// Width of the MLP discriminator's hidden layers.
    pub fn discriminator_hidden_dim(&self) -> i64 {
        if self.hidden_dim_d > 0 {
            self.hidden_dim_d
        } else {
            self.hidden_dim
        }
    }

    /// Number of the MLP discriminator's hidden layers.
    pub fn discriminator_depth(&self) -> i64 {
        if self.depth_d > 0 {
            self.depth_d
        } else {
            self.depth
        }
    }

    /// Classes the networks are conditioned on: the caller's, or the GAN's own clusters.
    pub fn conditioning_classes(&self) -> i64 {
        if self.conditional() {
            self.num_classes
        } else {
            self.clusters
        }
    }

    /// How many of `batch` fakes G learns from after `step` updates, under top-k training.
    pub fn top_k_count(&self, batch: i64, step: i64) -> Option<i64> {
        if self.top_k >= 1.0 {
            return None;
        }
        let share = self.top_k.max(TOP_K_DECAY.powf(step.max(0) as f64));
        Some(((share * batch as f64).round() as i64).clamp(1, batch))
    }

    /// The learning rates' factor after `step` updates.
    pub fn lr_factor(&self, step: i64) -> f64 {
        half_life_factor(self.lr_half_life, step)
    }

    /// A small MLP GAN on 2D points, for tests.
    #[cfg(test)]
    pub fn tiny_mlp() -> Self {
        GanConfig {
            data_shape: vec![2],
            arch: Arch::Mlp,
            latent_dim: 3,
            hidden_dim: 8,
            depth: 2,
            ..Default::default()
        }
    }

    /// Whether the WGAN-GP penalty is part of D's loss.
    pub fn uses_gradient_penalty(&self) -> bool {
        self.loss == LossKind::WganGp || self.gradient_penalty
    }
}
