//! Fully connected GAN networks for vector data, such as the 2D mixtures of Goodfellow et
//! al. 2014 and Lin et al. 2018 ("PacGAN").

use tch::nn::{self, SequentialT};

use crate::config::GanConfig;

fn linear(p: &nn::Path, index: usize, inputs: i64, outputs: i64) -> nn::Linear {
    nn::linear(p / index.to_string(), inputs, outputs, Default::default())
}

/// depth x (Linear + ReLU), then a linear output layer reshaped to the data shape.
pub fn generator(p: &nn::Path, config: &GanConfig) -> SequentialT {
    let mut net = nn::seq_t();
    let mut inputs = config.latent_dim;
    for layer in 0..config.depth as usize {
        net = net.add(linear(p, 2 * layer, inputs, config.hidden_dim)).add_fn(|x| x.relu());
        inputs = config.hidden_dim;
    }
    let mut out_shape = vec![-1];
    out_shape.extend(&config.data_shape);
    net.add(linear(p, 2 * config.depth as usize, inputs, config.data_numel()))
        .add_fn(move |x| x.view(out_shape.as_slice())) // [N, *data_shape]
}

/// depth x (Linear + LeakyReLU(0.2)), then one logit per item.
pub fn discriminator(p: &nn::Path, config: &GanConfig) -> SequentialT {
    let numel = config.data_numel();
    let mut net = nn::seq_t().add_fn(move |x| x.view([-1, numel]));
    let mut inputs = numel;
    for layer in 0..config.depth as usize {
        net = net
            .add(linear(p, 2 * layer, inputs, config.hidden_dim))
            .add(super::LeakyRelu::new(p.device()));
        inputs = config.hidden_dim;
    }
    net.add(linear(p, 2 * config.depth as usize, inputs, 1)).add_fn(|x| x.view([-1]))
}
