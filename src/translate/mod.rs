//! Image-to-image translation with pix2pix (Isola et al. 2017): a U-Net generator that
//! maps an input image to an output image, judged by a PatchGAN on the (input, output)
//! pair, and trained on the adversarial loss plus an L1 distance to the targets. The
//! model lives here; `trainer` trains it and `checkpoint` stores it.

mod config;
mod step;
mod stored;

pub use config::{TranslatorConfig, SPECS};
pub use step::Pairs;

use tch::{Device, Tensor};

use crate::batch::{check_output_size, checked_batch};
use crate::error::{invalid, Result};
use crate::models::patchgan::PatchGan;
use crate::models::unet::UNet;
use crate::models::{initialise, WeightInit};
use crate::network::Ema;
use crate::options::TableConfig;
use crate::rng::Rng;

pub struct Translator {
    config: TranslatorConfig,
    device: Device,
    generator: UNet,
    discriminator: PatchGan,
    ema: Option<Ema<UNet>>,
}

impl Translator {
    /// A new translator, and the random stream its training continues from.
    pub fn with_training_stream(config: TranslatorConfig, device: Device) -> Result<(Self, Rng)> {
        config.validate()?;
        let mut rng = Rng::new(config.seed);
        let generator = UNet::new(device, &config.generator_spec());
        let discriminator = PatchGan::new(device, &config.discriminator_spec());
        // pix2pix's initialisation: N(0, 0.02) weights, N(1, 0.02) batch-norm scales.
        initialise(generator.vs(), WeightInit::Normal, &mut rng);
        initialise(discriminator.vs(), WeightInit::Normal, &mut rng);
        let ema = (config.ema)
            .map(|decay| Ema::new(decay, UNet::new(device, &config.generator_spec()), &generator));
        Ok((Translator { config, device, generator, discriminator, ema }, rng))
    }

    /// Checks a batch of inputs and their targets: shapes, and one target per input.
    pub fn check_pairs(
        &self,
        inputs: &Tensor,
        targets: Option<&Tensor>,
    ) -> Result<(Tensor, Tensor)> {
        let Some(targets) = targets else {
            return invalid("pix2pix trains on pairs: give a target per input");
        };
        let inputs = checked_batch(inputs, &self.config.in_shape, "inputs", self.device)?;
        let targets = checked_batch(targets, &self.config.out_shape, "targets", self.device)?;
        let (n_in, n_out) = (inputs.size()[0], targets.size()[0]);
        if n_in != n_out {
            return invalid(format!(
                "{n_in} inputs but {n_out} targets: give one target per input"
            ));
        }
        Ok((inputs, targets))
    }

    /// The EMA generator when there is one and `use_ema` allows it, else the trained one.
    pub fn sampling_generator(&self, use_ema: bool) -> &UNet {
        match (&self.ema, use_ema) {
            (Some(ema), true) => ema.generator(),
            _ => &self.generator,
        }
    }

    /// Outputs `[N, *out_shape]` of inputs `[N, *in_shape]`: batch norm on its running
    /// statistics, no dropout.
    pub fn translate(&self, inputs: &Tensor, use_ema: bool) -> Result<Tensor> {
        let inputs = checked_batch(inputs, &self.config.in_shape, "inputs", self.device)?;
        let per_item: i64 = self.config.out_shape.iter().product();
        check_output_size(inputs.size()[0], per_item, "outputs")?;
        let generator = self.sampling_generator(use_ema);
        const CHUNK: i64 = 256; // bounds the memory of large requests
        let chunks: Vec<Tensor> = tch::no_grad(|| {
            inputs.split(CHUNK, 0).iter().map(|c| generator.forward(c, false, None)).collect()
        });
        Ok(Tensor::f_cat(&chunks, 0)?.f_contiguous()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Stored;
    use tch::Kind;

    #[test]
    fn translates_to_the_output_shape_and_refuses_other_inputs() {
        let config = TranslatorConfig {
            in_shape: vec![2, 16, 16],
            out_shape: vec![3, 16, 16],
            ema: Some(0.9),
            ..TranslatorConfig::tiny()
        };
        let (translator, _) = Translator::with_training_stream(config, Device::Cpu).unwrap();
        let inputs = Tensor::rand([5, 2, 16, 16], (Kind::Float, Device::Cpu));
        assert_eq!(translator.translate(&inputs, true).unwrap().size(), [5, 3, 16, 16]);
        let wrong = Tensor::rand([5, 3, 16, 16], (Kind::Float, Device::Cpu));
        let err = translator.translate(&wrong, true).unwrap_err().to_string();
        assert!(err.contains("[N, 2, 16, 16]"), "{err}");
        let (a, b) = (
            translator.state_dict("generator").unwrap(),
            translator.state_dict("generator_ema").unwrap(),
        );
        assert!(a.iter().zip(&b).all(|((_, x), (_, y))| x.equal(y)), "the EMA starts at G");
    }
}
