//! Named tensor sets: what checkpoints store and what PyTorch's `state_dict` holds.

use std::collections::BTreeMap;
use std::path::Path;

use tch::{nn, Kind, Tensor};

/// A network's variables (weights and batch-norm statistics), sorted by name.
pub fn named_variables(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    let mut named: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
}

/// The tensors of a safetensors file, by name; the reason when it cannot be read.
pub fn read_safetensors(path: &Path) -> Result<BTreeMap<String, Tensor>, String> {
    if !path.is_file() {
        return Err("file is missing".into());
    }
    let tensors = Tensor::read_safetensors(path)
        .map_err(|e| format!("not a readable safetensors file ({e})"))?;
    Ok(tensors.into_iter().collect())
}

/// Copies `stored` into `targets`, requiring exactly the same names, shapes and finite
/// float values; on a mismatch nothing is copied and the message names the tensor.
pub fn copy_named(
    mut stored: BTreeMap<String, Tensor>,
    targets: Vec<(String, Tensor)>,
) -> Result<(), String> {
    let mut pairs = Vec::with_capacity(targets.len());
    for (name, target) in targets {
        let value = stored.remove(&name).ok_or_else(|| format!("tensor '{name}' is missing"))?;
        if value.size() != target.size() {
            return Err(format!(
                "tensor '{name}' has shape {:?}, the model needs {:?}",
                value.size(),
                target.size()
            ));
        }
        if !matches!(value.kind(), Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16) {
            return Err(format!(
                "tensor '{name}' has dtype {:?}, the model needs floats",
                value.kind()
            ));
        }
        if !bool::try_from(value.isfinite().all()).unwrap_or(false) {
            return Err(format!("tensor '{name}' contains NaN or infinite values"));
        }
        pairs.push((name, value, target));
    }
    if let Some(extra) = stored.keys().next() {
        return Err(format!("unexpected tensor '{extra}' (a different architecture?)"));
    }
    for (name, value, mut target) in pairs {
        tch::no_grad(|| target.f_copy_(&value)).map_err(|e| format!("tensor '{name}': {e}"))?;
    }
    Ok(())
}
