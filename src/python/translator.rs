//! `TranslatorCore`: the native half of `rustgan.Translator`.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_tch::PyTensor;

use super::errors::{to_py_err, without_gil};
use super::options::{describe, values};
use super::training::{gradient_sync, record_dict, run_fit, stats_dict};
use crate::options::parse_device;
use crate::replica::Replica;
use crate::train::{FitOptions, NanPolicy};
use crate::translate::{checkpoint, trainer::TranslatorTrainer, TranslatorConfig, SPECS};

#[pyclass(name = "TranslatorCore", module = "rustgan._rustgan")]
pub struct PyTranslator {
    inner: Mutex<TranslatorTrainer>,
}

impl PyTranslator {
    fn trainer(&self) -> MutexGuard<'_, TranslatorTrainer> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[pymethods]
impl PyTranslator {
    /// `options`: the keyword arguments of `rustgan.Translator`, checked here.
    #[new]
    fn new(py: Python<'_>, options: &Bound<'_, PyDict>, device: &str) -> PyResult<Self> {
        let values = values(options)?;
        let trainer = without_gil(py, || {
            TranslatorTrainer::new(TranslatorConfig::from_values(&values)?, parse_device(device)?)
        })?;
        Ok(PyTranslator { inner: Mutex::new(trainer) })
    }

    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf, device: &str) -> PyResult<Self> {
        let trainer = without_gil(py, || checkpoint::load(&path, parse_device(device)?))?;
        Ok(PyTranslator { inner: Mutex::new(trainer) })
    }

    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        without_gil(py, || checkpoint::save(&self.trainer(), &path))
    }

    fn step<'py>(
        &self,
        py: Python<'py>,
        inputs: PyTensor,
        targets: PyTensor,
        on_nan: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (inputs, targets) = (inputs.0, targets.0);
        let stats = without_gil(py, move || {
            let policy = NanPolicy::parse(on_nan)?;
            let mut trainer = self.trainer();
            let (inputs, targets) = trainer.model.check_pairs(&inputs, &targets)?;
            trainer.train_step(&inputs, &targets, policy)
        })?;
        stats_dict(py, &stats)
    }

    /// Trains in Rust; `callback(steps_done, record_or_None)` as for `GanCore.fit`.
    #[allow(clippy::too_many_arguments)]
    fn fit(
        &self,
        py: Python<'_>,
        inputs: PyTensor,
        targets: PyTensor,
        steps: i64,
        batch_size: i64,
        log_every: i64,
        on_nan: &str,
        callback: PyObject,
    ) -> PyResult<(Vec<PyObject>, bool)> {
        let (inputs, targets) = (inputs.0, targets.0);
        run_fit(py, callback, move |monitor| {
            let options =
                FitOptions { steps, batch_size, log_every, on_nan: NanPolicy::parse(on_nan)? };
            self.trainer().fit(&inputs, &targets, &options, monitor)
        })
    }

    fn flush_log<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let record = self.trainer().flush_log();
        record.map(|r| record_dict(py, &r)).transpose()
    }

    fn translate(&self, py: Python<'_>, inputs: PyTensor, ema: bool) -> PyResult<PyTensor> {
        let inputs = inputs.0;
        without_gil(py, move || self.trainer().model.translate(&inputs, ema)).map(PyTensor)
    }

    fn state_dict(&self, py: Python<'_>, network: String) -> PyResult<Vec<(String, PyTensor)>> {
        let named = without_gil(py, move || self.trainer().model.state_dict(&network))?;
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
        without_gil(py, move || self.trainer().model.load_state_dict(&network, tensors))
    }

    /// Trains as replica `rank` of `world_size`, as `GanCore.set_replica`.
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
        self.trainer().model.config.to_json()
    }

    #[getter]
    fn steps_done(&self) -> i64 {
        self.trainer().step
    }

    #[getter]
    fn device(&self) -> String {
        super::device_name(self.trainer().model.device)
    }

    #[getter]
    fn has_ema(&self) -> bool {
        self.trainer().model.ema.is_some()
    }
}

/// Every option of `rustgan.Translator`, in signature order: (name, default, choices, doc).
#[pyfunction]
pub fn translator_options(py: Python<'_>) -> PyResult<Vec<super::options::OptionDescription>> {
    describe(py, SPECS, &TranslatorConfig::defaults())
}
