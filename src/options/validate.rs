//! Value checks of a whole configuration: each option's range (from the option table),
//! and options that only make sense together.

use crate::config::{Arch, GanConfig, SPECS};
use crate::error::{invalid, Result};
use crate::models;
use crate::option_table::check_ranges;

/// Largest network accepted, in parameters: beyond this a typo (an extra zero in a width)
/// would exhaust memory instead of raising an error.
const MAX_PARAMETERS: f64 = (1u64 << 28) as f64;

/// Checks the values of a config, and that they make sense together.
pub fn validate(config: &GanConfig) -> Result<()> {
    check_ranges(SPECS, &super::as_json(config))?;
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
