//! Generator and discriminator architectures, one file per family.
//!
//! Every generator maps latents `[N, latent_dim]` (with one-hot labels appended when
//! conditional) to data `[N, *data_shape]`; every discriminator maps data to logits `[N]`.
//! Layers are named by their index in the stack, as in a PyTorch `nn.Sequential`, so
//! weights move both ways between rustgan and `rustgan.torch_modules`.

pub mod classifier;
pub mod dcgan;
pub mod efficientnet;
pub mod layers;
pub mod mlp;
pub mod patchgan;
pub mod projected;
pub mod resnet;
pub mod resnet_translator;
pub mod spectral_norm;
pub mod unet;

use tch::nn::{self, ModuleT, SequentialT};
use tch::{Kind, Tensor};

use crate::config::{Arch, GanConfig};
use crate::error::{invalid, Result};
use crate::rng::Rng;
use crate::weights::named_variables;

/// A network family. Adding one is a file implementing this, an `Arch` variant and its
/// line in `family`.
pub trait Family: Sync {
    /// Checks that the family can model items of `config.data_shape`.
    fn check(&self, config: &GanConfig) -> Result<()>;
    /// Approximate parameter count of the larger network, from the layer widths.
    fn parameter_estimate(&self, config: &GanConfig) -> f64;
    fn generator(&self, p: &nn::Path, config: &GanConfig) -> Generator;
    fn discriminator(&self, p: &nn::Path, config: &GanConfig) -> Discriminator;
    /// How weight matrices and kernels are drawn at initialisation.
    fn weight_init(&self) -> WeightInit;
    /// The generator's layer that reads the latent first, which SeFa factorises.
    fn latent_layer(&self) -> LatentLayer;
    /// Whether D's features are logits of several judged positions, which its head
    /// averages and the adversarial loss judges one by one (as Projected GAN's).
    fn judges_positions(&self) -> bool {
        false
    }
}

/// The generator weight that first reads the latent (z, then any class code).
pub struct LatentLayer {
    /// Its name among the generator's variables.
    pub weight: &'static str,
    pub layout: LatentLayout,
}

/// How a latent layer's weight lays out the latent's coordinates.
pub enum LatentLayout {
    /// A linear layer's `[outputs, latent]`.
    Linear,
    /// A transposed convolution's `[latent, channels, k, k]`, reading the latent as
    /// `[N, latent, 1, 1]`.
    TransposedConv,
}

pub fn family(arch: Arch) -> &'static dyn Family {
    match arch {
        Arch::Dcgan => &dcgan::Dcgan,
        Arch::Mlp => &mlp::Mlp,
        Arch::Resnet => &resnet::Resnet,
        Arch::Projected => &projected::Projected,
    }
}

/// Checks that `config.data_shape` is square images of one of the `sizes` the family
/// `arch` is built for, naming them where it is not.
pub fn check_square_images(config: &GanConfig, arch: &str, sizes: &[i64]) -> Result<()> {
    match config.data_shape[..] {
        [c, h, w] if c >= 1 && h == w && sizes.contains(&h) => Ok(()),
        _ => invalid(format!(
            "arch='{arch}' needs data_shape (channels, size, size) with size in {sizes:?}, got \
             {:?}; resize the images when loading them, e.g. \
             rustgan.data.image_folder(path, size=64) or digits(size=32)",
            config.data_shape
        )),
    }
}

/// A fully connected layer's variables, for steps that differentiate by hand.
pub struct DenseLayer {
    pub weight: Tensor,
    pub bias: Tensor,
}

/// What the layers of a generator's body may read besides the activations; a family
/// reads what it needs and ignores the rest.
#[derive(Clone, Copy, Default)]
pub struct LayerInputs<'a> {
    /// One-hot class codes `[N, classes]`, for conditional batch norm.
    pub classes: Option<&'a Tensor>,
    /// One input per layer `[N, layers, width]`, made by the generator's `per_layer`
    /// network (a style-based family's w).
    pub per_layer: Option<&'a Tensor>,
}

/// A stack of layers.
pub trait Body: std::fmt::Debug + Send {
    fn forward(&self, xs: &Tensor, inputs: LayerInputs, train: bool) -> Tensor;
}

impl Body for SequentialT {
    fn forward(&self, xs: &Tensor, _inputs: LayerInputs, train: bool) -> Tensor {
        self.forward_t(xs, train)
    }
}

pub struct Generator {
    /// Latents (with one-hot labels) `[N, input_dim]` to the first layer's activations,
    /// after its normalisation and nonlinearity: where GANSpace looks for directions.
    pub first_block: SequentialT,
    /// The first block's activations to data `[N, *data_shape]`.
    pub body: Box<dyn Body>,
    /// Latents (with one-hot labels) to the body's per-layer inputs, for a family whose
    /// layers each read one.
    pub per_layer: Option<SequentialT>,
    /// Input to output, when the network is a plain stack of dense layers; else empty.
    pub dense_layers: Vec<DenseLayer>,
}

/// A discriminator split before its last layer, where a projection discriminator reads
/// the features.
pub struct Discriminator {
    /// Data `[N, *data_shape]` to features.
    pub body: SequentialT,
    /// Features to logits `[N / pac]`.
    pub head: SequentialT,
    /// Size of the features, flattened.
    pub feature_dim: i64,
    /// As in `Generator`, body and head together.
    pub dense_layers: Vec<DenseLayer>,
}

#[derive(Clone, Copy)]
pub enum WeightInit {
    /// N(0, 0.02), as DCGAN.
    Normal,
    /// U(±1/sqrt(fan_in)), as PyTorch's `nn.Linear`.
    UniformFanIn,
    /// U(±sqrt(6 / (fan_in + fan_out))) (Glorot & Bengio 2010), as SNGAN's residual networks.
    XavierUniform,
}

/// Gradient penalties act on per-sample gradients, which batch norm would couple across
/// the batch; spectral normalisation replaces it.
pub fn discriminator_uses_batch_norm(config: &GanConfig) -> bool {
    !(config.uses_gradient_penalty() || config.spectral_norm)
}

/// Deterministic initialisation from the GAN's own generator: DCGAN's N(0, 0.02) for
/// convolutions and N(1, 0.02) for batch-norm scales; U(±1/sqrt(fan_in)) for linear
/// layers, or Xavier's uniform for every weight of the residual networks; zero biases.
pub fn initialise(vs: &nn::VarStore, init: WeightInit, rng: &mut Rng) {
    tch::no_grad(|| {
        for (name, mut var) in named_variables(vs) {
            if !var.requires_grad() {
                continue; // batch-norm running statistics keep their defaults
            }
            let shape = var.size();
            let numel = var.numel();
            let values: Vec<f32> = if name.ends_with(".bias") {
                vec![0.0; numel]
            } else if shape.len() == 1 {
                rng.normals(numel).iter().map(|x| 1.0 + 0.02 * x).collect()
            } else {
                match init {
                    WeightInit::Normal => rng.normals(numel).iter().map(|x| 0.02 * x).collect(),
                    WeightInit::UniformFanIn => {
                        let bound = 1.0 / (shape[1] as f64).sqrt();
                        uniform(rng, numel, bound)
                    }
                    WeightInit::XavierUniform => {
                        let receptive: i64 = shape[2..].iter().product();
                        let fans = (shape[0] + shape[1]) * receptive;
                        uniform(rng, numel, (6.0 / fans as f64).sqrt())
                    }
                }
            };
            let init = Tensor::from_slice(&values).view(shape.as_slice()).to_kind(Kind::Float);
            var.copy_(&init);
        }
    });
}

fn uniform(rng: &mut Rng, numel: usize, bound: f64) -> Vec<f32> {
    (0..numel).map(|_| ((2.0 * rng.uniform() - 1.0) * bound) as f32).collect()
}

/// LeakyReLU with slope 0.2. tch exposes only the 0.01 default of `leaky_relu`, but
/// `leaky_relu_backward` with x as both gradient and input computes `x * (x > 0 ? 1 : 0.2)`,
/// the same function, and its derivative is one such op (PReLU's would also reduce a
/// slope gradient). The gradient flows through the `grad_output` argument only.
#[derive(Debug)]
pub struct LeakyRelu;

impl nn::Module for LeakyRelu {
    fn forward(&self, xs: &Tensor) -> Tensor {
        xs.detach().leaky_relu_backward(xs, 0.2, false)
    }
}

/// Checks that `family`'s generator maps latents `[3, latent_dim]` to items of
/// `config.data_shape`, and its discriminator those to features and logits `[3]`.
#[cfg(test)]
pub fn assert_maps_latents_to_logits(family: &dyn Family, config: &GanConfig) {
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let g = family.generator(&vs.root(), config);
    let d = family.discriminator(&(vs.root() / "d"), config);
    let z = Tensor::randn([3, config.latent_dim], (Kind::Float, tch::Device::Cpu));
    let images = g.body.forward(&z.apply_t(&g.first_block, true), LayerInputs::default(), true);
    assert_eq!(images.size(), [&[3][..], &config.data_shape].concat());
    let features = images.apply_t(&d.body, true);
    assert_eq!(features.size(), [3, d.feature_dim]);
    assert_eq!(features.apply_t(&d.head, true).size(), [3]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::Module;

    #[test]
    fn leaky_relu_has_slope_one_fifth_and_its_gradient() {
        let x = Tensor::from_slice(&[-2.0f32, -0.5, 0.5, 3.0]).set_requires_grad(true);
        let y = LeakyRelu.forward(&x);
        let expected = Tensor::from_slice(&[-0.4f32, -0.1, 0.5, 3.0]);
        assert!(y.allclose(&expected, 1e-6, 1e-7, false), "{y:?}");
        let grad = Tensor::run_backward(&[y.sum(Kind::Float)], &[&x], false, false).remove(0);
        assert!(
            grad.allclose(&Tensor::from_slice(&[0.2f32, 0.2, 1.0, 1.0]), 1e-6, 1e-7, false),
            "{grad:?}"
        );
    }
}
