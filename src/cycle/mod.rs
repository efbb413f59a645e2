//! Unpaired image-to-image translation with CycleGAN (Zhu et al. 2017): two generators,
//! a→b and b→a, each judged by a PatchGAN of its target domain, trained on the
//! adversarial losses plus the cycle L1 (a→b→a gives back the input) and the identity L1
//! (an image already of the target domain passes unchanged). The networks are a U-Net or
//! a ResNet translator and a PatchGAN (`models`, picked in `generator`); `step` trains
//! them and `stored` checkpoints them.

mod config;
mod generator;
mod pool;
mod step;
mod stored;

pub use config::{CycleConfig, Direction, GeneratorNet, SPECS};
pub use step::Unpaired;

use std::sync::Mutex;

use tch::{Device, Tensor};

use crate::batch::{check_output_size, checked_batch};
use crate::error::Result;
use crate::models::patchgan::PatchGan;
use crate::models::{initialise, WeightInit};
use crate::network::Ema;
use crate::options::TableConfig;
use crate::rng::Rng;
use generator::Generator;
use pool::ImagePool;

/// One half of a CycleGAN: one direction's generator and the discriminator of the domain it translates into.
pub struct Half {
    generator: Generator,
    discriminator: PatchGan,
    ema: Option<Ema<Generator>>,
    /// Past translations the discriminator learns from; locked only inside a step.
    pool: Mutex<ImagePool>,
}

pub struct CycleGan {
    config: CycleConfig,
    device: Device,
    /// The a→b generator, and the discriminator of domain b.
    a_to_b: Half,
    /// The b→a generator, and the discriminator of domain a.
    b_to_a: Half,
}

impl CycleGan {
    /// A new CycleGAN, and the random stream its training continues from. `patch_layers`
    /// 0 picks the PatchGANs' depth by image size (`CycleConfig::with_patches_by_size`).
    pub fn with_training_stream(config: CycleConfig, device: Device) -> Result<(Self, Rng)> {
        config.validate()?;
        Self::build(config.with_patches_by_size(), device)
    }

    /// The CycleGAN `config` describes as it stands, as a checkpoint stored it.
    fn build(config: CycleConfig, device: Device) -> Result<(Self, Rng)> {
        config.validate()?;
        let mut rng = Rng::new(config.seed);
        let mut half = |direction| {
            let generator_spec = config.generator_spec(direction);
            let generator = Generator::new(device, &generator_spec);
            let discriminator = PatchGan::new(device, &config.discriminator_spec(direction));
            // pix2pix's and CycleGAN's initialisation: N(0, 0.02) weights.
            initialise(generator.vs(), WeightInit::Normal, &mut rng);
            initialise(discriminator.vs(), WeightInit::Normal, &mut rng);
            let ema = (config.ema)
                .map(|decay| Ema::new(decay, Generator::new(device, &generator_spec), &generator));
            let pool = Mutex::new(ImagePool::new(config.pool_size));
            Half { generator, discriminator, ema, pool }
        };
        let (a_to_b, b_to_a) = (half(Direction::AToB), half(Direction::BToA));
        Ok((CycleGan { config, device, a_to_b, b_to_a }, rng))
    }

    pub fn half(&self, direction: Direction) -> &Half {
        match direction {
            Direction::AToB => &self.a_to_b,
            Direction::BToA => &self.b_to_a,
        }
    }

    /// `images` checked as a batch of the domain `direction` translates from.
    pub fn checked(&self, images: &Tensor, direction: Direction) -> Result<Tensor> {
        let what = match direction {
            Direction::AToB => "images of domain a",
            Direction::BToA => "images of domain b",
        };
        checked_batch(images, self.config.source_shape(direction), what, self.device)
    }

    /// Translations of `images` the other way round: batch norm on its running
    /// statistics, no dropout; the EMA generator when there is one and `use_ema`.
    pub fn translate(&self, images: &Tensor, to: Direction, use_ema: bool) -> Result<Tensor> {
        let images = self.checked(images, to)?;
        let half = self.half(to);
        let target = self.config.source_shape(to.reverse());
        check_output_size(images.size()[0], target.iter().product(), "translations")?;
        let generator = match (&half.ema, use_ema) {
            (Some(ema), true) => ema.generator(),
            _ => &half.generator,
        };
        const CHUNK: i64 = 256; // bounds the memory of large requests
        let chunks: Vec<Tensor> = tch::no_grad(|| {
            images.split(CHUNK, 0).iter().map(|c| generator.forward(c, false, None)).collect()
        });
        Ok(Tensor::f_cat(&chunks, 0)?.f_contiguous()?)
    }
}
