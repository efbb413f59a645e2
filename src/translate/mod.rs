//! Image-to-image translation with pix2pix (Isola et al. 2017): a U-Net generator that
//! maps an input image to an output image, judged by a PatchGAN on the (input, output)
//! pair, and trained on the adversarial loss plus an L1 distance to the targets. The
//! model lives here; `trainer` trains it and `checkpoint` stores it.

pub mod checkpoint;
mod config;
mod patchgan;
pub mod trainer;
mod unet;

pub use config::{TranslatorConfig, SPECS, TRANSLATOR_LOSSES};

use tch::{Device, Kind, Tensor};

use crate::error::{invalid, Error, Result};
use crate::models::{initialise, WeightInit};
use crate::network::Ema;
use crate::rng::Rng;
use crate::weights::{copy_named, named_variables};
use patchgan::PatchGan;
use unet::UNet;

pub struct Translator {
    pub config: TranslatorConfig,
    pub device: Device,
    pub generator: UNet,
    pub discriminator: PatchGan,
    pub ema: Option<Ema<UNet>>,
}

/// Largest output `translate` returns, in values (8 GiB of floats).
const MAX_OUTPUT_ELEMENTS: i64 = 1 << 31;

impl Translator {
    /// A new translator, and the random stream its training continues from.
    pub fn with_training_stream(config: TranslatorConfig, device: Device) -> Result<(Self, Rng)> {
        config.validate()?;
        let mut rng = Rng::new(config.seed);
        let generator = UNet::new(device, &config);
        let discriminator = PatchGan::new(device, &config);
        // pix2pix's initialisation: N(0, 0.02) weights, N(1, 0.02) batch-norm scales.
        initialise(&generator.vs, WeightInit::Normal, &mut rng);
        initialise(&discriminator.vs, WeightInit::Normal, &mut rng);
        let ema = config.ema.map(|decay| {
            let copy = UNet::new(device, &config);
            let mut ema = Ema { decay, generator: copy };
            ema.reset(&generator);
            ema
        });
        Ok((Translator { config, device, generator, discriminator, ema }, rng))
    }

    /// Checks that `images` is a float batch `[N, *shape]` and moves it to the device.
    pub fn check_images(&self, images: &Tensor, shape: &[i64], what: &str) -> Result<Tensor> {
        let size = images.size();
        if size.len() != 4 || size[1..] != shape[..] {
            let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            return invalid(format!(
                "{what} must have shape [N, {}], got {size:?}",
                dims.join(", ")
            ));
        }
        if size[0] == 0 {
            return invalid(format!("{what} is empty"));
        }
        if !images.is_floating_point() {
            return invalid(format!("{what} must be floating point, got {:?}", images.kind()));
        }
        let images = images.f_to_device(self.device)?.f_to_kind(Kind::Float)?;
        if !bool::try_from(images.f_isfinite()?.f_all()?)? {
            return invalid(format!("{what} contains NaN or infinite values"));
        }
        Ok(images)
    }

    /// Checks a batch of inputs and their targets: shapes, and one target per input.
    pub fn check_pairs(&self, inputs: &Tensor, targets: &Tensor) -> Result<(Tensor, Tensor)> {
        let inputs = self.check_images(inputs, &self.config.in_shape, "inputs")?;
        let targets = self.check_images(targets, &self.config.out_shape, "targets")?;
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
            (Some(ema), true) => &ema.generator,
            _ => &self.generator,
        }
    }

    /// Outputs `[N, *out_shape]` of inputs `[N, *in_shape]`: batch norm on its running
    /// statistics, no dropout.
    pub fn translate(&self, inputs: &Tensor, use_ema: bool) -> Result<Tensor> {
        let inputs = self.check_images(inputs, &self.config.in_shape, "inputs")?;
        let per_item: i64 = self.config.out_shape.iter().product();
        if inputs.size()[0].saturating_mul(per_item) > MAX_OUTPUT_ELEMENTS {
            return invalid("the outputs would exceed 2^31 values; translate fewer at a time");
        }
        let generator = self.sampling_generator(use_ema);
        const CHUNK: i64 = 256; // bounds the memory of large requests
        let chunks: Vec<Tensor> = tch::no_grad(|| {
            inputs.split(CHUNK, 0).iter().map(|c| generator.forward(c, false, None)).collect()
        });
        Ok(Tensor::f_cat(&chunks, 0)?.f_contiguous()?)
    }

    fn variables(&self, network: &str) -> Result<Vec<(String, Tensor)>> {
        Ok(match (network, &self.ema) {
            ("generator", _) => named_variables(&self.generator.vs),
            ("generator_ema", Some(ema)) => named_variables(&ema.generator.vs),
            ("generator_ema", None) => return invalid("this translator keeps no EMA generator"),
            ("discriminator", _) => named_variables(&self.discriminator.vs),
            (other, _) => {
                return invalid(format!(
                    "unknown network '{other}': use 'generator', 'generator_ema' or 'discriminator'"
                ))
            }
        })
    }

    /// Copies of the named variables of "generator", "generator_ema" or "discriminator",
    /// as in the state dicts of `rustgan.torch_modules`.
    pub fn state_dict(&self, network: &str) -> Result<Vec<(String, Tensor)>> {
        let variables = self.variables(network)?;
        Ok(variables.into_iter().map(|(name, t)| (name, t.detach().copy())).collect())
    }

    /// Replaces the weights of "generator" or "discriminator" by `tensors` (exactly the
    /// network's names and shapes); the EMA generator restarts from a new generator.
    pub fn load_state_dict(&mut self, network: &str, tensors: Vec<(String, Tensor)>) -> Result<()> {
        if network == "generator_ema" {
            return invalid("load weights into 'generator'; its EMA copy restarts from them");
        }
        let targets = self.variables(network)?;
        copy_named(tensors.into_iter().collect(), targets)
            .map_err(|reason| Error::InvalidArgument(format!("{network} state_dict: {reason}")))?;
        if let (Some(ema), "generator") = (&mut self.ema, network) {
            ema.reset(&self.generator);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_to_the_output_shape_and_refuses_other_inputs() {
        let config = TranslatorConfig {
            in_shape: vec![2, 16, 16],
            out_shape: vec![3, 16, 16],
            base_channels: 4,
            ema: Some(0.9),
            ..Default::default()
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
