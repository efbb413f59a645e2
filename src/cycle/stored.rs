//! A CycleGAN's checkpoints: its config, four networks (and the EMA generators), and the
//! pools of past translations, so that training resumes exactly.

use std::path::Path;

use tch::{Device, Tensor};

use super::{CycleConfig, CycleGan, Direction};
use crate::checkpoint::store::{checkpoint_error, write_tensors};
use crate::checkpoint::{Stored, WeightFiles};
use crate::error::Result;
use crate::options::TableConfig;
use crate::rng::Rng;
use crate::weights::{named_variables, read_safetensors};

const POOLS_FILE: &str = "pools.safetensors";

/// The pool of translations into each domain, by its name in `POOLS_FILE`.
const POOLS: [(&str, Direction); 2] = [("into_a", Direction::BToA), ("into_b", Direction::AToB)];

impl Stored for CycleGan {
    const FORMAT: &'static str = "rustgan-cyclegan-checkpoint";

    fn config_json(&self) -> String {
        self.config.to_json()
    }

    fn from_config_json(json: &str, device: Device) -> Result<(Self, Rng)> {
        CycleGan::build(CycleConfig::from_json(json)?, device)
    }

    fn weight_files(&self) -> WeightFiles {
        let (ab, ba) = (&self.a_to_b, &self.b_to_a);
        let mut files = vec![
            ("generator_ab", named_variables(ab.generator.vs())),
            ("generator_ba", named_variables(ba.generator.vs())),
            ("discriminator_a", named_variables(ba.discriminator.vs())),
            ("discriminator_b", named_variables(ab.discriminator.vs())),
        ];
        files.extend(
            ab.ema.as_ref().map(|e| ("generator_ab_ema", named_variables(e.generator().vs()))),
        );
        files.extend(
            ba.ema.as_ref().map(|e| ("generator_ba_ema", named_variables(e.generator().vs()))),
        );
        files
    }

    fn weights_loaded(&mut self, network: &str) {
        let half = match network {
            "generator_ab" => &mut self.a_to_b,
            "generator_ba" => &mut self.b_to_a,
            _ => return,
        };
        if let Some(ema) = half.ema.as_mut() {
            ema.reset(&half.generator);
        }
    }

    fn write_extras(&self, dir: &Path) -> Result<()> {
        let tensors: Vec<(String, Tensor)> = (POOLS.iter())
            .filter_map(|&(name, direction)| {
                let pool = self.half(direction).pool.lock().expect("no step runs while saving");
                pool.images().map(|images| (name.to_string(), images.shallow_clone()))
            })
            .collect();
        write_tensors(&dir.join(POOLS_FILE), tensors)
    }

    fn read_extras(&mut self, dir: &Path) -> Result<()> {
        let path = dir.join(POOLS_FILE);
        let mut stored =
            read_safetensors(&path).map_err(|reason| checkpoint_error(&path, reason))?;
        for (name, direction) in POOLS {
            let Some(images) = stored.remove(name) else { continue };
            let shape = self.config.source_shape(direction.reverse());
            let size = images.size();
            if size.len() != shape.len() + 1
                || size[1..] != *shape
                || size[0] > self.config.pool_size
            {
                return Err(checkpoint_error(
                    &path,
                    format!(
                        "pool '{name}' has shape {size:?}, not [up to {}, {shape:?}]",
                        self.config.pool_size
                    ),
                ));
            }
            let mut pool = self.half(direction).pool.lock().expect("no step runs while loading");
            pool.restore(images.to_device(self.device));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{load, save};
    use crate::train::{FitOptions, NanPolicy, Trainable, Trainer};
    use tch::Kind;

    fn fit(trainer: &mut Trainer<CycleGan>, a: &Tensor, b: &Tensor, steps: i64) {
        let options = FitOptions { steps, batch_size: 4, log_every: 2, on_nan: NanPolicy::Raise };
        trainer.fit(a, Some(b), &options, |_, _| Ok(())).unwrap();
    }

    /// A loaded checkpoint continues as the run it was saved from would: the pools, the
    /// four networks' weights and moments, and the streams all come back.
    #[test]
    fn training_resumes_exactly_from_a_checkpoint() {
        let config = CycleConfig { ema: Some(0.9), ..CycleConfig::tiny() };
        let a = Tensor::rand([10, 1, 16, 16], (Kind::Float, Device::Cpu));
        let b = Tensor::rand([9, 1, 16, 16], (Kind::Float, Device::Cpu)) * -1.0;
        let (model, rng) = CycleGan::with_training_stream(config, Device::Cpu).unwrap();
        let mut original = Trainer::new(model, rng);
        fit(&mut original, &a, &b, 3);
        let dir = std::env::temp_dir().join(format!("rustgan-cycle-{}", std::process::id()));
        save(&original, &dir).unwrap();
        let mut resumed: Trainer<CycleGan> = load(&dir, Device::Cpu).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(resumed.model().a_to_b.pool.lock().unwrap().kept(), 6, "the pool came back");
        fit(&mut original, &a, &b, 3);
        fit(&mut resumed, &a, &b, 3);
        let weights = |t: &Trainer<CycleGan>| -> Vec<Tensor> {
            t.model().networks().iter().map(|n| n.params.flat.copy()).collect()
        };
        for (x, y) in weights(&original).iter().zip(weights(&resumed)) {
            assert!(x.equal(&y));
        }
        let (x, y) = (original.model(), resumed.model());
        assert!(x
            .translate(&a, Direction::AToB, true)
            .unwrap()
            .equal(&y.translate(&a, Direction::AToB, true).unwrap()));
    }
}
