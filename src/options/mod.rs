//! Option values from Python into a checked config, and the recipes. The options
//! themselves (names, defaults, ranges, choices, docs) are the option table of
//! `config.rs`; the Python layer reads it through the native module and passes values
//! through unchecked, so the constructor, the command line and the docs cannot drift
//! apart, and one fault raises one exception class.

mod recipe;

pub use recipe::{recipe, recipe_for, FIT_SETTINGS};

use serde_json::{Map, Value as Json};
use tch::Device;

use crate::config::GanConfig;
use crate::error::{invalid, Error, Result};

/// An option value as the caller gave it, before it is checked.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    /// Any other type, by name.
    Other(String),
}

impl Value {
    fn type_name(&self) -> &str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Other(name) => name,
        }
    }
}

pub use crate::config::SPECS;
pub use crate::option_table::{Bounds, Kind, OptionSpec};

/// The default of every option, as JSON.
pub fn defaults() -> Map<String, Json> {
    as_json(&GanConfig::default())
}

/// A config's options as JSON, by name.
pub fn as_json(config: &impl serde::Serialize) -> Map<String, Json> {
    match serde_json::to_value(config) {
        Ok(Json::Object(map)) => map,
        _ => unreachable!("a config serialises to an object"),
    }
}

fn type_error<T>(name: &str, expected: &str, value: &Value) -> Result<T> {
    Err(Error::ArgumentType(format!("{name} must be {expected}, got {}", value.type_name())))
}

fn number(name: &str, value: &Value) -> Result<f64> {
    let number = match value {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        other => return type_error(name, "a number", other),
    };
    if !number.is_finite() {
        return invalid(format!("{name} must be finite, got {number}"));
    }
    Ok(number)
}

fn integer(name: &str, value: &Value, min: i128, max: i128) -> Result<Json> {
    let Value::Int(i) = value else {
        return type_error(name, "an int", value);
    };
    if *i < min {
        return invalid(format!("{name} must be at least {min}, got {i}"));
    }
    if *i > max {
        return invalid(format!("{name} = {i} is too large (at most {max})"));
    }
    Ok(if *i > i64::MAX as i128 { Json::from(*i as u64) } else { Json::from(*i as i64) })
}

/// A name; `check_ranges` checks that it is one of the option's choices.
fn name(option: &str, value: &Value) -> Result<Json> {
    let Value::Str(text) = value else {
        return type_error(option, "a string", value);
    };
    Ok(Json::from(text.as_str()))
}

/// Converts `value` to the config's JSON form, checking its type and, for a choice, its
/// name; `option_table::check_ranges` checks its range.
fn convert(spec: &OptionSpec, value: &Value) -> Result<Json> {
    let name = spec.name;
    match spec.kind {
        // Ranges as `check_ranges` words them: a value beyond i64 never reaches it.
        Kind::Int { min, max } => integer(name, value, min as i128, max as i128),
        Kind::Seed => integer(name, value, 0, u64::MAX as i128),
        Kind::Float(_) => number(name, value).map(Json::from),
        Kind::OptionalFloat(_) if *value == Value::None => Ok(Json::Null),
        Kind::OptionalFloat(_) => number(name, value).map(Json::from),
        Kind::Bool => match value {
            Value::Bool(b) => Ok(Json::from(*b)),
            other => type_error(name, "True or False", other),
        },
        Kind::Pair(_) => match value {
            Value::List(items) if items.len() == 2 => Ok(Json::Array(
                items.iter().map(|v| number(name, v).map(Json::from)).collect::<Result<_>>()?,
            )),
            other => type_error(name, "a pair of numbers", other),
        },
        Kind::Choice(_) => self::name(name, value),
        Kind::Choices(_) => {
            let items: Vec<Value> = match value {
                Value::Str(text) => text
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::Str(s.into()))
                    .collect(),
                Value::List(items) => items.clone(),
                other => {
                    return type_error(name, "a list of names or a comma-separated string", other)
                }
            };
            let entry = format!("{name} entry");
            Ok(Json::Array(items.iter().map(|v| self::name(&entry, v)).collect::<Result<_>>()?))
        }
        Kind::Shape { max } => {
            let items = match value {
                Value::Int(_) => vec![value.clone()],
                Value::List(items) if !items.is_empty() => items.clone(),
                other => return type_error(name, "a non-empty tuple of ints", other),
            };
            let entry = format!("{name} entry");
            Ok(Json::Array(
                items.iter().map(|v| integer(&entry, v, 1, max as i128)).collect::<Result<_>>()?,
            ))
        }
    }
}

/// A model's config built from its option table: new from named values, saved and read
/// back as JSON, checked by `validate` every way it is made.
pub trait TableConfig: serde::Serialize + serde::de::DeserializeOwned + Default {
    /// The options, as the config's `option_table!` defines them.
    const SPECS: &'static [OptionSpec];
    /// What error messages call it: "translator config".
    const NAME: &'static str;

    fn validate(&self) -> Result<()>;

    fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a config always serialises")
    }

    /// The default of every option, as JSON.
    fn defaults() -> Map<String, Json> {
        as_json(&Self::default())
    }

    /// A checked config from named option values; options not given keep their defaults.
    fn from_values(values: &[(String, Value)]) -> Result<Self> {
        Self::from_json_value(apply_values(Self::SPECS, Self::defaults(), values)?)
    }

    /// A config saved as JSON (in a checkpoint), checked like a new one.
    fn from_json(json: &str) -> Result<Self> {
        let value = serde_json::from_str(json)
            .map_err(|e| Error::InvalidArgument(format!("{}: {e}", Self::NAME)))?;
        Self::from_json_value(value)
    }

    fn from_json_value(value: Json) -> Result<Self> {
        let config: Self = serde_json::from_value(value)
            .map_err(|e| Error::InvalidArgument(format!("{}: {e}", Self::NAME)))?;
        config.validate()?;
        Ok(config)
    }
}

/// The option values `json` with the named `values`, checked against `specs`, in place of theirs.
pub fn apply_values(
    specs: &[OptionSpec],
    mut json: Map<String, Json>,
    values: &[(String, Value)],
) -> Result<Json> {
    for (name, value) in values {
        let Some(spec) = specs.iter().find(|spec| spec.name == name) else {
            return Err(Error::ArgumentType(format!("unknown option '{name}'")));
        };
        json.insert(name.clone(), convert(spec, value)?);
    }
    Ok(Json::Object(json))
}

pub fn parse_device(name: &str) -> Result<Device> {
    let index = match name {
        "auto" => return Ok(Device::cuda_if_available()),
        "cpu" => return Ok(Device::Cpu),
        "cuda" => Some(0),
        other => other.strip_prefix("cuda:").and_then(|i| i.parse::<usize>().ok()),
    };
    match index {
        None => invalid(format!("unknown device '{name}': use 'auto', 'cpu', 'cuda' or 'cuda:N'")),
        Some(_) if !tch::Cuda::is_available() => {
            invalid(format!("device='{name}' but no CUDA device is available"))
        }
        Some(i) if (i as i64) < tch::Cuda::device_count() => Ok(Device::Cuda(i)),
        Some(_) => invalid(format!(
            "device='{name}' but there are only {} CUDA devices",
            tch::Cuda::device_count()
        )),
    }
}
