//! A GAN's options as a checked config: each option's range (from the option table of
//! `config.rs`), the options that only make sense together, the network family's own
//! checks, and configs saved by earlier versions.

use serde_json::Value as Json;

use crate::config::{Arch, ClusterFeatures, GanConfig, SPECS};
use crate::error::{invalid, Error, Result};
use crate::models;
use crate::option_table::{check_ranges, OptionSpec};
use crate::options::{as_json, TableConfig};

impl TableConfig for GanConfig {
    const SPECS: &'static [OptionSpec] = SPECS;
    const NAME: &'static str = "GAN config";

    /// Checks the values of a config, and that they make sense together.
    fn validate(&self) -> Result<()> {
        validate(self)
    }
}

/// Largest network accepted, in parameters: beyond this a typo (an extra zero in a width)
/// would exhaust memory instead of raising an error.
const MAX_PARAMETERS: f64 = (1u64 << 28) as f64;

/// Checks the values of a config, and that they make sense together.
fn validate(config: &GanConfig) -> Result<()> {
    check_ranges(SPECS, &as_json(config))?;
    let family = models::family(config.arch);
    family.check(config)?;
    if config.num_classes > 0 && config.pac > 1 {
        return invalid("pac > 1 packs samples of different classes: use it with num_classes=0");
    }
    if config.clusters > 0 && (config.num_classes > 0 || config.pac > 1) {
        return invalid(
            "clusters conditions an unconditional GAN on its own classes: use it with \
             num_classes=0 and pac=1",
        );
    }
    // Without clusters there is nothing to fit, as a recipe's settings with `clusters=0`
    // ask; with them, the feature network reads images of 1 or 3 channels.
    if config.cluster_features == ClusterFeatures::Efficientnet && config.clusters > 0 {
        let channels = config.data_shape.first().copied().unwrap_or(0);
        if config.data_shape.len() != 3 || ![1, 3].contains(&channels) {
            return invalid(
                "cluster_features='efficientnet' clusters images of 1 or 3 channels: use \
                 cluster_features='pixels' for other data",
            );
        }
        if config.recluster_every > 0 {
            return invalid(
                "cluster_features='efficientnet' keeps the clusters of fixed pretrained features; \
                 recluster_every would replace them by D's: use one of the two",
            );
        }
    }
    if config.recluster_every > 0 && config.clusters == 0 {
        return invalid(
            "recluster_every re-clusters a self-conditioned GAN: use it with clusters > 0",
        );
    }
    let mlp_only =
        [config.batch_norm_g, config.maxout > 1, config.hidden_dim_d > 0, config.depth_d > 0];
    if mlp_only.contains(&true) && config.arch != Arch::Mlp {
        return invalid(
            "batch_norm_g, hidden_dim_d, depth_d and maxout shape the MLP networks: use them \
             with arch='mlp'",
        );
    }
    if config.pixel_head && config.arch != Arch::Projected {
        return invalid("pixel_head adds a pixel judge to the projected discriminator: use it with arch='projected'");
    }
    if !config.augment.is_empty() && config.arch == Arch::Mlp {
        return invalid("augment applies to images: use it with arch='dcgan' or 'resnet'");
    }
    if config.augment_target > 0.0 && config.augment.is_empty() {
        return invalid("augment_target adapts how often augment applies: set augment too");
    }
    let parameters = family.parameter_estimate(config);
    if parameters > MAX_PARAMETERS {
        return invalid(format!(
            "the networks would have about {parameters:.1e} parameters, more than the {MAX_PARAMETERS:.1e} allowed"
        ));
    }
    Ok(())
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
    GanConfig::from_json_value(saved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Augment, LossKind, Precision};
    use crate::options::defaults;
    use crate::options::Value;

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
        let config = GanConfig::from_values(&values(&[
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
        let images = GanConfig::from_values(&values(&[(
            "augment",
            Value::Str("translation, cutout".into()),
        )]))
        .unwrap();
        assert_eq!(images.augment, vec![Augment::Translation, Augment::Cutout]);
        let fault = |pairs: &[(&str, Value)]| GanConfig::from_values(&values(pairs)).unwrap_err();
        assert!(matches!(fault(&[("latent_dim", Value::Float(3.0))]), Error::ArgumentType(_)));
        assert!(matches!(fault(&[("spectral_norm", Value::Int(1))]), Error::ArgumentType(_)));
        assert!(matches!(fault(&[("loss", Value::Int(1))]), Error::ArgumentType(_)));
        assert!(matches!(fault(&[("latent_dim", Value::Int(0))]), Error::InvalidArgument(_)));
        assert!(matches!(fault(&[("lr_d", Value::Float(f64::NAN))]), Error::InvalidArgument(_)));
        assert!(matches!(fault(&[("loss", Value::Str("l2".into()))]), Error::InvalidArgument(_)));
        assert!(matches!(fault(&[("seed", Value::Int(-1))]), Error::InvalidArgument(_)));
        assert_eq!(
            GanConfig::from_values(&values(&[("seed", Value::Int(u64::MAX as i128))]))
                .unwrap()
                .seed,
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
        let new = GanConfig::from_values(&values(&[
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
        let new = GanConfig::from_values(&values(&[("clusters", Value::Int(4))])).unwrap();
        assert!(new.cluster_code);
        assert_eq!(config_from_json(&new.to_json()).unwrap(), new);
    }
}
