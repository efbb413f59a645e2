//! Maps crate errors to the exception classes of `rustgan.errors`, and panics to errors.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::error::{Error, Result};

fn exception_class(error: &Error) -> &'static str {
    match error {
        Error::InvalidArgument(_) => "InvalidArgumentError",
        Error::NonFinite { .. } => "NonFiniteLossError",
        Error::Checkpoint { .. } | Error::Io(_) => "CheckpointError",
        Error::Distributed(_) => "DistributedError",
        Error::Torch(_) | Error::Internal(_) | Error::Interrupted => "RustganError",
    }
}

pub fn to_py_err(error: Error) -> PyErr {
    if let Error::Interrupted = error {
        return PyKeyboardInterrupt::new_err("interrupted");
    }
    Python::with_gil(|py| {
        let class = py
            .import("rustgan.errors")
            .and_then(|module| module.getattr(exception_class(&error)))
            .and_then(|class| class.downcast_into::<PyType>().map_err(PyErr::from));
        match class {
            Ok(class) => PyErr::from_type(class, error.to_string()),
            Err(_) => PyRuntimeError::new_err(error.to_string()),
        }
    })
}

/// Runs `work`, turning a panic into `Error::Internal` so it never unwinds into Python.
pub fn guarded<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into());
        Err(Error::Internal(message))
    })
}

/// `guarded` with the GIL released, and the error as a Python exception.
pub fn without_gil<T: Send>(py: Python<'_>, work: impl FnOnce() -> Result<T> + Send) -> PyResult<T> {
    py.allow_threads(|| guarded(work)).map_err(to_py_err)
}
