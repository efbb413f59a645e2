//! A GAN: generator, discriminator, their optimisers, an optional EMA generator and the
//! random streams, on one device.

use tch::nn::{self, ModuleT, SequentialT};
use tch::{Device, Kind, Tensor};

use crate::config::GanConfig;
use crate::error::{invalid, Error, Result};
use crate::fused_mlp::FusedMlp;
use crate::models;
use crate::optim::{Adam, FlatParams};
use crate::replica::Replica;
use crate::rng::Rng;
use crate::train::Window;
use crate::weights::{copy_named, named_variables};

/// How a network reads class labels.
enum Conditioning {
    Unconditional,
    /// G: a one-hot label of this many classes appended to z.
    OneHotInput(i64),
    /// D: the projection discriminator of Miyato & Koyama 2018 adds <embed[y], features>
    /// to the logit; `embed` is `[num_classes, feature_dim]`.
    Projection(Tensor),
}

/// A network with its variables; the trainable ones live in one flat buffer.
pub struct Network {
    pub vs: nn::VarStore,
    body: SequentialT,
    /// D's last layer, applied to the body's features.
    head: Option<SequentialT>,
    conditioning: Conditioning,
    pub params: FlatParams,
}

impl Network {
    pub fn generator(device: Device, config: &GanConfig) -> Self {
        let vs = nn::VarStore::new(device);
        let body = models::generator(&vs.root(), config);
        let conditioning =
            if config.conditional() { Conditioning::OneHotInput(config.num_classes) } else { Conditioning::Unconditional };
        Network::finish(vs, body, None, conditioning)
    }

    pub fn discriminator(device: Device, config: &GanConfig) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let parts = models::discriminator(&root, config);
        let conditioning = if config.conditional() {
            let embed = (&root / "embed").var("weight", &[config.num_classes, parts.feature_dim], nn::Init::Const(0.0));
            Conditioning::Projection(embed)
        } else {
            Conditioning::Unconditional
        };
        Network::finish(vs, parts.body, Some(parts.head), conditioning)
    }

    fn finish(vs: nn::VarStore, body: SequentialT, head: Option<SequentialT>, conditioning: Conditioning) -> Self {
        let params = FlatParams::new(&vs);
        Network { vs, body, head, conditioning, params }
    }

    /// `labels` `[N]` (int64) are required by conditional networks and ignored otherwise;
    /// callers check them.
    pub fn forward(&self, xs: &Tensor, labels: Option<&Tensor>, train: bool) -> Tensor {
        let input = match (&self.conditioning, labels) {
            (Conditioning::OneHotInput(classes), Some(labels)) => {
                Tensor::cat(&[xs, &labels.one_hot(*classes).to_kind(xs.kind())], 1)
            }
            _ => xs.shallow_clone(),
        };
        // Outputs are fp32 whatever the compute precision, as under autocast.
        let features = self.body.forward_t(&input, train);
        let Some(head) = &self.head else { return features.to_kind(Kind::Float) };
        let logits = head.forward_t(&features, train).to_kind(Kind::Float);
        match (&self.conditioning, labels) {
            (Conditioning::Projection(embed), Some(labels)) => {
                let projection = features.flatten(1, -1) * embed.index_select(0, labels);
                logits + projection.sum_dim_intlist([1i64].as_slice(), false, None)
            }
            _ => logits,
        }
    }

    /// Variables that are not trained (batch-norm running statistics), sorted by name.
    pub fn buffers(&self) -> Vec<Tensor> {
        named_variables(&self.vs).into_iter().map(|(_, v)| v).filter(|v| !v.requires_grad()).collect()
    }
}

/// Exponential moving average of the generator's weights (Karras et al. 2018).
pub struct Ema {
    pub decay: f64,
    pub generator: Network,
}

impl Ema {
    pub fn update(&mut self, generator: &Network) {
        self.blend(generator, 1.0 - self.decay);
    }

    /// Restarts the average from the generator's current weights.
    pub fn reset(&mut self, generator: &Network) {
        self.blend(generator, 1.0);
    }

    fn blend(&mut self, generator: &Network, weight: f64) {
        tch::no_grad(|| {
            let _ = self.generator.params.flat.lerp_(&generator.params.flat, weight);
            for (mut mine, theirs) in self.generator.buffers().into_iter().zip(generator.buffers()) {
                mine.copy_(&theirs);
            }
        });
    }
}

pub struct Gan {
    pub config: GanConfig,
    pub device: Device,
    pub generator: Network,
    pub discriminator: Network,
    pub g_optim: Adam,
    pub d_optim: Adam,
    pub ema: Option<Ema>,
    /// Latents and gradient-penalty mixing during training.
    pub rng: Rng,
    /// Latents of `sample` calls without a seed, kept apart so sampling never changes training.
    pub sample_rng: Rng,
    /// Training steps done.
    pub step: i64,
    /// Statistics of the steps since the last log record.
    pub log_window: Window,
    /// Set when training data-parallel with other processes.
    pub replica: Option<Replica>,
    /// The hand-differentiated step, for the MLP GANs it applies to.
    pub fused_mlp: Option<FusedMlp>,
}

/// Largest tensor `latent` and `generate` return, in elements (8 GiB of floats): larger
/// requests are refused rather than exhausting memory.
const MAX_OUTPUT_ELEMENTS: i64 = 1 << 31;

fn check_output_size(n: i64, per_item: i64, what: &str) -> Result<()> {
    if n.saturating_mul(per_item) > MAX_OUTPUT_ELEMENTS {
        return invalid(format!("{n} {what} would exceed {MAX_OUTPUT_ELEMENTS} values; ask for fewer"));
    }
    Ok(())
}

pub fn parse_device(name: &str) -> Result<Device> {
    match name {
        "auto" => Ok(Device::cuda_if_available()),
        "cpu" => Ok(Device::Cpu),
        "cuda" if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        "cuda" => invalid("device='cuda' but no CUDA device is available"),
        other => match other.strip_prefix("cuda:").and_then(|i| i.parse::<usize>().ok()) {
            Some(i) if (i as i64) < tch::Cuda::device_count() => Ok(Device::Cuda(i)),
            _ => invalid(format!("unknown or unavailable device '{other}': use 'auto', 'cpu', 'cuda' or 'cuda:N'")),
        },
    }
}

impl Gan {
    pub fn new(config: GanConfig, device: Device) -> Result<Self> {
        config.validate()?;
        let mut rng = Rng::new(config.seed);
        let generator = Network::generator(device, &config);
        let discriminator = Network::discriminator(device, &config);
        models::initialise(&generator.vs, config.arch, &mut rng);
        models::initialise(&discriminator.vs, config.arch, &mut rng);
        let ema = config.ema.map(|decay| {
            let mut copy = Network::generator(device, &config);
            tch::no_grad(|| copy.params.flat.copy_(&generator.params.flat));
            Ema { decay, generator: copy }
        });
        let g_optim = Adam::new(&generator.params, config.lr_g, config.betas_g);
        let d_optim = Adam::new(&discriminator.params, config.lr_d, config.betas_d);
        let sample_rng = rng.fork();
        let fused_mlp = FusedMlp::applies_to(&config).then(|| FusedMlp::new(&generator, &discriminator, &config));
        Ok(Gan {
            config,
            device,
            generator,
            discriminator,
            g_optim,
            d_optim,
            ema,
            rng,
            sample_rng,
            step: 0,
            log_window: Window::default(),
            replica: None,
            fused_mlp,
        })
    }

    /// Checks that `data` is a float batch `[N, *data_shape]` and moves it to the device.
    pub fn check_batch(&self, data: &Tensor, what: &str) -> Result<Tensor> {
        let shape = data.size();
        if shape.len() != self.config.data_shape.len() + 1 || shape[1..] != self.config.data_shape[..] {
            return invalid(format!(
                "{what} must have shape [N, {}], got {shape:?}",
                self.config.data_shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
            ));
        }
        if shape[0] == 0 {
            return invalid(format!("{what} is empty"));
        }
        if !data.is_floating_point() {
            return invalid(format!("{what} must be floating point, got {:?}", data.kind()));
        }
        Ok(data.f_to_device(self.device)?.f_to_kind(Kind::Float)?)
    }

    /// `n` latent codes from the sampling stream, or from a stream seeded with `seed`.
    pub fn latent(&mut self, n: i64, seed: Option<u64>) -> Result<Tensor> {
        if n < 1 {
            return invalid(format!("number of latents must be at least 1, got {n}"));
        }
        check_output_size(n, self.config.latent_dim, "latents")?;
        let shape = [n, self.config.latent_dim];
        Ok(match seed {
            Some(seed) => Rng::new(seed).normal_tensor(&shape, self.device),
            None => self.sample_rng.normal_tensor(&shape, self.device),
        })
    }

    /// Checks class labels for `n` items: required (int, `[n]`, in `0..num_classes`) by a
    /// conditional GAN, refused by an unconditional one. Returns them on the device.
    pub fn check_labels(&self, labels: Option<&Tensor>, n: i64, what: &str) -> Result<Option<Tensor>> {
        let classes = self.config.num_classes;
        let labels = match (labels, classes) {
            (None, 0) => return Ok(None),
            (Some(_), 0) => return invalid(format!("{what} given, but this GAN is unconditional (num_classes=0)")),
            (None, _) => return invalid(format!("this GAN is class-conditional (num_classes={classes}): pass {what}")),
            (Some(labels), _) => labels,
        };
        if labels.size() != [n] {
            return invalid(format!("{what} must have shape [{n}], one per item, got {:?}", labels.size()));
        }
        if labels.is_floating_point() || labels.is_complex() || labels.kind() == Kind::Bool {
            return invalid(format!("{what} must be integers, got {:?}", labels.kind()));
        }
        let labels = labels.f_to_device(self.device)?.f_to_kind(Kind::Int64)?;
        let (low, high) = (labels.f_min()?.int64_value(&[]), labels.f_max()?.int64_value(&[]));
        if low < 0 || high >= classes {
            return invalid(format!("{what} must lie in [0, {}], got values from {low} to {high}", classes - 1));
        }
        Ok(Some(labels))
    }

    /// Uniformly random classes for `batch` generated items (none when unconditional).
    pub fn draw_labels(&mut self, batch: i64) -> Option<Tensor> {
        let classes = self.config.num_classes;
        self.config.conditional().then(|| {
            let uniform = self.draw(batch, &[], true);
            (uniform * classes as f64).floor().clamp_max(classes as f64 - 1.0).to_kind(Kind::Int64)
        })
    }

    /// Renders latent codes `[N, latent_dim]` (of classes `labels` `[N]` when conditional)
    /// with the EMA generator when there is one and `use_ema` allows it. Batch norm uses
    /// its running statistics.
    pub fn generate(&self, z: &Tensor, labels: Option<&Tensor>, use_ema: bool) -> Result<Tensor> {
        let shape = z.size();
        if shape.len() != 2 || shape[1] != self.config.latent_dim || shape[0] == 0 {
            return invalid(format!("latents must have shape [N, {}], got {shape:?}", self.config.latent_dim));
        }
        check_output_size(shape[0], self.config.data_numel(), "generated items")?;
        let labels = self.check_labels(labels, shape[0], "labels")?;
        let z = z.f_to_device(self.device)?.f_to_kind(Kind::Float)?;
        let generator = match (&self.ema, use_ema) {
            (Some(ema), true) => &ema.generator,
            _ => &self.generator,
        };
        // Chunks bound the memory of large requests.
        const CHUNK: i64 = 512;
        let chunks: Vec<Tensor> = tch::no_grad(|| {
            let label_chunks = labels.as_ref().map(|l| l.split(CHUNK, 0));
            z.split(CHUNK, 0)
                .iter()
                .enumerate()
                .map(|(i, c)| generator.forward(c, label_chunks.as_ref().map(|l| &l[i]), false))
                .collect()
        });
        // Convolutions leave images channels last; callers get the usual layout.
        Ok(Tensor::f_cat(&chunks, 0)?.f_contiguous()?)
    }

    /// The named variables of "generator", "generator_ema" or "discriminator", as they
    /// appear in the PyTorch version of the network's `state_dict`.
    pub fn state_dict(&self, network: &str) -> Result<Vec<(String, Tensor)>> {
        let network = match (network, &self.ema) {
            ("generator", _) => &self.generator,
            ("generator_ema", Some(ema)) => &ema.generator,
            ("generator_ema", None) => return invalid("this GAN keeps no EMA generator"),
            ("discriminator", _) => &self.discriminator,
            (other, _) => return invalid(format!("unknown network '{other}': use 'generator', 'generator_ema' or 'discriminator'")),
        };
        Ok(named_variables(&network.vs).into_iter().map(|(name, t)| (name, t.detach().copy())).collect())
    }

    /// Replaces the weights of "generator" or "discriminator" by `tensors`, which must
    /// match the network's names and shapes exactly. The EMA generator restarts from the
    /// new generator.
    pub fn load_state_dict(&mut self, network: &str, tensors: Vec<(String, Tensor)>) -> Result<()> {
        let target = match network {
            "generator" => &self.generator,
            "discriminator" => &self.discriminator,
            other => return invalid(format!("cannot load weights into '{other}': use 'generator' or 'discriminator'")),
        };
        let stored = tensors.into_iter().collect();
        copy_named(stored, named_variables(&target.vs))
            .map_err(|reason| Error::InvalidArgument(format!("{network} state_dict: {reason}")))?;
        if let (Some(ema), "generator") = (&mut self.ema, network) {
            ema.reset(&self.generator);
        }
        Ok(())
    }

    /// Processes training together (1 without a replica).
    pub fn world_size(&self) -> i64 {
        self.replica.as_ref().map_or(1, |r| r.world_size)
    }

    /// Random values `[batch, *rest]` for this process: the replica's slice of a global
    /// draw, so every replica's stream advances alike and the replicas together use what
    /// one process with the global batch would.
    pub fn draw(&mut self, batch: i64, rest: &[i64], uniform: bool) -> Tensor {
        let mut shape = vec![batch * self.world_size()];
        shape.extend(rest);
        let global =
            if uniform { self.rng.uniform_tensor(&shape, self.device) } else { self.rng.normal_tensor(&shape, self.device) };
        self.own_slice(global, batch)
    }

    /// This process's `[batch]` part of a global `[batch * world_size, ...]` tensor.
    pub fn own_slice(&self, global: Tensor, batch: i64) -> Tensor {
        match &self.replica {
            Some(replica) => replica.slice(&global, batch),
            None => global,
        }
    }

    /// Averages a flat gradient across replicas (nothing to do in one process).
    pub fn sync_gradient(&mut self, gradient: &Tensor) -> Result<()> {
        match self.replica.as_mut() {
            Some(replica) => (replica.sync)(gradient),
            None => Ok(()),
        }
    }

    pub fn sample(&mut self, n: i64, seed: Option<u64>, labels: Option<&Tensor>, use_ema: bool) -> Result<Tensor> {
        let z = self.latent(n, seed)?;
        self.generate(&z, labels, use_ema)
    }
}
