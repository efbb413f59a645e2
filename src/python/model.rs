//! What every native model class has, whatever it trains: a trainer behind a lock and
//! the methods `native_model_methods!` gives each class (checkpoints, the training step
//! and `fit`, state dicts, replicas, description).

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_tch::PyTensor;

use super::errors::{to_py_err, without_gil};
use super::training::{gradient_sync, record_dict, run_fit, stats_dict};
use crate::checkpoint::{self, Stored};
use crate::options::parse_device;
use crate::replica::Replica;
use crate::train::{FitOptions, NanPolicy, Trainer};

/// A model's trainer; calls on one model run in turn.
pub struct Shared<M: Stored> {
    inner: Mutex<Trainer<M>>,
}

impl<M: Stored> Shared<M> {
    pub fn new(trainer: Trainer<M>) -> Self {
        Shared { inner: Mutex::new(trainer) }
    }

    pub fn trainer(&self) -> MutexGuard<'_, Trainer<M>> {
        // A panic mid-call is reported as an error; the model stays usable for inspection.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn load(py: Python<'_>, path: PathBuf, device: &str) -> PyResult<Self> {
        without_gil(py, || checkpoint::load(&path, parse_device(device)?)).map(Shared::new)
    }

    pub fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        without_gil(py, || checkpoint::save(&self.trainer(), &path))
    }

    pub fn save_release(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        without_gil(py, || checkpoint::save_release(self.trainer().model(), &path))
    }

    pub fn step<'py>(
        &self,
        py: Python<'py>,
        items: PyTensor,
        other: Option<PyTensor>,
        on_nan: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (items, other) = (items.0, other.map(|t| t.0));
        let stats = without_gil(py, move || {
            let policy = NanPolicy::parse(on_nan)?;
            let mut trainer = self.trainer();
            let batch = trainer.model().step_batch(&items, other.as_ref())?;
            trainer.train_step(&[batch], policy)
        })?;
        stats_dict(py, &stats)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        &self,
        py: Python<'_>,
        items: PyTensor,
        other: Option<PyTensor>,
        steps: i64,
        batch_size: i64,
        log_every: i64,
        on_nan: &str,
        callback: PyObject,
    ) -> PyResult<(Vec<PyObject>, bool)> {
        let (items, other) = (items.0, other.map(|t| t.0));
        run_fit(py, callback, move |monitor| {
            let options =
                FitOptions { steps, batch_size, log_every, on_nan: NanPolicy::parse(on_nan)? };
            self.trainer().fit(&items, other.as_ref(), &options, monitor)
        })
    }

    pub fn flush_log<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let record = self.trainer().flush_log();
        record.map(|r| record_dict(py, &r)).transpose()
    }

    pub fn state_dict(&self, py: Python<'_>, network: String) -> PyResult<Vec<(String, PyTensor)>> {
        let named = without_gil(py, move || self.trainer().model().state_dict(&network))?;
        Ok(named.into_iter().map(|(name, t)| (name, PyTensor(t))).collect())
    }

    pub fn load_state_dict(
        &self,
        py: Python<'_>,
        network: String,
        tensors: Vec<(String, PyTensor)>,
    ) -> PyResult<()> {
        let tensors: Vec<(String, tch::Tensor)> =
            tensors.into_iter().map(|(name, t)| (name, t.0)).collect();
        without_gil(py, move || self.trainer().model_mut().load_state_dict(&network, tensors))
    }

    pub fn set_replica(&self, rank: i64, world_size: i64, sync: PyObject) -> PyResult<()> {
        let replica = Replica::new(rank, world_size, gradient_sync(sync)).map_err(to_py_err)?;
        self.trainer().set_replica(Some(replica));
        Ok(())
    }

    pub fn clear_replica(&self) {
        self.trainer().set_replica(None);
    }

    pub fn config_json(&self) -> String {
        self.trainer().model().config_json()
    }

    pub fn steps_done(&self) -> i64 {
        self.trainer().step()
    }

    pub fn device(&self) -> String {
        super::device_name(self.trainer().model().device())
    }

    pub fn has_ema(&self) -> bool {
        self.trainer().model().weight_files().iter().any(|(name, _)| name.ends_with("_ema"))
    }
}

/// The Python methods every model class has, for a `#[pyclass]` with a field
/// `core: Shared<_>`. `items` and `other` are what `Trainable::fit_data` reads: a GAN's
/// data and labels, a translator's inputs and targets.
macro_rules! native_model_methods {
    ($class:ty) => {
        #[pymethods]
        impl $class {
            #[staticmethod]
            fn load(py: Python<'_>, path: std::path::PathBuf, device: &str) -> PyResult<Self> {
                Ok(Self { core: $crate::python::model::Shared::load(py, path, device)? })
            }

            fn save(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
                self.core.save(py, path)
            }

            fn save_release(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
                self.core.save_release(py, path)
            }

            #[pyo3(signature = (items, other, on_nan))]
            fn step<'py>(
                &self,
                py: Python<'py>,
                items: pyo3_tch::PyTensor,
                other: Option<pyo3_tch::PyTensor>,
                on_nan: &str,
            ) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
                self.core.step(py, items, other, on_nan)
            }

            /// Trains in Rust; `callback(steps_done, record_or_None)` runs at most every
            /// 100 ms and on every log record. Returns (history, interrupted).
            #[allow(clippy::too_many_arguments)]
            #[pyo3(signature = (items, other, steps, batch_size, log_every, on_nan, callback))]
            fn fit(
                &self,
                py: Python<'_>,
                items: pyo3_tch::PyTensor,
                other: Option<pyo3_tch::PyTensor>,
                steps: i64,
                batch_size: i64,
                log_every: i64,
                on_nan: &str,
                callback: PyObject,
            ) -> PyResult<(Vec<PyObject>, bool)> {
                self.core.fit(py, items, other, steps, batch_size, log_every, on_nan, callback)
            }

            /// The record of the steps since the last one, or None.
            fn flush_log<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<Option<Bound<'py, pyo3::types::PyDict>>> {
                self.core.flush_log(py)
            }

            fn state_dict(
                &self,
                py: Python<'_>,
                network: String,
            ) -> PyResult<Vec<(String, pyo3_tch::PyTensor)>> {
                self.core.state_dict(py, network)
            }

            fn load_state_dict(
                &self,
                py: Python<'_>,
                network: String,
                tensors: Vec<(String, pyo3_tch::PyTensor)>,
            ) -> PyResult<()> {
                self.core.load_state_dict(py, network, tensors)
            }

            /// Trains as replica `rank` of `world_size`; `sync(flat_gradient)` must average
            /// the tensor across the processes in place.
            fn set_replica(&self, rank: i64, world_size: i64, sync: PyObject) -> PyResult<()> {
                self.core.set_replica(rank, world_size, sync)
            }

            fn clear_replica(&self) {
                self.core.clear_replica()
            }

            #[getter]
            fn config_json(&self) -> String {
                self.core.config_json()
            }

            #[getter]
            fn steps_done(&self) -> i64 {
                self.core.steps_done()
            }

            #[getter]
            fn device(&self) -> String {
                self.core.device()
            }

            #[getter]
            fn has_ema(&self) -> bool {
                self.core.has_ema()
            }
        }
    };
}

pub(crate) use native_model_methods;
