//! Self-conditioning (Liu et al. 2020, "Diverse Image Generation via Self-Conditioned
//! GANs"): k-means clusters of the training data serve as the classes of a conditional
//! GAN, so an unconditional G learns one mode family at a time.
//!
//! A latent carries its cluster as a one-hot code after z, drawn at the clusters' shares
//! (`latents.rs`). A latent without a code, and every latent of a GAN saved before
//! codes, takes the cluster that the quantile of its first coordinate falls in, cut at the
//! clusters' cumulative shares: clusters then come up as often as in the data too.

use tch::{Device, Kind, Tensor};

use crate::error::{invalid, Poll, Result};
use crate::rng::Rng;

/// k-means++ starts; one start alone can leave two centres on one mode and none on another.
const STARTS: usize = 8;
/// Lloyd iterations after each start.
const ITERATIONS: usize = 20;
/// Items per distance computation, which bounds its memory.
const CHUNK: i64 = 4096;
/// Most items, and most values in all, that k-means fits its centres on; larger data sets
/// are subsampled (every item still counts in the shares). That keeps clustering 100,000
/// points under a second and 10,000 colour images of 32 px (3,255 fitted) near 10 s.
const MAX_FIT_ITEMS: i64 = 10_000;
const MAX_FIT_VALUES: i64 = 10_000_000;

pub struct Clusters {
    /// `[k, item size]`, the flattened cluster means.
    pub centroids: Tensor,
    /// `[k]`, float64: the share of the training data in each cluster.
    pub weights: Tensor,
    /// Once re-clustered on D's features (`recluster.rs`), where the clusters lie there.
    pub in_features: Option<FeatureClusters>,
}

/// A self-conditioned GAN's clusters in D's feature space, once re-clustered.
pub struct FeatureClusters {
    /// `[k, feature_dim]`: the cluster centres of D's unit-length features.
    pub centres: Tensor,
    /// `[N]` int64: the cluster of each item of the data last clustered, which a resumed
    /// `fit` on the same data trains with again.
    pub assignments: Tensor,
    /// `[2]` float64: that data's mean and mean square, which recognise it.
    pub fingerprint: Tensor,
}

impl Clusters {
    /// k-means from `STARTS` k-means++ starts, keeping the clustering with the least
    /// within-cluster sum of squares, fitted on at most `MAX_FIT_ITEMS` items (and
    /// `MAX_FIT_VALUES` values) drawn from `data`; deterministic given `rng`. `poll` is
    /// asked before every iteration.
    pub fn fit(data: &Tensor, k: i64, rng: &mut Rng, poll: Poll) -> Result<Clusters> {
        let n = data.size()[0];
        if n < k {
            return invalid(format!(
                "clustering into {k} clusters needs at least {k} items, got {n}"
            ));
        }
        let flat = data.flatten(1, -1).to_kind(Kind::Float);
        let fitted = MAX_FIT_ITEMS.min(MAX_FIT_VALUES / flat.size()[1].max(1)).max(k);
        let sample = if n > fitted {
            let rows = rng.permutation(n as usize, flat.device()).narrow(0, 0, fitted);
            flat.index_select(0, &rows)
        } else {
            flat.shallow_clone()
        };
        let mut best: Option<(f64, Tensor)> = None;
        for _ in 0..STARTS {
            let centroids = lloyd(&sample, plus_plus_start(&sample, k, rng, poll)?, poll)?;
            let inertia = squared_distances(&sample, &centroids).amin(1, false).sum(Kind::Double);
            let inertia = inertia.double_value(&[]);
            if best.as_ref().is_none_or(|(least, _)| inertia < *least) {
                best = Some((inertia, centroids));
            }
        }
        let (_, centroids) = best.expect("STARTS >= 1");
        let counts = nearest_ids(&flat, &centroids).bincount::<Tensor>(None, k);
        let weights = counts.to_kind(Kind::Double) / n as f64;
        Ok(Clusters { centroids, weights, in_features: None })
    }

    /// The nearest cluster of each item `[N, ...]`: `[N]` int64.
    pub fn assign(&self, data: &Tensor) -> Tensor {
        nearest_ids(&data.flatten(1, -1).to_kind(Kind::Float), &self.centroids)
    }
}

/// The standard normal quantile of each latent's first coordinate `[N]`, float64.
fn quantile_of(z: &Tensor) -> Tensor {
    ((z.select(1, 0).to_kind(Kind::Double) / 2f64.sqrt()).erf() + 1.0) / 2.0
}

/// The range of quantiles `[k]` each cluster of shares `weights` takes: (lower, upper).
fn quantile_ranges(weights: &Tensor, device: Device) -> (Tensor, Tensor) {
    let weights = weights.to_device(device).to_kind(Kind::Double);
    let upper = weights.cumsum(0, None);
    (&upper - &weights, upper)
}

/// The cluster of each latent `[N, latent_dim]` among clusters of shares `weights` `[k]`:
/// the standard normal quantile of its first coordinate, cut at the cumulative shares.
pub fn of_latents(z: &Tensor, weights: &Tensor) -> Tensor {
    of_quantiles(&quantile_of(z), weights)
}

/// Clusters `[N]` drawn at their shares `weights` from uniform values `quantiles` `[N]`.
pub fn of_quantiles(quantiles: &Tensor, weights: &Tensor) -> Tensor {
    let (_, upper) = quantile_ranges(weights, quantiles.device());
    let quantiles = quantiles.to_kind(Kind::Double);
    let ids = quantiles.searchsorted(&upper, false, true, "right", None::<Tensor>);
    ids.clamp_max(weights.size()[0] - 1)
}

/// How far through its own cluster's range of quantiles each latent lies `[N]`, in [0, 1]:
/// the `position` at which `latents_in` puts it back.
pub fn position_in(z: &Tensor, weights: &Tensor) -> Tensor {
    let (lower, upper) = quantile_ranges(weights, z.device());
    let ids = of_latents(z, weights);
    let (low, high) = (lower.index_select(0, &ids), upper.index_select(0, &ids));
    ((quantile_of(z) - &low) / (high - &low).clamp_min(1e-12)).clamp(0.0, 1.0)
}

/// Latents `z` `[N, latent_dim]` moved into clusters `ids` `[N]`: the first coordinate
/// becomes the normal quantile at `position` `[N]` (in [0, 1)) of the way through its
/// cluster's range of quantiles.
pub fn latents_in(z: &Tensor, ids: &Tensor, weights: &Tensor, position: &Tensor) -> Tensor {
    let (lower, upper) = quantile_ranges(weights, z.device());
    let (low, high) = (lower.index_select(0, ids), upper.index_select(0, ids));
    let quantile =
        (&low + (high - &low) * position.to_kind(Kind::Double)).clamp(1e-12, 1.0 - 1e-12);
    let first = ((quantile * 2.0 - 1.0).erfinv() * 2f64.sqrt()).to_kind(z.kind());
    let moved = z.copy();
    moved.select(1, 0).copy_(&first);
    moved
}

/// k-means++: each next centre is an item drawn with probability proportional to its
/// squared distance from the nearest centre so far.
fn plus_plus_start(flat: &Tensor, k: i64, rng: &mut Rng, poll: Poll) -> Result<Tensor> {
    let n = flat.size()[0];
    let pick = |i: i64| flat.narrow(0, i, 1);
    let mut centroids = pick((rng.uniform() * n as f64) as i64 % n);
    let mut nearest = Tensor::full([n], f64::INFINITY, (Kind::Float, flat.device()));
    for _ in 1..k {
        poll()?;
        let newest = centroids.narrow(0, centroids.size()[0] - 1, 1);
        nearest = nearest.minimum(&squared_distances(flat, &newest).squeeze_dim(1));
        let cumulative = Vec::<f64>::try_from(nearest.to_kind(Kind::Double).cumsum(0, None))?;
        let total = *cumulative.last().expect("n >= 1");
        let target = rng.uniform() * total;
        let index = cumulative.partition_point(|&c| c <= target).min(n as usize - 1);
        centroids = Tensor::cat(&[centroids, pick(index as i64)], 0);
    }
    Ok(centroids)
}

/// Lloyd's iterations from `centroids`; an emptied cluster keeps its centre.
fn lloyd(flat: &Tensor, mut centroids: Tensor, poll: Poll) -> Result<Tensor> {
    let k = centroids.size()[0];
    for _ in 0..ITERATIONS {
        poll()?;
        let ids = nearest_ids(flat, &centroids);
        let sums = Tensor::zeros_like(&centroids).index_add(0, &ids, flat);
        let counts = ids.bincount::<Tensor>(None, k).to_kind(Kind::Float).unsqueeze(1);
        centroids = (sums / counts.clamp_min(1.0)).where_self(&counts.gt(0.0), &centroids);
    }
    Ok(centroids)
}

fn squared_distances(items: &Tensor, centres: &Tensor) -> Tensor {
    let parts: Vec<Tensor> = items
        .split(CHUNK, 0)
        .iter()
        .map(|chunk| {
            chunk.square().sum_dim_intlist([1i64].as_slice(), true, None)
                - chunk.matmul(&centres.tr()) * 2.0
                + centres.square().sum_dim_intlist([1i64].as_slice(), false, None)
        })
        .collect();
    Tensor::cat(&parts, 0).clamp_min(0.0)
}

fn nearest_ids(items: &Tensor, centres: &Tensor) -> Tensor {
    squared_distances(items, centres).argmin(1, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_separated_blobs_and_their_shares() {
        // 3 tight blobs of 10, 20 and 30 points.
        let centres = [[0.0f32, 0.0], [10.0, 0.0], [0.0, 10.0]];
        let mut points = vec![];
        let mut rng = Rng::new(1);
        for (blob, size) in centres.iter().zip([10, 20, 30]) {
            for _ in 0..size {
                let noise = rng.normals(2);
                points.extend([blob[0] + 0.1 * noise[0], blob[1] + 0.1 * noise[1]]);
            }
        }
        let data = Tensor::from_slice(&points).view([60, 2]);
        let clusters = Clusters::fit(&data, 3, &mut Rng::new(0), &mut || Ok(())).unwrap();
        let mut shares = Vec::<f64>::try_from(&clusters.weights).unwrap();
        shares.sort_by(f64::total_cmp);
        assert_eq!(shares, vec![10.0 / 60.0, 20.0 / 60.0, 30.0 / 60.0]);
        // Points of one blob share a cluster.
        let ids = Vec::<i64>::try_from(clusters.assign(&data)).unwrap();
        assert!(
            ids[..10].iter().all(|&i| i == ids[0]) && ids[10..30].iter().all(|&i| i == ids[10])
        );
        // Latents fall into clusters at their shares.
        let z = Rng::new(2).normal_tensor(&[30_000, 4], Device::Cpu);
        let of_z =
            of_latents(&z, &clusters.weights).bincount::<Tensor>(None, 3).to_kind(Kind::Double)
                / 30_000.0;
        let error = (of_z - &clusters.weights).abs().max().double_value(&[]);
        assert!(error < 0.01, "{error}");
        // Latents moved into a cluster land in it.
        let ids = Tensor::from_slice(&[0i64, 1, 2, 2]);
        let position = Tensor::from_slice(&[0.0f32, 0.5, 0.99, 0.3]);
        let moved = latents_in(&z.narrow(0, 0, 4), &ids, &clusters.weights, &position);
        assert_eq!(
            Vec::<i64>::try_from(of_latents(&moved, &clusters.weights)).unwrap(),
            vec![0, 1, 2, 2]
        );
        // ... at the position asked for, which `position_in` reads back.
        let found = position_in(&moved, &clusters.weights).to_kind(Kind::Float);
        assert!(found.allclose(&position, 1e-5, 1e-4, false), "{found}");
    }

    #[test]
    fn every_blob_of_a_grid_gets_its_own_cluster() {
        // PacGAN's grid: 25 blobs, 40 points each. From these seeds a single k-means++
        // start puts two centres on one blob and leaves two blobs in one cluster.
        let mut rng = Rng::new(3);
        let mut points = vec![];
        for i in 0..25 {
            for _ in 0..40 {
                let noise = rng.normals(2);
                points.extend([
                    (i / 5) as f32 * 2.0 + 0.05 * noise[0],
                    (i % 5) as f32 * 2.0 + 0.05 * noise[1],
                ]);
            }
        }
        let data = Tensor::from_slice(&points).view([1000, 2]);
        for seed in [4, 8, 18] {
            let clusters = Clusters::fit(&data, 25, &mut Rng::new(seed), &mut || Ok(())).unwrap();
            let shares = Vec::<f64>::try_from(&clusters.weights).unwrap();
            assert!(shares.iter().all(|&s| (s - 0.04).abs() < 1e-9), "seed {seed}: {shares:?}");
        }
    }

    #[test]
    fn too_few_items_are_refused() {
        assert!(Clusters::fit(
            &Tensor::zeros([2, 3], (Kind::Float, Device::Cpu)),
            3,
            &mut Rng::new(0),
            &mut || Ok(())
        )
        .is_err());
    }
}
