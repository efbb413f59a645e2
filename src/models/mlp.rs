//! Fully connected GAN networks for vector data, such as the 2D mixtures of Goodfellow et
//! al. 2014 and Lin et al. 2018 ("PacGAN").

use tch::nn::{self, SequentialT};

use super::layers::{Linear, Weight};
use super::Discriminator;
use crate::config::GanConfig;

/// Layer `index` of a stack, spectrally normalised if asked.
fn linear(p: &nn::Path, index: usize, inputs: i64, outputs: i64, config: &GanConfig, normalised: bool) -> Linear {
    let path = p / index.to_string();
    let layer = nn::linear(&path, inputs, outputs, Default::default());
    Linear::new(Weight::new(&path, layer.ws, normalised), layer.bs, config.precision.compute_kind())
}

/// depth x (Linear + ReLU), then a linear output layer reshaped to the data shape.
pub fn generator(p: &nn::Path, config: &GanConfig) -> SequentialT {
    let mut net = nn::seq_t();
    let mut inputs = config.generator_input_dim();
    for layer in 0..config.depth as usize {
        net = net.add(linear(p, 2 * layer, inputs, config.hidden_dim, config, false)).add_fn(|x| x.relu());
        inputs = config.hidden_dim;
    }
    let mut out_shape = vec![-1];
    out_shape.extend(&config.data_shape);
    net.add(linear(p, 2 * config.depth as usize, inputs, config.data_numel(), config, false))
        .add_fn(move |x| x.view(out_shape.as_slice())) // [N, *data_shape]
}

/// depth x (Linear + LeakyReLU(0.2)), then one logit per item (per group of `pac`
/// items, concatenated, with PacGAN).
pub fn discriminator(p: &nn::Path, config: &GanConfig) -> Discriminator {
    let packed = config.data_numel() * config.pac;
    let mut body = nn::seq_t().add_fn(move |x| x.view([-1, packed]));
    let mut inputs = packed;
    for layer in 0..config.depth as usize {
        body = body.add(linear(p, 2 * layer, inputs, config.hidden_dim, config, config.spectral_norm)).add(super::LeakyRelu);
        inputs = config.hidden_dim;
    }
    let head = nn::seq_t().add(linear(p, 2 * config.depth as usize, inputs, 1, config, config.spectral_norm));
    Discriminator { body, head: head.add_fn(|x| x.view([-1])), feature_dim: inputs }
}
