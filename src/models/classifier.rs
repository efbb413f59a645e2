//! The digit classifier behind the evaluation metrics: a small CNN trained on MNIST 5k.
//! Its 128 penultimate features stand in for Inception features (FID, KID, precision and
//! recall) where Inception weights cannot be had, and its predictions give the class
//! coverage used in the Stacked MNIST literature (Metz et al. 2017, Lin et al. 2018).

use std::path::Path;

use tch::nn::{self, ModuleT, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use crate::error::{invalid, Error, Result};
use crate::rng::Rng;
use crate::weights::{copy_named, named_variables, read_safetensors};

pub const IMAGE_SHAPE: [i64; 3] = [1, 28, 28];
pub const FEATURES: i64 = 128;
pub const CLASSES: i64 = 10;
/// Pixels the training images are shifted by at most, in each direction.
const MAX_SHIFT: i64 = 2;

pub struct DigitClassifier {
    vs: nn::VarStore,
    features: nn::SequentialT,
    head: nn::Linear,
}

/// Per-epoch record of `DigitClassifier::train`.
pub struct EpochRecord {
    pub loss: f64,
    pub accuracy: f64,
}

impl DigitClassifier {
    pub fn new(device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let p = vs.root();
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
            .add(conv("0", 1, 32))
            .add_fn(|x| x.relu().max_pool2d_default(2)) // [N, 32, 14, 14]
            .add(conv("1", 32, 64))
            .add_fn(|x| x.relu().max_pool2d_default(2).flatten(1, -1)) // [N, 64 * 7 * 7]
            .add(nn::linear(&p / "2", 64 * 49, FEATURES, Default::default()))
            .add_fn(|x| x.relu());
        let head = nn::linear(&p / "3", FEATURES, CLASSES, Default::default());
        DigitClassifier { vs, features, head }
    }

    pub fn load(path: &Path, device: Device) -> Result<Self> {
        let classifier = DigitClassifier::new(device);
        read_safetensors(path)
            .and_then(|stored| copy_named(stored, named_variables(&classifier.vs)))
            .map_err(|reason| Error::Checkpoint { path: path.display().to_string(), reason })?;
        Ok(classifier)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        Ok(Tensor::write_safetensors(&named_variables(&self.vs), path)?)
    }

    /// Penultimate features `[N, 128]` of images `[N, 1, 28, 28]` in [-1, 1].
    pub fn features(&self, images: &Tensor) -> Result<Tensor> {
        check_images(images)?;
        let images = images.f_to_device(self.vs.device())?.f_to_kind(Kind::Float)?;
        let chunks: Vec<Tensor> = tch::no_grad(|| {
            images.split(1000, 0).iter().map(|c| self.features.forward_t(c, false)).collect()
        });
        Ok(Tensor::f_cat(&chunks, 0)?)
    }

    /// Class logits `[N, 10]` from features.
    pub fn logits(&self, features: &Tensor) -> Tensor {
        tch::no_grad(|| features.apply(&self.head))
    }

    /// Trains from PyTorch's default initialisation (seeded) with Adam, dropout before the
    /// head and random shifts of up to 2 px.
    pub fn train(
        images: &Tensor,
        labels: &Tensor,
        epochs: i64,
        seed: u64,
        device: Device,
    ) -> Result<(Self, Vec<EpochRecord>)> {
        check_images(images)?;
        let n = images.size()[0];
        if labels.size() != [n] {
            return invalid(format!("labels must have shape [{n}], got {:?}", labels.size()));
        }
        let (low, high) = (labels.min().int64_value(&[]), labels.max().int64_value(&[]));
        if low < 0 || high >= CLASSES {
            return invalid(format!("labels must lie in [0, {CLASSES}), got {low}..={high}"));
        }
        tch::manual_seed(seed as i64);
        let classifier = DigitClassifier::new(device);
        let mut optimizer = nn::Adam::default().build(&classifier.vs, 1e-3)?;
        let images = images.f_to_device(device)?.f_to_kind(Kind::Float)?;
        let labels = labels.f_to_device(device)?.f_to_kind(Kind::Int64)?;
        // Padded with the background value -1, so crops are shifted digits.
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
                    .narrow(2, dy as i64, 28)
                    .narrow(3, dx as i64, 28);
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
}

fn check_images(images: &Tensor) -> Result<()> {
    let shape = images.size();
    if shape.len() != 4 || shape[1..] != IMAGE_SHAPE || shape[0] == 0 {
        return invalid(format!("the digit classifier needs images [N, 1, 28, 28], got {shape:?}"));
    }
    Ok(())
}
