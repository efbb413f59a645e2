//! How checkpoints are stored, whatever the model: a directory written to a staging
//! sibling and renamed into place, so an interrupted save leaves the previous checkpoint
//! intact; tensors as safetensors (no pickle: loading never runs code).

use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

use crate::error::{Error, Result};
use crate::flat_params::FlatParams;
use crate::optim::Adam;
use crate::rng::Rng;
use crate::weights::{copy_named, read_safetensors};

/// Written last: a directory without it is never a checkpoint.
pub const STATE_FILE: &str = "state.json";

pub fn checkpoint_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Checkpoint { path: path.display().to_string(), reason: reason.into() }
}

pub fn write_tensors(path: &Path, tensors: Vec<(String, Tensor)>) -> Result<()> {
    let on_cpu: Vec<(String, Tensor)> = tensors
        .into_iter()
        .map(|(name, t)| (name, t.detach().to_device(Device::Cpu).contiguous()))
        .collect();
    Tensor::write_safetensors(&on_cpu, path).map_err(|e| checkpoint_error(path, e.to_string()))
}

/// Reads the safetensors file at `path` into `targets`.
pub fn restore(path: &Path, targets: Vec<(String, Tensor)>) -> Result<()> {
    read_safetensors(path)
        .and_then(|stored| copy_named(stored, targets))
        .map_err(|reason| checkpoint_error(path, reason))
}

/// Adam's moments under checkpoint names `NETWORK.exp_avg` and `NETWORK.exp_avg_sq`, with
/// the parameters whose layout they share.
pub type Optimisers<'a> = Vec<(&'static str, &'a FlatParams, &'a Adam)>;

fn moments<'a>(optimisers: &Optimisers<'a>) -> Vec<(String, &'a FlatParams, &'a Tensor)> {
    optimisers
        .iter()
        .flat_map(|&(network, params, adam)| {
            [
                (format!("{network}.exp_avg"), params, &adam.exp_avg),
                (format!("{network}.exp_avg_sq"), params, &adam.exp_avg_sq),
            ]
        })
        .collect()
}

/// The moments in row-major order, whatever the buffers' layout.
fn moment_tensors(optimisers: &Optimisers) -> Vec<(String, Tensor)> {
    moments(optimisers)
        .into_iter()
        .map(|(name, params, moment)| (name, params.canonical(moment)))
        .collect()
}

pub fn write_optimisers(path: &Path, optimisers: &Optimisers) -> Result<()> {
    write_tensors(path, moment_tensors(optimisers))
}

pub fn restore_optimisers(path: &Path, optimisers: &Optimisers) -> Result<()> {
    let stored = moment_tensors(optimisers);
    restore(path, stored.iter().map(|(name, t)| (name.clone(), t.shallow_clone())).collect())?;
    for ((_, params, moment), (_, canonical)) in moments(optimisers).into_iter().zip(&stored) {
        params.copy_from_canonical(moment, canonical);
    }
    Ok(())
}

/// The text of the file `name` of the checkpoint `dir`.
pub fn read_text(dir: &Path, name: &str) -> Result<String> {
    let path = dir.join(name);
    fs::read_to_string(&path).map_err(|e| checkpoint_error(&path, e.to_string()))
}

/// Parses the JSON file `name` of the checkpoint `dir` as `what`.
pub fn read_json<T: DeserializeOwned>(dir: &Path, name: &str, what: &str) -> Result<T> {
    serde_json::from_str(&read_text(dir, name)?)
        .map_err(|e| checkpoint_error(&dir.join(name), format!("invalid {what}: {e}")))
}

pub fn write_json(dir: &Path, name: &str, value: &impl Serialize) -> Result<()> {
    Ok(fs::write(dir.join(name), serde_json::to_string_pretty(value).expect("serialisable"))?)
}

/// Where training stands: steps, optimiser step counts and random streams.
#[derive(Serialize, Deserialize)]
pub struct TrainingState {
    pub format: String,
    pub version: u32,
    pub step: i64,
    pub g_optim_steps: i64,
    pub d_optim_steps: i64,
    pub rng: Rng,
    /// A GAN's stream of latents for `sample`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rng: Option<Rng>,
    /// A release (`save_release`): weights without optimiser moments, at step 0.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub release: bool,
}

impl TrainingState {
    /// The state of the checkpoint `dir`, which must be of `format`, version 1.
    pub fn read(dir: &Path, format: &str) -> Result<Self> {
        let state: TrainingState = read_json(dir, STATE_FILE, "training state")?;
        let path = dir.join(STATE_FILE);
        if state.format != format || state.version != 1 {
            let found = format!("{} v{}", state.format, state.version);
            return Err(checkpoint_error(&path, format!("unsupported format {found}")));
        }
        if state.step < 0 || state.g_optim_steps < 0 || state.d_optim_steps < 0 {
            return Err(checkpoint_error(&path, "negative step counts"));
        }
        Ok(state)
    }
}

fn sync_files(dir: &Path) -> Result<()> {
    for file in fs::read_dir(dir)? {
        fs::File::open(file?.path())?.sync_all()?;
    }
    Ok(())
}

/// Saves a checkpoint at `dir`: `write` fills an empty staging directory, which then
/// replaces `dir` whole. A failed save leaves the previous checkpoint as it was.
pub fn save(dir: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(checkpoint_error(
            dir,
            "exists and is not a directory: a checkpoint is a directory",
        ));
    }
    stage_and_replace(dir, write).map_err(|error| match error {
        Error::Io(io) => checkpoint_error(dir, format!("cannot write the checkpoint: {io}")),
        other => other,
    })
}

fn stage_and_replace(dir: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let temporary = sibling(dir, "saving")?;
    if let Some(parent) = temporary.parent() {
        fs::create_dir_all(parent)?;
    }
    if temporary.exists() {
        fs::remove_dir_all(&temporary)?;
    }
    fs::create_dir(&temporary)?;
    // A failed save (a full disk, say) takes its partial copy with it; `dir` is untouched.
    if let Err(error) = write(&temporary).and_then(|()| sync_files(&temporary)) {
        let _ = fs::remove_dir_all(&temporary);
        return Err(error);
    }
    replace_dir(&temporary, dir)?;
    remove_leftovers(dir);
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

/// The checkpoint directory to load for `dir`: `dir` itself, or where a save was cut off
/// between its two renames, the retired complete copy.
pub fn existing(dir: &Path) -> Result<PathBuf> {
    if dir.is_dir() {
        return Ok(dir.to_path_buf());
    }
    siblings(dir, &["old"])
        .into_iter()
        .find(|path| path.join(STATE_FILE).is_file())
        .ok_or_else(|| checkpoint_error(dir, "no checkpoint directory here"))
}
