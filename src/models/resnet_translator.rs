//! CycleGAN's ResNet generator (Zhu et al. 2017, after Johnson et al. 2016): a 7x7
//! convolution, two stride-2 convolutions down to a quarter of the image, residual blocks
//! there, two upsamplings back and a 7x7 convolution to the output, with reflection
//! padding and instance norm throughout. Unlike the U-Net it has no skips from the
//! encoder, so everything it keeps passes through the blocks, which leaves it free to
//! repaint textures.
//!
//! The upsamplings are nearest-neighbour doubling and a 3x3 convolution, not the paper's
//! transposed convolutions, whose uneven overlap leaves a checkerboard in flat regions.
//!
//! Layer names follow `rustgan.torch_modules.ResnetTranslator`: `stem`, `down.{i}`,
//! `blocks.{i}.conv1`, `blocks.{i}.conv2`, `up.{i}`, `head`.

use tch::nn;
use tch::{Kind, Tensor};

use super::layers::{Conv, Weight};
use crate::config::Precision;
use crate::flat_params::FlatParams;

/// Each of the two downsamplings halves the sides, so they must divide by this.
pub const SIDE_MULTIPLE: i64 = 4;
const DOWNSAMPLINGS: usize = 2;

/// What a ResNet translator is built from.
#[derive(Clone, Debug, PartialEq)]
pub struct ResnetTranslatorSpec {
    pub in_channels: i64,
    pub out_channels: i64,
    /// Channels at full resolution; the blocks run at 4x this.
    pub base_channels: i64,
    /// Residual blocks at a quarter of the image (CycleGAN: 6 below 256 px, 9 from it).
    pub blocks: usize,
    pub precision: Precision,
}

pub struct ResnetTranslator {
    vs: nn::VarStore,
    params: FlatParams,
    stem: Conv,
    downs: Vec<Conv>,
    blocks: Vec<(Conv, Conv)>,
    ups: Vec<Conv>,
    head: Conv,
}

/// A convolution with a bias, padded by reflection before it rather than with zeros.
fn conv(p: nn::Path, inputs: i64, outputs: i64, kernel: i64, stride: i64, compute: Kind) -> Conv {
    let layer =
        nn::conv2d(p, inputs, outputs, kernel, nn::ConvConfig { stride, ..Default::default() });
    Conv::new(Weight::Plain(layer.ws), layer.bs, stride, 0, compute)
}

/// `conv` after reflection padding that keeps the sides (halves them at stride 2).
fn padded(xs: &Tensor, conv: &Conv, kernel: i64) -> Tensor {
    let pad = kernel / 2;
    xs.reflection_pad2d([pad; 4]).apply_t(conv, true)
}

/// Instance norm without learnt scale or shift (CycleGAN's), then ReLU unless `last`.
fn normalised(xs: Tensor, relu: bool) -> Tensor {
    let xs = xs
        .to_kind(Kind::Float)
        .instance_norm::<&Tensor>(None, None, None, None, true, 0.1, 1e-5, false);
    if relu {
        xs.relu()
    } else {
        xs
    }
}

impl ResnetTranslator {
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

    pub fn new(device: tch::Device, spec: &ResnetTranslatorSpec) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let compute = spec.precision.compute_kind();
        let width = |level: usize| spec.base_channels << level;
        let stem = conv(&root / "stem", spec.in_channels, width(0), 7, 1, compute);
        let downs = (0..DOWNSAMPLINGS)
            .map(|i| conv(&root / "down" / i, width(i), width(i + 1), 3, 2, compute))
            .collect();
        let inner = width(DOWNSAMPLINGS);
        let blocks = (0..spec.blocks)
            .map(|i| {
                let p = &root / "blocks" / i;
                (
                    conv(&p / "conv1", inner, inner, 3, 1, compute),
                    conv(&p / "conv2", inner, inner, 3, 1, compute),
                )
            })
            .collect();
        let ups = (0..DOWNSAMPLINGS)
            .map(|i| {
                let level = DOWNSAMPLINGS - i;
                conv(&root / "up" / i, width(level), width(level - 1), 3, 1, compute)
            })
            .collect();
        let head = conv(&root / "head", width(0), spec.out_channels, 7, 1, compute);
        let params = FlatParams::new(&vs);
        ResnetTranslator { vs, params, stem, downs, blocks, ups, head }
    }

    /// Images `[N, in_C, H, W]` to `[N, out_C, H, W]` in [-1, 1]; H and W divide by
    /// `SIDE_MULTIPLE`. Instance norm reads each image's own statistics, in training and
    /// out of it alike.
    pub fn forward(&self, xs: &Tensor) -> Tensor {
        let mut h = normalised(padded(xs, &self.stem, 7), true);
        for down in &self.downs {
            h = normalised(padded(&h, down, 3), true);
        }
        for (conv1, conv2) in &self.blocks {
            let r = normalised(padded(&h, conv1, 3), true);
            h = &h + normalised(padded(&r, conv2, 3), false);
        }
        for up in &self.ups {
            let size = h.size();
            let doubled = h.upsample_nearest2d([size[2] * 2, size[3] * 2], None, None);
            h = normalised(padded(&doubled, up, 3), true);
        }
        padded(&h, &self.head, 7).tanh().to_kind(Kind::Float)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn images_come_back_at_their_size_in_range() {
        for (ins, outs, side, blocks) in [(3, 3, 32, 2), (1, 3, 16, 0), (3, 1, 24, 1)] {
            let spec = ResnetTranslatorSpec {
                in_channels: ins,
                out_channels: outs,
                base_channels: 4,
                blocks,
                precision: Precision::Fp32,
            };
            let net = ResnetTranslator::new(Device::Cpu, &spec);
            let xs = Tensor::randn([2, ins, side, side], (Kind::Float, Device::Cpu));
            let ys = net.forward(&xs);
            assert_eq!(ys.size(), [2, outs, side, side]);
            assert!(ys.abs().max().double_value(&[]) <= 1.0);
            let names: Vec<String> = net.vs().variables().into_keys().collect();
            assert_eq!(names.len(), 2 * (2 + 2 * DOWNSAMPLINGS + 2 * blocks));
        }
    }
}
