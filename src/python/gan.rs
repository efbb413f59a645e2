//! `GanCore`: the native half of `rustgan.GAN`.

use std::sync::MutexGuard;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_tch::PyTensor;

use super::errors::{to_py_err, without_gil};
use super::model::{native_model_methods, Shared};
use super::options::values;
use crate::calibration::Calibration;
use crate::config::GanConfig;
use crate::gan::Gan;
use crate::guide::{self, Draw, Guide};
use crate::options::{parse_device, TableConfig};
use crate::train::Trainer;

fn calibration_dict<'py>(py: Python<'py>, c: &Calibration) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("scale", c.scale)?;
    dict.set_item("offset", c.offset)?;
    dict.set_item("max_log_ratio", c.max_log_ratio)?;
    dict.set_item("shift", c.shift)?;
    dict.set_item("real_items", c.real_items)?;
    dict.set_item("acceptance_rate", c.acceptance_rate)?;
    Ok(dict)
}

#[pyclass(name = "GanCore", module = "rustgan._rustgan")]
pub struct PyGan {
    core: Shared<Gan>,
}

impl PyGan {
    pub(super) fn trainer(&self) -> MutexGuard<'_, Trainer<Gan>> {
        self.core.trainer()
    }
}

native_model_methods!(PyGan);

#[pymethods]
impl PyGan {
    /// `options`: the keyword arguments of `rustgan.GAN`, checked here.
    #[new]
    fn new(py: Python<'_>, options: &Bound<'_, PyDict>, device: &str) -> PyResult<Self> {
        let values = values(options)?;
        let (gan, rng) = without_gil(py, || {
            Gan::with_training_stream(GanConfig::from_values(&values)?, parse_device(device)?)
        })?;
        Ok(PyGan { core: Shared::new(Trainer::new(gan, rng)) })
    }

    #[pyo3(signature = (n, seed=None, truncation=1.0))]
    fn latent(
        &self,
        py: Python<'_>,
        n: i64,
        seed: Option<u64>,
        truncation: f64,
    ) -> PyResult<PyTensor> {
        without_gil(py, || self.trainer().model_mut().latent(n, seed, truncation)).map(PyTensor)
    }

    #[pyo3(signature = (z, labels, ema))]
    fn generate(
        &self,
        py: Python<'_>,
        z: PyTensor,
        labels: Option<PyTensor>,
        ema: bool,
    ) -> PyResult<PyTensor> {
        let (z, labels) = (z.0, labels.map(|l| l.0));
        without_gil(py, move || self.trainer().model().generate(&z, labels.as_ref(), ema))
            .map(PyTensor)
    }

    #[pyo3(signature = (n, seed=None, labels=None, ema=true, truncation=1.0))]
    fn sample(
        &self,
        py: Python<'_>,
        n: i64,
        seed: Option<u64>,
        labels: Option<PyTensor>,
        ema: bool,
        truncation: f64,
    ) -> PyResult<PyTensor> {
        let labels = labels.map(|l| l.0);
        without_gil(py, move || {
            self.trainer().model_mut().sample(n, seed, labels.as_ref(), ema, truncation)
        })
        .map(PyTensor)
    }

    /// Samples resampled by D's calibrated density ratio: `guide` is "drs" or "mh".
    #[pyo3(signature = (n, guide, seed=None, labels=None, ema=true, truncation=1.0))]
    #[allow(clippy::too_many_arguments)]
    fn guided_sample(
        &self,
        py: Python<'_>,
        n: i64,
        guide: &str,
        seed: Option<u64>,
        labels: Option<PyTensor>,
        ema: bool,
        truncation: f64,
    ) -> PyResult<PyTensor> {
        let guide = Guide::parse(guide).map_err(to_py_err)?;
        let labels = labels.map(|l| l.0);
        without_gil(py, move || {
            let draw = Draw { n, seed, labels: labels.as_ref(), use_ema: ema, truncation };
            guide::sample(self.trainer().model_mut(), guide, &draw)
        })
        .map(PyTensor)
    }

    /// Fits D's calibration on held-back real items and returns it as a dict.
    #[pyo3(signature = (real, labels=None, seed=0, ema=true))]
    fn calibrate<'py>(
        &self,
        py: Python<'py>,
        real: PyTensor,
        labels: Option<PyTensor>,
        seed: u64,
        ema: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (real, labels) = (real.0, labels.map(|l| l.0));
        let calibration = without_gil(py, move || {
            guide::calibrate(self.trainer().model_mut(), &real, labels.as_ref(), seed, ema)
        })?;
        calibration_dict(py, &calibration)
    }

    /// The clusters `[N]` a self-conditioned GAN trains `images` with.
    fn clusters_of(&self, py: Python<'_>, images: PyTensor) -> PyResult<PyTensor> {
        let images = images.0;
        without_gil(py, move || self.trainer().model().item_clusters(&images)).map(PyTensor)
    }

    /// Hands in the pretrained features `[N, F]` of the items the next `fit` trains on.
    fn stage_cluster_features(&self, py: Python<'_>, features: PyTensor) -> PyResult<()> {
        let features = features.0;
        without_gil(py, move || self.trainer().model_mut().stage_cluster_features(&features))
    }

    /// Whether the next `fit` needs `stage_cluster_features` first.
    #[getter]
    fn needs_cluster_features(&self) -> bool {
        self.trainer().model().needs_cluster_features()
    }

    /// The probability with which augmentations reach D's inputs (1 unless adaptive).
    #[getter]
    fn augment_probability(&self) -> f64 {
        self.trainer().model().augment_probability()
    }

    /// The stored calibration as a dict, or None.
    #[getter]
    fn calibration<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let calibration = self.trainer().model().calibration().cloned();
        calibration.map(|c| calibration_dict(py, &c)).transpose()
    }
}
