//! The PatchGAN discriminator of pix2pix and CycleGAN: it judges each patch of what it
//! sees as real or made, an (input, output) pair stacked along the channels for pix2pix,
//! an image for CycleGAN. Stride-2 4x4 convolutions, then two stride-1 ones; the logits
//! `[N, 1, h, w]` each see one patch of the image.
//!
//! An `nn.Sequential` in `rustgan.torch_modules.PatchDiscriminator`: layers are numbered
//! as it numbers them, activations included.

use tch::nn::{self, SequentialT};

use super::layers::{Conv, Weight};
use super::unet::level_width;
use super::LeakyRelu;
use crate::config::{LossKind, Precision};
use crate::error::{invalid, Result};
use crate::flat_params::FlatParams;

/// Adversarial losses a PatchGAN trains with; WGAN-GP's critic has no place in a
/// network with batch norm.
pub const LOSSES: &[&str] = &[LossKind::Bce.name(), LossKind::Lsgan.name(), LossKind::Hinge.name()];

/// What a PatchGAN is built from.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchGanSpec {
    /// Channels of what it judges: an image, or an (input, output) pair stacked.
    pub channels: i64,
    /// Channels of the first layer; deeper layers double it up to 8x.
    pub base_channels: i64,
    /// Stride-2 layers.
    pub layers: i64,
    pub precision: Precision,
}

/// pix2pix's depth for `height` x `width` images: 2 stride-2 layers up to 32 px, 3 above.
pub fn layers_by_size(height: i64, width: i64) -> i64 {
    if height.min(width) <= 32 {
        2
    } else {
        3
    }
}

/// Checks that `layers` stride-2 layers leave room for the last two layers on
/// `height` x `width` images.
pub fn check_layers(layers: i64, height: i64, width: i64) -> Result<()> {
    // Two stride-1 convolutions of kernel 4 follow the stride-2 ones, each one smaller.
    if layers > 6 || (height.min(width) >> layers) < 3 {
        return invalid(format!(
            "patch_layers={layers} halves {height}x{width} images below 3 px before the \
             last two layers: use fewer"
        ));
    }
    Ok(())
}

pub struct PatchGan {
    vs: nn::VarStore,
    params: FlatParams,
    net: SequentialT,
}

impl PatchGan {
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

    pub fn new(device: tch::Device, spec: &PatchGanSpec) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let compute = spec.precision.compute_kind();
        let mut net = nn::seq_t();
        let mut index = 0;
        let mut next_path = || {
            index += 1;
            &root / (index - 1)
        };
        let mut inputs = spec.channels;
        let layers = spec.layers as usize;
        // Stride 2 for `layers` layers, then stride 1 twice; the last gives one logit per patch.
        for layer in 0..layers + 2 {
            let last = layer == layers + 1;
            let outputs = if last { 1 } else { level_width(spec.base_channels, layer) };
            let stride = if layer < layers { 2 } else { 1 };
            let normalised = layer > 0 && !last;
            let conv_config =
                nn::ConvConfig { stride, padding: 1, bias: !normalised, ..Default::default() };
            let conv = nn::conv2d(next_path(), inputs, outputs, 4, conv_config);
            net = net.add(Conv::new(Weight::Plain(conv.ws), conv.bs, stride, 1, compute));
            if last {
                break;
            }
            if normalised {
                net = net.add(nn::batch_norm2d(next_path(), outputs, Default::default()));
            }
            next_path(); // the activation's index
            net = net.add(LeakyRelu);
            inputs = outputs;
        }
        let params = FlatParams::new(&vs);
        PatchGan { vs, params, net }
    }

    /// Logits `[N, 1, h, w]` of the pairs `inputs` `[N, in_C, H, W]`, `outputs` `[N, out_C, H, W]`.
    pub fn forward(&self, inputs: &tch::Tensor, outputs: &tch::Tensor, train: bool) -> tch::Tensor {
        let pair = tch::Tensor::cat(&[inputs, &outputs.to_kind(inputs.kind())], 1);
        self.judge(&pair, train)
    }

    /// Logits `[N, 1, h, w]` of images `[N, channels, H, W]`.
    pub fn judge(&self, images: &tch::Tensor, train: bool) -> tch::Tensor {
        nn::ModuleT::forward_t(&self.net, images, train).to_kind(tch::Kind::Float)
    }
}
