//! Recommended settings for short runs, by kind of data.

use serde_json::Value as Json;

use crate::error::{invalid, Result};
use crate::models::dcgan;

/// Settings of `fit` that a recipe sets beside the GAN's options.
pub const FIT_SETTINGS: [&str; 2] = ["batch_size", "steps"];

/// Fewest training items per self-conditioning cluster: with fewer, k-means splits the
/// data into noise.
const ITEMS_PER_CLUSTER: i64 = 20;

/// What a recipe sets about its clusters beside their number.
const CLUSTER_SETTINGS: [&str; 2] = ["recluster_every", "cluster_features"];

/// Colour images at least this many pixels high take the large colour recipe.
const LARGE_COLOUR_SIZE: i64 = 64;

/// `recipe(kind)` for a data set of `items` items of `size` pixels: as many of the recipe's
/// clusters as the data carries, at most one per `ITEMS_PER_CLUSTER` items, and none below
/// two; colour images of `LARGE_COLOUR_SIZE` pixels and more take `large_colour`.
pub fn recipe_for(
    kind: &str,
    items: Option<i64>,
    size: Option<i64>,
) -> Result<Vec<(&'static str, Json)>> {
    if let Some(size) = size.filter(|&size| size < 1) {
        return invalid(format!("size must be at least 1 pixel, got {size}"));
    }
    let large = kind == "colour" && size.is_some_and(|size| size >= LARGE_COLOUR_SIZE);
    let mut settings = match size {
        Some(size) if large => large_colour(size),
        _ => recipe(kind)?,
    };
    if let Some(items) = items {
        if items < 1 {
            return invalid(format!("items must be at least 1, got {items}"));
        }
        let mut clustered = true;
        for (name, value) in settings.iter_mut() {
            if *name == "clusters" {
                let clusters = value.as_i64().unwrap_or(0).min(items / ITEMS_PER_CLUSTER);
                clustered = clusters >= 2;
                *value = Json::from(if clustered { clusters } else { 0 });
            }
        }
        // Too few items for clusters: nothing to re-cluster or cluster on features either.
        if !clustered {
            settings.retain(|(name, _)| !CLUSTER_SETTINGS.contains(name));
        }
    }
    Ok(settings)
}

/// Colour images of 64 px and more: the image recipe's DCGAN with DiffAugment's colour,
/// translation and cutout on what D sees, 3,000 steps (about 13 minutes on 2 cores). On
/// 1,282 emoji at 64 px it reached an EfficientNet-Lite0 FID of 190 in 10 minutes, where
/// the residual colour recipe, with or without DiffAugment, reached 221-264 and drew one
/// template; the residual recipe wins on 32 px shapes. Sizes the DCGAN family does not
/// build take `projected`.
fn large_colour(size: i64) -> Vec<(&'static str, Json)> {
    let mut settings = images();
    for (name, value) in settings.iter_mut() {
        if *name == "steps" {
            *value = Json::from(3000);
        }
    }
    settings.push(("augment", Json::from(vec!["color", "translation", "cutout"])));
    if dcgan::SIZES.contains(&size) {
        settings.push(("arch", Json::from("dcgan")));
        settings
    } else {
        projected(settings)
    }
}

/// The projected family with a pixel head, unclustered, at width 16 and 5x the learning
/// rate with beta1 0. At 128 px its step is 13x cheaper than the residual family's (1.5
/// against 19 s on one core in batches of 64); on 217 painted portraits at 128 px it drew
/// painted figures in 30 CPU-minutes, SWD 53.1 to the held-out ones against a floor of
/// 49.4, with 2.2% copies (benches/README.md). Its 3,000 steps take about 75 CPU-minutes
/// at 128 px.
fn projected(mut settings: Vec<(&'static str, Json)>) -> Vec<(&'static str, Json)> {
    let replaced = [
        ("arch", Json::from("projected")),
        ("base_channels", Json::from(16)),
        ("clusters", Json::from(0)),
        ("pixel_head", Json::from(true)),
        ("lr_g", Json::from(1e-3)),
        ("lr_d", Json::from(1e-3)),
        ("betas_g", Json::from(vec![0.0, 0.99])),
        ("betas_d", Json::from(vec![0.0, 0.99])),
    ];
    settings.retain(|(name, _)| !replaced.iter().any(|(new, _)| new == name));
    settings.extend(replaced);
    settings
}

/// Self-conditioned on 50 clusters at width 32, hinge loss and a spectrally normalised D:
/// on MNIST, FID 4.7-4.8 over three seeds in 5,000 steps (about 4 minutes on 2 cores).
fn images() -> Vec<(&'static str, Json)> {
    vec![
        ("base_channels", Json::from(32)),
        ("clusters", Json::from(50)),
        ("loss", Json::from("hinge")),
        ("spectral_norm", Json::from(true)),
        ("ema", Json::from(0.999)),
        ("batch_size", Json::from(64)),
        ("steps", Json::from(5000)),
    ]
}

/// Recommended settings for runs of a few minutes on 2 CPU cores, by kind of data,
/// "images" (grey), "colour" (colour images) or "vectors": the GAN options that differ
/// from the defaults, and `batch_size` and `steps` for `fit`. "pacgan" gives PacGAN's
/// published 2D networks and optimiser instead (Lin et al. 2018), to compare against.
/// `benches/README.md` holds the measurements.
pub fn recipe(kind: &str) -> Result<Vec<(&'static str, Json)>> {
    Ok(match kind {
        "images" => images(),
        // Colour images below 64 px: the residual family at width 16, in batches of 32 at
        // 8x the learning rate, with the image recipe's loss and EMA, self-conditioned on
        // 100 clusters of EfficientNet-Lite0's ImageNet features. On coloured shapes without
        // labels, in 10 minutes: 96.1%-99.3% high quality, every one of the 18 classes and
        // reverse KL 0.006-0.017 (benches/README.md), where clusters of pixels re-clustered
        // on D's features every 1,000 steps gave 71.6%-90.0% and the DCGAN image recipe 5.8%.
        // Larger colour images take `large_colour`.
        "colour" => vec![
            ("arch", Json::from("resnet")),
            ("base_channels", Json::from(16)),
            ("clusters", Json::from(100)),
            ("cluster_features", Json::from("efficientnet")),
            ("loss", Json::from("hinge")),
            ("spectral_norm", Json::from(true)),
            ("ema", Json::from(0.999)),
            ("lr_g", Json::from(1.6e-3)),
            ("lr_d", Json::from(1.6e-3)),
            ("batch_size", Json::from(32)),
            ("steps", Json::from(5000)),
        ],
        // Self-conditioned on 50 k-means clusters with a 2D latent, a light R1 penalty and
        // learning rates that halve every 4,000 steps: every mode of PacGAN's ring and grid
        // with no knowledge of how many there are.
        "vectors" => vec![
            ("latent_dim", Json::from(2)),
            ("clusters", Json::from(50)),
            ("r1_gamma", Json::from(0.1)),
            ("lr_half_life", Json::from(4000)),
            ("lr_g", Json::from(1e-3)),
            ("lr_d", Json::from(1e-3)),
            ("ema", Json::from(0.999)),
            ("batch_size", Json::from(100)),
            ("steps", Json::from(20000)),
        ],
        // The 2D networks and optimiser of PacGAN's Table 1, packing two samples, for the
        // 8,000 steps of every row of the table in benches/README.md.
        "pacgan" => {
            let betas = Json::from(vec![0.8, 0.999]);
            vec![
                ("arch", Json::from("mlp")),
                ("latent_dim", Json::from(2)),
                ("hidden_dim", Json::from(400)),
                ("depth", Json::from(4)),
                ("batch_norm_g", Json::from(true)),
                ("hidden_dim_d", Json::from(200)),
                ("depth_d", Json::from(3)),
                ("maxout", Json::from(5)),
                ("lr_g", Json::from(1e-4)),
                ("lr_d", Json::from(1e-4)),
                ("betas_g", betas.clone()),
                ("betas_d", betas),
                ("pac", Json::from(2)),
                ("batch_size", Json::from(100)),
                ("steps", Json::from(8000)),
            ]
        }
        other => {
            return invalid(format!(
                "unknown recipe '{other}': choose 'images', 'colour', 'vectors' or 'pacgan'"
            ))
        }
    })
}
