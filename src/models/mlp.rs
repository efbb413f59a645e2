//! Fully connected GAN networks for vector data, such as the 2D mixtures of Goodfellow et
//! al. 2014 and Lin et al. 2018 ("PacGAN"). Besides the plain stacks, they build PacGAN's
//! own 2D networks: a generator with batch norm and a maxout discriminator.

use tch::nn::{self, SequentialT};

use super::layers::{Linear, Weight};
use super::{DenseLayer, Discriminator, Family, Generator, LatentLayer, LatentLayout, WeightInit};
use crate::config::GanConfig;
use crate::error::Result;

pub struct Mlp;

impl Family for Mlp {
    fn check(&self, _: &GanConfig) -> Result<()> {
        Ok(()) // any shape: items are flattened
    }

    fn parameter_estimate(&self, config: &GanConfig) -> f64 {
        let estimate = |inputs: i64, hidden: i64, depth: i64, pieces: i64| {
            let (inputs, hidden) = (inputs as f64, hidden as f64);
            (inputs + 1.0 + (depth as f64 - 1.0) * hidden) * hidden * pieces as f64
        };
        let numel = config.data_numel();
        let generator = estimate(config.latent_dim + numel, config.hidden_dim, config.depth, 1);
        let discriminator = estimate(
            numel * config.pac,
            config.discriminator_hidden_dim(),
            config.discriminator_depth(),
            config.maxout,
        );
        generator.max(discriminator)
    }

    /// depth x (Linear, batch norm when `batch_norm_g`, ReLU), then a linear output layer.
    fn generator(&self, p: &nn::Path, config: &GanConfig) -> Generator {
        let mut stack = Stack::new(p, config, false);
        let mut inputs = config.generator_input_dim();
        let mut first_block = None;
        for _ in 0..config.depth {
            stack.linear(inputs, config.hidden_dim);
            if config.batch_norm_g {
                stack.batch_norm(config.hidden_dim);
            }
            stack.relu();
            inputs = config.hidden_dim;
            first_block.get_or_insert_with(|| stack.take_net()); // numbering continues
        }
        stack.linear(inputs, config.data_numel());
        let mut out_shape = vec![-1];
        out_shape.extend(&config.data_shape);
        let plain = !config.batch_norm_g;
        let (body, dense_layers) = stack.finish(plain);
        let body = body.add_fn(move |x| x.view(out_shape.as_slice())); // [N, *data_shape]
        let first_block = first_block.unwrap_or_else(nn::seq_t);
        Generator { first_block, body: Box::new(body), per_layer: None, dense_layers }
    }

    /// depth x (Linear + LeakyReLU(0.2), or a maxout unit of `maxout` pieces), then one
    /// logit per item (per group of `pac` items, concatenated, with PacGAN).
    fn discriminator(&self, p: &nn::Path, config: &GanConfig) -> Discriminator {
        let mut stack = Stack::new(p, config, config.spectral_norm);
        let packed = config.data_numel() * config.pac;
        let (hidden, pieces) = (config.discriminator_hidden_dim(), config.maxout);
        let mut inputs = packed;
        for _ in 0..config.discriminator_depth() {
            stack.linear(inputs, hidden * pieces);
            if pieces > 1 {
                stack.maxout(pieces);
            } else {
                stack.leaky_relu();
            }
            inputs = hidden;
        }
        let features = stack.take_net(); // the head continues the layer numbering
        stack.linear(inputs, 1);
        let (head, dense_layers) = stack.finish(pieces == 1);
        Discriminator {
            body: nn::seq_t().add_fn(move |x| x.view([-1, packed])).add(features),
            head: head.add_fn(|x| x.view([-1])),
            feature_dim: inputs,
            dense_layers,
        }
    }

    fn weight_init(&self) -> WeightInit {
        WeightInit::UniformFanIn
    }

    fn latent_layer(&self) -> LatentLayer {
        LatentLayer { weight: "0.weight", layout: LatentLayout::Linear }
    }
}

/// Layers numbered as in a PyTorch `nn.Sequential` of the same modules.
struct Stack<'a> {
    p: &'a nn::Path<'a>,
    config: &'a GanConfig,
    spectral_norm: bool,
    index: usize,
    net: SequentialT,
    dense: Vec<DenseLayer>,
}

impl<'a> Stack<'a> {
    fn new(p: &'a nn::Path<'a>, config: &'a GanConfig, spectral_norm: bool) -> Self {
        Stack { p, config, spectral_norm, index: 0, net: nn::seq_t(), dense: vec![] }
    }

    /// The layers added so far; later ones form a new network.
    fn take_net(&mut self) -> SequentialT {
        std::mem::replace(&mut self.net, nn::seq_t())
    }

    fn next_path(&mut self) -> nn::Path<'a> {
        self.index += 1;
        self.p / (self.index - 1).to_string()
    }

    fn linear(&mut self, inputs: i64, outputs: i64) {
        let path = self.next_path();
        let layer = nn::linear(&path, inputs, outputs, Default::default());
        let bias = layer.bs.expect("nn::linear has a bias by default");
        self.dense
            .push(DenseLayer { weight: layer.ws.shallow_clone(), bias: bias.shallow_clone() });
        let weight = Weight::new(&path, layer.ws, self.spectral_norm);
        let linear = Linear::new(weight, Some(bias), self.config.precision.compute_kind());
        self.add(linear);
    }

    fn batch_norm(&mut self, features: i64) {
        let layer = nn::batch_norm1d(self.next_path(), features, Default::default());
        self.add(layer);
    }

    fn relu(&mut self) {
        self.index += 1;
        self.add_fn(|x| x.relu());
    }

    fn leaky_relu(&mut self) {
        self.index += 1;
        self.add(super::LeakyRelu);
    }

    /// The largest of each consecutive run of `pieces` outputs (Goodfellow et al. 2013).
    fn maxout(&mut self, pieces: i64) {
        self.index += 1;
        self.add_fn(move |x| x.view([x.size()[0], -1, pieces]).amax([2], false));
    }

    fn add<M: nn::ModuleT + 'static>(&mut self, module: M) {
        self.net = self.take_net().add(module);
    }

    fn add_fn(&mut self, f: impl Fn(&tch::Tensor) -> tch::Tensor + Send + 'static) {
        self.net = self.take_net().add_fn(f);
    }

    /// The network, and its dense layers when it is a `plain` stack of them (for steps
    /// that differentiate by hand).
    fn finish(self, plain: bool) -> (SequentialT, Vec<DenseLayer>) {
        (self.net, if plain { self.dense } else { vec![] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn::ModuleT, Device, Kind, Tensor};

    #[test]
    fn maxout_discriminator_keeps_the_largest_piece_of_each_unit() {
        let config = GanConfig {
            data_shape: vec![2],
            arch: crate::config::Arch::Mlp,
            hidden_dim_d: 4,
            depth_d: 1,
            maxout: 3,
            ..Default::default()
        };
        let vs = nn::VarStore::new(Device::Cpu);
        let d = Mlp.discriminator(&vs.root(), &config);
        assert!(d.dense_layers.is_empty(), "maxout is not a plain dense stack");
        let x = Tensor::randn([5, 2], (Kind::Float, Device::Cpu));
        let logits = d.head.forward_t(&d.body.forward_t(&x, false), false);
        let vars = vs.variables();
        let pieces = x.matmul(&vars["0.weight"].tr()) + &vars["0.bias"]; // [5, 4 x 3]
        let units = pieces.view([5, 4, 3]).amax([2], false);
        let expected = (units.matmul(&vars["2.weight"].tr()) + &vars["2.bias"]).view([-1]);
        assert!(logits.allclose(&expected, 1e-6, 1e-6, false), "{logits:?} {expected:?}");
    }
}
