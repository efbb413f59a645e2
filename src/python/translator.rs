//! `TranslatorCore`: the native half of `rustgan.Translator`.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_tch::PyTensor;

use super::errors::without_gil;
use super::model::{native_model_methods, Shared};
use super::options::{describe, values};
use crate::options::parse_device;
use crate::options::TableConfig;
use crate::train::Trainer;
use crate::translate::{Translator, TranslatorConfig, SPECS};

#[pyclass(name = "TranslatorCore", module = "rustgan._rustgan")]
pub struct PyTranslator {
    core: Shared<Translator>,
}

native_model_methods!(PyTranslator);

#[pymethods]
impl PyTranslator {
    /// `options`: the keyword arguments of `rustgan.Translator`, checked here.
    #[new]
    fn new(py: Python<'_>, options: &Bound<'_, PyDict>, device: &str) -> PyResult<Self> {
        let values = values(options)?;
        let (translator, rng) = without_gil(py, || {
            let config = TranslatorConfig::from_values(&values)?;
            Translator::with_training_stream(config, parse_device(device)?)
        })?;
        Ok(PyTranslator { core: Shared::new(Trainer::new(translator, rng)) })
    }

    fn translate(&self, py: Python<'_>, inputs: PyTensor, ema: bool) -> PyResult<PyTensor> {
        let inputs = inputs.0;
        without_gil(py, move || self.core.trainer().model().translate(&inputs, ema)).map(PyTensor)
    }
}

/// Every option of `rustgan.Translator`, in signature order: (name, default, choices, doc).
#[pyfunction]
pub fn translator_options(py: Python<'_>) -> PyResult<Vec<super::options::OptionDescription>> {
    describe(py, SPECS, &TranslatorConfig::defaults())
}
