//! The configuration of a GAN: everything needed to rebuild its networks and optimisers.
//! Saved as JSON beside the weights; `options` checks it and builds it from the keyword
//! arguments of `rustgan.GAN`.

use serde::{Deserialize, Serialize};
use tch::Kind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Radford et al. 2015: transposed convolutions in G, strided convolutions in D.
    Dcgan,
    /// Fully connected networks, for vectors such as 2D points.
    Mlp,
    /// SNGAN/BigGAN-style residual networks for 28-128 px images.
    Resnet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LossKind {
    /// Non-saturating loss of Goodfellow et al. 2014, as binary cross-entropy on logits.
    #[serde(rename = "bce")]
    Bce,
    /// Least squares GAN (Mao et al. 2017) with targets 1 (real) and 0 (fake).
    #[serde(rename = "lsgan")]
    Lsgan,
    /// Hinge loss (Lim & Ye 2017, Miyato et al. 2018).
    #[serde(rename = "hinge")]
    Hinge,
    /// Wasserstein loss with gradient penalty (Gulrajani et al. 2017).
    #[serde(rename = "wgan-gp")]
    WganGp,
}

/// Differentiable augmentations of DiffAugment (Zhao et al. 2020), applied to every image
/// D sees, real or generated, so that D cannot memorise a small data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Augment {
    /// Random brightness, saturation and contrast.
    Color,
    /// Random shifts by up to 1/8 of the image size, zero-padded.
    Translation,
    /// A random square of half the image size set to zero.
    Cutout,
}

/// The precision of convolutions and matmuls. Weights, optimiser state, batch-norm
/// statistics and losses stay fp32 either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Fp32,
    /// Mixed precision as autocast does it: bf16 inputs and weights for convolutions and
    /// matmuls. Fast on CUDA and on CPUs with AVX512-BF16 or AMX.
    Bf16,
}

impl Precision {
    pub fn compute_kind(self) -> Kind {
        match self {
            Precision::Fp32 => Kind::Float,
            Precision::Bf16 => Kind::BFloat16,
        }
    }
}

/// Per-step decay of top-k training's share: halves in about 700 steps, as Sinha et al.'s
/// 0.99 per epoch does over a long run.
const TOP_K_DECAY: f64 = 0.999;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GanConfig {
    /// Shape of one data item: `[C, H, W]` for images, `[D]` for vectors.
    pub data_shape: Vec<i64>,
    pub arch: Arch,
    /// Size of the latent code z ~ N(0, I). Default 64.
    pub latent_dim: i64,
    pub loss: LossKind,
    /// Channels of the widest-resolution DCGAN layer; deeper layers double it. Default 64.
    pub base_channels: i64,
    /// Width of the hidden layers of the MLP networks. Default 128.
    pub hidden_dim: i64,
    /// Number of hidden layers of the MLP networks. Default 3.
    pub depth: i64,
    /// Batch norm after each hidden layer of the MLP generator, as PacGAN's 2D generator.
    pub batch_norm_g: bool,
    /// Width and number of the MLP discriminator's hidden layers; 0 takes the generator's.
    pub hidden_dim_d: i64,
    pub depth_d: i64,
    /// Maxout pieces per hidden unit of the MLP discriminator (Goodfellow et al. 2013), as
    /// PacGAN's 2D discriminator; 1 is LeakyReLU(0.2).
    pub maxout: i64,
    /// Adam learning rates and betas of the generator and the discriminator.
    pub lr_g: f64,
    pub lr_d: f64,
    pub betas_g: (f64, f64),
    pub betas_d: (f64, f64),
    /// Exponential learning-rate decay: both rates halve every `lr_half_life` steps, so
    /// the game settles late in a run instead of circling; 0 keeps them constant.
    pub lr_half_life: i64,
    /// Discriminator updates per generator update. Default 1 (5 is usual with WGAN-GP).
    pub n_critic: i64,
    /// Weight of the gradient penalty of WGAN-GP. Default 10.
    pub gp_weight: f64,
    /// Adds WGAN-GP's gradient penalty (weight `gp_weight`) to any loss. Always on for WGAN-GP.
    pub gradient_penalty: bool,
    /// R1 penalty gamma / 2 * E|grad_x D(x_real)|^2 (Mescheder et al. 2018); 0 is off.
    pub r1_gamma: f64,
    /// Lazy regularisation (Karras et al. 2020): R1 every `r1_every` steps, scaled up to match.
    pub r1_every: i64,
    /// Spectral normalisation of every D layer (Miyato et al. 2018); D then has no batch norm.
    pub spectral_norm: bool,
    /// PacGAN (Lin et al. 2018): D judges `pac` samples at once. Batches must be multiples.
    pub pac: i64,
    /// Top-k training (Sinha et al. 2020): G learns from the fakes D rates most real, a
    /// share that anneals from 1 as 0.999^step down to `top_k`. 1 is off.
    pub top_k: f64,
    /// DiffAugment policy; empty is off. Images only.
    pub augment: Vec<Augment>,
    /// Number of classes of a class-conditional GAN (labels 0..k-1); 0 is unconditional.
    /// G gets a one-hot label beside z; D is a projection discriminator.
    pub num_classes: i64,
    /// Self-conditioning: G and D are conditioned on this many k-means clusters of the
    /// training data, and a latent's cluster follows from the latent; 0 is off.
    pub clusters: i64,
    /// A conditioned residual G reads its class through conditional batch norm (a gain
    /// and shift per class in every up-block, as SNGAN) instead of a one-hot beside z.
    pub conditional_batch_norm: bool,
    /// Decay of the exponential moving average of G's weights; `None` keeps no EMA copy.
    pub ema: Option<f64>,
    pub precision: Precision,
    /// Seeds initialisation, latents and shuffling.
    pub seed: u64,
}

impl Default for GanConfig {
    fn default() -> Self {
        GanConfig {
            data_shape: vec![1, 28, 28],
            arch: Arch::Dcgan,
            latent_dim: 64,
            loss: LossKind::Bce,
            base_channels: 64,
            hidden_dim: 128,
            depth: 3,
            batch_norm_g: false,
            hidden_dim_d: 0,
            depth_d: 0,
            maxout: 1,
            lr_g: 2e-4,
            lr_d: 2e-4,
            betas_g: (0.5, 0.999),
            betas_d: (0.5, 0.999),
            lr_half_life: 0,
            n_critic: 1,
            gp_weight: 10.0,
            gradient_penalty: false,
            r1_gamma: 0.0,
            r1_every: 1,
            spectral_norm: false,
            pac: 1,
            top_k: 1.0,
            augment: vec![],
            num_classes: 0,
            clusters: 0,
            conditional_batch_norm: true,
            ema: None,
            precision: Precision::Fp32,
            seed: 0,
        }
    }
}

impl GanConfig {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a config always serialises")
    }

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
        if self.lr_half_life == 0 {
            return 1.0;
        }
        0.5f64.powf(step.max(0) as f64 / self.lr_half_life as f64)
    }

    /// Whether the WGAN-GP penalty is part of D's loss.
    pub fn uses_gradient_penalty(&self) -> bool {
        self.loss == LossKind::WganGp || self.gradient_penalty
    }
}
