//! The classifier behind the evaluation metrics: a small CNN, shipped trained on MNIST 5k
//! and Fashion-MNIST. Its 128 penultimate features stand in for Inception features (FID,
//! KID, precision and recall) where Inception weights cannot be had, and its predictions
//! give the class coverage used in the Stacked MNIST literature (Metz et al. 2017, Lin et
//! al. 2018). The same network trained from scratch on any labelled images (grey or colour,
//! any size that is a multiple of 4) gives GAN-train and GAN-test.

use std::collections::BTreeMap;
use std::path::Path;

use tch::nn::{self, ModuleT, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use crate::error::{invalid, Error, Result};
use crate::rng::Rng;
use crate::weights::{copy_named, named_variables, read_safetensors};

pub const FEATURES: i64 = 128;
/// The fewest classes a head has: the shipped classifiers' 10, so that training on labels
/// `0..k` for `k` ≤ 10 builds the same network whatever `k` is.
const MIN_CLASSES: i64 = 10;
/// Pixels the training images are shifted by at most, in each direction.
const MAX_SHIFT: i64 = 2;
/// Convolution widths; each halves the image with a max pool.
const WIDTHS: [i64; 2] = [32, 64];

/// What a classifier reads and tells apart: images `[channels, size, size]` into `classes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassifierShape {
    pub channels: i64,
    pub size: i64,
    pub classes: i64,
}

impl ClassifierShape {
    /// The shipped digit and Fashion-MNIST classifiers'.
    pub const DIGITS: ClassifierShape = ClassifierShape { channels: 1, size: 28, classes: 10 };

    /// The shape that reads `images` and tells apart labels up to `highest_label`.
    fn for_images(images: &Tensor, highest_label: i64) -> Result<Self> {
        let shape = images.size();
        if shape.len() != 4 || shape[0] == 0 || shape[2] != shape[3] {
            return invalid(format!(
                "the classifier needs square images [N, C, H, H], got {shape:?}"
            ));
        }
        let found = ClassifierShape {
            channels: shape[1],
            size: shape[2],
            classes: MIN_CLASSES.max(highest_label + 1),
        };
        found.check()?;
        Ok(found)
    }

    fn check(&self) -> Result<()> {
        if !matches!(self.channels, 1 | 3) || self.size < 4 || self.size % 4 != 0 {
            return invalid(format!(
                "the classifier reads 1- or 3-channel images whose size is a multiple of 4, got {} channels at {} px",
                self.channels, self.size
            ));
        }
        Ok(())
    }

    /// The shape whose network stored `weights` hold.
    fn of_weights(weights: &BTreeMap<String, Tensor>) -> std::result::Result<Self, String> {
        let dims = |name: &str| {
            weights.get(name).map(Tensor::size).ok_or_else(|| format!("no tensor named {name}"))
        };
        let (conv, linear, head) = (dims("0.weight")?, dims("2.weight")?, dims("3.weight")?);
        let pooled = ((linear.get(1).copied().unwrap_or(0) / WIDTHS[1]) as f64).sqrt() as i64;
        let found = ClassifierShape {
            channels: conv.get(1).copied().unwrap_or(0),
            size: 4 * pooled,
            classes: head.first().copied().unwrap_or(0),
        };
        if linear.get(1) != Some(&(WIDTHS[1] * pooled * pooled)) || found.classes < 1 {
            return Err(format!(
                "weights of shapes {conv:?}, {linear:?}, {head:?} are no classifier's"
            ));
        }
        found.check().map_err(|e| e.to_string())?;
        Ok(found)
    }
}

pub struct Classifier {
    shape: ClassifierShape,
    vs: nn::VarStore,
    features: nn::SequentialT,
    head: nn::Linear,
}

/// Per-epoch record of `Classifier::train`.
pub struct EpochRecord {
    pub loss: f64,
    pub accuracy: f64,
}

impl Classifier {
    pub fn new(shape: ClassifierShape, device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let p = vs.root();
        let pooled = shape.size / 4;
        let conv = |name: &str, inputs, outputs| {
            nn::conv2d(
                &p / name,
                inputs,
                outputs,
                3,
                nn::ConvConfig { padding: 1, ..Default::default() },
            )
        };
        let features = nn::seq_t()
            .add(conv("0", shape.channels, WIDTHS[0]))
            .add_fn(|x| x.relu().max_pool2d_default(2)) // [N, 32, size / 2, size / 2]
            .add(conv("1", WIDTHS[0], WIDTHS[1]))
            .add_fn(|x| x.relu().max_pool2d_default(2).flatten(1, -1)) // [N, 64 * (size / 4)²]
            .add(nn::linear(&p / "2", WIDTHS[1] * pooled * pooled, FEATURES, Default::default()))
            .add_fn(|x| x.relu());
        let head = nn::linear(&p / "3", FEATURES, shape.classes, Default::default());
        Classifier { shape, vs, features, head }
    }

    pub fn load(path: &Path, device: Device) -> Result<Self> {
        let fail = |reason| Error::Checkpoint { path: path.display().to_string(), reason };
        let stored = read_safetensors(path).map_err(fail)?;
        let classifier =
            Classifier::new(ClassifierShape::of_weights(&stored).map_err(fail)?, device);
        copy_named(stored, named_variables(&classifier.vs)).map_err(fail)?;
        Ok(classifier)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        Ok(Tensor::write_safetensors(&named_variables(&self.vs), path)?)
    }

    /// Penultimate features `[N, 128]` of images `[N, channels, size, size]` in [-1, 1].
    pub fn features(&self, images: &Tensor) -> Result<Tensor> {
        self.check_images(images)?;
        let images = images.f_to_device(self.vs.device())?.f_to_kind(Kind::Float)?;
        let chunks: Vec<Tensor> = tch::no_grad(|| {
            images.split(1000, 0).iter().map(|c| self.features.forward_t(c, false)).collect()
        });
        Ok(Tensor::f_cat(&chunks, 0)?)
    }

    /// Class logits `[N, classes]` from features.
    pub fn logits(&self, features: &Tensor) -> Tensor {
        tch::no_grad(|| features.apply(&self.head))
    }

    /// Trains from PyTorch's default initialisation (seeded) with Adam, dropout before the
    /// head and random shifts of up to 2 px, a network shaped for `images` `[N, C, S, S]`
    /// and `labels` `[N]` (at least 10 classes, as the shipped ones).
    pub fn train(
        images: &Tensor,
        labels: &Tensor,
        epochs: i64,
        seed: u64,
        device: Device,
    ) -> Result<(Self, Vec<EpochRecord>)> {
        let n = images.size().first().copied().unwrap_or(0);
        if labels.size() != [n] || n == 0 {
            return invalid(format!("labels must have shape [{n}], got {:?}", labels.size()));
        }
        let (low, high) = (labels.min().int64_value(&[]), labels.max().int64_value(&[]));
        if low < 0 {
            return invalid(format!("labels must not be negative, got {low}"));
        }
        let shape = ClassifierShape::for_images(images, high)?;
        tch::manual_seed(seed as i64);
        let classifier = Classifier::new(shape, device);
        let mut optimizer = nn::Adam::default().build(&classifier.vs, 1e-3)?;
        let images = images.f_to_device(device)?.f_to_kind(Kind::Float)?;
        let labels = labels.f_to_device(device)?.f_to_kind(Kind::Int64)?;
        // Padded with the background value -1, so crops are shifted images.
        let padded =
            (images + 1.0).constant_pad_nd([MAX_SHIFT, MAX_SHIFT, MAX_SHIFT, MAX_SHIFT]) - 1.0;
        let mut rng = Rng::new(seed);
        let mut records = Vec::new();
        for _ in 0..epochs {
            let order = rng.permutation(n as usize, device);
            let (mut loss_sum, mut correct) = (0.0, 0.0);
            for batch in order.split(64, 0) {
                let (dx, dy) = (
                    rng.next_u64() % (2 * MAX_SHIFT as u64 + 1),
                    rng.next_u64() % (2 * MAX_SHIFT as u64 + 1),
                );
                let x = padded
                    .index_select(0, &batch)
                    .narrow(2, dy as i64, shape.size)
                    .narrow(3, dx as i64, shape.size);
                let y = labels.index_select(0, &batch);
                let logits = classifier
                    .features
                    .forward_t(&x, true)
                    .dropout(0.3, true)
                    .apply(&classifier.head);
                let loss = logits.cross_entropy_for_logits(&y);
                optimizer.backward_step(&loss);
                loss_sum += loss.double_value(&[]) * batch.size()[0] as f64;
                correct +=
                    logits.argmax(1, false).eq_tensor(&y).sum(Kind::Double).double_value(&[]);
            }
            records.push(EpochRecord { loss: loss_sum / n as f64, accuracy: correct / n as f64 });
        }
        Ok((classifier, records))
    }

    fn check_images(&self, images: &Tensor) -> Result<()> {
        let shape = images.size();
        let ClassifierShape { channels, size, .. } = self.shape;
        if shape.len() != 4 || shape[1..] != [channels, size, size] || shape[0] == 0 {
            return invalid(format!(
                "this classifier needs images [N, {channels}, {size}, {size}], got {shape:?}"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_classifier_loads_with_the_shape_it_was_trained_for() {
        let images = Tensor::rand([24, 3, 12, 12], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let labels = Tensor::arange(24, (Kind::Int64, Device::Cpu)).remainder(12);
        let (trained, _) = Classifier::train(&images, &labels, 1, 0, Device::Cpu).unwrap();
        assert_eq!(trained.shape, ClassifierShape { channels: 3, size: 12, classes: 12 });
        let path = std::env::temp_dir().join(format!("rustgan-classifier-{}", std::process::id()));
        trained.save(&path).unwrap();
        let loaded = Classifier::load(&path, Device::Cpu).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(loaded.shape, trained.shape);
        let logits = |c: &Classifier| c.logits(&c.features(&images).unwrap());
        assert!(logits(&loaded).allclose(&logits(&trained), 1e-6, 1e-6, false));
        let grey = Tensor::zeros([2, 1, 12, 12], (Kind::Float, Device::Cpu));
        assert!(loaded.features(&grey).unwrap_err().to_string().contains("[N, 3, 12, 12]"));
        let odd = Tensor::zeros([2, 3, 10, 10], (Kind::Float, Device::Cpu));
        let refused = Classifier::train(&odd, &labels.narrow(0, 0, 2), 1, 0, Device::Cpu);
        assert!(refused.err().unwrap().to_string().contains("multiple of 4"));
    }
}
