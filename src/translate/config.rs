//! The configuration of a `Translator` and its options: names, defaults, value checks.
//! Saved as JSON beside the weights, like a GAN's.

use crate::error::{invalid, Result};
use crate::models::patchgan::{self, PatchGanSpec};
use crate::models::unet::{check_image_shape, UNetSpec, MAX_SIZE};
use crate::option_table::{check_ranges, Bounds, Kind, OptionSpec};
use crate::options::{as_json, TableConfig};
use crate::shared_options::model_option_table;
model_option_table! {
    /// The options of `rustgan.Translator`.
    pub struct TranslatorConfig, table SPECS {
        /// Shape of one input image, `[C, H, W]`.
        in_shape: Vec<i64> = vec![1, 28, 28], Kind::Shape { max: MAX_SIZE },
            "shape of one input image (C, H, W)";
        /// Shape of one output image, `[C, H, W]`, the same size as the input.
        out_shape: Vec<i64> = vec![1, 28, 28], Kind::Shape { max: MAX_SIZE },
            "shape of one output image (C, H, W), same H and W";
        /// Weight of the L1 distance between outputs and targets (pix2pix: 100).
        l1_weight: f64 = 100.0, Kind::Float(Bounds::NON_NEGATIVE),
            "weight of the L1 loss against the targets";
        /// Weight of the adversarial loss; 0 trains G on L1 alone.
        adversarial_weight: f64 = 1.0, Kind::Float(Bounds::NON_NEGATIVE),
            "weight of the adversarial loss (0: L1 only)";
        /// Dropout of G's three innermost decoder layers while training: its only noise.
        dropout: f64 = 0.5, Kind::Float(Bounds::FRACTION),
            "dropout of G's innermost decoder layers while training";
        /// Stride-2 layers of the PatchGAN discriminator; 0 picks 2 up to 32 px and 3 above.
        patch_layers: i64 = 0, Kind::Int { min: 0, max: 6 },
            "stride-2 layers of the PatchGAN (0: by size)";
    }
    shared (losses patchgan::LOSSES) { base_channels = 32, ema = Some(0.999) }
}

impl TranslatorConfig {
    /// A narrow translator of 16 px grey images, for tests.
    #[cfg(test)]
    pub fn tiny() -> Self {
        TranslatorConfig {
            in_shape: vec![1, 16, 16],
            out_shape: vec![1, 16, 16],
            base_channels: 4,
            ..Default::default()
        }
    }

    /// Image height and width, shared by inputs and outputs.
    pub fn size(&self) -> (i64, i64) {
        (self.in_shape[1], self.in_shape[2])
    }

    /// Stride-2 layers of the PatchGAN.
    pub fn discriminator_layers(&self) -> i64 {
        match self.patch_layers {
            0 => patchgan::layers_by_size(self.size().0, self.size().1),
            layers => layers,
        }
    }

    /// The U-Net from inputs to outputs.
    pub fn generator_spec(&self) -> UNetSpec {
        let (height, width) = self.size();
        UNetSpec {
            in_channels: self.in_shape[0],
            out_channels: self.out_shape[0],
            height,
            width,
            base_channels: self.base_channels,
            dropout: self.dropout,
            precision: self.precision,
        }
    }

    /// The PatchGAN of (input, output) pairs.
    pub fn discriminator_spec(&self) -> PatchGanSpec {
        PatchGanSpec {
            channels: self.in_shape[0] + self.out_shape[0],
            base_channels: self.base_channels,
            layers: self.discriminator_layers(),
            precision: self.precision,
        }
    }
}

impl TableConfig for TranslatorConfig {
    const SPECS: &'static [OptionSpec] = SPECS;
    const NAME: &'static str = "translator config";

    fn validate(&self) -> Result<()> {
        check_ranges(SPECS, &as_json(self))?;
        check_image_shape("in_shape", &self.in_shape)?;
        check_image_shape("out_shape", &self.out_shape)?;
        if self.in_shape[1..] != self.out_shape[1..] {
            return invalid(format!(
                "in_shape {:?} and out_shape {:?} must have the same height and width; \
                 upsample small inputs first (rustgan.data.pairs does for 'superres')",
                self.in_shape, self.out_shape
            ));
        }
        if self.l1_weight == 0.0 && self.adversarial_weight == 0.0 {
            return invalid("l1_weight and adversarial_weight are both 0: G would learn nothing");
        }
        let (height, width) = self.size();
        patchgan::check_layers(self.discriminator_layers(), height, width)
    }
}
