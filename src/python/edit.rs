//! Bindings of `crate::edit`, used by `rustgan.edit`.

use pyo3::prelude::*;
use pyo3_tch::PyTensor;

use super::errors::without_gil;
use super::gan::PyGan;
use crate::edit::posterior::{self, PosteriorOptions};
use crate::edit::{self, directions, latents, Path, ProjectOptions};

#[pyfunction]
pub fn interpolate(
    py: Python<'_>,
    z0: PyTensor,
    z1: PyTensor,
    steps: i64,
    method: &str,
) -> PyResult<PyTensor> {
    let (z0, z1) = (z0.0, z1.0);
    without_gil(py, move || edit::interpolate(&z0, &z1, steps, Path::parse(method)?)).map(PyTensor)
}

/// Images `[steps, N, *data_shape]` along the path from latents `z0` to `z1` `[N, width]`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn interpolate_images(
    py: Python<'_>,
    gan: &PyGan,
    z0: PyTensor,
    z1: PyTensor,
    steps: i64,
    method: &str,
    labels: Option<PyTensor>,
    ema: bool,
) -> PyResult<PyTensor> {
    let (z0, z1, labels) = (z0.0, z1.0, labels.map(|l| l.0));
    without_gil(py, move || {
        let path = Path::parse(method)?;
        let model = gan.trainer();
        latents::interpolate_images(model.model(), &z0, &z1, steps, path, labels.as_ref(), ema)
    })
    .map(PyTensor)
}

/// `base + mean(plus) - mean(minus)` on z, as a latent `[1, width]`.
#[pyfunction]
pub fn arithmetic(
    py: Python<'_>,
    gan: &PyGan,
    plus: Vec<PyTensor>,
    minus: Option<Vec<PyTensor>>,
    base: Option<PyTensor>,
) -> PyResult<PyTensor> {
    let plus: Vec<tch::Tensor> = plus.into_iter().map(|t| t.0).collect();
    let minus: Option<Vec<tch::Tensor>> = minus.map(|m| m.into_iter().map(|t| t.0).collect());
    let base = base.map(|b| b.0);
    without_gil(py, move || {
        latents::arithmetic(gan.trainer().model(), &plus, minus.as_deref(), base.as_ref())
    })
    .map(PyTensor)
}

/// Images `[K, A, N, *data_shape]` of latents `z` `[N, width]` moved by `amounts` `[A]`
/// along `directions` `[K, latent_dim]`.
#[pyfunction]
pub fn move_images(
    py: Python<'_>,
    gan: &PyGan,
    z: PyTensor,
    directions: PyTensor,
    amounts: PyTensor,
    labels: Option<PyTensor>,
    ema: bool,
) -> PyResult<PyTensor> {
    let (z, directions, amounts, labels) = (z.0, directions.0, amounts.0, labels.map(|l| l.0));
    without_gil(py, move || {
        let model = gan.trainer();
        latents::move_images(model.model(), &z, &directions, &amounts, labels.as_ref(), ema)
    })
    .map(PyTensor)
}

/// Latents `z` `[N, width]` rendered in each of `classes` `[C]` (default: all classes or
/// clusters): `[C, N, *data_shape]`.
#[pyfunction]
pub fn class_swap(
    py: Python<'_>,
    gan: &PyGan,
    z: PyTensor,
    classes: Option<PyTensor>,
    ema: bool,
) -> PyResult<PyTensor> {
    let (z, classes) = (z.0, classes.map(|c| c.0));
    without_gil(py, move || latents::class_swap(gan.trainer().model(), &z, classes.as_ref(), ema))
        .map(PyTensor)
}

/// How much of each pixel a composite takes from `targets` `[N, C, H, W]`: `mask`, faded
/// over `feather` pixels at the hole's border.
#[pyfunction]
pub fn known_weight(
    py: Python<'_>,
    mask: PyTensor,
    targets: PyTensor,
    feather: i64,
) -> PyResult<PyTensor> {
    let (mask, targets) = (mask.0, targets.0);
    without_gil(py, move || edit::composite::known_weight(&mask, &targets, feather)).map(PyTensor)
}

/// The explorer's latent `[1, width]`: `base` truncated, moved by `amounts` `[K]` along
/// `directions` `[K, latent_dim]`.
#[pyfunction]
pub fn steered(
    py: Python<'_>,
    gan: &PyGan,
    base: PyTensor,
    directions: PyTensor,
    amounts: PyTensor,
    truncation: f64,
) -> PyResult<PyTensor> {
    let (base, directions, amounts) = (base.0, directions.0, amounts.0);
    without_gil(py, move || {
        latents::steered(gan.trainer().model(), &base, &directions, &amounts, truncation)
    })
    .map(PyTensor)
}

/// Returns (latents, images, loss_curve, errors).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (gan, images, labels, mask, steps, lr, restarts, prior_weight, realism_weight, average_best, seed, use_ema))]
pub fn project(
    py: Python<'_>,
    gan: &PyGan,
    images: PyTensor,
    labels: Option<PyTensor>,
    mask: Option<PyTensor>,
    steps: i64,
    lr: f64,
    restarts: i64,
    prior_weight: f64,
    realism_weight: f64,
    average_best: i64,
    seed: u64,
    use_ema: bool,
) -> PyResult<(PyTensor, PyTensor, Vec<f64>, PyTensor)> {
    let (images, labels, mask) = (images.0, labels.map(|l| l.0), mask.map(|m| m.0));
    let options = ProjectOptions {
        steps,
        lr,
        restarts,
        prior_weight,
        realism_weight,
        average_best,
        seed,
        use_ema,
    };
    let result = without_gil(py, move || {
        edit::project(gan.trainer().model(), &images, labels.as_ref(), mask.as_ref(), &options)
    })?;
    Ok((
        PyTensor(result.latents),
        PyTensor(result.images),
        result.loss_curve,
        PyTensor(result.errors),
    ))
}

/// Returns (vectors, explained).
#[pyfunction]
pub fn sefa(py: Python<'_>, gan: &PyGan, k: i64) -> PyResult<(PyTensor, PyTensor)> {
    let found = without_gil(py, move || directions::sefa(gan.trainer().model(), k))?;
    Ok((PyTensor(found.vectors), PyTensor(found.explained)))
}

/// Returns (vectors, explained).
#[pyfunction]
pub fn pca(
    py: Python<'_>,
    gan: &PyGan,
    z: PyTensor,
    labels: Option<PyTensor>,
    k: i64,
) -> PyResult<(PyTensor, PyTensor)> {
    let (z, labels) = (z.0, labels.map(|l| l.0));
    let found =
        without_gil(py, move || directions::pca(gan.trainer().model(), &z, labels.as_ref(), k))?;
    Ok((PyTensor(found.vectors), PyTensor(found.explained)))
}

/// Returns (normal, accuracy).
#[pyfunction]
pub fn boundary(
    py: Python<'_>,
    gan: &PyGan,
    z: PyTensor,
    labels: Option<PyTensor>,
    values: PyTensor,
    keep: Option<PyTensor>,
) -> PyResult<(PyTensor, f64)> {
    let (z, labels, values, keep) = (z.0, labels.map(|l| l.0), values.0, keep.map(|k| k.0));
    let found = without_gil(py, move || {
        let trainer = gan.trainer();
        directions::boundary(trainer.model(), &z, labels.as_ref(), &values, keep.as_ref())
    })?;
    Ok((PyTensor(found.normal), found.accuracy))
}

/// `z` `[N, D]` moved along `directions` `[K, D]` by `amounts` `[A]`: `[K, A, N, D]`.
#[pyfunction]
pub fn move_latents(
    py: Python<'_>,
    z: PyTensor,
    directions: PyTensor,
    amounts: PyTensor,
) -> PyResult<PyTensor> {
    let (z, directions, amounts) = (z.0, directions.0, amounts.0);
    without_gil(py, move || directions::move_latents(&z, &directions, &amounts)).map(PyTensor)
}

/// `z` `[N, D]` moved into the self-conditioned GAN's clusters `ids` `[N]`.
#[pyfunction]
pub fn into_clusters(
    py: Python<'_>,
    gan: &PyGan,
    z: PyTensor,
    ids: PyTensor,
) -> PyResult<PyTensor> {
    let (z, ids) = (z.0, ids.0);
    without_gil(py, move || edit::into_clusters(gan.trainer().model(), &z, &ids)).map(PyTensor)
}

/// Returns (mean, samples, std, noise).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (gan, images, labels, mask, samples, steps, step_size, noise, candidates, seed))]
pub fn inpaint_posterior(
    py: Python<'_>,
    gan: &PyGan,
    images: PyTensor,
    labels: Option<PyTensor>,
    mask: PyTensor,
    samples: i64,
    steps: i64,
    step_size: f64,
    noise: Option<f64>,
    candidates: i64,
    seed: u64,
) -> PyResult<(PyTensor, PyTensor, PyTensor, f64)> {
    let (images, labels, mask) = (images.0, labels.map(|l| l.0), mask.0);
    let options = PosteriorOptions { samples, steps, step_size, noise, candidates, seed };
    let found = without_gil(py, move || {
        posterior::inpaint(gan.trainer().model(), &images, labels.as_ref(), &mask, &options)
    })?;
    Ok((PyTensor(found.mean), PyTensor(found.samples), PyTensor(found.std), found.noise))
}
