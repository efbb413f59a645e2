//! What training hands back to Python: step statistics and log records as dicts, and the
//! `fit` loop's progress callback, which also carries Ctrl-C.

use std::time::{Duration, Instant};

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use pyo3_tch::PyTensor;

use super::errors::without_gil;
use crate::error::{Error, Result};
use crate::replica::GradientSync;
use crate::train::stats::{Record, StepStats};
use crate::train::FitOutcome;

/// How often a long call hands control back to Python (progress bar, Ctrl-C).
const MONITOR_INTERVAL: Duration = Duration::from_millis(100);

pub fn stats_dict<'py>(py: Python<'py>, stats: &StepStats) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in stats.entries() {
        dict.set_item(name, value)?;
    }
    Ok(dict)
}

pub fn record_dict<'py>(py: Python<'py>, record: &Record) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("step", record.step)?;
    for (name, value) in &record.means {
        dict.set_item(name, value)?;
    }
    Ok(dict)
}

/// A monitor of a training loop: `(steps_done, record)` after every step.
pub type Monitor<'a> = &'a mut dyn FnMut(i64, Option<&Record>) -> Result<()>;

/// Runs the training loop `train` with the GIL released, calling
/// `callback(steps_done, record_or_None)` at most every 100 ms and on every log record.
/// Ctrl-C or a KeyboardInterrupt raised by the callback stops training with the history
/// so far. Returns (history, interrupted).
pub fn run_fit(
    py: Python<'_>,
    callback: PyObject,
    train: impl FnOnce(Monitor) -> Result<FitOutcome> + Send,
) -> PyResult<(Vec<PyObject>, bool)> {
    let mut python_error: Option<PyErr> = None;
    let error_slot = &mut python_error;
    let outcome = without_gil(py, move || {
        let mut last_call = Instant::now();
        let mut monitor = |done: i64, record: Option<&Record>| {
            if record.is_none() && last_call.elapsed() < MONITOR_INTERVAL {
                return Ok(());
            }
            last_call = Instant::now();
            Python::with_gil(|py| {
                let result = py.check_signals().and_then(|_| {
                    let record = record.map(|r| record_dict(py, r)).transpose()?;
                    callback.call1(py, (done, record))
                });
                result.map(|_| ()).map_err(|e| {
                    *error_slot = Some(e);
                    Error::Interrupted
                })
            })
        };
        train(&mut monitor)
    });
    let history = |records: &[Record]| -> PyResult<Vec<PyObject>> {
        records.iter().map(|r| Ok(record_dict(py, r)?.into_any().unbind())).collect()
    };
    match (outcome, python_error) {
        (Ok(outcome), None) => Ok((history(&outcome.history)?, outcome.interrupted)),
        (Ok(outcome), Some(e)) if e.is_instance_of::<PyKeyboardInterrupt>(py) => {
            Ok((history(&outcome.history)?, true))
        }
        (Ok(_), Some(e)) => Err(e),
        (Err(e), _) => Err(e),
    }
}

/// A replica's gradient averaging through the Python callable `sync(flat_gradient)`,
/// which must average the tensor across the processes in place.
pub fn gradient_sync(sync: PyObject) -> GradientSync {
    Box::new(move |gradient: &tch::Tensor| {
        Python::with_gil(|py| {
            sync.call1(py, (PyTensor(gradient.shallow_clone()),)).map(|_| ()).map_err(|e| {
                Error::Distributed(format!("averaging gradients across processes failed: {e}"))
            })
        })
    })
}
