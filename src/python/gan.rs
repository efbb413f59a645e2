//! `GanCore`: the native half of `rustgan.GAN`.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_tch::PyTensor;

use super::errors::{to_py_err, without_gil};
use super::options::values;
use super::training::{gradient_sync, record_dict, run_fit, stats_dict};
use crate::calibration::Calibration;
use crate::checkpoint;
use crate::guide::{self, Draw, Guide};
use crate::options::{config_from_values, parse_device};
use crate::replica::Replica;
use crate::train::{Batch, FitOptions, NanPolicy, Trainer};

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
    // The lock makes the class shareable between threads; calls on one GAN run in turn.
    inner: Mutex<Trainer>,
}

impl PyGan {
    fn new_locked(trainer: Trainer) -> Self {
        PyGan { inner: Mutex::new(trainer) }
    }

    pub(super) fn trainer(&self) -> MutexGuard<'_, Trainer> {
        // A panic mid-call is reported as an error; the GAN stays usable for inspection.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[pymethods]
impl PyGan {
    /// `options`: the keyword arguments of `rustgan.GAN`, checked here.
    #[new]
    fn new(py: Python<'_>, options: &Bound<'_, PyDict>, device: &str) -> PyResult<Self> {
        let values = values(options)?;
        let trainer =
            without_gil(py, || Trainer::new(config_from_values(&values)?, parse_device(device)?))?;
        Ok(PyGan::new_locked(trainer))
    }

    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf, device: &str) -> PyResult<Self> {
        let trainer = without_gil(py, || checkpoint::load(&path, parse_device(device)?))?;
        Ok(PyGan::new_locked(trainer))
    }

    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        without_gil(py, || checkpoint::save(&self.trainer(), &path))
    }

    #[pyo3(signature = (data, labels, on_nan))]
    fn step<'py>(
        &self,
        py: Python<'py>,
        data: PyTensor,
        labels: Option<PyTensor>,
        on_nan: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (data, labels) = (data.0, labels.map(|l| l.0));
        let stats = without_gil(py, move || {
            let policy = NanPolicy::parse(on_nan)?;
            let mut trainer = self.trainer();
            let images = trainer.gan.check_batch(&data, "batch")?;
            let labels = trainer.gan.data_labels(&images, labels.as_ref(), "labels")?;
            trainer.train_step(&[Batch { images, labels }], policy)
        })?;
        stats_dict(py, &stats)
    }

    /// Trains in Rust; `callback(steps_done, record_or_None)` runs at most every 100 ms and
    /// on every log record. Returns (history, interrupted).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (data, labels, steps, batch_size, log_every, on_nan, callback))]
    fn fit(
        &self,
        py: Python<'_>,
        data: PyTensor,
        labels: Option<PyTensor>,
        steps: i64,
        batch_size: i64,
        log_every: i64,
        on_nan: &str,
        callback: PyObject,
    ) -> PyResult<(Vec<PyObject>, bool)> {
        let (data, labels) = (data.0, labels.map(|l| l.0));
        run_fit(py, callback, move |monitor| {
            let options =
                FitOptions { steps, batch_size, log_every, on_nan: NanPolicy::parse(on_nan)? };
            self.trainer().fit(&data, labels.as_ref(), &options, monitor)
        })
    }

    /// The record of the steps since the last one, or None (see `Trainer::flush_log`).
    fn flush_log<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let record = self.trainer().flush_log();
        record.map(|r| record_dict(py, &r)).transpose()
    }

    #[pyo3(signature = (n, seed=None))]
    fn latent(&self, py: Python<'_>, n: i64, seed: Option<u64>) -> PyResult<PyTensor> {
        without_gil(py, || self.trainer().gan.latent(n, seed)).map(PyTensor)
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
        without_gil(py, move || self.trainer().gan.generate(&z, labels.as_ref(), ema)).map(PyTensor)
    }

    #[pyo3(signature = (n, seed=None, labels=None, ema=true))]
    fn sample(
        &self,
        py: Python<'_>,
        n: i64,
        seed: Option<u64>,
        labels: Option<PyTensor>,
        ema: bool,
    ) -> PyResult<PyTensor> {
        let labels = labels.map(|l| l.0);
        without_gil(py, move || self.trainer().gan.sample(n, seed, labels.as_ref(), ema))
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
            guide::sample(&mut self.trainer().gan, guide, &draw)
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
            guide::calibrate(&mut self.trainer().gan, &real, labels.as_ref(), seed, ema)
        })?;
        calibration_dict(py, &calibration)
    }

    /// The stored calibration as a dict, or None.
    #[getter]
    fn calibration<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let calibration = self.trainer().gan.calibration.clone();
        calibration.map(|c| calibration_dict(py, &c)).transpose()
    }

    fn state_dict(&self, py: Python<'_>, network: String) -> PyResult<Vec<(String, PyTensor)>> {
        let named = without_gil(py, move || self.trainer().gan.state_dict(&network))?;
        Ok(named.into_iter().map(|(name, t)| (name, PyTensor(t))).collect())
    }

    fn load_state_dict(
        &self,
        py: Python<'_>,
        network: String,
        tensors: Vec<(String, PyTensor)>,
    ) -> PyResult<()> {
        let tensors: Vec<(String, tch::Tensor)> =
            tensors.into_iter().map(|(name, t)| (name, t.0)).collect();
        without_gil(py, move || self.trainer().gan.load_state_dict(&network, tensors))
    }

    /// Trains as replica `rank` of `world_size`; `sync(flat_gradient)` must average the
    /// tensor across the processes in place.
    fn set_replica(&self, rank: i64, world_size: i64, sync: PyObject) -> PyResult<()> {
        let replica = Replica::new(rank, world_size, gradient_sync(sync)).map_err(to_py_err)?;
        self.trainer().streams.replica = Some(replica);
        Ok(())
    }

    fn clear_replica(&self) {
        self.trainer().streams.replica = None;
    }

    #[getter]
    fn config_json(&self) -> String {
        self.trainer().gan.config.to_json()
    }

    #[getter]
    fn steps_done(&self) -> i64 {
        self.trainer().step
    }

    #[getter]
    fn device(&self) -> String {
        super::device_name(self.trainer().gan.device)
    }

    #[getter]
    fn has_ema(&self) -> bool {
        self.trainer().gan.ema.is_some()
    }
}
