//! pix2pix's generator (Isola et al. 2017, "Image-to-Image Translation with Conditional
//! Adversarial Networks"): a U-Net whose encoder halves the image with 4x4 stride-2
//! convolutions down to a few pixels, and whose decoder doubles it back with transposed
//! ones, each decoder layer reading the encoder's features of its size beside its own.
//! Dropout in the three innermost decoder layers is its noise while training.
//!
//! Layer names follow `rustgan.torch_modules.UNetGenerator`: `down.{i}.conv`,
//! `down.{i}.norm`, `up.{i}.conv`, `up.{i}.norm`, level 0 at full resolution.

use tch::nn;
use tch::{Kind, Tensor};

use super::layers::{Conv, Weight};
use super::LeakyRelu;
use crate::config::Precision;
use crate::error::{invalid, Result};
use crate::flat_params::FlatParams;
use crate::rng::UniformSource;

/// Smallest and largest image side the U-Net and the PatchGAN are built for.
pub const MIN_SIZE: i64 = 16;
pub const MAX_SIZE: i64 = 512;

/// Most encoder levels: pix2pix's 256 px U-Net goes down 8 times, to 1x1.
const MAX_LEVELS: usize = 8;
/// Decoder layers with dropout, counted from the innermost.
const DROPOUT_LAYERS: usize = 3;

/// Sides `(height, width)` of the encoder's outputs: each level halves (rounding down)
/// until a side would drop below 1.
pub fn level_sizes(height: i64, width: i64) -> Vec<(i64, i64)> {
    let mut sizes = vec![];
    let (mut h, mut w) = (height, width);
    while h.min(w) >= 2 && sizes.len() < MAX_LEVELS {
        (h, w) = (h / 2, w / 2);
        sizes.push((h, w));
    }
    sizes
}

/// Channels of encoder level `level`: doubling from `base` up to 8x.
pub fn level_width(base: i64, level: usize) -> i64 {
    base << level.min(3)
}

struct Down {
    conv: Conv,
    norm: Option<nn::BatchNorm>,
}

struct Up {
    conv: Conv,
    norm: Option<nn::BatchNorm>,
    dropout: bool,
}

pub struct UNet {
    vs: nn::VarStore,
    params: FlatParams,
    downs: Vec<Down>,
    ups: Vec<Up>,
    dropout: f64,
}

/// What a U-Net is built from.
#[derive(Clone, Debug, PartialEq)]
pub struct UNetSpec {
    pub in_channels: i64,
    pub out_channels: i64,
    /// Image sides, shared by inputs and outputs.
    pub height: i64,
    pub width: i64,
    /// Channels of the outermost level; deeper levels double it up to 8x.
    pub base_channels: i64,
    /// Dropout of the three innermost decoder layers while training.
    pub dropout: f64,
    pub precision: Precision,
}

/// Checks that `shape` (the option `name`) is an image the U-Net and the PatchGAN are
/// built for: `(channels, height, width)` with 1-64 channels and sides in
/// [`MIN_SIZE`, `MAX_SIZE`].
pub fn check_image_shape(name: &str, shape: &[i64]) -> Result<()> {
    let fits = |side: &i64| (MIN_SIZE..=MAX_SIZE).contains(side);
    if shape.len() != 3 || !(1..=64).contains(&shape[0]) || !shape[1..].iter().all(fits) {
        return invalid(format!(
            "{name} must be (channels, height, width) with 1-64 channels and sides in \
             [{MIN_SIZE}, {MAX_SIZE}], got {shape:?}"
        ));
    }
    Ok(())
}

impl UNet {
    pub fn vs(&self) -> &nn::VarStore {
        &self.vs
    }

    /// The trained variables as one flat buffer.
    pub fn params(&self) -> &FlatParams {
        &self.params
    }

    pub fn params_mut(&mut self) -> &mut FlatParams {
        &mut self.params
    }

    pub fn new(device: tch::Device, spec: &UNetSpec) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let compute = spec.precision.compute_kind();
        let (height, width) = (spec.height, spec.width);
        let sizes = level_sizes(height, width);
        let levels = sizes.len();
        let channels = |level: usize| level_width(spec.base_channels, level);
        let conv_config = nn::ConvConfig { stride: 2, padding: 1, ..Default::default() };
        let mut downs = vec![];
        for level in 0..levels {
            let p = &root / "down" / level;
            let inputs = if level == 0 { spec.in_channels } else { channels(level - 1) };
            // The outermost layer sees the image and the innermost a few pixels: neither
            // is normalised, as in pix2pix. Normalised layers need no bias.
            let normalised = level > 0 && level + 1 < levels;
            let conv_config = nn::ConvConfig { bias: !normalised, ..conv_config };
            let layer = nn::conv2d(&p / "conv", inputs, channels(level), 4, conv_config);
            let conv = Conv::new(Weight::Plain(layer.ws), layer.bs, 2, 1, compute);
            let norm = normalised
                .then(|| nn::batch_norm2d(&p / "norm", channels(level), Default::default()));
            downs.push(Down { conv, norm });
        }
        let mut ups = vec![];
        for level in 0..levels {
            let p = &root / "up" / level;
            let inputs = if level + 1 == levels { channels(level) } else { 2 * channels(level) };
            let outputs = if level == 0 { spec.out_channels } else { channels(level - 1) };
            let normalised = level > 0;
            let transposed = nn::ConvTransposeConfig {
                stride: 2,
                padding: 1,
                bias: !normalised,
                ..Default::default()
            };
            let layer = nn::conv_transpose2d(&p / "conv", inputs, outputs, 4, transposed);
            // Odd sides: the output must match the encoder's features of its level.
            let (target_h, target_w) = if level == 0 { (height, width) } else { sizes[level - 1] };
            let extra = [target_h - 2 * sizes[level].0, target_w - 2 * sizes[level].1];
            let conv =
                Conv::transposed(layer.ws, layer.bs, 2, 1, compute).with_output_padding(extra);
            let norm =
                normalised.then(|| nn::batch_norm2d(&p / "norm", outputs, Default::default()));
            let dropout = level > 0 && level + DROPOUT_LAYERS >= levels;
            ups.push(Up { conv, norm, dropout });
        }
        let params = FlatParams::new(&vs);
        UNet { vs, params, downs, ups, dropout: spec.dropout }
    }

    /// Images `[N, in_C, H, W]` to `[N, out_C, H, W]` in [-1, 1]. While training, batch
    /// norm uses batch statistics and, given `noise`, dropout masks are drawn from it.
    pub fn forward(
        &self,
        xs: &Tensor,
        train: bool,
        mut noise: Option<&mut dyn UniformSource>,
    ) -> Tensor {
        let mut skips: Vec<Tensor> = Vec::with_capacity(self.downs.len());
        let mut h = xs.shallow_clone();
        for (level, down) in self.downs.iter().enumerate() {
            if level > 0 {
                h = nn::Module::forward(&LeakyRelu, &h);
            }
            h = h.apply_t(&down.conv, train);
            if let Some(norm) = &down.norm {
                h = h.apply_t(norm, train);
            }
            skips.push(h.shallow_clone());
        }
        for (level, up) in self.ups.iter().enumerate().rev() {
            // ReLU before joining, not after: the join's backward hands each half a
            // strided slice of one gradient, which batch norm's backward takes a slow path
            // for, while ReLU's backward writes it out densely.
            h = h.relu();
            if level + 1 < self.ups.len() {
                h = Tensor::cat(&[&h, &skips[level].relu()], 1);
            }
            h = h.apply_t(&up.conv, train);
            if let Some(norm) = &up.norm {
                h = h.apply_t(norm, train);
            }
            if let (true, true, Some(noise)) =
                (up.dropout && self.dropout > 0.0, train, noise.as_deref_mut())
            {
                let size = h.size();
                let keep = noise.uniform(size[0], &size[1..]).ge(self.dropout);
                h = h * keep.to_kind(Kind::Float) / (1.0 - self.dropout);
            }
        }
        h.tanh().to_kind(Kind::Float)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn odd_and_even_sides_come_back_whole() {
        assert_eq!(level_sizes(28, 28), [(14, 14), (7, 7), (3, 3), (1, 1)]);
        assert_eq!(level_sizes(32, 32).len(), 5);
        assert_eq!(level_sizes(512, 512).len(), MAX_LEVELS);
        for (height, width, ins, outs) in [(28, 28, 2, 1), (32, 48, 3, 3), (64, 64, 1, 3)] {
            let spec = UNetSpec {
                in_channels: ins,
                out_channels: outs,
                height,
                width,
                base_channels: 4,
                dropout: 0.5,
                precision: Precision::Fp32,
            };
            let unet = UNet::new(Device::Cpu, &spec);
            let xs = Tensor::randn([2, ins, height, width], (Kind::Float, Device::Cpu));
            let ys = unet.forward(&xs, true, None);
            assert_eq!(ys.size(), [2, outs, height, width]);
            assert!(ys.abs().max().double_value(&[]) <= 1.0);
        }
    }
}
