//! Translator checkpoints: the config as JSON, each network's weights and the optimiser
//! moments as safetensors, and the step count and random stream as JSON, saved whole or
//! not at all, as a GAN's are.

use std::path::Path;

use tch::Device;

use super::trainer::TranslatorTrainer;
use super::TranslatorConfig;
use crate::checkpoint::store::{self, checkpoint_error, restore, write_tensors, Optimisers};
use crate::checkpoint::store::{TrainingState, STATE_FILE};
use crate::error::Result;
use crate::weights::named_variables;

const FORMAT: &str = "rustgan-translator-checkpoint";

fn optimisers(trainer: &TranslatorTrainer) -> Optimisers<'_> {
    let model = &trainer.model;
    vec![
        ("generator", &model.generator.params, &trainer.g_optim),
        ("discriminator", &model.discriminator.params, &trainer.d_optim),
    ]
}

pub fn save(trainer: &TranslatorTrainer, dir: &Path) -> Result<()> {
    store::save(dir, |staging| {
        let model = &trainer.model;
        std::fs::write(staging.join("config.json"), model.config.to_json())?;
        for network in ["generator", "discriminator"] {
            let file = staging.join(format!("{network}.safetensors"));
            write_tensors(&file, model.state_dict(network)?)?;
        }
        if let Some(ema) = &model.ema {
            let file = staging.join("generator_ema.safetensors");
            write_tensors(&file, named_variables(&ema.generator.vs))?;
        }
        store::write_optimisers(&staging.join("optimizer.safetensors"), &optimisers(trainer))?;
        let state = TrainingState {
            format: FORMAT.into(),
            version: 1,
            step: trainer.step,
            g_optim_steps: trainer.g_optim.steps,
            d_optim_steps: trainer.d_optim.steps,
            rng: trainer.streams.rng.clone(),
            sample_rng: None,
        };
        store::write_json(staging, STATE_FILE, &state) // last: it makes the directory a checkpoint
    })
}

pub fn load(dir: &Path, device: Device) -> Result<TranslatorTrainer> {
    let dir = &store::existing(dir)?;
    let config = TranslatorConfig::from_json(&store::read_text(dir, "config.json")?)
        .map_err(|e| checkpoint_error(&dir.join("config.json"), e.to_string()))?;
    let state = TrainingState::read(dir, FORMAT)?;
    let mut trainer = TranslatorTrainer::new(config, device)?;
    let model = &trainer.model;
    restore(&dir.join("generator.safetensors"), named_variables(&model.generator.vs))?;
    restore(&dir.join("discriminator.safetensors"), named_variables(&model.discriminator.vs))?;
    if let Some(ema) = &model.ema {
        restore(&dir.join("generator_ema.safetensors"), named_variables(&ema.generator.vs))?;
    }
    store::restore_optimisers(&dir.join("optimizer.safetensors"), &optimisers(&trainer))?;
    trainer.step = state.step;
    trainer.g_optim.steps = state.g_optim_steps;
    trainer.d_optim.steps = state.d_optim_steps;
    trainer.streams.rng = state.rng;
    Ok(trainer)
}
