//! Features from a user's TorchScript model (Inception, for one, gives standard FID
//! offline), run by libtorch without Python.

use std::path::Path;

use tch::{Kind, Tensor};

use crate::error::{invalid, Error, Result};

/// Runs the TorchScript module at `path` on `images` in chunks of `batch_size`, in eval
/// mode without gradients; outputs are flattened to `[N, F]`.
pub fn torchscript_features(path: &Path, images: &Tensor, batch_size: i64) -> Result<Tensor> {
    if batch_size < 1 {
        return invalid(format!("batch_size must be at least 1, got {batch_size}"));
    }
    let extractor_error = |what: &str, e: tch::TchError| {
        Error::InvalidArgument(format!("feature extractor {}: {what} ({e})", path.display()))
    };
    let mut module = tch::CModule::load(path)
        .map_err(|e| extractor_error("not a loadable TorchScript file", e))?;
    module.set_eval();
    let chunks = tch::no_grad(|| {
        images
            .split(batch_size, 0)
            .iter()
            .map(|chunk| module.forward_ts(&[chunk]).map(|f| f.flatten(1, -1).to_kind(Kind::Float)))
            .collect::<std::result::Result<Vec<Tensor>, _>>()
    })
    .map_err(|e| extractor_error("failed on the images", e))?;
    Ok(Tensor::f_cat(&chunks, 0)?)
}
