//! The configuration of a `Translator` and its options: names, defaults, value checks.
//! Saved as JSON beside the weights, like a GAN's.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::config::{LossKind, Precision};
use crate::error::{invalid, Error, Result};
use crate::options::{apply_values, check_optimisers, spec, Kind, OptionSpec, Value, PRECISIONS};

/// Adversarial losses a translator trains with; WGAN-GP's critic has no place in a
/// PatchGAN with batch norm.
pub const TRANSLATOR_LOSSES: &[&str] = &["bce", "lsgan", "hinge"];

/// Smallest and largest image side the U-Net and PatchGAN are built for.
pub const MIN_SIZE: i64 = 16;
pub const MAX_SIZE: i64 = 512;
/// Most channels of the networks' widest layers: beyond it a typo would exhaust memory.
const MAX_BASE_CHANNELS: i64 = 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TranslatorConfig {
    /// Shape of one input image, `[C, H, W]`.
    pub in_shape: Vec<i64>,
    /// Shape of one output image, `[C, H, W]`, the same size as the input.
    pub out_shape: Vec<i64>,
    /// Channels of the networks' first layer; deeper layers double it up to 8x. Default 32,
    /// ample at 28-64 px (pix2pix uses 64 at 256 px).
    pub base_channels: i64,
    /// Weight of the L1 distance between outputs and targets (pix2pix: 100).
    pub l1_weight: f64,
    /// Weight of the adversarial loss; 0 trains G on L1 alone.
    pub adversarial_weight: f64,
    /// Dropout of G's three innermost decoder layers while training: its only noise.
    pub dropout: f64,
    pub loss: LossKind,
    /// Stride-2 layers of the PatchGAN discriminator; 0 picks 2 up to 32 px and 3 above.
    pub patch_layers: i64,
    pub lr_g: f64,
    pub lr_d: f64,
    pub betas_g: (f64, f64),
    pub betas_d: (f64, f64),
    /// Decay of the exponential moving average of G's weights; `None` keeps no copy.
    pub ema: Option<f64>,
    pub precision: Precision,
    /// Seeds initialisation, dropout and batch order.
    pub seed: u64,
}

impl Default for TranslatorConfig {
    fn default() -> Self {
        TranslatorConfig {
            in_shape: vec![1, 28, 28],
            out_shape: vec![1, 28, 28],
            base_channels: 32,
            l1_weight: 100.0,
            adversarial_weight: 1.0,
            dropout: 0.5,
            loss: LossKind::Bce,
            patch_layers: 0,
            lr_g: 2e-4,
            lr_d: 2e-4,
            betas_g: (0.5, 0.999),
            betas_d: (0.5, 0.999),
            ema: None,
            precision: Precision::Fp32,
            seed: 0,
        }
    }
}

/// Every option of `TranslatorConfig`, in the order of `rustgan.Translator`'s signature.
pub const SPECS: &[OptionSpec] = &[
    spec("in_shape", Kind::Shape, "shape of one input image (C, H, W)"),
    spec("out_shape", Kind::Shape, "shape of one output image (C, H, W), same H and W"),
    spec("base_channels", Kind::Int { min: 1 }, "width of the networks' first layer"),
    spec("l1_weight", Kind::Float, "weight of the L1 loss against the targets"),
    spec("adversarial_weight", Kind::Float, "weight of the adversarial loss (0: L1 only)"),
    spec("dropout", Kind::Float, "dropout of G's innermost decoder layers while training"),
    spec("loss", Kind::Choice(TRANSLATOR_LOSSES), "adversarial loss"),
    spec("patch_layers", Kind::Int { min: 0 }, "stride-2 layers of the PatchGAN (0: by size)"),
    spec("lr_g", Kind::Float, "Adam learning rate of G"),
    spec("lr_d", Kind::Float, "Adam learning rate of D"),
    spec("betas_g", Kind::Pair, "Adam betas of G"),
    spec("betas_d", Kind::Pair, "Adam betas of D"),
    spec("ema", Kind::OptionalFloat, "EMA decay of G (None: no EMA)"),
    spec("precision", Kind::Choice(PRECISIONS), "bf16: mixed-precision convolutions"),
    spec("seed", Kind::Seed, "seeds initialisation, dropout and batch order"),
];

impl TranslatorConfig {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a config always serialises")
    }

    /// The default of every option, as JSON.
    pub fn defaults() -> Map<String, Json> {
        match serde_json::to_value(TranslatorConfig::default()) {
            Ok(Json::Object(map)) => map,
            _ => unreachable!("a config serialises to an object"),
        }
    }

    /// A checked config from named option values; options not given keep their defaults.
    pub fn from_values(values: &[(String, Value)]) -> Result<Self> {
        Self::from_json_value(apply_values(SPECS, Self::defaults(), values)?)
    }

    /// A config saved as JSON (in a checkpoint), checked like a new one.
    pub fn from_json(json: &str) -> Result<Self> {
        let value = serde_json::from_str(json)
            .map_err(|e| Error::InvalidArgument(format!("translator config: {e}")))?;
        Self::from_json_value(value)
    }

    fn from_json_value(value: Json) -> Result<Self> {
        let config: TranslatorConfig = serde_json::from_value(value)
            .map_err(|e| Error::InvalidArgument(format!("translator config: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    /// Image height and width, shared by inputs and outputs.
    pub fn size(&self) -> (i64, i64) {
        (self.in_shape[1], self.in_shape[2])
    }

    /// Stride-2 layers of the PatchGAN.
    pub fn discriminator_layers(&self) -> i64 {
        match self.patch_layers {
            0 if self.size().0.min(self.size().1) <= 32 => 2,
            0 => 3,
            layers => layers,
        }
    }

    pub fn validate(&self) -> Result<()> {
        for (name, shape) in [("in_shape", &self.in_shape), ("out_shape", &self.out_shape)] {
            let fits = |side: &i64| (MIN_SIZE..=MAX_SIZE).contains(side);
            if shape.len() != 3 || !(1..=64).contains(&shape[0]) || !shape[1..].iter().all(fits) {
                return invalid(format!(
                    "{name} must be (channels, height, width) with 1-64 channels and sides in \
                     [{MIN_SIZE}, {MAX_SIZE}], got {shape:?}"
                ));
            }
        }
        if self.in_shape[1..] != self.out_shape[1..] {
            return invalid(format!(
                "in_shape {:?} and out_shape {:?} must have the same height and width; \
                 upsample small inputs first (rustgan.data.pairs does for 'superres')",
                self.in_shape, self.out_shape
            ));
        }
        if !(1..=MAX_BASE_CHANNELS).contains(&self.base_channels) {
            return invalid(format!(
                "base_channels must lie in [1, {MAX_BASE_CHANNELS}], got {}",
                self.base_channels
            ));
        }
        for (name, value) in
            [("l1_weight", self.l1_weight), ("adversarial_weight", self.adversarial_weight)]
        {
            if !(value.is_finite() && value >= 0.0) {
                return invalid(format!("{name} must be >= 0, got {value}"));
            }
        }
        if self.l1_weight == 0.0 && self.adversarial_weight == 0.0 {
            return invalid("l1_weight and adversarial_weight are both 0: G would learn nothing");
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return invalid(format!("dropout must lie in [0, 1), got {}", self.dropout));
        }
        if self.loss == LossKind::WganGp {
            return invalid(
                "loss 'wgan-gp' is not offered for translators: use 'bce', 'lsgan' or 'hinge'",
            );
        }
        let (height, width) = self.size();
        let layers = self.discriminator_layers();
        // Two stride-1 convolutions of kernel 4 follow the stride-2 ones, each one smaller.
        if layers > 6 || (height.min(width) >> layers) < 3 {
            return invalid(format!(
                "patch_layers={layers} halves {height}x{width} images below 3 px before the \
                 last two layers: use fewer"
            ));
        }
        check_optimisers([self.lr_g, self.lr_d], [self.betas_g, self.betas_d], self.ema)
    }
}
