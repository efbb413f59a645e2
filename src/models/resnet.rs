//! Residual networks in the style of SNGAN (Miyato et al. 2018, "Spectral Normalization
//! for Generative Adversarial Networks") and BigGAN, for 28, 32, 64 and 128 px images.
//!
//! G: a linear layer to `[width, start, start]` features, up-blocks (BN, ReLU, 2x nearest
//! upsampling, conv3x3, BN, ReLU, conv3x3, plus an upsampled 1x1 shortcut), then BN, ReLU,
//! conv3x3 and tanh; a conditioned G reads its class through the up-blocks' batch norms.
//! D: an optimised first block, down-blocks (ReLU, conv3x3, ReLU, conv3x3, 2x average
//! pooling, plus a 1x1 pooled shortcut), ReLU, a sum over positions and a linear head. Widths halve in G as the resolution doubles and double in D as it
//! halves, starting from `base_channels` at the image's resolution.

use tch::nn::{self, ModuleT, SequentialT};
use tch::{Kind, Tensor};

use super::layers::{Conv, Linear, Weight};
use super::{
    check_square_images, Body, Discriminator, Family, Generator, LatentLayer, LatentLayout,
    LayerInputs, WeightInit,
};
use crate::config::GanConfig;
use crate::error::Result;

/// Image sizes the networks are built for.
pub const SIZES: [i64; 4] = [28, 32, 64, 128];

pub struct Resnet;

impl Family for Resnet {
    fn check(&self, config: &GanConfig) -> Result<()> {
        check_square_images(config, "resnet", &SIZES)
    }

    fn parameter_estimate(&self, config: &GanConfig) -> f64 {
        let (start, blocks) = pyramid(config.data_shape[1]);
        let widest = (config.base_channels << blocks) as f64;
        // The linear layer, then two 3x3 convolutions per block at up to the widest width.
        config.latent_dim as f64 * widest * (start * start) as f64
            + blocks as f64 * 18.0 * widest * widest
    }

    fn generator(&self, p: &nn::Path, config: &GanConfig) -> Generator {
        generator(p, config)
    }

    fn discriminator(&self, p: &nn::Path, config: &GanConfig) -> Discriminator {
        discriminator(p, config)
    }

    fn weight_init(&self) -> WeightInit {
        WeightInit::XavierUniform
    }

    fn latent_layer(&self) -> LatentLayer {
        LatentLayer { weight: "0.weight", layout: LatentLayout::Linear }
    }
}

/// The resolution G starts (and D ends) at, and the number of blocks between it and the
/// image size, each doubling (G) or halving (D) the resolution.
pub fn pyramid(size: i64) -> (i64, i64) {
    let start = if size == 28 { 7 } else { 4 };
    (start, (size / start).ilog2() as i64)
}

/// Width at the resolution `blocks_from_image` factor-2 steps away from the image's.
fn width(config: &GanConfig, blocks_from_image: i64) -> i64 {
    config.base_channels << blocks_from_image
}

/// Builds layers under a path the way PyTorch names a module's attributes.
struct Layers<'a> {
    p: nn::Path<'a>,
    compute: Kind,
    spectral_norm: bool,
}

impl<'a> Layers<'a> {
    fn new(p: nn::Path<'a>, config: &GanConfig, spectral_norm: bool) -> Self {
        Layers { p, compute: config.precision.compute_kind(), spectral_norm }
    }

    fn sub(&self, name: &str) -> Layers<'a> {
        Layers { p: &self.p / name, compute: self.compute, spectral_norm: self.spectral_norm }
    }

    fn conv(&self, name: &str, inputs: i64, outputs: i64, kernel: i64) -> Conv {
        let path = &self.p / name;
        let config = nn::ConvConfig { padding: kernel / 2, ..Default::default() };
        let layer = nn::conv2d(&path, inputs, outputs, kernel, config);
        let weight = Weight::new(&path, layer.ws, self.spectral_norm);
        Conv::new(weight, layer.bs, 1, kernel / 2, self.compute)
    }

    fn linear(&self, name: &str, inputs: i64, outputs: i64) -> Linear {
        let path = &self.p / name;
        let layer = nn::linear(&path, inputs, outputs, Default::default());
        Linear::new(Weight::new(&path, layer.ws, self.spectral_norm), layer.bs, self.compute)
    }

    fn batch_norm(&self, name: &str, channels: i64) -> nn::BatchNorm {
        nn::batch_norm2d(&self.p / name, channels, Default::default())
    }

    /// Batch norm, with a scale and shift per class when `classes` > 0.
    fn norm(&self, name: &str, channels: i64, classes: i64) -> Norm {
        if classes == 0 {
            return Norm::Plain(self.batch_norm(name, channels));
        }
        let path = &self.p / name;
        let config = nn::BatchNormConfig { affine: false, ..Default::default() };
        let per_class =
            |what: &str| (&path / what).var("weight", &[channels, classes], nn::Init::Const(0.0));
        Norm::Class {
            norm: nn::batch_norm2d(&path, channels, config),
            gain: per_class("gain"),
            shift: per_class("shift"),
        }
    }
}

/// G's batch norm: plain, or conditional (de Vries et al. 2017; SNGAN's categorical
/// conditional batch norm), which scales the normalised features by 1 + `gain`·y and
/// shifts them by `shift`·y for one-hot classes y. `gain` and `shift` are `[C, classes]`,
/// as the weights of PyTorch's `nn.Linear(classes, C, bias=False)`, and are initialised
/// like the other weights, so classes differ from the first step.
#[derive(Debug)]
enum Norm {
    Plain(nn::BatchNorm),
    Class { norm: nn::BatchNorm, gain: Tensor, shift: Tensor },
}

impl Norm {
    fn forward(&self, xs: &Tensor, classes: Option<&Tensor>, train: bool) -> Tensor {
        match (self, classes) {
            (Norm::Plain(norm), _) | (Norm::Class { norm, .. }, None) => xs.apply_t(norm, train),
            (Norm::Class { norm, gain, shift }, Some(classes)) => {
                let per_item = |weight: &Tensor| {
                    classes.linear::<Tensor>(weight, None).unsqueeze(2).unsqueeze(3)
                };
                xs.apply_t(norm, train) * (per_item(gain) + 1.0) + per_item(shift)
            }
        }
    }
}

fn upsample(xs: &Tensor) -> Tensor {
    let size = xs.size();
    xs.upsample_nearest2d([size[2] * 2, size[3] * 2], None, None)
}

fn downsample(xs: &Tensor) -> Tensor {
    xs.avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None)
}

/// G's up-block: `[N, inputs, r, r]` to `[N, outputs, 2r, 2r]`.
#[derive(Debug)]
struct UpBlock {
    bn1: Norm,
    conv1: Conv,
    bn2: Norm,
    conv2: Conv,
    shortcut: Conv,
}

impl UpBlock {
    fn new(layers: Layers, inputs: i64, outputs: i64, classes: i64) -> Self {
        UpBlock {
            bn1: layers.norm("bn1", inputs, classes),
            conv1: layers.conv("conv1", inputs, outputs, 3),
            bn2: layers.norm("bn2", outputs, classes),
            conv2: layers.conv("conv2", outputs, outputs, 3),
            shortcut: layers.conv("shortcut", inputs, outputs, 1),
        }
    }

    fn forward(&self, xs: &Tensor, classes: Option<&Tensor>, train: bool) -> Tensor {
        let h = upsample(&self.bn1.forward(xs, classes, train).relu()).apply_t(&self.conv1, train);
        let h = self.bn2.forward(&h, classes, train).relu().apply_t(&self.conv2, train);
        h + upsample(xs).apply_t(&self.shortcut, train)
    }
}

/// G after its linear layer: the up-blocks, then the output layers.
#[derive(Debug)]
struct GeneratorBody {
    blocks: Vec<UpBlock>,
    output: SequentialT,
}

impl Body for GeneratorBody {
    fn forward(&self, xs: &Tensor, inputs: LayerInputs, train: bool) -> Tensor {
        let h = self
            .blocks
            .iter()
            .fold(xs.shallow_clone(), |h, block| block.forward(&h, inputs.classes, train));
        h.apply_t(&self.output, train)
    }
}

/// D's down-block: `[N, inputs, r, r]` to `[N, outputs, r/2, r/2]`. The first block of D
/// sees the images themselves, so it starts with a convolution instead of a ReLU and pools
/// before its shortcut's convolution.
#[derive(Debug)]
struct DownBlock {
    conv1: Conv,
    conv2: Conv,
    shortcut: Conv,
    first: bool,
}

impl DownBlock {
    fn new(layers: Layers, inputs: i64, outputs: i64, first: bool) -> Self {
        DownBlock {
            conv1: layers.conv("conv1", inputs, outputs, 3),
            conv2: layers.conv("conv2", outputs, outputs, 3),
            shortcut: layers.conv("shortcut", inputs, outputs, 1),
            first,
        }
    }
}

impl ModuleT for DownBlock {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let h = if self.first { xs.shallow_clone() } else { xs.relu() };
        let h = h.apply_t(&self.conv1, train).relu().apply_t(&self.conv2, train);
        let shortcut = if self.first {
            downsample(xs).apply_t(&self.shortcut, train)
        } else {
            downsample(&xs.apply_t(&self.shortcut, train))
        };
        downsample(&h) + shortcut
    }
}

/// Layers of `rustgan.torch_modules.ResNetGenerator`, an `nn.Sequential`: 0 linear,
/// 1 unflatten, then the blocks, batch norm, ReLU, conv and tanh.
fn generator(p: &nn::Path, config: &GanConfig) -> Generator {
    let channels = config.data_shape[0];
    let (start, blocks) = pyramid(config.data_shape[1]);
    let layers = Layers::new(p.clone(), config, false);
    let mut inputs = width(config, blocks);
    let linear = layers.linear("0", config.generator_input_dim(), inputs * start * start);
    let first_block = nn::seq_t().add(linear).add_fn(move |x| x.view([-1, inputs, start, start]));
    let classes = if config.class_batch_norm() { config.conditioning_classes() } else { 0 };
    let mut up_blocks = vec![];
    for block in 0..blocks {
        let outputs = width(config, blocks - 1 - block);
        let block_layers = layers.sub(&(block + 2).to_string());
        up_blocks.push(UpBlock::new(block_layers, inputs, outputs, classes));
        inputs = outputs; // [N, outputs, start * 2^(block + 1), ...]
    }
    let next = blocks + 2;
    let output = nn::seq_t()
        .add(layers.batch_norm(&next.to_string(), inputs))
        .add_fn(|x| x.relu())
        .add(layers.conv(&(next + 2).to_string(), inputs, channels, 3)) // [N, C, size, size]
        .add_fn(|x| x.tanh());
    let body = GeneratorBody { blocks: up_blocks, output };
    Generator { first_block, body: Box::new(body), per_layer: None, dense_layers: vec![] }
}

/// Layers of `rustgan.torch_modules.ResNetDiscriminator`: the blocks, then the head's
/// linear layer. With `pac` > 1 each group of `pac` images is stacked along the channels.
fn discriminator(p: &nn::Path, config: &GanConfig) -> Discriminator {
    let (channels, size) = (config.data_shape[0] * config.pac, config.data_shape[1]);
    let (_, blocks) = pyramid(size);
    let layers = Layers::new(p.clone(), config, config.spectral_norm);
    // reshape: G's convolutions may hand over channels-last images, which packing regroups
    let mut body = nn::seq_t().add_fn(move |x| x.reshape([-1, channels, size, size]));
    let mut inputs = channels;
    for block in 0..blocks {
        let outputs = width(config, block);
        let block_layers = layers.sub("blocks").sub(&block.to_string());
        body = body.add(DownBlock::new(block_layers, inputs, outputs, block == 0));
        inputs = outputs; // [N / pac, outputs, size / 2^(block + 1), ...]
    }
    // ReLU and a sum over positions: `[N / pac, width]`, which the projection reads.
    let body = body.add_fn(|x| x.relu().sum_dim_intlist([2i64, 3].as_slice(), false, None));
    let head = nn::seq_t().add(layers.linear("head", inputs, 1)).add_fn(|x| x.view([-1]));
    Discriminator { body, head, feature_dim: inputs, dense_layers: vec![] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Arch;
    use tch::Device;

    fn config(size: i64, channels: i64) -> GanConfig {
        GanConfig {
            arch: Arch::Resnet,
            data_shape: vec![channels, size, size],
            base_channels: 8,
            latent_dim: 16,
            ..GanConfig::default()
        }
    }

    #[test]
    fn every_size_maps_latents_to_images_and_images_to_logits() {
        for (size, channels) in [(28, 1), (32, 3), (64, 3), (128, 2)] {
            super::super::assert_maps_latents_to_logits(&Resnet, &config(size, channels));
        }
    }

    #[test]
    fn conditional_batch_norm_gives_each_class_its_own_scale_and_shift() {
        let config = GanConfig { num_classes: 3, ..config(32, 3) };
        let vs = nn::VarStore::new(Device::Cpu);
        let g = generator(&vs.root(), &config);
        let names: Vec<String> = vs.variables().into_keys().collect();
        assert!(names.contains(&"2.bn1.gain.weight".to_string()), "{names:?}");
        assert_eq!(vs.variables()["2.bn2.shift.weight"].size(), [32, 3]);
        // Built variables start at zero; make class 0's gain differ.
        let _ = tch::no_grad(|| vs.variables()["2.bn1.gain.weight"].narrow(1, 0, 1).fill_(0.5));
        let z = Tensor::randn([4, 16], (Kind::Float, Device::Cpu)).repeat([2, 1]);
        let classes =
            Tensor::from_slice(&[0i64, 0, 0, 0, 1, 1, 1, 1]).one_hot(3).to_kind(Kind::Float);
        let hidden = z.apply_t(&g.first_block, false);
        let inputs = LayerInputs { classes: Some(&classes), per_layer: None };
        let images = g.body.forward(&hidden, inputs, false);
        let gap = (images.narrow(0, 0, 4) - images.narrow(0, 4, 4)).abs().mean(Kind::Float);
        assert!(gap.double_value(&[]) > 1e-4, "same z, different classes, same images");
    }

    #[test]
    fn sizes_it_cannot_make_are_refused_with_those_it_can() {
        let err = Resnet.check(&config(48, 3)).unwrap_err().to_string();
        assert!(err.contains("48") && err.contains("[28, 32, 64, 128]"), "{err}");
    }
}
