//! A translator's checkpoints: its config and networks, nothing besides.

use tch::Device;

use super::{Translator, TranslatorConfig};
use crate::checkpoint::{weight_files, Stored, WeightFiles};
use crate::error::Result;
use crate::options::TableConfig;
use crate::rng::Rng;

impl Stored for Translator {
    const FORMAT: &'static str = "rustgan-translator-checkpoint";

    fn config_json(&self) -> String {
        self.config.to_json()
    }

    fn from_config_json(json: &str, device: Device) -> Result<(Self, Rng)> {
        Translator::with_training_stream(TranslatorConfig::from_json(json)?, device)
    }

    fn weight_files(&self) -> WeightFiles {
        let ema = self.ema.as_ref().map(|ema| ema.generator().vs());
        weight_files(self.generator.vs(), self.discriminator.vs(), ema)
    }

    fn weights_loaded(&mut self, network: &str) {
        if let (Some(ema), "generator") = (&mut self.ema, network) {
            ema.reset(&self.generator);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{load, save};
    use crate::gan::Gan;
    use crate::train::Trainer;

    /// A translator's checkpoint is not a GAN's: loading one as the other names the format.
    #[test]
    fn a_checkpoint_of_another_model_is_refused() {
        let (translator, rng) =
            Translator::with_training_stream(TranslatorConfig::tiny(), Device::Cpu).unwrap();
        let dir = std::env::temp_dir().join(format!("rustgan-format-{}", std::process::id()));
        save(&Trainer::new(translator, rng), &dir).unwrap();
        let error = load::<Gan>(&dir, Device::Cpu).err().map(|e| e.to_string()).unwrap();
        let translator = load::<Translator>(&dir, Device::Cpu);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(error.contains("config.json") || error.contains("format"), "{error}");
        assert!(translator.is_ok());
    }
}
