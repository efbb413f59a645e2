//! `GanCore`: the native half of `rustgan.GAN`.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3_tch::PyTensor;

use super::errors::{to_py_err, without_gil};
use crate::checkpoint;
use crate::config::GanConfig;
use crate::error::{invalid, Error, Result};
use crate::gan::{parse_device, Gan};
use crate::replica::{GradientSync, Replica};
use crate::train::{Batch, FitOptions, NanPolicy, Stats};

/// How often a long call hands control back to Python (progress bar, Ctrl-C).
const MONITOR_INTERVAL: Duration = Duration::from_millis(100);

fn parse_nan_policy(name: &str) -> Result<NanPolicy> {
    match name {
        "raise" => Ok(NanPolicy::Raise),
        "skip" => Ok(NanPolicy::Skip),
        other => invalid(format!("on_nan must be 'raise' or 'skip', got '{other}'")),
    }
}

#[pyclass(name = "GanCore", module = "rustgan._rustgan")]
pub struct PyGan {
    // The lock makes the class shareable between threads; calls on one GAN run in turn.
    inner: Mutex<Gan>,
}

impl PyGan {
    fn new_locked(gan: Gan) -> Self {
        PyGan { inner: Mutex::new(gan) }
    }

    pub(super) fn gan(&self) -> MutexGuard<'_, Gan> {
        // A panic mid-call is reported as an error; the GAN stays usable for inspection.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[pymethods]
impl PyGan {
    #[new]
    fn new(py: Python<'_>, config_json: &str, device: &str) -> PyResult<Self> {
        let gan = without_gil(py, || Gan::new(GanConfig::from_json(config_json)?, parse_device(device)?))?;
        Ok(PyGan::new_locked(gan))
    }

    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf, device: &str) -> PyResult<Self> {
        let gan = without_gil(py, || checkpoint::load(&path, parse_device(device)?))?;
        Ok(PyGan::new_locked(gan))
    }

    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        without_gil(py, || checkpoint::save(&self.gan(), &path))
    }

    #[pyo3(signature = (data, labels, on_nan))]
    fn step(&self, py: Python<'_>, data: PyTensor, labels: Option<PyTensor>, on_nan: &str) -> PyResult<Stats> {
        let (data, labels) = (data.0, labels.map(|l| l.0));
        without_gil(py, move || {
            let policy = parse_nan_policy(on_nan)?;
            let mut gan = self.gan();
            let images = gan.check_batch(&data, "batch")?;
            let labels = gan.check_labels(labels.as_ref(), images.size()[0], "labels")?;
            gan.train_step(&[Batch { images, labels }], policy)
        })
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
    ) -> PyResult<(Vec<Stats>, bool)> {
        let (data, labels) = (data.0, labels.map(|l| l.0));
        let mut python_error: Option<PyErr> = None;
        let error_slot = &mut python_error;
        let outcome = without_gil(py, move || {
            let options = FitOptions { steps, batch_size, log_every, on_nan: parse_nan_policy(on_nan)? };
            let mut last_call = Instant::now();
            self.gan().fit(&data, labels.as_ref(), &options, |done, record| {
                if record.is_none() && last_call.elapsed() < MONITOR_INTERVAL {
                    return Ok(());
                }
                last_call = Instant::now();
                Python::with_gil(|py| {
                    let result = py.check_signals().and_then(|_| callback.call1(py, (done, record.cloned())));
                    result.map(|_| ()).map_err(|e| {
                        *error_slot = Some(e);
                        Error::Interrupted
                    })
                })
            })
        });
        match (outcome, python_error) {
            (Ok(outcome), None) => Ok((outcome.history, outcome.interrupted)),
            (Ok(outcome), Some(e)) if Python::with_gil(|py| e.is_instance_of::<PyKeyboardInterrupt>(py)) => {
                Ok((outcome.history, true))
            }
            (Ok(_), Some(e)) => Err(e),
            (Err(e), _) => Err(e),
        }
    }

    #[pyo3(signature = (n, seed=None))]
    fn latent(&self, py: Python<'_>, n: i64, seed: Option<u64>) -> PyResult<PyTensor> {
        without_gil(py, || self.gan().latent(n, seed)).map(PyTensor)
    }

    #[pyo3(signature = (z, labels, ema))]
    fn generate(&self, py: Python<'_>, z: PyTensor, labels: Option<PyTensor>, ema: bool) -> PyResult<PyTensor> {
        let (z, labels) = (z.0, labels.map(|l| l.0));
        without_gil(py, move || self.gan().generate(&z, labels.as_ref(), ema)).map(PyTensor)
    }

    #[pyo3(signature = (n, seed=None, labels=None, ema=true))]
    fn sample(&self, py: Python<'_>, n: i64, seed: Option<u64>, labels: Option<PyTensor>, ema: bool) -> PyResult<PyTensor> {
        let labels = labels.map(|l| l.0);
        without_gil(py, move || self.gan().sample(n, seed, labels.as_ref(), ema)).map(PyTensor)
    }

    fn state_dict(&self, py: Python<'_>, network: String) -> PyResult<Vec<(String, PyTensor)>> {
        let named = without_gil(py, move || self.gan().state_dict(&network))?;
        Ok(named.into_iter().map(|(name, t)| (name, PyTensor(t))).collect())
    }

    fn load_state_dict(&self, py: Python<'_>, network: String, tensors: Vec<(String, PyTensor)>) -> PyResult<()> {
        let tensors: Vec<(String, tch::Tensor)> = tensors.into_iter().map(|(name, t)| (name, t.0)).collect();
        without_gil(py, move || self.gan().load_state_dict(&network, tensors))
    }

    /// Trains as replica `rank` of `world_size`; `sync(flat_gradient)` must average the
    /// tensor across the processes in place.
    fn set_replica(&self, rank: i64, world_size: i64, sync: PyObject) -> PyResult<()> {
        let sync: GradientSync = Box::new(move |gradient: &tch::Tensor| {
            Python::with_gil(|py| {
                sync.call1(py, (PyTensor(gradient.shallow_clone()),)).map(|_| ()).map_err(|e| {
                    Error::Distributed(format!("averaging gradients across processes failed: {e}"))
                })
            })
        });
        self.gan().replica = Some(Replica::new(rank, world_size, sync).map_err(to_py_err)?);
        Ok(())
    }

    fn clear_replica(&self) {
        self.gan().replica = None;
    }

    #[getter]
    fn config_json(&self) -> String {
        self.gan().config.to_json()
    }

    #[getter]
    fn steps_done(&self) -> i64 {
        self.gan().step
    }

    #[getter]
    fn device(&self) -> String {
        match self.gan().device {
            tch::Device::Cuda(i) => format!("cuda:{i}"),
            _ => "cpu".into(),
        }
    }

    #[getter]
    fn has_ema(&self) -> bool {
        self.gan().ema.is_some()
    }
}
