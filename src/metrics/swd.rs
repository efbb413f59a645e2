//! Sliced Wasserstein distance between image sets, as in ProGAN (Karras et al. 2018,
//! "Progressive Growing of GANs for Improved Quality, Stability, and Variation", app. D):
//! random 7x7 patches from each level of a Laplacian pyramid are compared as point clouds,
//! through the 1D Wasserstein distances of their projections on random directions. The fine
//! levels measure sharpness and detail, the 16 px level the large-scale structure.

use tch::{Kind, Tensor};

use super::check_finite;
use crate::error::{invalid, Result};
use crate::rng::Rng;

/// Settings of `sliced_wasserstein`; the defaults are ProGAN's.
#[derive(Clone, Debug, PartialEq)]
pub struct SwdOptions {
    /// Random 7x7 patches taken from each image at each level (default 128).
    pub patches_per_image: i64,
    /// Random unit directions per round (default 128).
    pub directions: i64,
    /// Rounds of fresh directions, averaged (default 4).
    pub repeats: i64,
    /// Seed of the patch positions and directions (default 0).
    pub seed: u64,
}

impl Default for SwdOptions {
    fn default() -> Self {
        SwdOptions { patches_per_image: 128, directions: 128, repeats: 4, seed: 0 }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Swd {
    /// Distance x 1000 per level, from full resolution down to 16 px.
    pub per_level: Vec<f64>,
    /// Mean over the levels.
    pub mean: f64,
}

const PATCH: i64 = 7;
const COARSEST: i64 = 16;

/// SWD between two image sets of the same shape `[N, C, H, W]`, H = W a power of two >= 16.
pub fn sliced_wasserstein(a: &Tensor, b: &Tensor, options: &SwdOptions) -> Result<Swd> {
    let a = images(a, "a")?;
    let b = images(b, "b")?.f_to_device(a.device())?;
    if a.size() != b.size() {
        return invalid(format!(
            "a and b must have the same shape, got {:?} and {:?}",
            a.size(),
            b.size()
        ));
    }
    let counts = [
        ("patches_per_image", options.patches_per_image),
        ("directions", options.directions),
        ("repeats", options.repeats),
    ];
    for (name, value) in counts {
        if value < 1 {
            return invalid(format!("{name} must be at least 1, got {value}"));
        }
    }
    let mut rng = Rng::new(options.seed);
    let mut per_level = Vec::new();
    for (level_a, level_b) in laplacian_pyramid(&a).iter().zip(&laplacian_pyramid(&b)) {
        // The same patch positions in both sets: they do not depend on the content, and
        // identical sets then give exactly 0.
        let positions = rng.fork();
        let descriptors_a = descriptors(level_a, options.patches_per_image, &mut positions.clone());
        let descriptors_b = descriptors(level_b, options.patches_per_image, &mut positions.clone());
        per_level.push(1000.0 * sliced_distance(&descriptors_a, &descriptors_b, options, &mut rng));
    }
    let mean = per_level.iter().sum::<f64>() / per_level.len() as f64;
    Ok(Swd { per_level, mean })
}

/// `x` as a finite float batch of square images whose side is a power of two >= 16.
fn images(x: &Tensor, name: &str) -> Result<Tensor> {
    let shape = x.size();
    let side = shape.get(2).copied().unwrap_or(0);
    if shape.len() != 4 || shape[0] == 0 || shape[1] == 0 || shape[3] != side {
        return invalid(format!(
            "{name} must be a non-empty batch of square images [N, C, H, H], got shape {shape:?}"
        ));
    }
    if side < COARSEST || side & (side - 1) != 0 {
        return invalid(format!(
            "{name}: SWD needs images whose side is a power of two >= {COARSEST}, got {side} (pad 28 px images to 32)"
        ));
    }
    check_finite(x, name)?;
    Ok(x.f_to_kind(Kind::Float)?)
}

/// Band-pass levels from full resolution down to 32 px, then the 16 px Gaussian level; each
/// `[N, C, S, S]`.
fn laplacian_pyramid(images: &Tensor) -> Vec<Tensor> {
    let mut levels = Vec::new();
    let mut current = images.shallow_clone();
    while current.size()[2] > COARSEST {
        let smaller = blur(&current, 1.0).slice(2, 0, None, 2).slice(3, 0, None, 2);
        levels.push(&current - upsample(&smaller));
        current = smaller;
    }
    levels.push(current);
    levels
}

/// Each channel filtered with the binomial kernel [1, 4, 6, 4, 1]^2 / 256 times `gain`,
/// mirrored at the borders.
fn blur(x: &Tensor, gain: f64) -> Tensor {
    let shape = x.size(); // [N, C, H, W]
    let taps = Tensor::from_slice(&[1.0f32, 4.0, 6.0, 4.0, 1.0]).to_device(x.device()) / 16.0;
    let kernel = (taps.unsqueeze(1) * taps.unsqueeze(0) * gain).view([1, 1, 5, 5]);
    x.reshape([shape[0] * shape[1], 1, shape[2], shape[3]])
        .pad([2, 2, 2, 2], "reflect", None)
        .conv2d::<Tensor>(&kernel, None, 1, 0, 1, 1)
        .view(shape.as_slice())
}

/// Twice the resolution: zeros between the pixels, then the blur with gain 4, which keeps
/// the mean brightness.
fn upsample(x: &Tensor) -> Tensor {
    let s = x.size(); // [N, C, H, W]
    let up = Tensor::zeros([s[0], s[1], 2 * s[2], 2 * s[3]], (x.kind(), x.device()));
    up.slice(2, 0, None, 2).slice(3, 0, None, 2).copy_(x);
    blur(&up, 4.0)
}

/// `patches` random 7x7 patches of each image, normalised per channel over the whole set:
/// `[N * patches, C * 49]`.
fn descriptors(level: &Tensor, patches: i64, rng: &mut Rng) -> Tensor {
    let s = level.size(); // [N, C, S, S]
    let (n, channels, side, device) = (s[0], s[1], s[2], level.device());
    let span = (side - PATCH + 1) as u64;
    let corners: Vec<i64> = (0..n * patches)
        .map(|_| {
            let (y, x) = (rng.next_u64() % span, rng.next_u64() % span);
            (y * side as u64 + x) as i64
        })
        .collect();
    let steps = Tensor::arange(PATCH, (Kind::Int64, device));
    let offsets = (steps.unsqueeze(1) * side + steps.unsqueeze(0)).view([1, 1, PATCH * PATCH]);
    let index = (Tensor::from_slice(&corners).to_device(device).view([n, patches, 1]) + offsets) // [N, P, 49]
        .view([n, 1, patches * PATCH * PATCH])
        .expand([n, channels, patches * PATCH * PATCH], false);
    let patches_by_channel = level
        .reshape([n, channels, side * side])
        .gather(2, &index, false)
        .view([n, channels, patches, PATCH * PATCH])
        .permute([0, 2, 1, 3])
        .reshape([n * patches, channels, PATCH * PATCH]);
    let dims = [0i64, 2].as_slice();
    let mean = patches_by_channel.mean_dim(dims, true, Kind::Float);
    // A constant channel has no spread; its descriptors become 0 rather than NaN.
    let std = patches_by_channel.std_dim(dims, false, true).clamp_min(1e-8);
    ((patches_by_channel - mean) / std).view([n * patches, channels * PATCH * PATCH])
}

/// Mean over rounds of random directions of the mean absolute difference between the sorted
/// projections of `a` and `b` `[D, W]`: the 1D Wasserstein-1 distance, averaged over directions.
fn sliced_distance(a: &Tensor, b: &Tensor, options: &SwdOptions, rng: &mut Rng) -> f64 {
    let width = a.size()[1];
    let total: f64 = (0..options.repeats)
        .map(|_| {
            let directions = rng.normal_tensor(&[width, options.directions], a.device());
            // Unit columns; transposed to [directions, D] below, so each projection is
            // contiguous and the sorts run along rows (2x faster).
            let directions =
                &directions / directions.norm_scalaropt_dim(2, [0i64].as_slice(), true);
            let (projected_a, _) = directions.tr().matmul(&a.tr()).sort(1, false);
            let (projected_b, _) = directions.tr().matmul(&b.tr()).sort(1, false);
            (projected_a - projected_b).abs().mean(Kind::Double).double_value(&[])
        })
        .sum();
    total / options.repeats as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn noise(n: i64, channels: i64, side: i64, seed: u64) -> Tensor {
        Rng::new(seed).normal_tensor(&[n, channels, side, side], Device::Cpu)
    }

    fn options(seed: u64) -> SwdOptions {
        SwdOptions { patches_per_image: 32, seed, ..SwdOptions::default() }
    }

    #[test]
    fn zero_for_identical_sets_and_larger_for_different_images() {
        let a = noise(16, 3, 32, 1);
        let swd = |b: &Tensor| sliced_wasserstein(&a, b, &SwdOptions::default()).unwrap();
        let same = swd(&a);
        assert_eq!(same.per_level.len(), 2); // 32 px band-pass, 16 px Gaussian
        assert!(same.mean.abs() < 1e-9, "{same:?}");
        // Another draw of white noise differs only by sampling error.
        let twin = swd(&noise(16, 3, 32, 2));
        // Smooth images: correlated pixels within a patch.
        let smooth = swd(&blur(&blur(&noise(16, 3, 32, 3), 1.0), 1.0));
        // Flat images: no detail at all.
        let flat = swd(&noise(16, 3, 1, 4).expand([16, 3, 32, 32], false));
        let ordered =
            twin.mean > 0.0 && smooth.mean > 1.3 * twin.mean && flat.mean > 3.0 * smooth.mean;
        assert!(ordered, "{twin:?} {smooth:?} {flat:?}");
    }

    #[test]
    fn deterministic_for_a_seed() {
        let (a, b) = (noise(4, 1, 64, 4), noise(4, 1, 64, 5) * 0.5 + 0.2);
        let first = sliced_wasserstein(&a, &b, &options(9)).unwrap();
        assert_eq!(first.per_level.len(), 3);
        assert_eq!(first, sliced_wasserstein(&a, &b, &options(9)).unwrap());
        assert_ne!(first, sliced_wasserstein(&a, &b, &options(10)).unwrap());
    }

    #[test]
    fn pyramid_adds_back_up_to_the_image() {
        let image = noise(2, 1, 32, 6);
        let levels = laplacian_pyramid(&image);
        let rebuilt = &levels[0] + upsample(&levels[1]);
        assert!(rebuilt.allclose(&image, 1e-5, 1e-5, false));
        // The blur keeps constant images constant, borders included.
        let flat = Tensor::ones([1, 1, 16, 16], (Kind::Float, Device::Cpu));
        assert!(blur(&flat, 1.0).allclose(&flat, 1e-6, 1e-6, false));
    }

    #[test]
    fn rejects_bad_input() {
        let swd = |a: &Tensor, b: &Tensor| sliced_wasserstein(a, b, &SwdOptions::default());
        let error = swd(&noise(2, 1, 28, 0), &noise(2, 1, 28, 0)).unwrap_err().to_string();
        assert!(error.contains("power of two"), "{error}");
        assert!(swd(&noise(2, 1, 8, 0), &noise(2, 1, 8, 0)).is_err());
        assert!(swd(&noise(2, 1, 32, 0), &noise(3, 1, 32, 0)).is_err());
        assert!(swd(&noise(2, 1, 32, 0).view([2, 32, 32]), &noise(2, 1, 32, 0)).is_err());
        let bad = SwdOptions { repeats: 0, ..SwdOptions::default() };
        assert!(sliced_wasserstein(&noise(2, 1, 16, 0), &noise(2, 1, 16, 0), &bad).is_err());
    }
}
