//! The options of `rustgan.GAN`: names, defaults, choices and value checks, in one place.
//! The Python layer reads names, defaults and choices from here (through the native
//! module) and passes values through unchecked, so the constructor, the command line and
//! the docs cannot drift apart, and one fault raises one exception class.

mod recipe;
mod validate;

pub use recipe::{recipe, FIT_SETTINGS};
pub use validate::{check_optimisers, validate};

use serde_json::{Map, Value as Json};
use tch::Device;

use crate::config::GanConfig;
use crate::error::{invalid, unknown, Error, Result};

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

/// What an option holds.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// An integer of at least `min`.
    Int {
        min: i64,
    },
    /// A seed: an integer in [0, 2^64).
    Seed,
    /// A finite number.
    Float,
    /// A finite number, or None for off.
    OptionalFloat,
    /// A pair of finite numbers.
    Pair,
    Bool,
    /// One of the names.
    Choice(&'static [&'static str]),
    /// Any of the names, as a list or a comma-separated string.
    Choices(&'static [&'static str]),
    /// Positive sizes, as a list or one int.
    Shape,
}

pub struct OptionSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
}

pub const fn spec(name: &'static str, kind: Kind, doc: &'static str) -> OptionSpec {
    OptionSpec { name, kind, doc }
}

pub const ARCHS: &[&str] = &["dcgan", "mlp", "resnet"];
pub const LOSSES: &[&str] = &["bce", "lsgan", "hinge", "wgan-gp"];
pub const AUGMENTS: &[&str] = &["color", "translation", "cutout"];
pub const PRECISIONS: &[&str] = &["fp32", "bf16"];

/// Every option of `GanConfig`, in the order of `rustgan.GAN`'s signature.
pub const SPECS: &[OptionSpec] = &[
    spec("data_shape", Kind::Shape, "shape of one item: (C, H, W) for images, (D,) for vectors"),
    spec("arch", Kind::Choice(ARCHS), "network family: 'dcgan', 'resnet' (images) or 'mlp'"),
    spec("latent_dim", Kind::Int { min: 1 }, "size of the latent code z ~ N(0, I)"),
    spec("loss", Kind::Choice(LOSSES), "adversarial loss"),
    spec("base_channels", Kind::Int { min: 1 }, "image networks' width at full resolution"),
    spec("hidden_dim", Kind::Int { min: 1 }, "width of the MLP networks' hidden layers"),
    spec("depth", Kind::Int { min: 1 }, "hidden layers of the MLP networks"),
    spec("batch_norm_g", Kind::Bool, "batch norm in the MLP generator's hidden layers"),
    spec("hidden_dim_d", Kind::Int { min: 0 }, "width of the MLP discriminator (0: hidden_dim)"),
    spec("depth_d", Kind::Int { min: 0 }, "hidden layers of the MLP discriminator (0: depth)"),
    spec("maxout", Kind::Int { min: 1 }, "maxout pieces per MLP discriminator unit (1: LeakyReLU)"),
    spec("lr_g", Kind::Float, "Adam learning rate of G"),
    spec("lr_d", Kind::Float, "Adam learning rate of D"),
    spec("betas_g", Kind::Pair, "Adam betas of G"),
    spec("betas_d", Kind::Pair, "Adam betas of D"),
    spec(
        "lr_half_life",
        Kind::Int { min: 0 },
        "steps over which both learning rates halve (0: constant)",
    ),
    spec("n_critic", Kind::Int { min: 1 }, "D updates per G update"),
    spec("gp_weight", Kind::Float, "weight of WGAN-GP's gradient penalty"),
    spec("gradient_penalty", Kind::Bool, "WGAN-GP's penalty with any loss"),
    spec("r1_gamma", Kind::Float, "R1 penalty weight (0: off)"),
    spec("r1_every", Kind::Int { min: 1 }, "lazy R1: apply it every N steps"),
    spec("spectral_norm", Kind::Bool, "spectrally normalised D"),
    spec("pac", Kind::Int { min: 1 }, "PacGAN: D judges this many samples at once"),
    spec("top_k", Kind::Float, "top-k training: least share of fakes G learns from (1: off)"),
    spec("augment", Kind::Choices(AUGMENTS), "DiffAugment policy"),
    spec("num_classes", Kind::Int { min: 0 }, "classes of a conditional GAN (0: unconditional)"),
    spec(
        "clusters",
        Kind::Int { min: 0 },
        "self-conditioning on k-means clusters of the data (0: off)",
    ),
    spec(
        "conditional_batch_norm",
        Kind::Bool,
        "a conditioned resnet G reads its class through batch norm (else beside z)",
    ),
    spec("ema", Kind::OptionalFloat, "EMA decay of G (None: no EMA)"),
    spec("precision", Kind::Choice(PRECISIONS), "bf16: mixed-precision convolutions and matmuls"),
    spec("seed", Kind::Seed, "seeds initialisation, latents and batch order"),
];

/// The default of every option, as JSON.
pub fn defaults() -> Map<String, Json> {
    match serde_json::to_value(GanConfig::default()) {
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

fn choice(name: &str, value: &Value, choices: &[&str]) -> Result<Json> {
    let Value::Str(text) = value else {
        return type_error(name, "a string", value);
    };
    if !choices.contains(&text.as_str()) {
        return unknown(name, text, choices);
    }
    Ok(Json::from(text.as_str()))
}

/// Checks `value` against `spec` and converts it to the config's JSON form.
fn convert(spec: &OptionSpec, value: &Value) -> Result<Json> {
    let name = spec.name;
    match spec.kind {
        Kind::Int { min } => integer(name, value, min as i128, i64::MAX as i128),
        Kind::Seed => integer(name, value, 0, u64::MAX as i128),
        Kind::Float => number(name, value).map(Json::from),
        Kind::OptionalFloat if *value == Value::None => Ok(Json::Null),
        Kind::OptionalFloat => number(name, value).map(Json::from),
        Kind::Bool => match value {
            Value::Bool(b) => Ok(Json::from(*b)),
            other => type_error(name, "True or False", other),
        },
        Kind::Pair => match value {
            Value::List(items) if items.len() == 2 => Ok(Json::Array(
                items.iter().map(|v| number(name, v).map(Json::from)).collect::<Result<_>>()?,
            )),
            other => type_error(name, "a pair of numbers", other),
        },
        Kind::Choice(choices) => choice(name, value, choices),
        Kind::Choices(choices) => {
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
            Ok(Json::Array(
                items.iter().map(|v| choice(&entry, v, choices)).collect::<Result<_>>()?,
            ))
        }
        Kind::Shape => {
            let items = match value {
                Value::Int(_) => vec![value.clone()],
                Value::List(items) if !items.is_empty() => items.clone(),
                other => return type_error(name, "a non-empty tuple of ints", other),
            };
            let entry = format!("{name} entry");
            Ok(Json::Array(
                items
                    .iter()
                    .map(|v| integer(&entry, v, 1, i64::MAX as i128))
                    .collect::<Result<_>>()?,
            ))
        }
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
}
