//! The GAN options between Python and `crate::options`: Python values in, specs and
//! defaults out.

use std::ops::Bound as RangeEnd;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Value as Json};

use crate::options::{self, Kind, OptionSpec, Value};

/// A Python object as an unchecked option value.
pub fn to_value(object: &Bound<'_, PyAny>) -> Value {
    if object.is_none() {
        return Value::None;
    }
    if let Ok(flag) = object.downcast::<PyBool>() {
        return Value::Bool(flag.is_true());
    }
    if object.is_instance_of::<PyInt>() {
        return match object.extract::<i128>() {
            Ok(i) => Value::Int(i),
            // Beyond 128 bits: only its sign matters for the range check.
            Err(_) => Value::Int(if object.gt(0).unwrap_or(false) { i128::MAX } else { i128::MIN }),
        };
    }
    if let Ok(number) = object.downcast::<PyFloat>() {
        return Value::Float(number.value());
    }
    if let Ok(text) = object.downcast::<PyString>() {
        return Value::Str(text.to_string_lossy().into_owned());
    }
    // Numbers of other types (numpy's, say): integers convert through `__index__`, real
    // numbers through `__float__`.
    if let Ok(index) = object.call_method0("__index__") {
        return to_value(&index);
    }
    if object.hasattr("__float__").unwrap_or(false) {
        if let Ok(number) = object.extract::<f64>() {
            return Value::Float(number);
        }
    }
    if let Ok(items) = object.downcast::<PyTuple>() {
        return Value::List(items.iter().map(|item| to_value(&item)).collect());
    }
    if let Ok(items) = object.downcast::<PyList>() {
        return Value::List(items.iter().map(|item| to_value(&item)).collect());
    }
    Value::Other(
        object.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into()),
    )
}

/// The options passed as a dict, by name.
pub fn values(options: &Bound<'_, PyDict>) -> PyResult<Vec<(String, Value)>> {
    options.iter().map(|(name, value)| Ok((name.extract::<String>()?, to_value(&value)))).collect()
}

fn to_python(py: Python<'_>, json: &Json) -> PyResult<PyObject> {
    Ok(match json {
        Json::Null => py.None(),
        Json::Bool(b) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any().unbind(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any().unbind(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any().unbind(),
        },
        Json::String(s) => s.into_pyobject(py)?.into_any().unbind(),
        Json::Array(items) => {
            let converted =
                items.iter().map(|item| to_python(py, item)).collect::<PyResult<Vec<_>>>()?;
            PyTuple::new(py, converted)?.into_any().unbind()
        }
        Json::Object(_) => unreachable!("no option holds an object"),
    })
}

/// The recommended settings for a kind of data, and a data set of `items` items of `size`
/// pixels (see `options::recipe_for`), by name.
#[pyfunction]
#[pyo3(signature = (kind, items=None, size=None))]
pub fn recipe(
    py: Python<'_>,
    kind: &str,
    items: Option<i64>,
    size: Option<i64>,
) -> PyResult<Vec<(&'static str, PyObject)>> {
    let settings = options::recipe_for(kind, items, size).map_err(super::errors::to_py_err)?;
    settings.iter().map(|(name, value)| Ok((*name, to_python(py, value)?))).collect()
}

/// An option's range: (low, high, low included, high included), infinite where open.
pub type Range = (f64, f64, bool, bool);

/// (name, default, choices or None, doc, kind, range or None)
pub type OptionDescription =
    (&'static str, PyObject, Option<Vec<&'static str>>, &'static str, &'static str, Option<Range>);

fn range(kind: &Kind) -> Option<Range> {
    let end = |bound: RangeEnd<f64>, infinity: f64| match bound {
        RangeEnd::Included(x) => (x, true),
        RangeEnd::Excluded(x) => (x, false),
        RangeEnd::Unbounded => (infinity, false),
    };
    match kind {
        Kind::Int { min, max } => Some((*min as f64, *max as f64, true, true)),
        Kind::Shape { max } => Some((1.0, *max as f64, true, true)),
        Kind::Float(bounds) | Kind::OptionalFloat(bounds) | Kind::Pair(bounds) => {
            let (low, low_included) = end(bounds.low, f64::NEG_INFINITY);
            let (high, high_included) = end(bounds.high, f64::INFINITY);
            Some((low, high, low_included, high_included))
        }
        Kind::Seed => Some((0.0, u64::MAX as f64, true, true)),
        Kind::Bool | Kind::Choice(_) | Kind::Choices(_) => None,
    }
}

/// The options `specs` with their `defaults`, in order.
pub fn describe(
    py: Python<'_>,
    specs: &[OptionSpec],
    defaults: &Map<String, Json>,
) -> PyResult<Vec<OptionDescription>> {
    specs
        .iter()
        .map(|spec| {
            let choices = match spec.kind {
                Kind::Choice(names) | Kind::Choices(names) => Some(names.to_vec()),
                _ => None,
            };
            let default = to_python(py, &defaults[spec.name])?;
            Ok((spec.name, default, choices, spec.doc, spec.kind.name(), range(&spec.kind)))
        })
        .collect()
}

/// Every option of `rustgan.GAN`, in signature order.
#[pyfunction]
pub fn gan_options(py: Python<'_>) -> PyResult<Vec<OptionDescription>> {
    describe(py, options::SPECS, &options::defaults())
}
