//! Discriminator-guided sampling: D's calibrated logit estimates p_data / p_G, and the
//! samples are resampled toward the data by rejection (DRS, Azadi et al. 2019) or by a
//! Metropolis-Hastings independence sampler (MH-GAN, Turner et al. 2019).
//!
//! A discriminator that judges packs of `pac` items (PacGAN) scores a pack's joint ratio,
//! so packs are accepted or rejected whole; their items are still independent draws.

use std::collections::HashMap;

use tch::{Kind, Tensor};

use crate::calibration::Calibration;
use crate::error::{invalid, Error, Result};
use crate::gan::Gan;
use crate::network::Averaged;
use crate::rng::Rng;

crate::option_table::named_choices! {
    pub enum Guide ("guide") {
        /// Discriminator rejection sampling.
        Rejection = "drs",
        /// A Metropolis-Hastings independence sampler.
        MetropolisHastings = "mh",
    }
}

/// Proposals an MH chain sees before it returns its state (MH-GAN's K).
const CHAIN_LENGTH: usize = 20;
/// Rounds of proposals after which rejection sampling gives up on slots still empty.
const MAX_ROUNDS: usize = 500;

/// What to draw: `n` items (of `labels` `[n]` when conditional), from the generator
/// `use_ema` picks, latents scaled by `truncation`.
pub struct Draw<'a> {
    pub n: i64,
    pub seed: Option<u64>,
    pub labels: Option<&'a Tensor>,
    pub use_ema: bool,
    pub truncation: f64,
}

/// Items D scores at once, at most, and candidates drawn per round, at least.
const BATCH: i64 = 512;
const MIN_CANDIDATES: i64 = 256;

/// D's logits `[N / pac]` on items `[N, *data_shape]`, of one kind (all real or all
/// generated), computed as in training: batch norm normalises each batch by its own
/// statistics (in evaluation mode it would mix those of real and generated batches, and
/// rank samples by something D never learned). Batches are near-equal parts of at most
/// `BATCH` packs, and D's running statistics are left as they were.
fn logits(gan: &Gan, items: &Tensor, labels: Option<&Tensor>) -> Result<Vec<f64>> {
    let pac = gan.config().pac;
    let packs = items.size()[0] / pac;
    let parts = (packs + BATCH - 1) / BATCH;
    let chunk = (packs + parts - 1) / parts * pac;
    let buffers = gan.discriminator().buffers();
    let saved: Vec<Tensor> = buffers.iter().map(Tensor::copy).collect();
    let logits: Vec<Tensor> = tch::no_grad(|| {
        let label_chunks = labels.map(|l| l.split(chunk, 0));
        items
            .split(chunk, 0)
            .iter()
            .enumerate()
            .map(|(i, c)| {
                gan.discriminator().forward(c, label_chunks.as_ref().map(|l| &l[i]), true)
            })
            .collect()
    });
    tch::no_grad(|| {
        for (mut buffer, value) in buffers.into_iter().zip(&saved) {
            buffer.copy_(value);
        }
    });
    Ok(Vec::<f64>::try_from(Tensor::f_cat(&logits, 0)?.f_to_kind(Kind::Double)?)?)
}

/// Fits D's calibration on the real items `real` (and their `labels` when conditional)
/// against as many fresh samples of the same classes, and stores it in the GAN.
pub fn calibrate(
    gan: &mut Gan,
    real: &Tensor,
    labels: Option<&Tensor>,
    seed: u64,
    use_ema: bool,
) -> Result<Calibration> {
    let real = gan.check_batch(real, "real items")?;
    let labels = gan.data_labels(&real, labels, "labels")?;
    let pac = gan.config().pac;
    let packs = real.size()[0] / pac;
    if packs < 2 {
        return invalid(format!(
            "calibration needs at least {} real items (2 packs of {pac}), got {}",
            2 * pac,
            real.size()[0]
        ));
    }
    // Packs of real items are random groups: held-out data is often sorted by class.
    let mut rng = Rng::new(seed);
    let order = rng.permutation(real.size()[0] as usize, gan.device()).narrow(0, 0, packs * pac);
    let real = real.f_index_select(0, &order)?;
    let labels = labels.map(|l| l.index_select(0, &order));
    let z = gan.latent(packs * pac, Some(rng.next_u64()), 1.0)?;
    // Samples of the real items' classes; a self-conditioned GAN's follow their latents.
    let given = if gan.config().conditional() { labels.as_ref() } else { None };
    let fake = gan.generate(&z, given, use_ema)?;
    let mut calibration = Calibration::fit(
        &logits(gan, &real, labels.as_ref())?,
        &logits(gan, &fake, gan.conditioning(&z, given).as_ref())?,
    )?;
    calibration.real_items = packs * pac;
    gan.set_calibration(calibration.clone());
    Ok(calibration)
}

/// `draw.n` samples resampled by `guide` with the GAN's calibration; deterministic given
/// `draw.seed`.
pub fn sample(gan: &mut Gan, guide: Guide, draw: &Draw) -> Result<Tensor> {
    let Some(calibration) = gan.calibration().cloned() else {
        return invalid(
            "this GAN has no calibration for guided sampling: call gan.calibrate(real) with real \
             items held back from training (rustgan train --hold-out N does it), then sample",
        );
    };
    if draw.n < 1 {
        return invalid(format!("n must be at least 1 (samples), got {}", draw.n));
    }
    let labels = gan.sampling_labels(draw.n, draw.labels);
    let labels = gan.check_labels(labels.as_ref(), draw.n, "labels")?;
    let pac = gan.config().pac;
    let packs = (draw.n + pac - 1) / pac;
    let mut rng = match draw.seed {
        Some(seed) => Rng::new(seed),
        None => gan.fork_sample_rng(),
    };
    // A self-conditioned GAN draws each slot's cluster first, at the clusters' shares, and
    // resamples within it: D's preferences between clusters would skew their shares.
    let clusters = match gan.config().clusters {
        0 => None,
        _ => {
            let latents = gan.latent(packs, Some(rng.next_u64()), 1.0)?;
            gan.clusters_of(&gan.truncated(&latents, draw.truncation)?)
        }
    };
    let mut proposals = Proposals { rng, calibration, labels, clusters, draw };
    let packed = match guide {
        Guide::Rejection => rejection(gan, &mut proposals, packs)?,
        Guide::MetropolisHastings => metropolis_hastings(gan, &mut proposals, packs)?,
    };
    let mut shape = vec![packs * pac];
    shape.extend_from_slice(&gan.config().data_shape);
    Ok(packed.f_reshape(&shape)?.f_narrow(0, 0, draw.n)?.f_contiguous()?)
}

/// Candidates for some of the output slots (packs), with their log density ratios.
struct Proposals<'a> {
    rng: Rng,
    calibration: Calibration,
    /// One label per slot (conditional GANs never pack).
    labels: Option<Tensor>,
    /// A self-conditioned GAN's cluster per slot.
    clusters: Option<Tensor>,
    draw: &'a Draw<'a>,
}

impl Proposals<'_> {
    /// The class of each slot, where slots are bound to one: a label or a cluster.
    fn slot_classes(&self) -> Result<Option<Vec<i64>>> {
        let bound = self.clusters.as_ref().or(self.labels.as_ref());
        Ok(bound.map(Vec::<i64>::try_from).transpose()?)
    }

    /// New candidates `[slots, pac, *data_shape]` for `slots` and their log ratios. D
    /// scores them among at least `MIN_CANDIDATES` packs, so that few slots still get
    /// batch statistics like those of training; the extra packs are dropped.
    fn propose(&mut self, gan: &mut Gan, slots: &Tensor) -> Result<(Tensor, Vec<f64>)> {
        let (pac, wanted) = (gan.config().pac, slots.size()[0]);
        let packs = wanted.max(MIN_CANDIDATES);
        let latents = gan.latent(packs * pac, Some(self.rng.next_u64()), 1.0)?;
        let mut z = gan.truncated(&latents, self.draw.truncation)?;
        // Extra packs reuse the slots' labels (or clusters) in turn.
        let cycle = Tensor::arange(packs, (Kind::Int64, gan.device())).remainder(wanted);
        let of_slots = |per_slot: &Tensor| per_slot.index_select(0, &slots.index_select(0, &cycle));
        let labels = self.labels.as_ref().map(of_slots);
        if let Some(ids) = &self.clusters {
            let position = self.rng.uniform_tensor(&[packs], gan.device());
            z = gan.in_clusters(&z, &of_slots(ids), Some(&position));
        }
        let items = gan.generate(&z, labels.as_ref(), self.draw.use_ema)?;
        let ratios = logits(gan, &items, gan.conditioning(&z, labels.as_ref()).as_ref())?
            .into_iter()
            .take(wanted as usize)
            .map(|l| self.calibration.log_ratio(l))
            .collect();
        let mut shape = vec![packs, pac];
        shape.extend_from_slice(&gan.config().data_shape);
        Ok((items.f_reshape(&shape)?.f_narrow(0, 0, wanted)?, ratios))
    }
}

fn slot_tensor(slots: &[i64], gan: &Gan) -> Tensor {
    Tensor::from_slice(slots).to_device(gan.device())
}

/// DRS: each slot draws candidates until one is kept, with probability
/// `calibration.acceptance(log ratio)`. Slots bound to a class (a label, or a cluster)
/// measure the ratio against the largest one seen in their class, as DRS updates its
/// bound M online: D may rate a whole class low, and the class must still fill.
fn rejection(gan: &mut Gan, proposals: &mut Proposals, packs: i64) -> Result<Tensor> {
    let mut pending: Vec<i64> = (0..packs).collect();
    let mut out: Option<Tensor> = None;
    let classes = proposals.slot_classes()?;
    let mut bounds: HashMap<i64, f64> = HashMap::new();
    for _ in 0..MAX_ROUNDS {
        let (candidates, ratios) = proposals.propose(gan, &slot_tensor(&pending, gan))?;
        if let Some(classes) = &classes {
            for (&slot, &ratio) in pending.iter().zip(&ratios) {
                let bound = bounds.entry(classes[slot as usize]).or_insert(f64::NEG_INFINITY);
                *bound = bound.max(ratio);
            }
        }
        let out = out.get_or_insert_with(|| {
            let mut shape = candidates.size();
            shape[0] = packs;
            Tensor::zeros(shape.as_slice(), (Kind::Float, gan.device()))
        });
        let (mut kept, mut still) = (vec![], vec![]);
        for (i, (&slot, &ratio)) in pending.iter().zip(&ratios).enumerate() {
            let bound = classes.as_ref().map(|c| bounds[&c[slot as usize]]);
            if proposals.rng.uniform() < proposals.calibration.acceptance(ratio, bound) {
                kept.push((i as i64, slot));
            } else {
                still.push(slot);
            }
        }
        if !kept.is_empty() {
            let (rows, slots): (Vec<i64>, Vec<i64>) = kept.into_iter().unzip();
            let chosen = candidates.f_index_select(0, &slot_tensor(&rows, gan))?;
            let _ = out.f_index_copy_(0, &slot_tensor(&slots, gan), &chosen)?;
        }
        pending = still;
        if pending.is_empty() {
            return Ok(out.shallow_clone());
        }
    }
    Err(Error::InvalidArgument(format!(
        "rejection sampling kept too few samples ({} slots still empty after {MAX_ROUNDS} \
         rounds): calibrate again with more real items",
        pending.len()
    )))
}

/// MH-GAN: one independence chain per slot, started at a sample, that moves to each of
/// `CHAIN_LENGTH` proposals with probability min(1, ratio(proposal) / ratio(current)).
fn metropolis_hastings(gan: &mut Gan, proposals: &mut Proposals, packs: i64) -> Result<Tensor> {
    let all = Tensor::arange(packs, (Kind::Int64, gan.device()));
    let (mut current, mut ratios) = proposals.propose(gan, &all)?;
    for _ in 1..CHAIN_LENGTH {
        let (candidates, candidate_ratios) = proposals.propose(gan, &all)?;
        let mut moves = vec![false; packs as usize];
        for (i, (ratio, candidate)) in ratios.iter_mut().zip(&candidate_ratios).enumerate() {
            if proposals.rng.uniform() < (candidate - *ratio).exp() {
                moves[i] = true;
                *ratio = *candidate;
            }
        }
        let mut mask_shape = vec![1i64; current.dim()];
        mask_shape[0] = packs;
        let mask = Tensor::from_slice(&moves).to_device(gan.device()).view(mask_shape.as_slice());
        current = candidates.f_where_self(&mask, &current)?;
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GanConfig;
    use crate::train::{NanPolicy, Trainable, Trainer};
    use tch::Device;

    /// Guided sampling needs a calibration, gives the items asked for by both guides, and
    /// a training step (which changes D) drops the calibration.
    #[test]
    fn guided_sampling_follows_the_calibration() {
        let config = GanConfig::tiny_mlp();
        let (gan, rng) = Gan::with_training_stream(config, Device::Cpu).unwrap();
        let mut trainer = Trainer::new(gan, rng);
        let real = Tensor::randn([64, 2], (Kind::Float, Device::Cpu));
        let draw = Draw { n: 10, seed: Some(1), labels: None, use_ema: true, truncation: 1.0 };
        let uncalibrated = sample(trainer.model_mut(), Guide::Rejection, &draw).unwrap_err();
        assert!(uncalibrated.to_string().contains("calibrat"), "{uncalibrated}");
        let calibration = calibrate(trainer.model_mut(), &real, None, 0, true).unwrap();
        assert!(calibration.acceptance_rate > 0.0 && calibration.acceptance_rate <= 1.0);
        for guide in Guide::ALL {
            let items = sample(trainer.model_mut(), *guide, &draw).unwrap();
            assert_eq!(items.size(), [10, 2], "{guide:?}");
            let again = sample(trainer.model_mut(), *guide, &draw).unwrap();
            assert!(items.equal(&again), "{guide:?}: a seed gives the same items");
        }
        let batch = trainer.model().step_batch(&real.narrow(0, 0, 16), None).unwrap();
        trainer.train_step(&[batch], NanPolicy::Raise).unwrap();
        assert!(trainer.model().calibration().is_none());
    }
}
