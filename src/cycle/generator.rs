//! The network each CycleGAN generator is: pix2pix's U-Net or CycleGAN's ResNet
//! translator, chosen by the `generator` option.

use tch::{nn, Tensor};

use crate::flat_params::FlatParams;
use crate::models::resnet_translator::{ResnetTranslator, ResnetTranslatorSpec};
use crate::models::unet::{UNet, UNetSpec};
use crate::network::Averaged;
use crate::rng::UniformSource;

/// What one generator is built from.
#[derive(Clone, Debug, PartialEq)]
pub enum GeneratorSpec {
    UNet(UNetSpec),
    Resnet(ResnetTranslatorSpec),
}

pub enum Generator {
    UNet(UNet),
    Resnet(ResnetTranslator),
}

impl Generator {
    pub fn new(device: tch::Device, spec: &GeneratorSpec) -> Self {
        match spec {
            GeneratorSpec::UNet(spec) => Generator::UNet(UNet::new(device, spec)),
            GeneratorSpec::Resnet(spec) => Generator::Resnet(ResnetTranslator::new(device, spec)),
        }
    }

    pub fn vs(&self) -> &nn::VarStore {
        match self {
            Generator::UNet(net) => net.vs(),
            Generator::Resnet(net) => net.vs(),
        }
    }

    pub fn params(&self) -> &FlatParams {
        match self {
            Generator::UNet(net) => net.params(),
            Generator::Resnet(net) => net.params(),
        }
    }

    pub fn params_mut(&mut self) -> &mut FlatParams {
        match self {
            Generator::UNet(net) => net.params_mut(),
            Generator::Resnet(net) => net.params_mut(),
        }
    }

    /// Translations of `xs`; `train` and `noise` drive the U-Net's batch norm and dropout.
    pub fn forward(
        &self,
        xs: &Tensor,
        train: bool,
        noise: Option<&mut dyn UniformSource>,
    ) -> Tensor {
        match self {
            Generator::UNet(net) => net.forward(xs, train, noise),
            Generator::Resnet(net) => net.forward(xs),
        }
    }
}

impl Averaged for Generator {
    fn params(&self) -> &FlatParams {
        self.params()
    }

    fn var_store(&self) -> &nn::VarStore {
        self.vs()
    }
}
