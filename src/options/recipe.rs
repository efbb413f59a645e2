//! Recommended settings for short runs, by kind of data.

use serde_json::Value as Json;

use crate::error::{invalid, Result};

/// Settings of `fit` that a recipe sets beside the GAN's options.
pub const FIT_SETTINGS: [&str; 2] = ["batch_size", "steps"];

/// Recommended settings for runs of a few minutes on 2 CPU cores, by kind of data,
/// "images" or "vectors": the GAN options that differ from the defaults, and
/// `batch_size` and `steps` for `fit`. `benches/README.md` holds the measurements.
pub fn recipe(kind: &str) -> Result<Vec<(&'static str, Json)>> {
    Ok(match kind {
        // Self-conditioned on 50 clusters at width 32: on MNIST, FID 49 -> 7-10 in the same
        // 5,000 steps (about 5 minutes on 2 cores).
        "images" => vec![
            ("base_channels", Json::from(32)),
            ("clusters", Json::from(50)),
            ("ema", Json::from(0.999)),
            ("batch_size", Json::from(64)),
            ("steps", Json::from(5000)),
        ],
        // PacGAN2 + R1: every mode of PacGAN's ring and grid on every seed.
        "vectors" => vec![
            ("lr_g", Json::from(1e-3)),
            ("lr_d", Json::from(1e-3)),
            ("pac", Json::from(2)),
            ("r1_gamma", Json::from(0.1)),
            ("ema", Json::from(0.999)),
            ("batch_size", Json::from(512)),
            ("steps", Json::from(8000)),
        ],
        other => {
            return invalid(format!("unknown kind of data '{other}': choose 'images' or 'vectors'"))
        }
    })
}
