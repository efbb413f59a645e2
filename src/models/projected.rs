//! Projected GAN (Sauer et al. 2021, "Projected GANs Converge Faster"): a FastGAN generator
//! (Liu et al. 2021) against a discriminator that judges images through a frozen
//! EfficientNet-Lite0, for 32-256 px images.
//!
//! G: a transposed convolution from the latent to 4x4, then up-blocks (2x nearest
//! upsampling, conv3x3, batch norm, GLU) to the image size, FastGAN's "lite" blocks. From
//! 64 px on, skip-layer excitation gates each resolution's channels by the features 16x
//! smaller. A 3x3 convolution and tanh make the image.
//!
//! D: the images, resized to `projected_size` px, go through the frozen network's four
//! stages. Fixed random 1x1 convolutions mix each stage's channels and, from the deepest
//! stage up, add the upsampled deeper mix (cross-channel and cross-scale mixing). One
//! small discriminator per stage (strided conv4x4, batch norm, LeakyReLU down to 8x8 or
//! less, then a conv3x3 logit map pooled to 2x2) judges its mix. The loss judges each of
//! the 16 positions apart, as the paper's; D's logit for anything else is their mean.
//! With `pixel_head`, one more such discriminator reads the images themselves, average-
//! pooled to at most 32 px, and judges 16 positions of its own, so pixels weigh as much as
//! all the stages together.

use tch::nn::{self, ModuleT, SequentialT};
use tch::{Kind, Tensor};

use super::efficientnet::{self, FeatureNetwork, DEEPEST_STRIDE, STAGE_CHANNELS};
use super::layers::{Conv, Weight};
use super::{
    check_square_images, Body, Discriminator, Family, Generator, LatentLayer, LatentLayout,
    LayerInputs, LeakyRelu, WeightInit,
};
use crate::config::GanConfig;
use crate::error::{invalid, Result};
use crate::rng::Rng;

/// Image sizes the generator is built for.
pub const SIZES: [i64; 4] = [32, 64, 128, 256];
/// Sizes the feature network may read images at: multiples of its deepest stride.
pub const INPUT_SIZES: [i64; 7] = [64, 96, 128, 160, 192, 224, 256];
/// The resolution each stage's discriminator stops halving at (the paper's 8).
const HEAD_END: i64 = 8;
/// Each stage's logit map is pooled to this many rows and columns, so that every stage
/// has as many judged positions (as the paper's 4x4 maps at 224 px do).
const POSITIONS_PER_SIDE: i64 = 2;
/// The pixel head's logit map is pooled to this many rows and columns: as many positions
/// as all stages together.
const PIXEL_POSITIONS_PER_SIDE: i64 = 4;
/// The pixel head reads images pooled to this size at most: the colours and layout that
/// the feature network misses show at 32 px, for a quarter of the cost of 64 px.
const PIXEL_HEAD_SIZE: i64 = 32;
/// Seeds the fixed random projections apart from the trained weights' initialisation.
const PROJECTION_STREAM: u64 = 0x5052_4f4a;

pub struct Projected;

impl Family for Projected {
    fn check(&self, config: &GanConfig) -> Result<()> {
        check_square_images(config, "projected", &SIZES)?;
        if ![1, 3].contains(&config.data_shape[0]) {
            return invalid(format!(
                "arch='projected' judges images of 1 or 3 channels through {}, got {}",
                efficientnet::NAME,
                config.data_shape[0]
            ));
        }
        if config.pac > 1 {
            return invalid("arch='projected' judges one image at a time: use pac=1");
        }
        if !INPUT_SIZES.contains(&config.projected_size) {
            return invalid(format!(
                "projected_size must be one of {INPUT_SIZES:?} (multiples of {DEEPEST_STRIDE} \
                 the feature network can read), got {}",
                config.projected_size
            ));
        }
        efficientnet::check_installed()
    }

    fn parameter_estimate(&self, config: &GanConfig) -> f64 {
        let size = config.data_shape[1];
        let mut total = config.latent_dim as f64 * 32.0 * width(config, 4) as f64;
        let mut resolution = 8;
        while resolution <= size {
            total += 18.0 * (width(config, resolution / 2) * width(config, resolution)) as f64;
            resolution *= 2;
        }
        let widest = (config.base_channels * 8) as f64;
        total + 4.0 * 32.0 * widest * widest
    }

    fn generator(&self, p: &nn::Path, config: &GanConfig) -> Generator {
        generator(p, config)
    }

    fn discriminator(&self, p: &nn::Path, config: &GanConfig) -> Discriminator {
        discriminator(p, config)
    }

    fn weight_init(&self) -> WeightInit {
        WeightInit::Normal
    }

    fn latent_layer(&self) -> LatentLayer {
        LatentLayer { weight: "0.weight", layout: LatentLayout::TransposedConv }
    }

    fn judges_positions(&self) -> bool {
        true
    }
}

/// G's width at `resolution`: FastGAN's multiples of `base_channels`, halved.
fn width(config: &GanConfig, resolution: i64) -> i64 {
    let base = config.base_channels;
    let width = match resolution {
        4 => base * 8,
        8 => base * 4,
        16 => base * 2,
        32 | 64 => base,
        128 => base / 2,
        _ => base / 4,
    };
    width.max(1)
}

/// How a network's convolutions are made.
struct Convs {
    compute: Kind,
    spectral_norm: bool,
    bias: bool,
}

impl Convs {
    fn make(
        &self,
        p: nn::Path,
        inputs: i64,
        outputs: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
    ) -> Conv {
        let settings = nn::ConvConfig { padding, stride, bias: self.bias, ..Default::default() };
        let layer = nn::conv2d(&p, inputs, outputs, kernel, settings);
        let weight = Weight::new(&p, layer.ws, self.spectral_norm);
        Conv::new(weight, layer.bs, stride, padding, self.compute)
    }
}

fn batch_norm(p: nn::Path, channels: i64) -> nn::BatchNorm {
    nn::batch_norm2d(p, channels, Default::default())
}

/// FastGAN's small up-block: `[N, inputs, r, r]` to `[N, outputs, 2r, 2r]`.
#[derive(Debug)]
struct UpBlock {
    conv: Conv,
    norm: nn::BatchNorm,
}

impl UpBlock {
    fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        let size = xs.size();
        let up = xs.upsample_nearest2d([size[2] * 2, size[3] * 2], None, None);
        // Batch norm's backward runs 5x faster on the plain layout than on the
        // channels-last one the convolution leaves, with GLU's gradient after it.
        up.apply_t(&self.conv, train).contiguous().apply_t(&self.norm, train).glu(1)
    }
}

/// Skip-layer excitation: a channel gate for large features from small ones.
#[derive(Debug)]
struct Excitation {
    /// Index (in G's features) of the small features that gate.
    source: usize,
    squeeze: Conv,
    expand: Conv,
}

impl Excitation {
    fn forward(&self, small: &Tensor, large: &Tensor, train: bool) -> Tensor {
        let gate = small.adaptive_avg_pool2d([4, 4]).apply_t(&self.squeeze, train);
        let gate = (&gate * gate.sigmoid()).apply_t(&self.expand, train).sigmoid();
        large * gate
    }
}

#[derive(Debug)]
struct GeneratorBody {
    blocks: Vec<UpBlock>,
    /// The excitation of the features each block makes, if any.
    excitations: Vec<Option<Excitation>>,
    to_image: Conv,
}

impl Body for GeneratorBody {
    fn forward(&self, xs: &Tensor, _inputs: LayerInputs, train: bool) -> Tensor {
        let mut features = vec![xs.shallow_clone()];
        for (block, excitation) in self.blocks.iter().zip(&self.excitations) {
            let mut h = block.forward(features.last().expect("G starts from 4x4 features"), train);
            if let Some(excitation) = excitation {
                h = excitation.forward(&features[excitation.source], &h, train);
            }
            features.push(h);
        }
        features.pop().expect("G has features").apply_t(&self.to_image, train).tanh()
    }
}

fn generator(p: &nn::Path, config: &GanConfig) -> Generator {
    let (inputs, start) = (config.generator_input_dim(), width(config, 4));
    let settings = nn::ConvTransposeConfig { bias: false, ..Default::default() };
    let latent = nn::conv_transpose2d(p / "0", inputs, 2 * start, 4, settings);
    let compute = config.precision.compute_kind();
    let first_block = nn::seq_t()
        .add_fn(move |z| z.view([-1, inputs, 1, 1]))
        .add(Conv::transposed(latent.ws, None, 1, 0, compute))
        .add_fn(|x| x.contiguous())
        .add(batch_norm(p / "1", 2 * start))
        .add_fn(|x| x.glu(1));
    let convs = Convs { compute, spectral_norm: false, bias: false };
    let size = config.data_shape[1];
    let (mut blocks, mut excitations) = (vec![], vec![]);
    let mut resolution = 8;
    while resolution <= size {
        let (inputs, outputs) = (width(config, resolution / 2), width(config, resolution));
        let block = p / "up" / resolution;
        blocks.push(UpBlock {
            conv: convs.make(&block / "conv", inputs, 2 * outputs, 3, 1, 1),
            norm: batch_norm(&block / "norm", 2 * outputs),
        });
        excitations.push((resolution >= 64).then(|| {
            let (excite, small) = (p / "excite" / resolution, width(config, resolution / 16));
            Excitation {
                source: blocks.len() - 4,
                squeeze: convs.make(&excite / "squeeze", small, outputs, 4, 1, 0),
                expand: convs.make(&excite / "expand", outputs, outputs, 1, 1, 0),
            }
        }));
        resolution *= 2;
    }
    let channels = config.data_shape[0];
    let to_image = convs.make(p / "to_image", width(config, size), channels, 3, 1, 1);
    let body = GeneratorBody { blocks, excitations, to_image };
    Generator { first_block, body: Box::new(body), per_layer: None, dense_layers: vec![] }
}

/// D's trained and fixed parts after the feature network.
#[derive(Debug)]
struct ProjectedBody {
    features: FeatureNetwork,
    /// Images are resized to this before the feature network.
    input_size: i64,
    /// Fixed 1x1 convolutions mixing each stage's channels.
    channel_mixing: Vec<Conv>,
    /// Fixed 1x1 convolutions from each deeper mix to the stage above it.
    scale_mixing: Vec<Conv>,
    /// One discriminator per stage, to its logits `[N, POSITIONS_PER_SIDE^2]`.
    heads: Vec<SequentialT>,
    /// A discriminator of the images themselves, to `[N, PIXEL_POSITIONS_PER_SIDE^2]`.
    pixel_head: Option<SequentialT>,
}

impl ModuleT for ProjectedBody {
    /// Images to the logits of every judged position: each stage's, then the pixel head's.
    fn forward_t(&self, images: &Tensor, train: bool) -> Tensor {
        let xs = if images.size()[1] == 1 {
            images.expand([-1, 3, -1, -1], false)
        } else {
            images.shallow_clone()
        };
        let size = [self.input_size; 2];
        let xs = match xs.size()[2] {
            s if s > self.input_size => xs.internal_upsample_bilinear2d_aa(size, false, None, None),
            s if s < self.input_size => xs.upsample_bilinear2d(size, false, None, None),
            _ => xs,
        };
        let mut mixed: Vec<Tensor> = self
            .features
            .stages(&xs)
            .iter()
            .zip(&self.channel_mixing)
            .map(|(stage, mixing)| stage.apply_t(mixing, train))
            .collect();
        for (i, mixing) in self.scale_mixing.iter().enumerate().rev() {
            let target = mixed[i].size();
            let deeper =
                mixed[i + 1].upsample_bilinear2d([target[2], target[3]], false, None, None);
            mixed[i] = &mixed[i] + deeper.apply_t(mixing, train);
        }
        let mut logits: Vec<Tensor> = mixed
            .iter()
            .zip(&self.heads)
            .map(|(features, head)| features.apply_t(head, train).to_kind(Kind::Float))
            .collect();
        if let Some(pixel_head) = &self.pixel_head {
            let factor = (images.size()[2] / PIXEL_HEAD_SIZE).max(1);
            let pooled = if factor > 1 {
                images.avg_pool2d([factor, factor], [factor, factor], [0, 0], false, true, None)
            } else {
                images.shallow_clone()
            };
            logits.push(pooled.apply_t(pixel_head, train).to_kind(Kind::Float));
        }
        Tensor::cat(&logits, 1)
    }
}

/// A fixed 1x1 convolution drawn as PyTorch's default, U(±1/sqrt(inputs)), outside the
/// trained variables.
fn fixed_conv(p: nn::Path, inputs: i64, outputs: i64, rng: &mut Rng, config: &GanConfig) -> Conv {
    let bound = 1.0 / (inputs as f64).sqrt();
    let mut draw = |name: &str, shape: &[i64]| {
        let mut var = p.zeros_no_train(name, shape);
        let values = rng.uniform_tensor(shape, var.device()) * (2.0 * bound) - bound;
        tch::no_grad(|| var.copy_(&values));
        var
    };
    let weight = draw("weight", &[outputs, inputs, 1, 1]);
    let bias = draw("bias", &[outputs]);
    Conv::new(Weight::Plain(weight), Some(bias), 1, 0, config.precision.compute_kind())
}

/// Width of stage `stage`'s mix: `base_channels`, doubled per stage (the paper's 64 to 512).
fn mix_width(config: &GanConfig, stage: usize) -> i64 {
    config.base_channels << stage
}

fn discriminator(p: &nn::Path, config: &GanConfig) -> Discriminator {
    let features = FeatureNetwork::load(p.device(), config.precision.compute_kind())
        .expect("GanConfig::validate checks that the feature network is installed");
    let mut rng = Rng::new(config.seed ^ PROJECTION_STREAM);
    let stages = STAGE_CHANNELS.len();
    let channel_mixing = (0..stages)
        .map(|i| {
            let path = p / "channel_mixing" / i;
            fixed_conv(path, STAGE_CHANNELS[i], mix_width(config, i), &mut rng, config)
        })
        .collect();
    let scale_mixing = (0..stages - 1)
        .map(|i| {
            let path = p / "scale_mixing" / i;
            fixed_conv(path, mix_width(config, i + 1), mix_width(config, i), &mut rng, config)
        })
        .collect();
    let heads = HeadBuilder::new(config);
    let stage_heads = (0..stages)
        .map(|i| {
            let resolution = config.projected_size / (4 << i);
            heads.build(p / "heads" / i, mix_width(config, i), resolution, POSITIONS_PER_SIDE)
        })
        .collect();
    let pixel_head = config.pixel_head.then(|| {
        let (path, width) = (p / "pixel_head", config.base_channels);
        let (channels, size) = (config.data_shape[0], config.data_shape[1].min(PIXEL_HEAD_SIZE));
        nn::seq_t()
            .add(heads.convs.make(&path / "from_image", channels, width, 3, 1, 1))
            .add(LeakyRelu)
            .add(heads.build(path, width, size, PIXEL_POSITIONS_PER_SIDE))
    });
    let pixel_positions = if config.pixel_head { PIXEL_POSITIONS_PER_SIDE.pow(2) } else { 0 };
    let body = ProjectedBody {
        features,
        input_size: config.projected_size,
        channel_mixing,
        scale_mixing,
        heads: stage_heads,
        pixel_head,
    };
    let head = nn::seq_t().add_fn(|x| x.mean_dim(1, false, None));
    Discriminator {
        body: nn::seq_t().add(body),
        head,
        feature_dim: stages as i64 * POSITIONS_PER_SIDE.pow(2) + pixel_positions,
        dense_layers: vec![],
    }
}

/// Builds D's small discriminators, one per stage (and the pixel head).
struct HeadBuilder {
    convs: Convs,
    batch_norm: bool,
    widest: i64,
}

impl HeadBuilder {
    fn new(config: &GanConfig) -> Self {
        // The paper's heads have batch norm under spectral norm too; only a gradient
        // penalty, which acts on per-image gradients, rules it out.
        let batch_norm = !config.uses_gradient_penalty();
        let convs = Convs {
            compute: config.precision.compute_kind(),
            spectral_norm: config.spectral_norm,
            bias: !batch_norm,
        };
        HeadBuilder { convs, batch_norm, widest: config.base_channels * 8 }
    }

    /// Strided conv4x4, batch norm and LeakyReLU from `resolution` down to `HEAD_END` or
    /// less, then a conv3x3 logit map pooled to `side` x `side`: `[N, side^2]`.
    fn build(
        &self,
        head: nn::Path,
        mut inputs: i64,
        mut resolution: i64,
        side: i64,
    ) -> SequentialT {
        let (mut layers, mut block) = (nn::seq_t(), 0);
        while resolution > HEAD_END {
            let outputs = (inputs * 2).min(self.widest);
            let path = &head / block;
            layers = layers.add(self.convs.make(&path / "conv", inputs, outputs, 4, 2, 1));
            if self.batch_norm {
                layers = layers.add(batch_norm(&path / "norm", outputs));
            }
            layers = layers.add(LeakyRelu);
            (inputs, resolution, block) = (outputs, resolution / 2, block + 1);
        }
        layers
            .add(self.convs.make(&head / "logits", inputs, 1, 3, 1, 1))
            .add_fn(move |x| x.adaptive_avg_pool2d([side, side]).flatten(1, -1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Arch;
    use tch::Device;

    fn config(size: i64, channels: i64) -> GanConfig {
        efficientnet::install_random_for_tests();
        GanConfig {
            arch: Arch::Projected,
            data_shape: vec![channels, size, size],
            base_channels: 8,
            latent_dim: 16,
            ..GanConfig::default()
        }
    }

    #[test]
    fn every_size_maps_latents_to_images_and_images_to_logits() {
        for (size, channels) in [(32, 1), (64, 3), (128, 3)] {
            let config = config(size, channels);
            Projected.check(&config).unwrap();
            super::super::assert_maps_latents_to_logits(&Projected, &config);
        }
    }

    /// The feature network adds no variables; the random projections are kept but not
    /// trained, and D's update needs no gradient through the feature network.
    #[test]
    fn only_the_heads_train() {
        let config = config(64, 3);
        let vs = nn::VarStore::new(Device::Cpu);
        let d = discriminator(&vs.root(), &config);
        let names: Vec<String> = vs.variables().into_keys().collect();
        let trained: Vec<Tensor> = vs.trainable_variables();
        assert!(names.iter().any(|n| n.starts_with("channel_mixing.0")), "{names:?}");
        assert!(names.iter().all(|n| !n.starts_with('_')), "{names:?}");
        let fixed = vs.variables().into_iter().filter(|(n, _)| n.contains("mixing")).count();
        assert_eq!(fixed, 2 * (4 + 3));
        assert!(trained.iter().all(|t| vs
            .variables()
            .iter()
            .any(|(n, v)| n.starts_with("heads") && v.data_ptr() == t.data_ptr())));
        let images = Tensor::rand([2, 3, 64, 64], (Kind::Float, Device::Cpu));
        let logits = images.apply_t(&d.body, true);
        assert!(logits.requires_grad(), "the heads are trained");
        let features = tch::no_grad(|| images.apply_t(&d.body, true));
        assert!(!features.requires_grad());
    }

    #[test]
    fn the_pixel_head_trains_and_judges_as_many_positions_as_the_stages() {
        for (size, channels) in [(32, 1), (64, 3)] {
            let config = GanConfig { pixel_head: true, ..config(size, channels) };
            let vs = nn::VarStore::new(Device::Cpu);
            let d = discriminator(&vs.root(), &config);
            let names: Vec<String> = vs.variables().into_keys().collect();
            assert!(names.iter().any(|n| n.starts_with("pixel_head.from_image")), "{names:?}");
            let images = Tensor::rand([2, channels, size, size], (Kind::Float, Device::Cpu));
            let positions = images.apply_t(&d.body, true);
            assert_eq!(positions.size(), [2, d.feature_dim]);
            assert_eq!(d.feature_dim, 32);
            positions.narrow(1, 16, 16).sum(Kind::Float).backward();
            for (name, var) in vs.variables().into_iter().filter(|(_, v)| v.requires_grad()) {
                let moved = var.grad().defined()
                    && var.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0;
                assert_eq!(moved, name.starts_with("pixel_head"), "{name}");
            }
        }
    }

    #[test]
    fn sizes_it_cannot_take_are_refused_with_those_it_can() {
        let err = Projected.check(&config(48, 3)).unwrap_err().to_string();
        assert!(err.contains("48") && err.contains("[32, 64, 128, 256]"), "{err}");
        let odd = GanConfig { projected_size: 100, ..config(64, 3) };
        let err = Projected.check(&odd).unwrap_err().to_string();
        assert!(err.contains("100") && err.contains("224"), "{err}");
        let err = Projected.check(&config(64, 4)).unwrap_err().to_string();
        assert!(err.contains("1 or 3 channels"), "{err}");
    }
}
