//! Value checks of a whole configuration: each option's range, and options that only make
//! sense together.

use crate::config::{Arch, GanConfig};
use crate::error::{invalid, Result};
use crate::models;

/// Largest size accepted for any one dimension (latent, width, data entry).
const MAX_DIM: i64 = 1 << 16;
/// Most classes of a conditional GAN: D's projection holds a feature vector per class.
const MAX_CLASSES: i64 = 1 << 12;
/// Largest network accepted, in parameters: beyond this a typo (an extra zero in a width)
/// would exhaust memory instead of raising an error.
const MAX_PARAMETERS: f64 = (1u64 << 28) as f64;

/// Checks the values of a config, and that they make sense together.
pub fn validate(config: &GanConfig) -> Result<()> {
    if config.data_shape.is_empty() || config.data_shape.iter().any(|&d| d < 1) {
        return invalid(format!("data_shape must be positive sizes, got {:?}", config.data_shape));
    }
    if config.data_shape.iter().any(|&d| d > MAX_DIM) || config.data_shape.len() > 8 {
        return invalid(format!("data_shape {:?} is too large", config.data_shape));
    }
    let family = models::family(config.arch);
    family.check(config)?;
    for (name, value) in [
        ("latent_dim", config.latent_dim),
        ("base_channels", config.base_channels),
        ("hidden_dim", config.hidden_dim),
        ("depth", config.depth),
        ("maxout", config.maxout),
        ("n_critic", config.n_critic),
        ("r1_every", config.r1_every),
        ("pac", config.pac),
    ] {
        if value < 1 {
            return invalid(format!("{name} must be at least 1, got {value}"));
        }
        if value > MAX_DIM || (matches!(name, "depth" | "pac" | "maxout") && value > 64) {
            return invalid(format!("{name} = {value} is too large"));
        }
    }
    if !(0..=MAX_CLASSES).contains(&config.num_classes) {
        return invalid(format!(
            "num_classes must lie in [0, {MAX_CLASSES}] (0: unconditional), got {}",
            config.num_classes
        ));
    }
    if config.num_classes > 0 && config.pac > 1 {
        return invalid("pac > 1 packs samples of different classes: use it with num_classes=0");
    }
    if !(0..=MAX_CLASSES).contains(&config.clusters) {
        return invalid(format!(
            "clusters must lie in [0, {MAX_CLASSES}] (0: off), got {}",
            config.clusters
        ));
    }
    if config.clusters > 0 && (config.num_classes > 0 || config.pac > 1) {
        return invalid(
            "clusters conditions an unconditional GAN on its own classes: use it with \
             num_classes=0 and pac=1",
        );
    }
    for (name, value, most) in
        [("hidden_dim_d", config.hidden_dim_d, MAX_DIM), ("depth_d", config.depth_d, 64)]
    {
        if !(0..=most).contains(&value) {
            return invalid(format!("{name} must lie in [0, {most}] (0: as G), got {value}"));
        }
    }
    let mlp_only =
        [config.batch_norm_g, config.maxout > 1, config.hidden_dim_d > 0, config.depth_d > 0];
    if mlp_only.contains(&true) && config.arch != Arch::Mlp {
        return invalid(
            "batch_norm_g, hidden_dim_d, depth_d and maxout shape the MLP networks: use them \
             with arch='mlp'",
        );
    }
    if !config.augment.is_empty() && config.arch == Arch::Mlp {
        return invalid("augment applies to images: use it with arch='dcgan' or 'resnet'");
    }
    let parameters = family.parameter_estimate(config);
    if parameters > MAX_PARAMETERS {
        return invalid(format!(
            "the networks would have about {parameters:.1e} parameters, more than the {MAX_PARAMETERS:.1e} allowed"
        ));
    }
    check_optimisers([config.lr_g, config.lr_d], [config.betas_g, config.betas_d], config.ema)?;
    for (name, value) in [("r1_gamma", config.r1_gamma), ("gp_weight", config.gp_weight)] {
        if !(value.is_finite() && value >= 0.0) {
            return invalid(format!("{name} must be >= 0, got {value}"));
        }
    }
    if !(config.top_k > 0.0 && config.top_k <= 1.0) {
        return invalid(format!("top_k must lie in (0, 1] (1: off), got {}", config.top_k));
    }
    Ok(())
}

/// Checks Adam's learning rates and betas of G and D, and the EMA decay.
pub fn check_optimisers(lrs: [f64; 2], betas: [(f64, f64); 2], ema: Option<f64>) -> Result<()> {
    for (name, value) in ["lr_g", "lr_d"].into_iter().zip(lrs) {
        if !(value.is_finite() && value > 0.0) {
            return invalid(format!("{name} must be a positive number, got {value}"));
        }
    }
    for (name, (b1, b2)) in ["betas_g", "betas_d"].into_iter().zip(betas) {
        if !((0.0..1.0).contains(&b1) && (0.0..1.0).contains(&b2)) {
            return invalid(format!("{name} must lie in [0, 1), got ({b1}, {b2})"));
        }
    }
    if let Some(decay) = ema {
        if !(decay > 0.0 && decay < 1.0) {
            return invalid(format!("ema decay must lie in (0, 1), got {decay}"));
        }
    }
    Ok(())
}
