//! Checkpoints: a directory with the config as JSON, each network's weights and the
//! optimiser moments as safetensors (no pickle: loading never runs code), and the step
//! count and random streams as JSON. Written to a temporary directory and renamed into
//! place, so an interrupted save leaves the previous checkpoint intact.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

use crate::clusters::Clusters;
use crate::error::{Error, Result};
use crate::gan::Gan;
use crate::optim::FlatParams;
use crate::options::config_from_json;
use crate::rng::Rng;
use crate::train::Trainer;
use crate::weights::{copy_named, named_variables, read_safetensors};

const FORMAT: &str = "rustgan-checkpoint";
const VERSION: u32 = 1;
/// A self-conditioned GAN's clusters, once found.
const CLUSTERS_FILE: &str = "clusters.safetensors";
/// D's calibration for guided sampling, where the GAN has one; older checkpoints lack it.
const CALIBRATION_FILE: &str = "calibration.json";

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

fn write_tensors(path: &Path, tensors: Vec<(String, Tensor)>) -> Result<()> {
    let on_cpu: Vec<(String, Tensor)> = tensors
        .into_iter()
        .map(|(name, t)| (name, t.detach().to_device(Device::Cpu).contiguous()))
        .collect();
    Tensor::write_safetensors(&on_cpu, path).map_err(|e| checkpoint_error(path, e.to_string()))
}

/// Reads the safetensors file at `path` into `targets`.
fn restore(path: &Path, targets: Vec<(String, Tensor)>) -> Result<()> {
    read_safetensors(path)
        .and_then(|stored| copy_named(stored, targets))
        .map_err(|reason| checkpoint_error(path, reason))
}

/// Adam's moments by checkpoint name, with the parameters whose layout they share.
fn optimizer_moments(trainer: &Trainer) -> Vec<(String, &FlatParams, &Tensor)> {
    let (g, d) = (&trainer.gan.generator.params, &trainer.gan.discriminator.params);
    vec![
        ("generator.exp_avg".into(), g, &trainer.g_optim.exp_avg),
        ("generator.exp_avg_sq".into(), g, &trainer.g_optim.exp_avg_sq),
        ("discriminator.exp_avg".into(), d, &trainer.d_optim.exp_avg),
        ("discriminator.exp_avg_sq".into(), d, &trainer.d_optim.exp_avg_sq),
    ]
}

/// The moments are stored in row-major order, whatever the buffers' layout.
fn optimizer_tensors(trainer: &Trainer) -> Vec<(String, Tensor)> {
    optimizer_moments(trainer)
        .into_iter()
        .map(|(name, params, moment)| (name, params.canonical(moment)))
        .collect()
}

fn restore_optimizer(trainer: &Trainer, path: &Path) -> Result<()> {
    let stored = optimizer_tensors(trainer);
    restore(path, stored.iter().map(|(name, t)| (name.clone(), t.shallow_clone())).collect())?;
    for ((_, params, moment), (_, canonical)) in optimizer_moments(trainer).into_iter().zip(&stored)
    {
        params.copy_from_canonical(moment, canonical);
    }
    Ok(())
}

pub fn save(trainer: &Trainer, dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(checkpoint_error(
            dir,
            "exists and is not a directory: a checkpoint is a directory",
        ));
    }
    stage_and_replace(trainer, dir).map_err(|error| match error {
        Error::Io(io) => checkpoint_error(dir, format!("cannot write the checkpoint: {io}")),
        other => other,
    })
}

fn stage_and_replace(trainer: &Trainer, dir: &Path) -> Result<()> {
    let temporary = sibling(dir, "saving")?;
    if let Some(parent) = temporary.parent() {
        fs::create_dir_all(parent)?;
    }
    if temporary.exists() {
        fs::remove_dir_all(&temporary)?;
    }
    fs::create_dir(&temporary)?;
    // A failed save (a full disk, say) takes its partial copy with it; `dir` is untouched.
    if let Err(error) = write_checkpoint(trainer, &temporary) {
        let _ = fs::remove_dir_all(&temporary);
        return Err(error);
    }
    replace_dir(&temporary, dir)?;
    remove_leftovers(dir);
    Ok(())
}

/// Writes every file of a checkpoint into the empty directory `dir`, and syncs them.
fn write_checkpoint(trainer: &Trainer, dir: &Path) -> Result<()> {
    let gan = &trainer.gan;
    fs::write(dir.join("config.json"), gan.config.to_json())?;
    write_tensors(&dir.join("generator.safetensors"), named_variables(&gan.generator.vs))?;
    write_tensors(&dir.join("discriminator.safetensors"), named_variables(&gan.discriminator.vs))?;
    if let Some(ema) = &gan.ema {
        write_tensors(&dir.join("generator_ema.safetensors"), named_variables(&ema.generator.vs))?;
    }
    write_tensors(&dir.join("optimizer.safetensors"), optimizer_tensors(trainer))?;
    if let Some(clusters) = &gan.clusters {
        let tensors = vec![
            ("centroids".to_string(), clusters.centroids.shallow_clone()),
            ("weights".to_string(), clusters.weights.shallow_clone()),
        ];
        write_tensors(&dir.join(CLUSTERS_FILE), tensors)?;
    }
    if let Some(calibration) = &gan.calibration {
        let json = serde_json::to_string_pretty(calibration).expect("serialisable");
        fs::write(dir.join(CALIBRATION_FILE), json)?;
    }
    let state = TrainingState {
        format: FORMAT.into(),
        version: VERSION,
        step: trainer.step,
        g_optim_steps: trainer.g_optim.steps,
        d_optim_steps: trainer.d_optim.steps,
        rng: trainer.streams.rng.clone(),
        sample_rng: gan.sample_rng.clone(),
    };
    // state.json is written last: a directory without it is never a checkpoint.
    fs::write(dir.join("state.json"), serde_json::to_string_pretty(&state).expect("serialisable"))?;
    for file in fs::read_dir(dir)? {
        fs::File::open(file?.path())?.sync_all()?;
    }
    Ok(())
}

/// Removes what saves killed midway left beside `dir`; `dir` itself is complete by now.
fn remove_leftovers(dir: &Path) {
    for path in siblings(dir, &["saving", "old"]) {
        let _ = fs::remove_dir_all(path); // best effort: a leftover only costs space
    }
}

/// Existing hidden siblings of `dir` made by `sibling` with one of `tags`.
fn siblings(dir: &Path, tags: &[&str]) -> Vec<PathBuf> {
    let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return vec![];
    };
    let prefixes: Vec<String> = tags.iter().map(|tag| format!(".{name}.{tag}-")).collect();
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let Ok(entries) = fs::read_dir(parent) else {
        return vec![];
    };
    entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let file_name =
                path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            prefixes.iter().any(|prefix| file_name.starts_with(prefix))
        })
        .collect()
}

/// `dir`'s hidden sibling `.NAME.TAG-PID`, where a save stages or retires a checkpoint.
fn sibling(dir: &Path, tag: &str) -> Result<PathBuf> {
    let name = dir.file_name().ok_or_else(|| checkpoint_error(dir, "not a directory name"))?;
    Ok(dir.with_file_name(format!(".{}.{tag}-{}", name.to_string_lossy(), std::process::id())))
}

/// Puts the complete checkpoint `new` at `dir`. On Linux the two directories are swapped
/// in one atomic rename, so `dir` always holds a whole checkpoint, old or new; elsewhere
/// there is a moment without `dir`, and `load` then falls back to the retired copy.
fn replace_dir(new: &Path, dir: &Path) -> Result<()> {
    if !dir.exists() {
        fs::rename(new, dir)?;
        return Ok(());
    }
    let old = sibling(dir, "old")?;
    if !exchange(new, dir)? {
        fs::rename(dir, &old)?;
        fs::rename(new, dir)?;
        fs::remove_dir_all(&old)?;
        return Ok(());
    }
    fs::remove_dir_all(new)?; // now holds the previous checkpoint
    Ok(())
}

/// Atomically swaps two paths; `Ok(false)` where the platform or file system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c_path = |p: &Path| {
        CString::new(p.as_os_str().as_bytes()).map_err(|_| checkpoint_error(p, "path contains NUL"))
    };
    let (a, b) = (c_path(a)?, c_path(b)?);
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    Ok(status == 0)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> Result<bool> {
    Ok(false)
}

/// Where a save was cut off between its two renames, the retired complete copy.
fn retired_copy(dir: &Path) -> Option<PathBuf> {
    siblings(dir, &["old"]).into_iter().find(|path| path.join("state.json").is_file())
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
    if !dir.is_dir() {
        return match retired_copy(dir) {
            Some(copy) => load(&copy, device),
            None => Err(checkpoint_error(dir, "no checkpoint directory here")),
        };
    }
    let read_json = |file: &str| -> Result<String> {
        fs::read_to_string(dir.join(file))
            .map_err(|e| checkpoint_error(&dir.join(file), e.to_string()))
    };
    let config_path = dir.join("config.json");
    let config = config_from_json(&read_json("config.json")?)
        .map_err(|e| checkpoint_error(&config_path, e.to_string()))?;
    let state_path = dir.join("state.json");
    let state: TrainingState = serde_json::from_str(&read_json("state.json")?)
        .map_err(|e| checkpoint_error(&state_path, format!("invalid training state: {e}")))?;
    if state.format != FORMAT || state.version != VERSION {
        return Err(checkpoint_error(
            &state_path,
            format!("unsupported format {} v{}", state.format, state.version),
        ));
    }
    if state.step < 0 || state.g_optim_steps < 0 || state.d_optim_steps < 0 {
        return Err(checkpoint_error(&state_path, "negative step counts"));
    }
    let mut trainer = Trainer::new(config, device)?;
    let gan = &mut trainer.gan;
    restore(&dir.join("generator.safetensors"), named_variables(&gan.generator.vs))?;
    restore(&dir.join("discriminator.safetensors"), named_variables(&gan.discriminator.vs))?;
    if let Some(ema) = &gan.ema {
        restore(&dir.join("generator_ema.safetensors"), named_variables(&ema.generator.vs))?;
    }
    gan.sample_rng = state.sample_rng;
    restore_optimizer(&trainer, &dir.join("optimizer.safetensors"))?;
    trainer.step = state.step;
    trainer.g_optim.steps = state.g_optim_steps;
    trainer.d_optim.steps = state.d_optim_steps;
    trainer.streams.rng = state.rng;
    let clusters_path = dir.join(CLUSTERS_FILE);
    if trainer.gan.config.clusters > 0 && clusters_path.is_file() {
        trainer.gan.clusters = Some(read_clusters(&clusters_path, &trainer.gan)?);
    }
    let calibration_path = dir.join(CALIBRATION_FILE);
    if calibration_path.is_file() {
        let calibration = serde_json::from_str(&read_json(CALIBRATION_FILE)?).map_err(|e| {
            checkpoint_error(&calibration_path, format!("invalid calibration: {e}"))
        })?;
        trainer.gan.calibration = Some(calibration);
    }
    Ok(trainer)
}
