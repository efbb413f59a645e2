//! The training step of MLP GANs with hand-written backward passes.
//!
//! Small fully connected networks are bound by per-op overhead, not arithmetic. Without
//! autograd's graph, a layer costs one op forward and at most four backward, and each
//! gradient is written by its matmul straight into its slot of the flat gradient buffer
//! that Adam reads. A trainer takes this path whenever nothing needs autograd's
//! generality (no gradient penalties, spectral norm, labels or bf16); the tests check its
//! gradients against autograd's.

use tch::Tensor;

use super::Batch;
use super::Gan;
use crate::config::{Arch, GanConfig, FUSED_MLP_LOSSES, FUSED_MLP_OPTIONS, SPECS};
use crate::error::Result;
use crate::losses::{discriminator_loss_and_gradient, generator_loss_and_gradient, strongest};
use crate::network::Network;
use crate::options::as_json;
use crate::train::stats::Stats;
use crate::train::{Context, StepPath};

#[derive(Clone, Copy)]
enum Activation {
    Relu,
    LeakyRelu,
}

struct Layer {
    weight: Tensor,
    bias: Tensor,
    /// Views of the gradient buffer.
    weight_grad: Tensor,
    bias_grad: Tensor,
}

/// One network's linear layers, input to output, and its gradient buffer.
struct Mlp {
    layers: Vec<Layer>,
    hidden: Activation,
    /// The network's own gradient buffer (`FlatParams::grad`), which autograd's path
    /// would fill instead.
    grad: Tensor,
}

/// What a forward pass keeps for the backward pass: every layer's input.
struct Trace {
    inputs: Vec<Tensor>,
    output: Tensor,
}

impl Mlp {
    fn new(network: &Network, hidden: Activation) -> Self {
        let grad = network.params().grad.shallow_clone();
        // Each gradient slot is the variable's own view, laid over the gradient buffer.
        let slot = |var: &Tensor| grad.as_strided(var.size(), var.stride(), var.storage_offset());
        let layers = network
            .dense_layers()
            .iter()
            .map(|dense| Layer {
                weight: dense.weight.shallow_clone(),
                bias: dense.bias.shallow_clone(),
                weight_grad: slot(&dense.weight),
                bias_grad: slot(&dense.bias),
            })
            .collect();
        Mlp { layers, hidden, grad }
    }

    /// `x` `[N, inputs]` to `[N, outputs]`.
    fn forward(&self, x: &Tensor) -> Trace {
        let mut inputs = vec![x.shallow_clone()];
        let last = self.layers.len() - 1;
        for layer in &self.layers[..last] {
            let pre = layer.bias.addmm(inputs.last().expect("non-empty"), &layer.weight.tr());
            inputs.push(match self.hidden {
                Activation::Relu => pre.relu(),
                Activation::LeakyRelu => pre.leaky_relu_backward(&pre, 0.2, false),
            });
        }
        let output = self.layers[last]
            .bias
            .addmm(inputs.last().expect("non-empty"), &self.layers[last].weight.tr());
        Trace { inputs, output }
    }

    /// Backpropagates `grad` (d loss / d output) through the pass `trace`. Writes the
    /// parameter gradients into `self.grad` when `param_grads`; returns d loss / d input
    /// when `input_grad`.
    fn backward(
        &self,
        trace: &Trace,
        mut grad: Tensor,
        param_grads: bool,
        input_grad: bool,
    ) -> Option<Tensor> {
        for (i, layer) in self.layers.iter().enumerate().rev() {
            let input = &trace.inputs[i];
            if param_grads {
                let _ = grad.tr().mm_out(&layer.weight_grad, input);
                let _ = grad.sum_intlist_out(&layer.bias_grad, [0i64].as_slice(), false, None);
            }
            if i == 0 && !input_grad {
                return None;
            }
            let grad_input = grad.mm(&layer.weight);
            if i == 0 {
                return Some(grad_input);
            }
            // The activation's output has the sign of its input, so it decides the slope.
            // (tch's receiver is the activation's input, the argument the gradient.)
            grad = match self.hidden {
                Activation::Relu => input.threshold_backward(&grad_input, 0.0),
                Activation::LeakyRelu => input.leaky_relu_backward(&grad_input, 0.2, true),
            };
        }
        unreachable!("the loop returns at layer 0")
    }
}

/// Both networks of a GAN that can train on the fused MLP path, and what the last
/// critic iteration keeps for G's pass.
pub struct FusedMlp {
    generator: Mlp,
    discriminator: Mlp,
    kept: Option<Trace>,
}

/// Whether the fused step follows `config` exactly: the allow rule of
/// `config::FUSED_MLP_OPTIONS`.
fn applies_to(config: &GanConfig) -> bool {
    let (given, defaults) = (as_json(config), as_json(&GanConfig::default()));
    let at_default = |name: &&str| given.get(*name) == defaults.get(*name);
    config.arch == Arch::Mlp
        && FUSED_MLP_LOSSES.contains(&config.loss)
        && (SPECS.iter().map(|spec| spec.name))
            .filter(|name| !["arch", "loss"].contains(name) && !FUSED_MLP_OPTIONS.contains(name))
            .all(|name| at_default(&name))
}

impl FusedMlp {
    /// The fused path for `gan`, where it applies.
    pub(super) fn for_gan(gan: &Gan) -> Option<Self> {
        applies_to(&gan.config).then(|| FusedMlp {
            generator: Mlp::new(&gan.generator, Activation::Relu),
            discriminator: Mlp::new(&gan.discriminator, Activation::LeakyRelu),
            kept: None,
        })
    }
}

impl StepPath<Gan> for FusedMlp {
    fn discriminator_pass(
        &mut self,
        ctx: &mut Context<Gan>,
        real: &Batch,
        last: bool,
    ) -> Result<(Stats, Vec<Tensor>)> {
        let config = &ctx.model.config;
        let batch = real.images.size()[0];
        let groups = batch / config.pac; // D's items: `pac` samples side by side
        let z = ctx.streams.draw(batch, &[config.latent_dim], false);
        let (g, d) = (&self.generator, &self.discriminator);
        tch::no_grad(|| {
            let generation = g.forward(&z);
            // One pass over real and fake together: D has no batch norm to tell them apart.
            let both = Tensor::cat(
                &[real.images.reshape([groups, -1]), generation.output.view([groups, -1])],
                0,
            );
            let d_trace = d.forward(&both);
            let (losses, grad_logits) =
                discriminator_loss_and_gradient(config.loss, &d_trace.output.view([2, groups]));
            let stats = Stats::of(vec![
                ("loss/d", losses.sum(None)),
                ("loss/d/real", losses.get(0)),
                ("loss/d/fake", losses.get(1)),
            ])?;
            d.backward(&d_trace, grad_logits.reshape([-1, 1]), true, false);
            if last {
                self.kept = Some(generation);
            }
            Ok((stats, vec![d.grad.shallow_clone()]))
        })
    }

    fn generator_pass(&mut self, ctx: &mut Context<Gan>) -> Result<(Stats, Vec<Tensor>)> {
        let generation = self.kept.take().expect("the last critic iteration keeps its items");
        let (g, d, pac) = (&self.generator, &self.discriminator, ctx.model.config.pac);
        tch::no_grad(|| {
            let batch = generation.output.size()[0];
            let d_trace = d.forward(&generation.output.view([batch / pac, -1]));
            let logits = d_trace.output.view([-1]);
            let (loss, grad_logits) = match ctx.model.config.top_k_count(batch / pac, ctx.step) {
                Some(k) => {
                    let kept = strongest(&logits, k);
                    let (loss, grad) = generator_loss_and_gradient(
                        ctx.model.config.loss,
                        &logits.index_select(0, &kept),
                    );
                    (loss, logits.zeros_like().index_copy(0, &kept, &grad))
                }
                None => generator_loss_and_gradient(ctx.model.config.loss, &logits),
            };
            let stats = Stats::of(vec![("loss/g", loss)])?;
            let grad_fake = d
                .backward(&d_trace, grad_logits.reshape([-1, 1]), false, true)
                .expect("input gradient asked for");
            g.backward(&generation, grad_fake.view([batch, -1]), true, false);
            Ok((stats, vec![g.grad.shallow_clone()]))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LossKind;
    use crate::losses::{discriminator_loss, generator_loss};
    use tch::{Device, Kind};

    fn config(pac: i64, loss: LossKind) -> GanConfig {
        GanConfig {
            data_shape: vec![3],
            arch: Arch::Mlp,
            latent_dim: 5,
            hidden_dim: 7,
            depth: 2,
            pac,
            loss,
            ..Default::default()
        }
    }

    fn max_difference(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    /// The hand-written gradients of D (w.r.t. its parameters) and of G (through D) equal
    /// autograd's on the same networks.
    #[test]
    fn gradients_match_autograd() {
        for (pac, loss) in [(1, LossKind::Bce), (2, LossKind::Hinge), (1, LossKind::Lsgan)] {
            let gan = Gan::new(config(pac, loss), Device::Cpu).unwrap();
            let fused = FusedMlp::for_gan(&gan).unwrap();
            let (x, z) = (
                Tensor::randn([4, 3], (Kind::Float, Device::Cpu)),
                Tensor::randn([4, 5], (Kind::Float, Device::Cpu)),
            );

            let parts = discriminator_loss(
                loss,
                &gan.discriminator.forward(&x, None, true),
                &gan.discriminator.forward(&(&x * 0.5), None, true),
            );
            let expected =
                gan.discriminator.params().gradient(&(&parts.real + &parts.fake)).unwrap().copy();
            tch::no_grad(|| {
                let d = &fused.discriminator;
                let groups = 4 / pac;
                let trace = d.forward(&Tensor::cat(
                    &[x.view([groups, -1]), (&x * 0.5).view([groups, -1])],
                    0,
                ));
                let (_, grad) =
                    discriminator_loss_and_gradient(loss, &trace.output.view([2, groups]));
                d.backward(&trace, grad.reshape([-1, 1]), true, false);
                assert!(
                    max_difference(&d.grad, &expected) < 1e-6,
                    "D gradient, pac {pac}, {loss:?}"
                );
            });

            let fake = gan.generator.forward(&z, None, true);
            let expected = gan
                .generator
                .params()
                .gradient(&generator_loss(
                    loss,
                    &gan.discriminator.forward(&fake, None, true),
                    None,
                ))
                .unwrap()
                .copy();
            tch::no_grad(|| {
                let (g, d) = (&fused.generator, &fused.discriminator);
                let generation = g.forward(&z);
                let trace = d.forward(&generation.output.view([4 / pac, -1]));
                let (_, grad) = generator_loss_and_gradient(loss, &trace.output.view([-1]));
                let grad_fake = d.backward(&trace, grad.reshape([-1, 1]), false, true).unwrap();
                g.backward(&generation, grad_fake.view([4, -1]), true, false);
                assert!(
                    max_difference(&g.grad, &expected) < 1e-6,
                    "G gradient, pac {pac}, {loss:?}"
                );
            });
        }
    }
}
