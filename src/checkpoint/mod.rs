//! Checkpoints of any trained model: a directory with the config as JSON, each network's
//! weights and the optimiser moments as safetensors, the step count and random streams
//! as JSON, and what the model keeps besides (a GAN's clusters and calibration), saved
//! whole or not at all (see `store`). A model takes part by implementing `Stored`.

pub mod store;

use std::path::Path;

use tch::nn::VarStore;
use tch::{Device, Tensor};

use crate::error::{invalid, Error, Result};
use crate::rng::Rng;
use crate::train::{Side, Trainable, Trainer};
use crate::weights::{copy_named, named_variables};
use store::{checkpoint_error, restore, write_tensors, Optimisers, TrainingState, STATE_FILE};

/// The variables of each weight file of a checkpoint, by network name.
pub type WeightFiles = Vec<(&'static str, Vec<(String, Tensor)>)>;

/// A model whose trainer can be saved and loaded.
pub trait Stored: Trainable {
    /// Names the kind of checkpoint in its state file; another kind is refused.
    const FORMAT: &'static str;
    fn config_json(&self) -> String;
    /// A new model of the saved configuration `json`, and its training stream.
    fn from_config_json(json: &str, device: Device) -> Result<(Self, Rng)>;
    /// The variables of each weight file, by network name ("generator", "discriminator",
    /// "generator_ema").
    fn weight_files(&self) -> WeightFiles;
    /// The config and weight files of a checkpoint without training state (`save_release`):
    /// by default those of a full one. A model with an EMA generator ships the average as
    /// its generator, and a config without EMA, so that no copy travels twice.
    fn release(&self) -> (String, WeightFiles) {
        (self.config_json(), self.weight_files())
    }
    /// The stream a model samples from apart from training, kept in the state file.
    fn sample_rng(&self) -> Option<&Rng> {
        None
    }
    fn set_sample_rng(&mut self, _rng: Rng) {}
    /// Writes what else the model keeps into the checkpoint directory `dir`.
    fn write_extras(&self, _dir: &Path) -> Result<()> {
        Ok(())
    }
    /// Reads back what `write_extras` wrote; checkpoints from before an extra lack it.
    fn read_extras(&mut self, _dir: &Path) -> Result<()> {
        Ok(())
    }
    /// Runs after `load_state_dict` replaced the weights of `network`: the EMA generator
    /// restarts from a new generator, and what described the old weights goes.
    fn weights_loaded(&mut self, network: &str);

    /// Copies of the named variables of one of `weight_files()`' networks ("generator",
    /// "generator_ema", "discriminator" of a GAN), as in the state dicts of
    /// `rustgan.torch_modules`.
    fn state_dict(&self, network: &str) -> Result<Vec<(String, Tensor)>> {
        let files = self.weight_files();
        match files.iter().find(|(name, _)| *name == network) {
            Some((_, variables)) => {
                Ok(variables.iter().map(|(name, t)| (name.clone(), t.detach().copy())).collect())
            }
            None if network.ends_with("_ema") => invalid("this model keeps no EMA generator"),
            None => {
                let names: Vec<&str> = files.iter().map(|(name, _)| *name).collect();
                invalid(format!("unknown network '{network}': use one of {names:?}"))
            }
        }
    }

    /// Replaces the weights of a trained network ("generator" or "discriminator" of a
    /// GAN) by `tensors`, which must match the network's names and shapes exactly.
    fn load_state_dict(&mut self, network: &str, tensors: Vec<(String, Tensor)>) -> Result<()> {
        let mut trained: Vec<_> =
            self.weight_files().into_iter().filter(|(name, _)| !name.ends_with("_ema")).collect();
        let Some(index) = trained.iter().position(|(name, _)| *name == network) else {
            let names: Vec<&str> = trained.iter().map(|(name, _)| *name).collect();
            return invalid(format!(
                "cannot load weights into '{network}': use one of {names:?} (an EMA copy \
                 restarts from its generator)"
            ));
        };
        let (_, targets) = trained.swap_remove(index);
        copy_named(tensors.into_iter().collect(), targets)
            .map_err(|reason| Error::InvalidArgument(format!("{network} state_dict: {reason}")))?;
        self.weights_loaded(network);
        Ok(())
    }
}

/// The weight files of a model with one generator, one discriminator and maybe an EMA
/// copy of the generator.
pub fn weight_files(
    generator: &VarStore,
    discriminator: &VarStore,
    ema: Option<&VarStore>,
) -> WeightFiles {
    let mut files = vec![
        ("generator", named_variables(generator)),
        ("discriminator", named_variables(discriminator)),
    ];
    files.extend(ema.map(|ema| ("generator_ema", named_variables(ema))));
    files
}

fn optimisers<M: Stored>(trainer: &Trainer<M>) -> Optimisers<'_> {
    let (adams, _, _) = trainer.state();
    let networks = trainer.model().networks();
    networks.into_iter().zip(adams).map(|(n, adam)| (n.name, n.params, adam)).collect()
}

/// The updates Adam made on each side, as the state file counts them.
fn update_count<M: Stored>(trainer: &Trainer<M>, side: Side) -> i64 {
    let (adams, _, _) = trainer.state();
    let networks = trainer.model().networks();
    (networks.iter().zip(adams)).find(|(n, _)| n.side == side).map_or(0, |(_, adam)| adam.steps)
}

pub fn save<M: Stored>(trainer: &Trainer<M>, dir: &Path) -> Result<()> {
    store::save(dir, |staging| write_checkpoint(trainer, staging))
}

/// Writes a model's config, weight files and extras into `dir`.
fn write_model<M: Stored>(
    model: &M,
    dir: &Path,
    (config, files): (String, WeightFiles),
) -> Result<()> {
    std::fs::write(dir.join("config.json"), config)?;
    for (network, variables) in files {
        write_tensors(&dir.join(format!("{network}.safetensors")), variables)?;
    }
    model.write_extras(dir)
}

/// Writes every file of a checkpoint into the empty directory `dir`.
fn write_checkpoint<M: Stored>(trainer: &Trainer<M>, dir: &Path) -> Result<()> {
    let model = trainer.model();
    write_model(model, dir, (model.config_json(), model.weight_files()))?;
    store::write_optimisers(&dir.join("optimizer.safetensors"), &optimisers(trainer))?;
    let (_, step, rng) = trainer.state();
    let state = TrainingState {
        format: M::FORMAT.into(),
        version: 1,
        step,
        g_optim_steps: update_count(trainer, Side::Generator),
        d_optim_steps: update_count(trainer, Side::Discriminator),
        rng: rng.clone(),
        sample_rng: model.sample_rng().cloned(),
        release: false,
    };
    store::write_json(dir, STATE_FILE, &state) // last: it makes the directory a checkpoint
}

/// Saves what sampling and editing need, without the optimiser moments and step: the
/// release's config and weights (`Stored::release`) and the model's extras. Loading it
/// starts training afresh, from step 0 with new moments.
pub fn save_release<M: Stored>(model: &M, dir: &Path) -> Result<()> {
    store::save(dir, |staging| {
        write_model(model, staging, model.release())?;
        let state = TrainingState {
            format: M::FORMAT.into(),
            version: 1,
            step: 0,
            g_optim_steps: 0,
            d_optim_steps: 0,
            rng: Rng::new(model.seed()),
            sample_rng: model.sample_rng().cloned(),
            release: true,
        };
        store::write_json(staging, STATE_FILE, &state)
    })
}

pub fn load<M: Stored>(dir: &Path, device: Device) -> Result<Trainer<M>> {
    let dir = &store::existing(dir)?;
    let (model, rng) = M::from_config_json(&store::read_text(dir, "config.json")?, device)
        .map_err(|e| checkpoint_error(&dir.join("config.json"), e.to_string()))?;
    let state = TrainingState::read(dir, M::FORMAT)?;
    let mut trainer = Trainer::new(model, rng);
    for (network, variables) in trainer.model().weight_files() {
        restore(&dir.join(format!("{network}.safetensors")), variables)?;
    }
    if !state.release {
        store::restore_optimisers(&dir.join("optimizer.safetensors"), &optimisers(&trainer))?;
    }
    let counts: Vec<i64> = (trainer.model().networks().iter())
        .map(|n| match n.side {
            Side::Generator => state.g_optim_steps,
            Side::Discriminator => state.d_optim_steps,
        })
        .collect();
    trainer.restore_state(state.step, &counts, state.rng);
    let model = trainer.model_mut();
    if let Some(sample_rng) = state.sample_rng {
        model.set_sample_rng(sample_rng);
    }
    model.read_extras(dir)?;
    Ok(trainer)
}
