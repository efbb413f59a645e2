//! `CycleGanCore`: the native half of `rustgan.CycleGAN`.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_tch::PyTensor;

use super::errors::without_gil;
use super::model::{native_model_methods, Shared};
use super::options::{describe, values};
use crate::cycle::{CycleConfig, CycleGan, Direction, SPECS};
use crate::options::parse_device;
use crate::options::TableConfig;
use crate::train::Trainer;

#[pyclass(name = "CycleGanCore", module = "rustgan._rustgan")]
pub struct PyCycleGan {
    core: Shared<CycleGan>,
}

native_model_methods!(PyCycleGan);

#[pymethods]
impl PyCycleGan {
    /// `options`: the keyword arguments of `rustgan.CycleGAN`, checked here.
    #[new]
    fn new(py: Python<'_>, options: &Bound<'_, PyDict>, device: &str) -> PyResult<Self> {
        let values = values(options)?;
        let (model, rng) = without_gil(py, || {
            let config = CycleConfig::from_values(&values)?;
            CycleGan::with_training_stream(config, parse_device(device)?)
        })?;
        Ok(PyCycleGan { core: Shared::new(Trainer::new(model, rng)) })
    }

    /// Images of the other domain into domain `to` ("a" or "b").
    fn translate(
        &self,
        py: Python<'_>,
        images: PyTensor,
        to: &str,
        ema: bool,
    ) -> PyResult<PyTensor> {
        let images = images.0;
        without_gil(py, move || {
            let direction = Direction::to_domain(to)?;
            self.core.trainer().model().translate(&images, direction, ema)
        })
        .map(PyTensor)
    }
}

/// Every option of `rustgan.CycleGAN`, in signature order: (name, default, choices, doc).
#[pyfunction]
pub fn cycle_options(py: Python<'_>) -> PyResult<Vec<super::options::OptionDescription>> {
    describe(py, SPECS, &CycleConfig::defaults())
}
