//! Evaluation of generative models, as pure functions of tensors on any device:
//! - mode coverage of 2D mixtures (PacGAN, Lin et al. 2018),
//! - Fréchet distance of features (FID, Heusel et al. 2017),
//! - kernel inception distance (KID, Bińkowski et al. 2018),
//! - improved precision and recall (Kynkäänniemi et al. 2019),
//! - sliced Wasserstein distance of image pyramids (ProGAN, Karras et al. 2018),
//! - the copy rate: samples nearer to a training item than held-out items are,
//! - features from any TorchScript model.
//!
//! The feature metrics take `[N, F]` matrices from any extractor; random choices come from
//! `crate::rng::Rng`, so the same inputs and seed give the same numbers.

mod copies;
mod frechet;
mod kid;
mod modes;
mod precision_recall;
mod swd;
mod torchscript;

pub use copies::{copy_rate, nearest_distances, CopyRate};
pub use frechet::frechet_distance;
pub use kid::kernel_inception_distance;
pub use modes::{modes_2d, ModeCoverage};
pub use precision_recall::{precision_recall, PrecisionRecall};
pub use swd::{sliced_wasserstein, Swd, SwdOptions};
pub use torchscript::torchscript_features;

use tch::{Kind, Tensor};

use crate::error::{invalid, Result};

/// Fails on NaN or infinite values, which would turn every metric into NaN.
fn check_finite(x: &Tensor, name: &str) -> Result<()> {
    if x.f_isfinite()?.f_all()?.int64_value(&[]) == 0 {
        return invalid(format!("{name} contains NaN or infinite values"));
    }
    Ok(())
}

/// `x` as a finite `[N, F]` f64 matrix with `F > 0` and at least `min_rows` rows.
fn feature_matrix(x: &Tensor, name: &str, min_rows: i64) -> Result<Tensor> {
    let shape = x.size();
    if shape.len() != 2 || shape[1] == 0 {
        return invalid(format!("{name} must be a [N, F] matrix with F > 0, got shape {shape:?}"));
    }
    if shape[0] < min_rows {
        return invalid(format!("{name} needs at least {min_rows} rows, got {}", shape[0]));
    }
    check_finite(x, name)?;
    Ok(x.f_to_kind(Kind::Double)?)
}

/// Both sets as f64 feature matrices of the same width, on the device of `a`.
fn feature_pair(
    a: &Tensor,
    b: &Tensor,
    names: [&str; 2],
    min_rows: i64,
) -> Result<(Tensor, Tensor)> {
    let a = feature_matrix(a, names[0], min_rows)?;
    let b = feature_matrix(b, names[1], min_rows)?.f_to_device(a.device())?;
    if a.size()[1] != b.size()[1] {
        return invalid(format!(
            "{} and {} must have the same number of features, got {} and {}",
            names[0],
            names[1],
            a.size()[1],
            b.size()[1]
        ));
    }
    Ok((a, b))
}
