//! Fully connected GAN networks for vector data, such as the 2D mixtures of Goodfellow et
//! al. 2014 and Lin et al. 2018 ("PacGAN").

use tch::nn::{self, SequentialT};

use super::{spectral_norm, Discriminator};
use crate::config::GanConfig;

fn linear(p: &nn::Path, index: usize, inputs: i64, outputs: i64) -> nn::Linear {
    nn::linear(p / index.to_string(), inputs, outputs, Default::default())
}

fn add_linear(net: SequentialT, p: &nn::Path, index: usize, inputs: i64, outputs: i64, normalised: bool) -> SequentialT {
    let layer = linear(p, index, inputs, outputs);
    if normalised {
        net.add(spectral_norm::Linear::new(&(p / index.to_string()), layer))
    } else {
        net.add(layer)
    }
}

/// depth x (Linear + ReLU), then a linear output layer reshaped to the data shape.
pub fn generator(p: &nn::Path, config: &GanConfig) -> SequentialT {
    let mut net = nn::seq_t();
    let mut inputs = config.generator_input_dim();
    for layer in 0..config.depth as usize {
        net = net.add(linear(p, 2 * layer, inputs, config.hidden_dim)).add_fn(|x| x.relu());
        inputs = config.hidden_dim;
    }
    let mut out_shape = vec![-1];
    out_shape.extend(&config.data_shape);
    net.add(linear(p, 2 * config.depth as usize, inputs, config.data_numel()))
        .add_fn(move |x| x.view(out_shape.as_slice())) // [N, *data_shape]
}

/// depth x (Linear + LeakyReLU(0.2)), then one logit per item (per group of `pac`
/// items, concatenated, with PacGAN).
pub fn discriminator(p: &nn::Path, config: &GanConfig) -> Discriminator {
    let packed = config.data_numel() * config.pac;
    let mut body = nn::seq_t().add_fn(move |x| x.view([-1, packed]));
    let mut inputs = packed;
    for layer in 0..config.depth as usize {
        body = add_linear(body, p, 2 * layer, inputs, config.hidden_dim, config.spectral_norm).add(super::LeakyRelu::new(p.device()));
        inputs = config.hidden_dim;
    }
    let head = add_linear(nn::seq_t(), p, 2 * config.depth as usize, inputs, 1, config.spectral_norm);
    Discriminator { body, head: head.add_fn(|x| x.view([-1])), feature_dim: inputs }
}
