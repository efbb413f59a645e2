//! The configuration of a GAN: everything needed to rebuild its networks and optimisers.
//! Saved as JSON beside the weights; parsed from the keyword arguments of `rustgan.GAN`.

use serde::{Deserialize, Serialize};
use tch::Kind;

use crate::error::{invalid, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Radford et al. 2015: transposed convolutions in G, strided convolutions in D.
    Dcgan,
    /// Fully connected networks, for vectors such as 2D points.
    Mlp,
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
    /// Adam learning rates and betas of the generator and the discriminator.
    pub lr_g: f64,
    pub lr_d: f64,
    pub betas_g: (f64, f64),
    pub betas_d: (f64, f64),
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
    /// DiffAugment policy; empty is off. Images only.
    pub augment: Vec<Augment>,
    /// Number of classes of a class-conditional GAN (labels 0..k-1); 0 is unconditional.
    /// G gets a one-hot label beside z; D is a projection discriminator.
    pub num_classes: i64,
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
            lr_g: 2e-4,
            lr_d: 2e-4,
            betas_g: (0.5, 0.999),
            betas_d: (0.5, 0.999),
            n_critic: 1,
            gp_weight: 10.0,
            gradient_penalty: false,
            r1_gamma: 0.0,
            r1_every: 1,
            spectral_norm: false,
            pac: 1,
            augment: vec![],
            num_classes: 0,
            ema: None,
            precision: Precision::Fp32,
            seed: 0,
        }
    }
}

/// Image sizes the DCGAN networks are built for.
pub const DCGAN_SIZES: [i64; 3] = [28, 32, 64];

/// Largest size accepted for any one dimension (latent, width, data entry).
const MAX_DIM: i64 = 1 << 16;
/// Most classes of a conditional GAN: D's projection holds a feature vector per class.
const MAX_CLASSES: i64 = 1 << 12;
/// Largest network accepted, in parameters: beyond this a typo (an extra zero in a width)
/// would exhaust memory instead of raising an error.
const MAX_PARAMETERS: f64 = (1u64 << 28) as f64;

impl GanConfig {
    pub fn from_json(json: &str) -> Result<Self> {
        let config: GanConfig = serde_json::from_str(json)
            .map_err(|e| crate::error::Error::InvalidArgument(format!("GAN config: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a config always serialises")
    }

    /// Approximate parameter count of the larger network, from the layer widths.
    fn parameter_estimate(&self) -> f64 {
        let latent = self.latent_dim as f64;
        match self.arch {
            Arch::Mlp => {
                let numel: f64 = self.data_shape.iter().map(|&d| d as f64).product();
                let hidden = self.hidden_dim as f64;
                (latent + numel) * hidden + (self.depth as f64 - 1.0) * hidden * hidden
            }
            Arch::Dcgan => {
                // Widths double from `base` at each of up to four resolution changes.
                let (base, channels) = (self.base_channels as f64, self.data_shape[0] as f64);
                let widest = base * 8.0;
                latent * widest * 49.0 + 16.0 * widest * widest * (4.0 / 3.0) + 16.0 * base * channels
            }
        }
    }

    /// Number of values in one data item.
    pub fn data_numel(&self) -> i64 {
        self.data_shape.iter().product()
    }

    /// Inputs of G's first layer: z and, when conditional, a one-hot label.
    pub fn generator_input_dim(&self) -> i64 {
        self.latent_dim + self.num_classes
    }

    pub fn conditional(&self) -> bool {
        self.num_classes > 0
    }

    /// Whether the WGAN-GP penalty is part of D's loss.
    pub fn uses_gradient_penalty(&self) -> bool {
        self.loss == LossKind::WganGp || self.gradient_penalty
    }

    pub fn validate(&self) -> Result<()> {
        if self.data_shape.is_empty() || self.data_shape.iter().any(|&d| d < 1) {
            return invalid(format!("data_shape must be positive sizes, got {:?}", self.data_shape));
        }
        if self.data_shape.iter().any(|&d| d > MAX_DIM) || self.data_shape.len() > 8 {
            return invalid(format!("data_shape {:?} is too large", self.data_shape));
        }
        if self.arch == Arch::Dcgan {
            match self.data_shape[..] {
                [c, h, w] if c >= 1 && h == w && DCGAN_SIZES.contains(&h) => {}
                _ => {
                    return invalid(format!(
                        "arch='dcgan' needs data_shape (channels, size, size) with size in {DCGAN_SIZES:?}, got {:?}",
                        self.data_shape
                    ))
                }
            }
        }
        for (name, value) in [
            ("latent_dim", self.latent_dim),
            ("base_channels", self.base_channels),
            ("hidden_dim", self.hidden_dim),
            ("depth", self.depth),
            ("n_critic", self.n_critic),
            ("r1_every", self.r1_every),
            ("pac", self.pac),
        ] {
            if value < 1 {
                return invalid(format!("{name} must be at least 1, got {value}"));
            }
            if value > MAX_DIM || (matches!(name, "depth" | "pac") && value > 64) {
                return invalid(format!("{name} = {value} is too large"));
            }
        }
        if !(0..=MAX_CLASSES).contains(&self.num_classes) {
            return invalid(format!("num_classes must lie in [0, {MAX_CLASSES}] (0: unconditional), got {}", self.num_classes));
        }
        if self.num_classes > 0 && self.pac > 1 {
            return invalid("pac > 1 packs samples of different classes: use it with num_classes=0");
        }
        if !self.augment.is_empty() && self.arch != Arch::Dcgan {
            return invalid("augment applies to images: use it with arch='dcgan'");
        }
        if !(self.r1_gamma.is_finite() && self.r1_gamma >= 0.0) {
            return invalid(format!("r1_gamma must be >= 0, got {}", self.r1_gamma));
        }
        let parameters = self.parameter_estimate();
        if parameters > MAX_PARAMETERS {
            return invalid(format!(
                "the networks would have about {parameters:.1e} parameters, more than the {MAX_PARAMETERS:.1e} allowed"
            ));
        }
        for (name, lr) in [("lr_g", self.lr_g), ("lr_d", self.lr_d)] {
            if !(lr.is_finite() && lr > 0.0) {
                return invalid(format!("{name} must be a positive number, got {lr}"));
            }
        }
        for (name, (b1, b2)) in [("betas_g", self.betas_g), ("betas_d", self.betas_d)] {
            if !((0.0..1.0).contains(&b1) && (0.0..1.0).contains(&b2)) {
                return invalid(format!("{name} must lie in [0, 1), got ({b1}, {b2})"));
            }
        }
        if !(self.gp_weight.is_finite() && self.gp_weight >= 0.0) {
            return invalid(format!("gp_weight must be >= 0, got {}", self.gp_weight));
        }
        if let Some(decay) = self.ema {
            if !(decay > 0.0 && decay < 1.0) {
                return invalid(format!("ema decay must lie in (0, 1), got {decay}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_errors() {
        let config = GanConfig::from_json(r#"{"loss": "wgan-gp", "ema": 0.99}"#).unwrap();
        assert_eq!(config.loss, LossKind::WganGp);
        assert_eq!(GanConfig::from_json(&config.to_json()).unwrap(), config);
        let err = GanConfig::from_json(r#"{"arch": "resnet"}"#).unwrap_err().to_string();
        assert!(err.contains("resnet"), "{err}");
        assert!(GanConfig::from_json(r#"{"data_shape": [1, 30, 30]}"#).is_err());
        assert!(GanConfig::from_json(r#"{"latent_dims": 3}"#).is_err());
        let stabilised = GanConfig::from_json(r#"{"augment": ["translation", "cutout"], "pac": 2, "spectral_norm": true}"#).unwrap();
        assert_eq!(stabilised.augment, vec![Augment::Translation, Augment::Cutout]);
        assert!(GanConfig::from_json(r#"{"pac": 2, "num_classes": 10}"#).is_err());
        assert!(GanConfig::from_json(r#"{"arch": "mlp", "data_shape": [2], "augment": ["color"]}"#).is_err());
        assert_eq!(GanConfig::from_json(r#"{"precision": "bf16"}"#).unwrap().precision, Precision::Bf16);
        assert!(GanConfig::from_json(r#"{"precision": "fp16"}"#).is_err());
    }
}
