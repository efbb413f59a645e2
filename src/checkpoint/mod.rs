//! GAN checkpoints: a directory with the config as JSON, each network's weights and the
//! optimiser moments as safetensors, and the step count and random streams as JSON,
//! saved whole or not at all (see `store`).

pub mod store;

use std::path::Path;

use tch::Device;

use crate::clusters::Clusters;
use crate::error::Result;
use crate::gan::Gan;
use crate::options::config_from_json;
use crate::train::Trainer;
use crate::weights::{named_variables, read_safetensors};
use store::{checkpoint_error, restore, write_tensors, Optimisers, TrainingState, STATE_FILE};

const FORMAT: &str = "rustgan-checkpoint";
/// A self-conditioned GAN's clusters, once found.
const CLUSTERS_FILE: &str = "clusters.safetensors";
/// D's calibration for guided sampling, where the GAN has one; older checkpoints lack it.
const CALIBRATION_FILE: &str = "calibration.json";

fn optimisers(trainer: &Trainer) -> Optimisers<'_> {
    let gan = &trainer.gan;
    vec![
        ("generator", &gan.generator.params, &trainer.g_optim),
        ("discriminator", &gan.discriminator.params, &trainer.d_optim),
    ]
}

pub fn save(trainer: &Trainer, dir: &Path) -> Result<()> {
    store::save(dir, |staging| write_checkpoint(trainer, staging))
}

/// Writes every file of a checkpoint into the empty directory `dir`.
fn write_checkpoint(trainer: &Trainer, dir: &Path) -> Result<()> {
    let gan = &trainer.gan;
    std::fs::write(dir.join("config.json"), gan.config.to_json())?;
    write_tensors(&dir.join("generator.safetensors"), named_variables(&gan.generator.vs))?;
    write_tensors(&dir.join("discriminator.safetensors"), named_variables(&gan.discriminator.vs))?;
    if let Some(ema) = &gan.ema {
        write_tensors(&dir.join("generator_ema.safetensors"), named_variables(&ema.generator.vs))?;
    }
    store::write_optimisers(&dir.join("optimizer.safetensors"), &optimisers(trainer))?;
    if let Some(clusters) = &gan.clusters {
        let tensors = vec![
            ("centroids".to_string(), clusters.centroids.shallow_clone()),
            ("weights".to_string(), clusters.weights.shallow_clone()),
        ];
        write_tensors(&dir.join(CLUSTERS_FILE), tensors)?;
    }
    if let Some(calibration) = &gan.calibration {
        store::write_json(dir, CALIBRATION_FILE, calibration)?;
    }
    let state = TrainingState {
        format: FORMAT.into(),
        version: 1,
        step: trainer.step,
        g_optim_steps: trainer.g_optim.steps,
        d_optim_steps: trainer.d_optim.steps,
        rng: trainer.streams.rng.clone(),
        sample_rng: Some(gan.sample_rng.clone()),
    };
    store::write_json(dir, STATE_FILE, &state) // last: it makes the directory a checkpoint
}

fn read_clusters(path: &Path, gan: &Gan) -> Result<Clusters> {
    let mut tensors = read_safetensors(path).map_err(|reason| checkpoint_error(path, reason))?;
    let mut take = |name: &str| {
        tensors.remove(name).ok_or_else(|| checkpoint_error(path, format!("no tensor '{name}'")))
    };
    let (centroids, weights) = (take("centroids")?, take("weights")?);
    let k = gan.config.clusters;
    if centroids.size() != [k, gan.config.data_numel()] || weights.size() != [k] {
        return Err(checkpoint_error(path, format!("clusters do not match clusters={k}")));
    }
    let device = gan.device;
    Ok(Clusters { centroids: centroids.to_device(device), weights: weights.to_device(device) })
}

pub fn load(dir: &Path, device: Device) -> Result<Trainer> {
    let dir = &store::existing(dir)?;
    let config = config_from_json(&store::read_text(dir, "config.json")?)
        .map_err(|e| checkpoint_error(&dir.join("config.json"), e.to_string()))?;
    let state = TrainingState::read(dir, FORMAT)?;
    let mut trainer = Trainer::new(config, device)?;
    let gan = &mut trainer.gan;
    restore(&dir.join("generator.safetensors"), named_variables(&gan.generator.vs))?;
    restore(&dir.join("discriminator.safetensors"), named_variables(&gan.discriminator.vs))?;
    if let Some(ema) = &gan.ema {
        restore(&dir.join("generator_ema.safetensors"), named_variables(&ema.generator.vs))?;
    }
    if let Some(sample_rng) = state.sample_rng {
        gan.sample_rng = sample_rng;
    }
    store::restore_optimisers(&dir.join("optimizer.safetensors"), &optimisers(&trainer))?;
    trainer.step = state.step;
    trainer.g_optim.steps = state.g_optim_steps;
    trainer.d_optim.steps = state.d_optim_steps;
    trainer.streams.rng = state.rng;
    let clusters_path = dir.join(CLUSTERS_FILE);
    if trainer.gan.config.clusters > 0 && clusters_path.is_file() {
        trainer.gan.clusters = Some(read_clusters(&clusters_path, &trainer.gan)?);
    }
    if dir.join(CALIBRATION_FILE).is_file() {
        trainer.gan.calibration = Some(store::read_json(dir, CALIBRATION_FILE, "calibration")?);
    }
    Ok(trainer)
}
