//! A translator's checkpoints: its config and networks, nothing besides.

use tch::{Device, Tensor};

use super::{Translator, TranslatorConfig};
use crate::checkpoint::{weight_files, Stored};
use crate::error::Result;
use crate::rng::Rng;

impl Stored for Translator {
    const FORMAT: &'static str = "rustgan-translator-checkpoint";

    fn config_json(&self) -> String {
        self.config.to_json()
    }

    fn from_config_json(json: &str, device: Device) -> Result<(Self, Rng)> {
        Translator::with_training_stream(TranslatorConfig::from_json(json)?, device)
    }

    fn weight_files(&self) -> Vec<(&'static str, Vec<(String, Tensor)>)> {
        let ema = self.ema.as_ref().map(|ema| &ema.generator.vs);
        weight_files(&self.generator.vs, &self.discriminator.vs, ema)
    }

    fn weights_loaded(&mut self, network: &str) {
        if let (Some(ema), "generator") = (&mut self.ema, network) {
            ema.reset(&self.generator);
        }
    }
}
