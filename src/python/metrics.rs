//! Bindings of `crate::metrics` and the classifier, for `rustgan.metrics`.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3_tch::PyTensor;
use tch::Device;

use super::errors::without_gil;
use crate::metrics::{self, SwdOptions};
use crate::models::classifier::Classifier;

/// (modes covered, high-quality fraction, reverse KL)
#[pyfunction]
pub fn modes_2d(
    py: Python<'_>,
    samples: PyTensor,
    centers: PyTensor,
    std: f64,
) -> PyResult<(i64, f64, f64)> {
    let (samples, centers) = (samples.0, centers.0);
    let coverage = without_gil(py, move || metrics::modes_2d(&samples, &centers, std))?;
    Ok((coverage.modes, coverage.high_quality, coverage.reverse_kl))
}

#[pyfunction]
pub fn frechet_distance(py: Python<'_>, a: PyTensor, b: PyTensor) -> PyResult<f64> {
    let (a, b) = (a.0, b.0);
    without_gil(py, move || metrics::frechet_distance(&a, &b))
}

/// (mean, std) over the subsets
#[pyfunction]
pub fn kernel_inception_distance(
    py: Python<'_>,
    a: PyTensor,
    b: PyTensor,
    subsets: i64,
    subset_size: i64,
    seed: u64,
) -> PyResult<(f64, f64)> {
    let (a, b) = (a.0, b.0);
    without_gil(py, move || metrics::kernel_inception_distance(&a, &b, subsets, subset_size, seed))
}

/// (precision, recall)
#[pyfunction]
pub fn precision_recall(
    py: Python<'_>,
    real: PyTensor,
    fake: PyTensor,
    k: i64,
) -> PyResult<(f64, f64)> {
    let (real, fake) = (real.0, fake.0);
    let result = without_gil(py, move || metrics::precision_recall(&real, &fake, k))?;
    Ok((result.precision, result.recall))
}

/// (rate, threshold, each sample's distance to its nearest training item)
#[pyfunction]
pub fn copy_rate(
    py: Python<'_>,
    samples: PyTensor,
    train: PyTensor,
    held_out: PyTensor,
    quantile: f64,
) -> PyResult<(f64, f64, PyTensor)> {
    let (samples, train, held_out) = (samples.0, train.0, held_out.0);
    let found = without_gil(py, move || metrics::copy_rate(&samples, &train, &held_out, quantile))?;
    Ok((found.rate, found.threshold, PyTensor(found.distances)))
}

/// (x1000 per level from the finest, mean over levels)
#[pyfunction]
pub fn sliced_wasserstein(
    py: Python<'_>,
    a: PyTensor,
    b: PyTensor,
    patches_per_image: i64,
    seed: u64,
) -> PyResult<(Vec<f64>, f64)> {
    let (a, b) = (a.0, b.0);
    let options = SwdOptions { patches_per_image, seed, ..Default::default() };
    let swd = without_gil(py, move || metrics::sliced_wasserstein(&a, &b, &options))?;
    Ok((swd.per_level, swd.mean))
}

#[pyfunction]
pub fn torchscript_features(
    py: Python<'_>,
    images: PyTensor,
    path: PathBuf,
    batch_size: i64,
) -> PyResult<PyTensor> {
    let images = images.0;
    without_gil(py, move || metrics::torchscript_features(&path, &images, batch_size)).map(PyTensor)
}

/// (features [N, 128], logits [N, 10]) of the digit classifier stored at `weights`.
#[pyfunction]
pub fn digit_classifier(
    py: Python<'_>,
    images: PyTensor,
    weights: PathBuf,
) -> PyResult<(PyTensor, PyTensor)> {
    let images = images.0;
    without_gil(py, move || {
        let classifier = Classifier::load(&weights, Device::Cpu)?;
        let features = classifier.features(&images)?;
        let logits = classifier.logits(&features);
        Ok((PyTensor(features), PyTensor(logits)))
    })
}

/// Trains the digit classifier, writes its weights to `path`; per epoch (loss, accuracy).
#[pyfunction]
pub fn train_digit_classifier(
    py: Python<'_>,
    images: PyTensor,
    labels: PyTensor,
    epochs: i64,
    seed: u64,
    path: PathBuf,
) -> PyResult<Vec<(f64, f64)>> {
    let (images, labels) = (images.0, labels.0);
    without_gil(py, move || {
        let (classifier, records) = Classifier::train(&images, &labels, epochs, seed, Device::Cpu)?;
        classifier.save(&path)?;
        Ok(records.into_iter().map(|r| (r.loss, r.accuracy)).collect())
    })
}

/// The classes predicted for `images` by the classifier trained from scratch on
/// (`train`, `labels`): GAN-train and GAN-test without a file in between.
#[pyfunction]
pub fn trained_classifier_predictions(
    py: Python<'_>,
    train: PyTensor,
    labels: PyTensor,
    images: PyTensor,
    epochs: i64,
    seed: u64,
) -> PyResult<PyTensor> {
    let (train, labels, images) = (train.0, labels.0, images.0);
    without_gil(py, move || {
        let (classifier, _) = Classifier::train(&train, &labels, epochs, seed, Device::Cpu)?;
        let logits = classifier.logits(&classifier.features(&images)?);
        Ok(PyTensor(logits.argmax(1, false)))
    })
}
