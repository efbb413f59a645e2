//! rustgan's exception classes, created here and re-exported by `rustgan.errors`; crate
//! errors map onto them, and panics become errors.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::{
    PyException, PyFloatingPointError, PyKeyboardInterrupt, PyOSError, PyRuntimeError,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyDict, PyTuple, PyType};

use crate::error::{Error, Result};

/// The classes, each also derived from the built-in exception that fits, so that
/// `except ValueError` keeps working.
#[derive(Clone, Copy)]
enum Class {
    Base,
    InvalidArgument,
    ArgumentType,
    Data,
    NonFiniteLoss,
    Checkpoint,
    Distributed,
}

impl Class {
    const ALL: [Class; 7] = [
        Class::Base,
        Class::InvalidArgument,
        Class::ArgumentType,
        Class::Data,
        Class::NonFiniteLoss,
        Class::Checkpoint,
        Class::Distributed,
    ];

    fn name(self) -> &'static str {
        match self {
            Class::Base => "RustganError",
            Class::InvalidArgument => "InvalidArgumentError",
            Class::ArgumentType => "ArgumentTypeError",
            Class::Data => "DataError",
            Class::NonFiniteLoss => "NonFiniteLossError",
            Class::Checkpoint => "CheckpointError",
            Class::Distributed => "DistributedError",
        }
    }

    fn doc(self) -> &'static str {
        match self {
            Class::Base => "Base class of rustgan's exceptions (also raised for internal errors).",
            Class::InvalidArgument => "An argument has the wrong shape, value or option name.",
            Class::ArgumentType => "An argument has the wrong type.",
            Class::Data => {
                "Training or evaluation data is empty, non-numeric, non-finite or unreadable."
            }
            Class::NonFiniteLoss => {
                "A loss became NaN or infinite during training; the message names the step."
            }
            Class::Checkpoint => "A checkpoint is missing, corrupt, or does not match the model.",
            Class::Distributed => {
                "Data-parallel training failed: another process died, timed out or disagrees."
            }
        }
    }

    fn builtin(self, py: Python<'_>) -> Bound<'_, PyType> {
        match self {
            Class::Base => py.get_type::<PyException>(),
            Class::InvalidArgument | Class::Data => py.get_type::<PyValueError>(),
            Class::ArgumentType => py.get_type::<PyTypeError>(),
            Class::NonFiniteLoss => py.get_type::<PyFloatingPointError>(),
            Class::Checkpoint => py.get_type::<PyOSError>(),
            Class::Distributed => py.get_type::<PyRuntimeError>(),
        }
    }

    fn of(error: &Error) -> Class {
        match error {
            Error::InvalidArgument(_) => Class::InvalidArgument,
            Error::ArgumentType(_) => Class::ArgumentType,
            Error::NonFinite { .. } => Class::NonFiniteLoss,
            Error::Checkpoint { .. } | Error::Io(_) => Class::Checkpoint,
            Error::Distributed(_) => Class::Distributed,
            Error::Torch(_) | Error::Internal(_) | Error::Interrupted => Class::Base,
        }
    }
}

static CLASSES: GILOnceCell<Vec<Py<PyType>>> = GILOnceCell::new();

fn create_classes(py: Python<'_>) -> PyResult<Vec<Py<PyType>>> {
    let mut classes: Vec<Py<PyType>> = vec![];
    for class in Class::ALL {
        let builtin = class.builtin(py);
        let bases = match classes.first() {
            Some(base) => PyTuple::new(py, [base.bind(py).clone(), builtin])?,
            None => PyTuple::new(py, [builtin])?,
        };
        let namespace = PyDict::new(py);
        namespace.set_item("__module__", "rustgan.errors")?;
        namespace.set_item("__doc__", class.doc())?;
        let created = py.get_type::<PyType>().call1((class.name(), bases, namespace))?;
        classes.push(created.downcast_into::<PyType>()?.unbind());
    }
    Ok(classes)
}

/// Adds the exception classes to the native module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    for (class, created) in
        Class::ALL.iter().zip(CLASSES.get_or_try_init(py, || create_classes(py))?)
    {
        module.add(class.name(), created.bind(py))?;
    }
    Ok(())
}

pub fn to_py_err(error: Error) -> PyErr {
    if let Error::Interrupted = error {
        return PyKeyboardInterrupt::new_err("interrupted");
    }
    Python::with_gil(|py| match CLASSES.get(py) {
        Some(classes) => PyErr::from_type(
            classes[Class::of(&error) as usize].bind(py).clone(),
            error.to_string(),
        ),
        None => PyRuntimeError::new_err(error.to_string()), // the module registers them first
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
pub fn without_gil<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T> + Send,
) -> PyResult<T> {
    py.allow_threads(|| guarded(work)).map_err(to_py_err)
}
