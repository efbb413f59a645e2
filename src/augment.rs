//! DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN
//! Training"): the same random, differentiable transformations are applied to real and
//! generated images before D sees them, so D cannot memorise a small data set and G still
//! receives gradients through them. With adaptive augmentation (`adaptive_augment`) each
//! transformation reaches an image only with a probability.

use tch::{Kind, Tensor};

use crate::config::Augment;
use crate::rng::UniformSource;

/// Largest shift of `translation`, as a fraction of the image size.
const TRANSLATION_RATIO: f64 = 0.125;
/// Side of the `cutout` square, as a fraction of the image size.
const CUTOUT_RATIO: f64 = 0.5;

/// Applies `policy` to images `[B, C, H, W]`, with fresh draws from `random`: each
/// transformation to each image with `probability` (1: to every image).
pub fn augment(
    images: &Tensor,
    policy: &[Augment],
    probability: f64,
    random: &mut impl UniformSource,
) -> Tensor {
    let mut x = images.shallow_clone();
    if probability <= 0.0 {
        return x;
    }
    for kind in policy {
        let transformed = match kind {
            Augment::Color => color(&x, random),
            Augment::Translation => translation(&x, random),
            Augment::Cutout => cutout(&x, random),
        };
        x = if probability >= 1.0 {
            transformed
        } else {
            transformed.where_self(&per_image(&x, random).lt(probability), &x)
        };
    }
    x
}

/// Per-image uniform values `[B, 1, 1, 1]` in [0, 1).
fn per_image(x: &Tensor, random: &mut impl UniformSource) -> Tensor {
    random.uniform(x.size()[0], &[1, 1, 1])
}

/// Per-image integers `[B, 1, 1]` in `[low, high]`.
fn per_image_int(x: &Tensor, low: i64, high: i64, random: &mut impl UniformSource) -> Tensor {
    let u = random.uniform(x.size()[0], &[1, 1]);
    ((u * (high - low + 1) as f64).floor() + low as f64).clamp_max(high as f64).to_kind(Kind::Int64)
}

/// Brightness shift in [-0.5, 0.5), saturation scale in [0, 2), contrast scale in [0.5, 1.5).
fn color(x: &Tensor, random: &mut impl UniformSource) -> Tensor {
    let x = x + (per_image(x, random) - 0.5);
    let channel_mean = x.mean_dim([1i64].as_slice(), true, None);
    let x = (&x - &channel_mean) * (per_image(&x, random) * 2.0) + &channel_mean;
    let image_mean = x.mean_dim([1i64, 2, 3].as_slice(), true, None);
    (&x - &image_mean) * (per_image(&x, random) + 0.5) + &image_mean
}

/// Shifts each image by whole pixels; uncovered pixels become 0.
fn translation(x: &Tensor, random: &mut impl UniformSource) -> Tensor {
    let (batch, height, width) = (x.size()[0], x.size()[2], x.size()[3]);
    let shift = (height as f64 * TRANSLATION_RATIO + 0.5) as i64;
    let dy = per_image_int(x, -shift, shift, random);
    let dx = per_image_int(x, -shift, shift, random);
    let device = x.device();
    // Indices into the image padded by one zero pixel; clamping lands out-of-range
    // reads on the padding.
    let rows = (Tensor::arange(height, (Kind::Int64, device)).view([1, -1, 1]) + dy + 1)
        .clamp(0, height + 1);
    let cols = (Tensor::arange(width, (Kind::Int64, device)).view([1, 1, -1]) + dx + 1)
        .clamp(0, width + 1);
    let items = Tensor::arange(batch, (Kind::Int64, device)).view([-1, 1, 1]);
    let padded = x.constant_pad_nd([1i64, 1, 1, 1].as_slice()).permute([0, 2, 3, 1]); // [B, H+2, W+2, C]
    padded.index(&[Some(items), Some(rows), Some(cols)]).permute([0, 3, 1, 2]) // [B, C, H, W]
}

/// Sets a square of side `CUTOUT_RATIO * size` at a random centre to 0.
fn cutout(x: &Tensor, random: &mut impl UniformSource) -> Tensor {
    let (height, width) = (x.size()[2], x.size()[3]);
    let side = (height as f64 * CUTOUT_RATIO + 0.5) as i64;
    let top = per_image_int(x, 0, height - 1, random) - side / 2;
    let left = per_image_int(x, 0, width - 1, random) - side / 2;
    let device = x.device();
    let rows = Tensor::arange(height, (Kind::Int64, device)).view([1, -1, 1]);
    let cols = Tensor::arange(width, (Kind::Int64, device)).view([1, 1, -1]);
    let inside =
        |t: &Tensor, start: &Tensor| t.ge_tensor(start).logical_and(&t.lt_tensor(&(start + side)));
    let cut = inside(&rows, &top).logical_and(&inside(&cols, &left)); // [B, H, W]
    x * cut.logical_not().unsqueeze(1).to_kind(x.kind())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use tch::Device;

    impl UniformSource for Rng {
        fn uniform(&mut self, batch: i64, rest: &[i64]) -> Tensor {
            let shape: Vec<i64> = [batch].iter().chain(rest).copied().collect();
            self.uniform_tensor(&shape, Device::Cpu)
        }
    }

    fn images() -> Tensor {
        Tensor::ones([8, 1, 28, 28], (Kind::Float, Device::Cpu)).set_requires_grad(true)
    }

    #[test]
    fn translation_moves_content_and_keeps_gradients() {
        let policy = [Augment::Translation];
        let x = images();
        let shifted = augment(&x, &policy, 1.0, &mut Rng::new(0));
        assert_eq!(shifted.size(), x.size());
        // Shifts of at most 4 px (of 28) leave at least 24 x 24 ones and at most all.
        let kept = shifted.sum_dim_intlist([1i64, 2, 3].as_slice(), false, None);
        assert!(kept.min().double_value(&[]) >= 24.0 * 24.0);
        assert!(kept.lt(784.0).any().int64_value(&[]) == 1, "some image must move");
        let grad = Tensor::run_backward(&[shifted.sum(None)], &[&x], false, false);
        assert!(grad[0].sum(None).double_value(&[]) > 0.0);
    }

    #[test]
    fn cutout_zeroes_at_most_a_half_size_square() {
        let policy = [Augment::Cutout];
        let cut = augment(&images(), &policy, 1.0, &mut Rng::new(0));
        let zeroed = cut.eq(0.0).sum_dim_intlist([1i64, 2, 3].as_slice(), false, None);
        assert!(zeroed.max().double_value(&[]) <= 14.0 * 14.0);
        assert!(
            zeroed.min().double_value(&[]) >= 7.0 * 7.0,
            "a square at a corner keeps a quarter"
        );
    }

    #[test]
    fn color_changes_brightness_per_image() {
        let policy = [Augment::Color];
        let x = Tensor::rand([8, 3, 28, 28], (Kind::Float, Device::Cpu));
        let image_means = |t: &Tensor| t.mean_dim([1i64, 2, 3].as_slice(), false, None);
        let means = image_means(&augment(&x, &policy, 1.0, &mut Rng::new(0))) - image_means(&x);
        let spread = means.max().double_value(&[]) - means.min().double_value(&[]);
        assert!(spread > 0.1 && means.abs().max().double_value(&[]) <= 0.5 + 1e-5, "{spread}");
    }

    /// With probability p an image is transformed or left as it was, whole; 0 leaves all.
    #[test]
    fn a_probability_transforms_some_images_whole() {
        let policy = [Augment::Color];
        let x = Tensor::rand([64, 3, 8, 8], (Kind::Float, Device::Cpu));
        let unchanged = |p: f64| {
            let y = augment(&x, &policy, p, &mut Rng::new(0));
            let same = (&y - &x).abs().amax([1i64, 2, 3].as_slice(), false).eq(0.0);
            same.sum(Kind::Int64).int64_value(&[])
        };
        assert_eq!(unchanged(0.0), 64);
        assert_eq!(unchanged(1.0), 0);
        let half = unchanged(0.5);
        assert!((16..=48).contains(&half), "{half} of 64 left");
    }
}
