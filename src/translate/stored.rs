//! A translator's checkpoints: its config and networks, nothing besides.

use tch::{Device, Tensor};

use super::{Translator, TranslatorConfig};
use crate::checkpoint::Stored;
use crate::error::Result;
use crate::rng::Rng;
use crate::weights::named_variables;

impl Stored for Translator {
    const FORMAT: &'static str = "rustgan-translator-checkpoint";

    fn config_json(&self) -> String {
        self.config.to_json()
    }

    fn from_config_json(json: &str, device: Device) -> Result<(Self, Rng)> {
        Translator::with_training_stream(TranslatorConfig::from_json(json)?, device)
    }

    fn weight_files(&self) -> Vec<(&'static str, Vec<(String, Tensor)>)> {
        let mut files = vec![
            ("generator", named_variables(&self.generator.vs)),
            ("discriminator", named_variables(&self.discriminator.vs)),
        ];
        if let Some(ema) = &self.ema {
            files.push(("generator_ema", named_variables(&ema.generator.vs)));
        }
        files
    }

    fn weights_loaded(&mut self, network: &str) {
        if let (Some(ema), "generator") = (&mut self.ema, network) {
            ema.reset(&self.generator);
        }
    }
}
