//! pix2pix's discriminator: a PatchGAN that judges each patch of an (input, output) pair,
//! stacked along the channels, as real or translated (CycleGAN's judges images alone). Stride-2 4x4 convolutions, then two
//! stride-1 ones; the logits `[N, 1, h, w]` each see one patch of the image.
//!
//! An `nn.Sequential` in `rustgan.torch_modules.PatchDiscriminator`: layers are numbered
//! as it numbers them, activations included.

use tch::nn::{self, SequentialT};

use super::unet::level_width;
use super::TranslatorConfig;
use crate::models::layers::{Conv, Weight};
use crate::models::LeakyRelu;
use crate::optim::FlatParams;

pub struct PatchGan {
    pub vs: nn::VarStore,
    pub params: FlatParams,
    net: SequentialT,
}

impl PatchGan {
    /// pix2pix's discriminator of (input, output) pairs.
    pub fn new(device: tch::Device, config: &TranslatorConfig) -> Self {
        Self::judging(device, config.in_shape[0] + config.out_shape[0], config)
    }

    /// A PatchGAN of images with `channels` channels, as wide and deep as `config` says.
    pub fn judging(device: tch::Device, channels: i64, config: &TranslatorConfig) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let compute = config.precision.compute_kind();
        let mut net = nn::seq_t();
        let mut index = 0;
        let mut next_path = || {
            index += 1;
            &root / (index - 1)
        };
        let mut inputs = channels;
        let layers = config.discriminator_layers() as usize;
        // Stride 2 for `layers` layers, then stride 1 twice; the last gives one logit per patch.
        for layer in 0..layers + 2 {
            let last = layer == layers + 1;
            let outputs = if last { 1 } else { level_width(config.base_channels, layer) };
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
