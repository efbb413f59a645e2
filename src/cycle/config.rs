//! The configuration of a `CycleGan` and its options: names, defaults, value checks.
//! Saved as JSON beside the weights, like a translator's.

use super::generator::GeneratorSpec;
use crate::config::LossKind;
use crate::error::{invalid, Result};
use crate::models::patchgan::{self, PatchGanSpec};
use crate::models::resnet_translator::{ResnetTranslatorSpec, SIDE_MULTIPLE};
use crate::models::unet::{check_image_shape, UNetSpec, MAX_SIZE};
use crate::option_table::{check_ranges, named_choices, Bounds, Kind, OptionSpec};
use crate::options::{as_json, TableConfig};
use crate::shared_options::model_option_table;

/// Most translations a pool keeps: beyond it a typo would exhaust memory.
const MAX_POOL: i64 = 10_000;

named_choices! {
    /// The network of both generators.
    pub enum GeneratorNet ("generator") {
        /// pix2pix's U-Net: skips from every encoder level keep the input's layout.
        Unet = "unet",
        /// CycleGAN's ResNet translator with 6 residual blocks at a quarter of the size.
        Resnet6 = "resnet6",
        /// The same with 9 blocks, CycleGAN's choice from 256 px.
        Resnet9 = "resnet9",
    }
}

model_option_table! {
    /// The options of `rustgan.CycleGAN`.
    pub struct CycleConfig, table SPECS {
        /// Shape of one image of domain a, `[C, H, W]`.
        shape_a: Vec<i64> = vec![1, 28, 28], Kind::Shape { max: MAX_SIZE },
            "shape of one image of domain a (C, H, W)";
        /// Shape of one image of domain b, `[C, H, W]`, the same size as domain a's.
        shape_b: Vec<i64> = vec![1, 28, 28], Kind::Shape { max: MAX_SIZE },
            "shape of one image of domain b (C, H, W), same H and W";
        /// The generators' network.
        generator: GeneratorNet = GeneratorNet::Unet, Kind::Choice(GeneratorNet::NAMES),
            "the generators' network: 'unet', 'resnet6' or 'resnet9'";
        /// Weight of the cycle L1: a translated image translated back must be the input.
        cycle_weight: f64 = 10.0, Kind::Float(Bounds::NON_NEGATIVE),
            "weight of the cycle-consistency L1 (CycleGAN: 10)";
        /// Weight of the identity L1: an image of the target domain must pass unchanged.
        /// CycleGAN's 0.5 of the cycle weight; it keeps colours and weak styles in place.
        identity_weight: f64 = 5.0, Kind::Float(Bounds::NON_NEGATIVE),
            "weight of the identity L1 (0: none; needs equal channels)";
        /// Weight of the adversarial losses.
        adversarial_weight: f64 = 1.0, Kind::Float(Bounds::NON_NEGATIVE),
            "weight of the adversarial losses";
        /// Translations each discriminator learns from besides the newest: half of every
        /// batch it sees comes from this history (Shrivastava et al. 2017). 0: none.
        pool_size: i64 = 50, Kind::Int { min: 0, max: MAX_POOL },
            "past translations each discriminator draws from (0: none)";
        /// Dropout of the generators' innermost decoder layers while training.
        dropout: f64 = 0.0, Kind::Float(Bounds::FRACTION),
            "dropout of the generators' innermost decoder layers";
        /// Stride-2 layers of the PatchGAN discriminators; 0 picks them by size
        /// (`with_patches_by_size`).
        patch_layers: i64 = 0, Kind::Int { min: 0, max: 6 },
            "stride-2 layers of the PatchGANs (0: by size)";
    }
    shared (losses patchgan::LOSSES) { base_channels = 32, loss = LossKind::Lsgan }
}

/// Which way a generator translates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    AToB,
    BToA,
}

impl Direction {
    /// The direction that produces images of domain `to` ("a" or "b").
    pub fn to_domain(to: &str) -> Result<Self> {
        match to {
            "b" => Ok(Direction::AToB),
            "a" => Ok(Direction::BToA),
            other => invalid(format!("to must be 'a' or 'b', got {other:?}")),
        }
    }

    pub fn reverse(self) -> Self {
        match self {
            Direction::AToB => Direction::BToA,
            Direction::BToA => Direction::AToB,
        }
    }
}

impl CycleConfig {
    /// A narrow CycleGAN of 16 px grey images, for tests.
    #[cfg(test)]
    pub fn tiny() -> Self {
        CycleConfig {
            shape_a: vec![1, 16, 16],
            shape_b: vec![1, 16, 16],
            base_channels: 4,
            pool_size: 6,
            ..Default::default()
        }
    }

    /// A new CycleGAN's `patch_layers` when 0: the deepest PatchGAN, up to CycleGAN's 3
    /// layers, whose patches (16, 34 or 70 px for 1, 2 or 3 layers) are no larger than the
    /// images. A discriminator that sees the whole image judges what it shows and pulls the
    /// translation towards other content; one that sees parts judges style. On sklearn's
    /// digits into MNIST (28 px), 16 px patches kept 88.3% of the digits, 34 px ones 82.2%.
    /// Checkpoints store the number; those that stored 0 keep pix2pix's rule
    /// (`discriminator_layers`), which built their networks.
    pub(super) fn with_patches_by_size(mut self) -> Self {
        if self.patch_layers == 0 {
            let side = self.shape_a.iter().skip(1).copied().min().unwrap_or(0);
            // One stride-2 layer sees 16 px, as small as images may be; each more layer
            // doubles that, plus 2.
            let (mut layers, mut patch) = (1, 16);
            while layers < 3 && 2 * patch + 2 <= side {
                (layers, patch) = (layers + 1, 2 * patch + 2);
            }
            self.patch_layers = layers;
        }
        self
    }

    /// The shape of images of the domain `direction` translates from.
    pub fn source_shape(&self, direction: Direction) -> &[i64] {
        match direction {
            Direction::AToB => &self.shape_a,
            Direction::BToA => &self.shape_b,
        }
    }

    /// Stride-2 layers of the PatchGANs: `patch_layers`, or pix2pix's rule where a
    /// checkpoint stored 0.
    pub fn discriminator_layers(&self) -> i64 {
        match self.patch_layers {
            0 => patchgan::layers_by_size(self.shape_a[1], self.shape_a[2]),
            layers => layers,
        }
    }

    /// The generator of one direction.
    pub fn generator_spec(&self, direction: Direction) -> GeneratorSpec {
        let (from, to) = (self.source_shape(direction), self.source_shape(direction.reverse()));
        let resnet = |blocks| {
            GeneratorSpec::Resnet(ResnetTranslatorSpec {
                in_channels: from[0],
                out_channels: to[0],
                base_channels: self.base_channels,
                blocks,
                precision: self.precision,
            })
        };
        match self.generator {
            GeneratorNet::Unet => GeneratorSpec::UNet(UNetSpec {
                in_channels: from[0],
                out_channels: to[0],
                height: from[1],
                width: from[2],
                base_channels: self.base_channels,
                dropout: self.dropout,
                precision: self.precision,
            }),
            GeneratorNet::Resnet6 => resnet(6),
            GeneratorNet::Resnet9 => resnet(9),
        }
    }

    /// The PatchGAN of the domain `direction` translates into, which judges its images.
    pub fn discriminator_spec(&self, direction: Direction) -> PatchGanSpec {
        PatchGanSpec {
            channels: self.source_shape(direction.reverse())[0],
            base_channels: self.base_channels,
            layers: self.discriminator_layers(),
            precision: self.precision,
        }
    }
}

impl TableConfig for CycleConfig {
    const SPECS: &'static [OptionSpec] = SPECS;
    const NAME: &'static str = "CycleGAN config";

    fn validate(&self) -> Result<()> {
        check_ranges(SPECS, &as_json(self))?;
        check_image_shape("shape_a", &self.shape_a)?;
        check_image_shape("shape_b", &self.shape_b)?;
        if self.shape_a[1..] != self.shape_b[1..] {
            return invalid(format!(
                "shape_a {:?} and shape_b {:?} must have the same height and width: resize \
                 one set to the other's size",
                self.shape_a, self.shape_b
            ));
        }
        patchgan::check_layers(self.discriminator_layers(), self.shape_a[1], self.shape_a[2])?;
        let sides = &self.shape_a[1..];
        if self.generator != GeneratorNet::Unet
            && sides.iter().any(|side| side % SIDE_MULTIPLE != 0)
        {
            return invalid(format!(
                "generator='{}' halves the images twice, so their sides must divide by \
                 {SIDE_MULTIPLE}; got {sides:?}: resize them, or use generator='unet'",
                self.generator.name()
            ));
        }
        if self.identity_weight > 0.0 && self.shape_a[0] != self.shape_b[0] {
            return invalid(format!(
                "identity_weight={} feeds images of each domain to the generator into it, which \
                 needs equal channel counts; shape_a has {} and shape_b {}: pass \
                 identity_weight=0",
                self.identity_weight, self.shape_a[0], self.shape_b[0]
            ));
        }
        if self.cycle_weight == 0.0 && self.adversarial_weight == 0.0 {
            return invalid("cycle_weight and adversarial_weight are both 0: nothing to learn");
        }
        Ok(())
    }
}
