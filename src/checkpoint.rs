//! Checkpoints: a directory with the config as JSON, each network's weights and the
//! optimiser moments as safetensors (no pickle: loading never runs code), and the step
//! count and random streams as JSON. Written to a temporary directory and renamed into
//! place, so an interrupted save leaves the previous checkpoint intact.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

use crate::config::GanConfig;
use crate::error::{Error, Result};
use crate::gan::{Gan, Network};
use crate::rng::Rng;

const FORMAT: &str = "rustgan-checkpoint";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct TrainingState {
    format: String,
    version: u32,
    step: i64,
    g_optim_steps: i64,
    d_optim_steps: i64,
    rng: Rng,
    sample_rng: Rng,
}

fn checkpoint_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Checkpoint { path: path.display().to_string(), reason: reason.into() }
}

fn named_variables(network: &Network) -> Vec<(String, Tensor)> {
    let mut named: Vec<(String, Tensor)> = network.vs.variables().into_iter().collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
}

fn write_tensors(path: &Path, tensors: Vec<(String, Tensor)>) -> Result<()> {
    let on_cpu: Vec<(String, Tensor)> =
        tensors.into_iter().map(|(name, t)| (name, t.detach().to_device(Device::Cpu).contiguous())).collect();
    Tensor::write_safetensors(&on_cpu, path).map_err(|e| checkpoint_error(path, e.to_string()))
}

fn read_tensors(path: &Path) -> Result<BTreeMap<String, Tensor>> {
    if !path.is_file() {
        return Err(checkpoint_error(path, "file is missing"));
    }
    let tensors = Tensor::read_safetensors(path)
        .map_err(|e| checkpoint_error(path, format!("not a readable safetensors file ({e})")))?;
    Ok(tensors.into_iter().collect())
}

/// Copies stored tensors into `targets`, requiring the same names and shapes.
fn restore(path: &Path, mut stored: BTreeMap<String, Tensor>, targets: Vec<(String, Tensor)>) -> Result<()> {
    for (name, mut target) in targets {
        let value = stored.remove(&name).ok_or_else(|| checkpoint_error(path, format!("tensor '{name}' is missing")))?;
        if value.size() != target.size() {
            return Err(checkpoint_error(
                path,
                format!("tensor '{name}' has shape {:?}, the model needs {:?}", value.size(), target.size()),
            ));
        }
        tch::no_grad(|| target.f_copy_(&value)).map_err(|e| checkpoint_error(path, format!("tensor '{name}': {e}")))?;
    }
    if let Some(extra) = stored.keys().next() {
        return Err(checkpoint_error(path, format!("unexpected tensor '{extra}' (a different architecture?)")));
    }
    Ok(())
}

fn optimizer_tensors(gan: &Gan) -> Vec<(String, Tensor)> {
    vec![
        ("generator.exp_avg".into(), gan.g_optim.exp_avg.shallow_clone()),
        ("generator.exp_avg_sq".into(), gan.g_optim.exp_avg_sq.shallow_clone()),
        ("discriminator.exp_avg".into(), gan.d_optim.exp_avg.shallow_clone()),
        ("discriminator.exp_avg_sq".into(), gan.d_optim.exp_avg_sq.shallow_clone()),
    ]
}

pub fn save(gan: &Gan, dir: &Path) -> Result<()> {
    let name = dir.file_name().ok_or_else(|| checkpoint_error(dir, "not a directory name"))?;
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(parent)?;
    let temporary = parent.join(format!(".{}.saving-{}", name.to_string_lossy(), std::process::id()));
    if temporary.exists() {
        fs::remove_dir_all(&temporary)?;
    }
    fs::create_dir(&temporary)?;
    fs::write(temporary.join("config.json"), gan.config.to_json())?;
    write_tensors(&temporary.join("generator.safetensors"), named_variables(&gan.generator))?;
    write_tensors(&temporary.join("discriminator.safetensors"), named_variables(&gan.discriminator))?;
    if let Some(ema) = &gan.ema {
        write_tensors(&temporary.join("generator_ema.safetensors"), named_variables(&ema.generator))?;
    }
    write_tensors(&temporary.join("optimizer.safetensors"), optimizer_tensors(gan))?;
    let state = TrainingState {
        format: FORMAT.into(),
        version: VERSION,
        step: gan.step,
        g_optim_steps: gan.g_optim.steps,
        d_optim_steps: gan.d_optim.steps,
        rng: gan.rng.clone(),
        sample_rng: gan.sample_rng.clone(),
    };
    fs::write(temporary.join("state.json"), serde_json::to_string_pretty(&state).expect("serialisable"))?;
    replace_dir(&temporary, dir)
}

/// Swaps `new` into `dir`; the old directory is removed only once the new one is in place.
fn replace_dir(new: &Path, dir: &Path) -> Result<()> {
    if !dir.exists() {
        fs::rename(new, dir)?;
        return Ok(());
    }
    let mut old = PathBuf::from(dir);
    old.set_file_name(format!(
        ".{}.old-{}",
        dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::process::id()
    ));
    fs::rename(dir, &old)?;
    fs::rename(new, dir)?;
    fs::remove_dir_all(&old)?;
    Ok(())
}

pub fn load(dir: &Path, device: Device) -> Result<Gan> {
    if !dir.is_dir() {
        return Err(checkpoint_error(dir, "no checkpoint directory here"));
    }
    let read_json = |file: &str| -> Result<String> {
        fs::read_to_string(dir.join(file)).map_err(|e| checkpoint_error(&dir.join(file), e.to_string()))
    };
    let config_path = dir.join("config.json");
    let config = GanConfig::from_json(&read_json("config.json")?)
        .map_err(|e| checkpoint_error(&config_path, e.to_string()))?;
    let state_path = dir.join("state.json");
    let state: TrainingState = serde_json::from_str(&read_json("state.json")?)
        .map_err(|e| checkpoint_error(&state_path, format!("invalid training state: {e}")))?;
    if state.format != FORMAT || state.version != VERSION {
        return Err(checkpoint_error(&state_path, format!("unsupported format {} v{}", state.format, state.version)));
    }
    let mut gan = Gan::new(config, device)?;
    let restore_network = |file: &str, network: &Network| -> Result<()> {
        let path = dir.join(file);
        restore(&path, read_tensors(&path)?, named_variables(network))
    };
    restore_network("generator.safetensors", &gan.generator)?;
    restore_network("discriminator.safetensors", &gan.discriminator)?;
    if let Some(ema) = &gan.ema {
        restore_network("generator_ema.safetensors", &ema.generator)?;
    }
    let optimizer_path = dir.join("optimizer.safetensors");
    restore(&optimizer_path, read_tensors(&optimizer_path)?, optimizer_tensors(&gan))?;
    gan.step = state.step;
    gan.g_optim.steps = state.g_optim_steps;
    gan.d_optim.steps = state.d_optim_steps;
    gan.rng = state.rng;
    gan.sample_rng = state.sample_rng;
    Ok(gan)
}
