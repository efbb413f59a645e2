//! Options written once. `option_table!` declares each field of a configuration with
//! its type, default, kind (what values it takes: type, range, choices) and doc, and
//! makes from that one list the config struct, its `Default` and its table of
//! `OptionSpec`s, which checks values, documents the Python signature and drives the
//! command line and the fuzz tests. `named_choices!` writes the names of an option's
//! choices once, for serde, the table and error messages alike.

use std::fmt;
use std::ops::{Bound, RangeBounds};

use serde_json::{Map, Value as Json};

use crate::error::{invalid, unknown, Result};

/// The range of a number option.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub low: Bound<f64>,
    pub high: Bound<f64>,
}

impl Bounds {
    pub const ANY: Bounds = Bounds { low: Bound::Unbounded, high: Bound::Unbounded };
    pub const NON_NEGATIVE: Bounds = Bounds { low: Bound::Included(0.0), high: Bound::Unbounded };
    pub const POSITIVE: Bounds = Bounds { low: Bound::Excluded(0.0), high: Bound::Unbounded };
    /// [0, 1): a probability that is not certain, Adam's betas.
    pub const FRACTION: Bounds = Bounds { low: Bound::Included(0.0), high: Bound::Excluded(1.0) };
    /// (0, 1): a decay.
    pub const OPEN_UNIT: Bounds = Bounds { low: Bound::Excluded(0.0), high: Bound::Excluded(1.0) };
    /// (0, 1]: a share.
    pub const SHARE: Bounds = Bounds { low: Bound::Excluded(0.0), high: Bound::Included(1.0) };

    pub fn contains(&self, value: f64) -> bool {
        value.is_finite() && (self.low, self.high).contains(&value)
    }
}

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let low = match self.low {
            Bound::Included(x) => format!("[{x}"),
            Bound::Excluded(x) => format!("({x}"),
            Bound::Unbounded => "(-inf".into(),
        };
        let high = match self.high {
            Bound::Included(x) => format!("{x}]"),
            Bound::Excluded(x) => format!("{x})"),
            Bound::Unbounded => "inf)".into(),
        };
        write!(f, "{low}, {high}")
    }
}

/// What an option holds.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// An integer in [min, max].
    Int {
        min: i64,
        max: i64,
    },
    /// A seed: an integer in [0, 2^64).
    Seed,
    /// A finite number within the bounds.
    Float(Bounds),
    /// A finite number within the bounds, or None for off.
    OptionalFloat(Bounds),
    /// A pair of finite numbers within the bounds.
    Pair(Bounds),
    Bool,
    /// One of the names.
    Choice(&'static [&'static str]),
    /// Any of the names, as a list or a comma-separated string.
    Choices(&'static [&'static str]),
    /// Positive sizes, as a list or one int, each at most `max`.
    Shape {
        max: i64,
    },
}

impl Kind {
    /// The kind's name, as the Python side reads it.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Int { .. } => "int",
            Kind::Seed => "seed",
            Kind::Float(_) => "float",
            Kind::OptionalFloat(_) => "optional float",
            Kind::Pair(_) => "pair",
            Kind::Bool => "bool",
            Kind::Choice(_) => "choice",
            Kind::Choices(_) => "choices",
            Kind::Shape { .. } => "shape",
        }
    }
}

pub struct OptionSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
}

fn check_number(name: &str, value: &Json, bounds: &Bounds) -> Result<()> {
    let number = value.as_f64().unwrap_or(f64::NAN);
    if !bounds.contains(number) {
        return invalid(format!("{name} must lie in {bounds}, got {number}"));
    }
    Ok(())
}

fn check_int(name: &str, value: &Json, min: i64, max: i64) -> Result<()> {
    match value.as_i64() {
        Some(i) if (min..=max).contains(&i) => Ok(()),
        Some(i) if i < min => invalid(format!("{name} must be at least {min}, got {i}")),
        _ => invalid(format!("{name} = {value} is too large (at most {max})")),
    }
}

fn check_choice(name: &str, value: &Json, names: &[&str]) -> Result<()> {
    let text = value.as_str().unwrap_or_default();
    if !names.contains(&text) {
        return unknown(name, text, names);
    }
    Ok(())
}

/// Checks each value of `config` (a config as JSON) against the range of its option in
/// `specs`: the one place a single option's value is checked. Checks of options taken
/// together belong to the config's own validation.
pub fn check_ranges(specs: &[OptionSpec], config: &Map<String, Json>) -> Result<()> {
    for spec in specs {
        let (name, value) = (spec.name, &config[spec.name]);
        match spec.kind {
            Kind::Int { min, max } => check_int(name, value, min, max)?,
            Kind::Float(bounds) => check_number(name, value, &bounds)?,
            Kind::OptionalFloat(_) if value.is_null() => {}
            Kind::OptionalFloat(bounds) => check_number(name, value, &bounds)?,
            Kind::Pair(bounds) => {
                for entry in value.as_array().into_iter().flatten() {
                    check_number(&format!("{name} entry"), entry, &bounds)?;
                }
            }
            Kind::Shape { max } => {
                let sizes = value.as_array().map(Vec::as_slice).unwrap_or_default();
                if sizes.is_empty() || sizes.len() > 8 {
                    return invalid(format!("{name} must have 1 to 8 sizes, got {value}"));
                }
                for size in sizes {
                    check_int(&format!("{name} entry"), size, 1, max)?;
                }
            }
            Kind::Choice(names) => check_choice(name, value, names)?,
            Kind::Choices(names) => {
                for entry in value.as_array().into_iter().flatten() {
                    check_choice(&format!("{name} entry"), entry, names)?;
                }
            }
            Kind::Seed | Kind::Bool => {}
        }
    }
    Ok(())
}

/// Declares a configuration struct whose every field is an option: its doc, then
/// `name: Type = default, kind, "short doc";`, or `name: Type = default, shared;` where
/// `shared` holds the kind and short doc. A closing `overrides { name = value, ... }`
/// changes defaults. Makes the struct (serde, defaults for missing fields, unknown fields
/// refused), its `Default`, and `SPECS`, the options in declaration order, which is the
/// order of the Python signature. Models declare theirs with
/// `shared_options::model_option_table!`, which adds the options they share.
macro_rules! option_table {
    (@spec $field:ident, $kind:expr, $short:literal) => {
        $crate::option_table::OptionSpec { name: stringify!($field), kind: $kind, doc: $short }
    };
    (@spec $field:ident, $shared:expr) => {
        $crate::option_table::OptionSpec { name: stringify!($field), kind: $shared.0, doc: $shared.1 }
    };
    (
        $(#[$meta:meta])*
        pub struct $config:ident, table $specs:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty = $default:expr, $kind:expr $(, $short:literal)?;
            )+
        }
        $( overrides { $( $name:ident = $value:expr ),* } )?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $config {
            $( $(#[doc = $doc])* pub $field: $ty, )+
        }

        impl Default for $config {
            #[allow(clippy::field_reassign_with_default, unused_mut)]
            fn default() -> Self {
                let mut config = $config { $( $field: $default, )+ };
                $( $( config.$name = $value; )* )?
                config
            }
        }

        /// Every option, in declaration order.
        pub const $specs: &[$crate::option_table::OptionSpec] = &[
            $( $crate::option_table::option_table!(@spec $field, $kind $(, $short)?), )+
        ];
    };
}

/// Declares an enum chosen by name: `Variant = "name"`. The names are written once;
/// serde, `NAMES` (for option tables) and `parse` (whose error lists them) read them.
macro_rules! named_choices {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            pub fn parse(text: &str) -> $crate::error::Result<Self> {
                match text {
                    $( $text => Ok($name::$variant), )+
                    other => $crate::error::unknown($what, other, Self::NAMES),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use {named_choices, option_table};
