//! The native module `rustgan._rustgan`: the only place that imports pyo3.

mod cycle;
mod edit;
mod errors;
mod gan;
mod metrics;
mod model;
mod options;
mod training;
mod translator;

use pyo3::prelude::*;
use pyo3_tch::PyTensor;

use crate::models::efficientnet::{self, FeatureNetwork};

#[pymodule]
pub fn _rustgan(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<gan::PyGan>()?;
    m.add_function(wrap_pyfunction!(options::gan_options, m)?)?;
    m.add_class::<translator::PyTranslator>()?;
    m.add_function(wrap_pyfunction!(translator::translator_options, m)?)?;
    m.add_class::<cycle::PyCycleGan>()?;
    m.add_function(wrap_pyfunction!(cycle::cycle_options, m)?)?;
    m.add_function(wrap_pyfunction!(options::recipe, m)?)?;
    m.add("NAN_POLICIES", crate::train::NanPolicy::NAMES.to_vec())?;
    m.add("GUIDES", crate::guide::Guide::NAMES.to_vec())?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(edit::interpolate, m)?)?;
    m.add_function(wrap_pyfunction!(edit::interpolate_images, m)?)?;
    m.add_function(wrap_pyfunction!(edit::arithmetic, m)?)?;
    m.add_function(wrap_pyfunction!(edit::move_images, m)?)?;
    m.add_function(wrap_pyfunction!(edit::class_swap, m)?)?;
    m.add_function(wrap_pyfunction!(edit::known_weight, m)?)?;
    m.add_function(wrap_pyfunction!(edit::steered, m)?)?;
    m.add_function(wrap_pyfunction!(edit::project, m)?)?;
    m.add_function(wrap_pyfunction!(edit::sefa, m)?)?;
    m.add_function(wrap_pyfunction!(edit::pca, m)?)?;
    m.add_function(wrap_pyfunction!(edit::boundary, m)?)?;
    m.add_function(wrap_pyfunction!(edit::move_latents, m)?)?;
    m.add_function(wrap_pyfunction!(edit::into_clusters, m)?)?;
    m.add_function(wrap_pyfunction!(edit::inpaint_posterior, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_is_available, m)?)?;
    m.add_function(wrap_pyfunction!(install_feature_network, m)?)?;
    m.add_function(wrap_pyfunction!(feature_network_stages, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::modes_2d, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::frechet_distance, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::kernel_inception_distance, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::precision_recall, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::sliced_wasserstein, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::copy_rate, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::torchscript_features, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::digit_classifier, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::train_digit_classifier, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::trained_classifier_predictions, m)?)?;
    Ok(())
}

/// Sets the number of CPU threads libtorch uses (shared with `torch.set_num_threads`).
#[pyfunction]
fn set_num_threads(n: i32) -> PyResult<()> {
    if n < 1 {
        return Err(errors::to_py_err(crate::error::Error::InvalidArgument(format!(
            "number of threads must be at least 1, got {n}"
        ))));
    }
    tch::set_num_threads(n);
    Ok(())
}

/// Hands the weights of EfficientNet-Lite0 (its PyTorch state dict, as (name, tensor)
/// pairs) to projected discriminators built from now on; returns their fingerprint.
#[pyfunction]
fn install_feature_network(py: Python<'_>, state: Vec<(String, PyTensor)>) -> PyResult<String> {
    let state = state.into_iter().map(|(name, tensor)| (name, tensor.0)).collect();
    errors::without_gil(py, move || efficientnet::install(state))
}

/// The four stage outputs a projected discriminator reads, of images `[N, 3, H, W]` in
/// [-1, 1] (H and W multiples of 32), from the installed weights.
#[pyfunction]
fn feature_network_stages(py: Python<'_>, images: PyTensor) -> PyResult<Vec<PyTensor>> {
    let images = images.0;
    errors::without_gil(py, move || {
        efficientnet::check_images(&images)?;
        let network = FeatureNetwork::load(images.device(), tch::Kind::Float)?;
        Ok(tch::no_grad(|| network.stages(&images)).into_iter().map(PyTensor).collect())
    })
}

#[pyfunction]
fn cuda_is_available() -> bool {
    tch::Cuda::is_available()
}

/// A device as `rustgan` names it: "cpu" or "cuda:N".
fn device_name(device: tch::Device) -> String {
    match device {
        tch::Device::Cuda(i) => format!("cuda:{i}"),
        _ => "cpu".into(),
    }
}
