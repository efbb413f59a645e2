//! Option values from Python into a checked config, and the recipes. The options
//! themselves (names, defaults, ranges, choices, docs) are the option table of
//! `config.rs`; the Python layer reads it through the native module and passes values
//! through unchecked, so the constructor, the command line and the docs cannot drift
//! apart, and one fault raises one exception class.

mod recipe;
mod validate;

pub use recipe::{recipe, recipe_for, FIT_SETTINGS};
pub use validate::validate;

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

/// A checked config from named option values; options not given keep their defaults.
pub fn config_from_values(values: &[(String, Value)]) -> Result<GanConfig> {
    let json = apply_values(SPECS, defaults(), values)?;
    let config: GanConfig = serde_json::from_value(json)
        .map_err(|e| Error::InvalidArgument(format!("GAN config: {e}")))?;
    validate(&config)?;
    Ok(config)
}

/// A config saved as JSON (in a checkpoint), checked like a new one.
pub fn config_from_json(json: &str) -> Result<GanConfig> {
    let mut saved: Json = serde_json::from_str(json)
        .map_err(|e| Error::InvalidArgument(format!("GAN config: {e}")))?;
    if let Json::Object(fields) = &mut saved {
        // Configs saved before conditional batch norm gave G its class beside z.
        fields.entry("conditional_batch_norm").or_insert(Json::Bool(false));
        // ... and before the cluster code, z's first coordinate picked the cluster.
        fields.entry("cluster_code").or_insert(Json::Bool(false));
    }
    let config: GanConfig = serde_json::from_value(saved)
        .map_err(|e| Error::InvalidArgument(format!("GAN config: {e}")))?;
    validate(&config)?;
    Ok(config)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Arch, Augment, LossKind, Precision};

    fn values(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.clone())).collect()
    }

    #[test]
    fn every_config_field_has_one_spec() {
        let names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
        let mut fields: Vec<String> = defaults().keys().cloned().collect();
        let mut sorted_names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        fields.sort();
        sorted_names.sort();
        assert_eq!(fields, sorted_names);
    }

    #[test]
    fn values_convert_and_faults_have_one_class_each() {
        let config = config_from_values(&values(&[
            ("data_shape", Value::Int(2)),
            ("arch", Value::Str("mlp".into())),
            ("lr_g", Value::Int(1)),
            ("ema", Value::Float(0.99)),
            ("precision", Value::Str("bf16".into())),
        ]))
        .unwrap();
        assert_eq!(
            (config.data_shape.clone(), config.arch, config.lr_g, config.ema),
            (vec![2], Arch::Mlp, 1.0, Some(0.99))
        );
        assert_eq!(config.precision, Precision::Bf16);
        let images =
            config_from_values(&values(&[("augment", Value::Str("translation, cutout".into()))]))
                .unwrap();
        assert_eq!(images.augment, vec![Augment::Translation, Augment::Cutout]);
        let fault = |pairs: &[(&str, Value)]| config_from_values(&values(pairs)).unwrap_err();
        assert!(matches!(fault(&[("latent_dim", Value::Float(3.0))]), Error::ArgumentType(_)));
        assert!(matches!(fault(&[("spectral_norm", Value::Int(1))]), Error::ArgumentType(_)));
        assert!(matches!(fault(&[("loss", Value::Int(1))]), Error::ArgumentType(_)));
        assert!(matches!(fault(&[("latent_dim", Value::Int(0))]), Error::InvalidArgument(_)));
        assert!(matches!(fault(&[("lr_d", Value::Float(f64::NAN))]), Error::InvalidArgument(_)));
        assert!(matches!(fault(&[("loss", Value::Str("l2".into()))]), Error::InvalidArgument(_)));
        assert!(matches!(fault(&[("seed", Value::Int(-1))]), Error::InvalidArgument(_)));
        assert_eq!(
            config_from_values(&values(&[("seed", Value::Int(u64::MAX as i128))])).unwrap().seed,
            u64::MAX
        );
    }

    #[test]
    fn json_round_trip_and_errors() {
        let config = config_from_json(r#"{"loss": "wgan-gp", "ema": 0.99}"#).unwrap();
        assert_eq!(config.loss, LossKind::WganGp);
        assert_eq!(config_from_json(&config.to_json()).unwrap(), config);
        let err = config_from_json(r#"{"arch": "transformer"}"#).unwrap_err().to_string();
        assert!(err.contains("transformer") && err.contains("resnet"), "{err}");
        assert!(config_from_json(r#"{"data_shape": [1, 30, 30]}"#).is_err());
        assert!(config_from_json(r#"{"latent_dims": 3}"#).is_err());
        assert!(config_from_json(r#"{"pac": 2, "num_classes": 10}"#).is_err());
        assert!(config_from_json(r#"{"arch": "mlp", "data_shape": [2], "augment": ["color"]}"#)
            .is_err());
        assert!(config_from_json(r#"{"precision": "fp16"}"#).is_err());
    }

    #[test]
    fn configs_saved_before_conditional_batch_norm_keep_the_one_hot_input() {
        let old =
            config_from_json(r#"{"arch": "resnet", "data_shape": [3, 32, 32], "num_classes": 4}"#);
        assert!(!old.unwrap().class_batch_norm());
        let new = config_from_values(&values(&[
            ("arch", Value::Str("resnet".into())),
            ("data_shape", Value::List(vec![Value::Int(3), Value::Int(32), Value::Int(32)])),
            ("num_classes", Value::Int(4)),
        ]))
        .unwrap();
        assert!(new.class_batch_norm());
        assert_eq!(config_from_json(&new.to_json()).unwrap(), new);
    }

    #[test]
    fn configs_saved_before_the_cluster_code_keep_the_first_coordinate() {
        let old = config_from_json(r#"{"arch": "mlp", "data_shape": [2], "clusters": 4}"#).unwrap();
        assert!(!old.cluster_code);
        let new = config_from_values(&values(&[("clusters", Value::Int(4))])).unwrap();
        assert!(new.cluster_code);
        assert_eq!(config_from_json(&new.to_json()).unwrap(), new);
    }
}
