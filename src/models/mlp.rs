//! Fully connected GAN networks for vector data, such as the 2D mixtures of Goodfellow et
//! al. 2014 and Lin et al. 2018 ("PacGAN").

use tch::nn;

use super::layers::{Linear, Weight};
use super::{DenseLayer, Discriminator, Family, Generator, WeightInit};
use crate::config::GanConfig;
use crate::error::Result;

pub struct Mlp;

impl Family for Mlp {
    fn check(&self, _: &GanConfig) -> Result<()> {
        Ok(()) // any shape: items are flattened
    }

    fn parameter_estimate(&self, config: &GanConfig) -> f64 {
        let hidden = config.hidden_dim as f64;
        let ends = (config.latent_dim + config.data_numel()) as f64;
        ends * hidden + (config.depth as f64 - 1.0) * hidden * hidden
    }

    fn generator(&self, p: &nn::Path, config: &GanConfig) -> Generator {
        let mut layers = Layers::new(p, config, false);
        let mut net = nn::seq_t();
        let mut inputs = config.generator_input_dim();
        for _ in 0..config.depth {
            net = net.add(layers.linear(inputs, config.hidden_dim)).add_fn(|x| x.relu());
            inputs = config.hidden_dim;
        }
        let mut out_shape = vec![-1];
        out_shape.extend(&config.data_shape);
        let body = net
            .add(layers.linear(inputs, config.data_numel()))
            .add_fn(move |x| x.view(out_shape.as_slice())); // [N, *data_shape]
        Generator { body, dense_layers: layers.dense }
    }

    /// depth x (Linear + LeakyReLU(0.2)), then one logit per item (per group of `pac`
    /// items, concatenated, with PacGAN).
    fn discriminator(&self, p: &nn::Path, config: &GanConfig) -> Discriminator {
        let mut layers = Layers::new(p, config, config.spectral_norm);
        let packed = config.data_numel() * config.pac;
        let mut body = nn::seq_t().add_fn(move |x| x.view([-1, packed]));
        let mut inputs = packed;
        for _ in 0..config.depth {
            body = body.add(layers.linear(inputs, config.hidden_dim)).add(super::LeakyRelu);
            inputs = config.hidden_dim;
        }
        let head = nn::seq_t().add(layers.linear(inputs, 1)).add_fn(|x| x.view([-1]));
        Discriminator { body, head, feature_dim: inputs, dense_layers: layers.dense }
    }

    fn weight_init(&self) -> WeightInit {
        WeightInit::UniformFanIn
    }
}

/// Linear layers numbered as in an `nn.Sequential` that alternates them with activations.
struct Layers<'a> {
    p: &'a nn::Path<'a>,
    config: &'a GanConfig,
    spectral_norm: bool,
    dense: Vec<DenseLayer>,
}

impl<'a> Layers<'a> {
    fn new(p: &'a nn::Path<'a>, config: &'a GanConfig, spectral_norm: bool) -> Self {
        Layers { p, config, spectral_norm, dense: vec![] }
    }

    fn linear(&mut self, inputs: i64, outputs: i64) -> Linear {
        let path = self.p / (2 * self.dense.len()).to_string();
        let layer = nn::linear(&path, inputs, outputs, Default::default());
        let bias = layer.bs.expect("nn::linear has a bias by default");
        self.dense
            .push(DenseLayer { weight: layer.ws.shallow_clone(), bias: bias.shallow_clone() });
        let weight = Weight::new(&path, layer.ws, self.spectral_norm);
        Linear::new(weight, Some(bias), self.config.precision.compute_kind())
    }
}
