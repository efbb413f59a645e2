//! DCGAN (Radford, Metz & Chintala 2015, "Unsupervised Representation Learning with Deep
//! Convolutional Generative Adversarial Networks") for 28, 32 and 64 px images.

use tch::nn::{self, SequentialT};
use tch::Kind;

use super::layers::{Conv, Weight};
use super::{
    check_square_images, discriminator_uses_batch_norm, Discriminator, Family, Generator,
    LatentLayer, LatentLayout, WeightInit,
};
use crate::config::GanConfig;
use crate::error::Result;

/// Image sizes the networks are built for.
pub const SIZES: [i64; 3] = [28, 32, 64];

pub struct Dcgan;

impl Family for Dcgan {
    fn check(&self, config: &GanConfig) -> Result<()> {
        check_square_images(config, "dcgan", &SIZES)
    }

    fn parameter_estimate(&self, config: &GanConfig) -> f64 {
        // Widths double from `base` at each of up to four resolution changes.
        let (base, channels) = (config.base_channels as f64, config.data_shape[0] as f64);
        let widest = base * 8.0;
        config.latent_dim as f64 * widest * 49.0
            + 16.0 * widest * widest * (4.0 / 3.0)
            + 16.0 * base * channels
    }

    fn generator(&self, p: &nn::Path, config: &GanConfig) -> Generator {
        let (first_block, body) = generator(p, config);
        Generator { first_block, body: Box::new(body), per_layer: None, dense_layers: vec![] }
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
}

/// The resolution the networks start (G) or end (D) at, and the number of factor-2
/// resolution changes between it and the image size.
fn pyramid(size: i64) -> (i64, i64) {
    match size {
        28 => (7, 2), // 7 -> 14 -> 28
        32 => (4, 3), // 4 -> 8 -> 16 -> 32
        _ => (4, 4),  // 4 -> 8 -> 16 -> 32 -> 64
    }
}

/// Numbers the layers of a stack the way `nn.Sequential` does.
struct Stack<'a> {
    p: &'a nn::Path<'a>,
    net: SequentialT,
    index: usize,
    spectral_norm: bool,
    compute: Kind,
}

impl<'a> Stack<'a> {
    fn new(p: &'a nn::Path<'a>, config: &GanConfig, spectral_norm: bool) -> Self {
        Stack {
            p,
            net: nn::seq_t(),
            index: 0,
            spectral_norm,
            compute: config.precision.compute_kind(),
        }
    }

    /// Ends this stack; the returned one continues its layer numbering.
    fn split(mut self) -> (SequentialT, Self) {
        let net = std::mem::replace(&mut self.net, nn::seq_t());
        (net, self)
    }

    fn next_path(&mut self) -> nn::Path<'a> {
        self.index += 1;
        self.p / (self.index - 1).to_string()
    }

    fn conv_transpose(
        mut self,
        inputs: i64,
        outputs: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
        bias: bool,
    ) -> Self {
        let config = nn::ConvTransposeConfig { stride, padding, bias, ..Default::default() };
        let layer = nn::conv_transpose2d(self.next_path(), inputs, outputs, kernel, config);
        self.net =
            self.net.add(Conv::transposed(layer.ws, layer.bs, stride, padding, self.compute));
        self
    }

    fn conv(
        mut self,
        inputs: i64,
        outputs: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
        bias: bool,
    ) -> Self {
        let config = nn::ConvConfig { stride, padding, bias, ..Default::default() };
        let path = self.next_path();
        let layer = nn::conv2d(&path, inputs, outputs, kernel, config);
        let weight = Weight::new(&path, layer.ws, self.spectral_norm);
        self.net = self.net.add(Conv::new(weight, layer.bs, stride, padding, self.compute));
        self
    }

    fn batch_norm(mut self, channels: i64) -> Self {
        let layer = nn::batch_norm2d(self.next_path(), channels, Default::default());
        self.net = self.net.add(layer);
        self
    }

    fn relu(mut self) -> Self {
        self.index += 1;
        self.net = self.net.add_fn(|x| x.relu());
        self
    }

    fn leaky_relu(mut self) -> Self {
        self.index += 1;
        self.net = self.net.add(super::LeakyRelu);
        self
    }
}

/// The first block (z to `[N, width, start, start]`) and the rest of the generator.
fn generator(p: &nn::Path, config: &GanConfig) -> (SequentialT, SequentialT) {
    let (channels, size) = (config.data_shape[0], config.data_shape[1]);
    let (start, doublings) = pyramid(size);
    let input_dim = config.generator_input_dim();
    let mut width = config.base_channels << (doublings - 1);
    let (first, mut stack) = Stack::new(p, config, false)
        .conv_transpose(input_dim, width, start, 1, 0, false) // [N, width, start, start]
        .batch_norm(width)
        .relu()
        .split();
    for _ in 1..doublings {
        stack = stack.conv_transpose(width, width / 2, 4, 2, 1, false).batch_norm(width / 2).relu();
        width /= 2; // resolution doubled
    }
    let stack = stack.conv_transpose(width, channels, 4, 2, 1, true); // [N, C, size, size]
    let first_block = nn::seq_t().add_fn(move |z| z.view([-1, input_dim, 1, 1])).add(first);
    (first_block, stack.net.add_fn(|x| x.tanh()))
}

/// With `pac` > 1 each group of `pac` consecutive images is stacked along the channels
/// and judged as one item.
fn discriminator(p: &nn::Path, config: &GanConfig) -> Discriminator {
    let (channels, size) = (config.data_shape[0], config.data_shape[1]);
    let packed_channels = channels * config.pac;
    let (end, halvings) = pyramid(size);
    let batch_norm = discriminator_uses_batch_norm(config);
    let mut width = config.base_channels;
    let mut stack = Stack::new(p, config, config.spectral_norm)
        .conv(packed_channels, width, 4, 2, 1, true)
        .leaky_relu(); // [N / pac, base, size/2, size/2]
    for _ in 1..halvings {
        stack = stack.conv(width, width * 2, 4, 2, 1, !batch_norm);
        if batch_norm {
            stack = stack.batch_norm(width * 2);
        }
        stack = stack.leaky_relu();
        width *= 2; // resolution halved
    }
    let (features, head) = stack.split(); // [N / pac, width, end, end]
    Discriminator {
        body: nn::seq_t().add_fn(move |x| x.view([-1, packed_channels, size, size])).add(features),
        head: head.conv(width, 1, end, 1, 0, true).net.add_fn(|x| x.view([-1])), // [N / pac]
        feature_dim: width * end * end,
        dense_layers: vec![],
    }
}
