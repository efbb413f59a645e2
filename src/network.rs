//! A network with its variables, the trainable ones in one flat buffer, and the
//! exponential moving average of a generator.

use tch::nn::{self, ModuleT, SequentialT};
use tch::{Device, Kind, Tensor};

use crate::config::GanConfig;
use crate::flat_params::FlatParams;
use crate::models::unet::UNet;
use crate::models::{self, Body, DenseLayer, LayerInputs};
use crate::weights::named_variables;

/// How a network reads class labels.
enum Conditioning {
    Unconditional,
    /// G: a one-hot label of this many classes appended to z.
    OneHotInput(i64),
    /// G: a one-hot label of this many classes read by the body's conditional batch norm.
    ClassBatchNorm(i64),
    /// D: the projection discriminator of Miyato & Koyama 2018 adds <embed[y], features>
    /// to the logit; `embed` is `[num_classes, feature_dim]`.
    Projection(Tensor),
}

pub struct Network {
    vs: nn::VarStore,
    /// G's first layer with its normalisation and nonlinearity, before `body`.
    first_block: Option<SequentialT>,
    /// G's network from its input to the body's per-layer inputs, in a family that has one.
    per_layer: Option<SequentialT>,
    body: Box<dyn Body>,
    /// D's last layer, applied to the body's features.
    head: Option<SequentialT>,
    conditioning: Conditioning,
    params: FlatParams,
    /// The dense layers, input to output, of a network that is only a stack of them.
    dense_layers: Vec<DenseLayer>,
    /// D's features are logits of judged positions, which the loss judges one by one.
    judges_positions: bool,
}

impl Network {
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

    /// The dense layers, input to output, of a network that is only a stack of them.
    pub fn dense_layers(&self) -> &[DenseLayer] {
        &self.dense_layers
    }

    pub fn generator(device: Device, config: &GanConfig) -> Self {
        let vs = nn::VarStore::new(device);
        let built = models::family(config.arch).generator(&vs.root(), config);
        let classes = config.conditioning_classes();
        let conditioning = if config.class_batch_norm() {
            Conditioning::ClassBatchNorm(classes)
        } else if classes > 0 {
            Conditioning::OneHotInput(classes)
        } else {
            Conditioning::Unconditional
        };
        let mut network = Network::finish(vs, built.body, None, conditioning, built.dense_layers);
        network.first_block = Some(built.first_block);
        network.per_layer = built.per_layer;
        network
    }

    pub fn discriminator(device: Device, config: &GanConfig) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let parts = models::family(config.arch).discriminator(&root, config);
        let conditioning = if config.conditioning_classes() > 0 {
            let shape = [config.conditioning_classes(), parts.feature_dim];
            Conditioning::Projection((&root / "embed").var("weight", &shape, nn::Init::Const(0.0)))
        } else {
            Conditioning::Unconditional
        };
        let mut network = Network::finish(
            vs,
            Box::new(parts.body),
            Some(parts.head),
            conditioning,
            parts.dense_layers,
        );
        network.judges_positions = models::family(config.arch).judges_positions();
        network
    }

    fn finish(
        vs: nn::VarStore,
        body: Box<dyn Body>,
        head: Option<SequentialT>,
        conditioning: Conditioning,
        dense_layers: Vec<DenseLayer>,
    ) -> Self {
        let params = FlatParams::new(&vs);
        let (first_block, per_layer) = (None, None);
        let judges_positions = false;
        Network {
            vs,
            first_block,
            per_layer,
            body,
            head,
            conditioning,
            params,
            dense_layers,
            judges_positions,
        }
    }

    /// `labels` (class labels `[N]`, int64, or codes `[N, classes]`) are required by
    /// conditional networks and ignored otherwise; callers check them.
    pub fn forward(&self, xs: &Tensor, labels: Option<&Tensor>, train: bool) -> Tensor {
        self.judge(xs, labels, train, false)
    }

    /// What D's adversarial loss reads: its logits `[N]`, or `[N, positions]` where the
    /// family judges several positions, each of which the loss then judges apart.
    pub fn loss_logits(&self, xs: &Tensor, labels: Option<&Tensor>, train: bool) -> Tensor {
        self.judge(xs, labels, train, self.judges_positions)
    }

    fn judge(&self, xs: &Tensor, labels: Option<&Tensor>, train: bool, positions: bool) -> Tensor {
        let mut input = self.with_labels(xs, labels);
        let per_layer = self.per_layer.as_ref().map(|network| network.forward_t(&input, train));
        if let Some(first_block) = &self.first_block {
            input = first_block.forward_t(&input, train);
        }
        let classes = match (&self.conditioning, labels) {
            (Conditioning::ClassBatchNorm(classes), Some(labels)) => {
                Some(class_codes(labels, *classes, Kind::Float))
            }
            _ => None,
        };
        let inputs = LayerInputs { classes: classes.as_ref(), per_layer: per_layer.as_ref() };
        // Outputs are fp32 whatever the compute precision, as under autocast.
        let features = self.body.forward(&input, inputs, train);
        let Some(head) = &self.head else {
            return features.to_kind(Kind::Float);
        };
        let logits = if positions {
            features.to_kind(Kind::Float)
        } else {
            head.forward_t(&features, train).to_kind(Kind::Float)
        };
        match (&self.conditioning, labels) {
            (Conditioning::Projection(embed), Some(labels)) => {
                let embedded = if labels.dim() == 2 {
                    labels.matmul(embed)
                } else {
                    embed.index_select(0, labels)
                };
                let projection = features.flatten(1, -1) * embedded;
                let keep = positions; // [N, 1] beside [N, positions]
                logits + projection.sum_dim_intlist([1i64].as_slice(), keep, None)
            }
            _ => logits,
        }
    }

    /// A discriminator's features of `xs` before its head, in evaluation mode, flattened
    /// to `[N, feature_dim]`: what its projection reads.
    pub fn features(&self, xs: &Tensor) -> Tensor {
        self.body.forward(xs, LayerInputs::default(), false).flatten(1, -1).to_kind(Kind::Float)
    }

    /// A generator's activations after its first block, flattened to `[N, features]`, in
    /// evaluation mode.
    pub fn first_activations(&self, z: &Tensor, labels: Option<&Tensor>) -> Tensor {
        let input = self.with_labels(z, labels);
        let activations = match &self.first_block {
            Some(first_block) => first_block.forward_t(&input, false),
            None => input,
        };
        activations.flatten(1, -1).to_kind(Kind::Float)
    }

    fn with_labels(&self, xs: &Tensor, labels: Option<&Tensor>) -> Tensor {
        match (&self.conditioning, labels) {
            (Conditioning::OneHotInput(classes), Some(labels)) => {
                Tensor::cat(&[xs, &class_codes(labels, *classes, xs.kind())], 1)
            }
            _ => xs.shallow_clone(),
        }
    }
}

/// Class labels `[N]` as one-hot codes `[N, classes]`; codes `[N, classes]` (distributions
/// over the classes, as a cluster code) stay as they are.
fn class_codes(labels: &Tensor, classes: i64, kind: Kind) -> Tensor {
    let codes = if labels.dim() == 2 { labels.shallow_clone() } else { labels.one_hot(classes) };
    codes.to_kind(kind)
}

/// A network an `Ema` can average: its trainable parameters in one flat buffer, and its
/// variables.
pub trait Averaged {
    fn params(&self) -> &FlatParams;
    fn var_store(&self) -> &nn::VarStore;

    /// Variables that are not trained (batch-norm running statistics), sorted by name.
    fn buffers(&self) -> Vec<Tensor> {
        named_variables(self.var_store())
            .into_iter()
            .map(|(_, v)| v)
            .filter(|v| !v.requires_grad())
            .collect()
    }
}

impl Averaged for UNet {
    fn params(&self) -> &FlatParams {
        self.params()
    }

    fn var_store(&self) -> &nn::VarStore {
        self.vs()
    }
}

impl Averaged for Network {
    fn params(&self) -> &FlatParams {
        self.params()
    }

    fn var_store(&self) -> &nn::VarStore {
        self.vs()
    }
}

/// Exponential moving average of the generator's weights (Karras et al. 2018).
pub struct Ema<N: Averaged = Network> {
    decay: f64,
    generator: N,
}

impl<N: Averaged> Ema<N> {
    /// An average of decay `decay` held in `copy`, a network built like `generator`,
    /// starting from `generator`'s weights.
    pub fn new(decay: f64, copy: N, generator: &N) -> Self {
        let mut ema = Ema { decay, generator: copy };
        ema.reset(generator);
        ema
    }

    /// The averaged generator.
    pub fn generator(&self) -> &N {
        &self.generator
    }

    /// The decay after `step` updates: `min(decay, (1 + step) / (10 + step))`. The warm-up
    /// lets the average follow the generator early on, where a fixed 0.999 would keep the
    /// random initial weights for thousands of steps.
    pub fn decay_at(&self, step: i64) -> f64 {
        let step = step.max(0) as f64;
        self.decay.min((1.0 + step) / (10.0 + step))
    }

    /// Folds the generator in after its update number `step` (counted from 0).
    pub fn update(&mut self, generator: &N, step: i64) {
        self.blend(generator, 1.0 - self.decay_at(step));
    }

    /// Restarts the average from the generator's current weights.
    pub fn reset(&mut self, generator: &N) {
        self.blend(generator, 1.0);
    }

    fn blend(&mut self, generator: &N, weight: f64) {
        tch::no_grad(|| {
            let mut average = self.generator.params().flat.shallow_clone();
            let _ = average.lerp_(&generator.params().flat, weight);
            for (mut mine, theirs) in self.generator.buffers().into_iter().zip(generator.buffers())
            {
                mine.copy_(&theirs);
            }
        });
    }
}
