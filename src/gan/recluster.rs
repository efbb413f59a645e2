//! Re-clustering on D's features (Liu et al. 2020): k-means of what the discriminator
//! sees in each training item rather than of its pixels, so clusters follow what images
//! show (kind, colour) more than where their pixels lie. The new clusters are matched to
//! the old ones by the most items shared (the Hungarian method), so the class embeddings
//! G and D have learnt keep meaning the same group of items.

use tch::{Device, Kind, Tensor};

use super::clusters::{Clusters, FeatureClusters};
use crate::error::{Poll, Result};
use crate::network::Network;
use crate::rng::Rng;

/// Items per pass through D: memory stays bounded for large images.
const CHUNK: i64 = 256;

/// The mean and mean square of `images`, float64 `[2]` on the CPU, summed in chunks so
/// large data sets are never copied whole.
pub fn fingerprint(images: &Tensor) -> Tensor {
    let mut sums = Tensor::zeros([2], (Kind::Double, images.device()));
    for chunk in images.split(CHUNK, 0) {
        let values = chunk.to_kind(Kind::Double);
        sums += Tensor::stack(&[values.sum(None), values.square().sum(None)], 0);
    }
    (sums / images.numel() as f64).to_device(Device::Cpu)
}

/// Whether `images` look like the data of `fingerprint`, up to the rounding of sums
/// taken in another order.
pub fn same_data(fingerprint_of_data: &Tensor, images: &Tensor) -> bool {
    fingerprint_of_data.allclose(&fingerprint(images), 1e-9, 0.0, false)
}

/// D's features of `images` `[N, ...]` in evaluation mode, each scaled to unit length:
/// `[N, feature_dim]`. k-means on them then groups by direction, not by how strongly D
/// responds.
pub fn features_of(discriminator: &Network, images: &Tensor) -> Tensor {
    tch::no_grad(|| {
        let parts: Vec<Tensor> =
            images.split(CHUNK, 0).iter().map(|chunk| discriminator.features(chunk)).collect();
        let features = Tensor::cat(&parts, 0);
        let norms = features.norm_scalaropt_dim(2.0, [1i64].as_slice(), true);
        features / norms.clamp_min(1e-12)
    })
}

/// The nearest of `centres` `[k, F]` to each of unit-length `features` `[N, F]`: `[N]`
/// int64, as `Clusters::assign` finds it.
pub fn nearest(features: &Tensor, centres: &Tensor) -> Tensor {
    // |f - c|^2 = 1 - 2 f.c + |c|^2: the nearest centre has the largest 2 f.c - |c|^2.
    let lengths = centres.square().sum_dim_intlist([1i64].as_slice(), false, None);
    (features.matmul(&centres.tr()) * 2.0 - lengths).argmax(1, false)
}

/// k clusters of `images` on D's `features` `[N, F]`, numbered to match `previous` `[N]`
/// (the items' clusters so far) as closely as possible. The returned pixel centroids are
/// the mean items of each new cluster (an emptied one keeps `old_centroids`' row), the
/// shares are counted over all items.
pub fn recluster(
    features: &Tensor,
    images: &Tensor,
    previous: &Tensor,
    old_centroids: &Tensor,
    rng: &mut Rng,
    poll: Poll,
) -> Result<Clusters> {
    let k = old_centroids.size()[0];
    let found = Clusters::fit(features, k, rng, poll)?;
    let ids = found.assign(features);
    let order = matching(&overlap(previous, &ids, k)?);
    // New cluster j becomes number order[j]: `renumber[j] = order[j]`.
    let renumber = Tensor::from_slice(&order.iter().map(|&i| i as i64).collect::<Vec<_>>())
        .to_device(ids.device());
    let ids = renumber.index_select(0, &ids);
    let centres = Tensor::zeros_like(&found.centroids).index_copy(0, &renumber, &found.centroids);
    Ok(in_features(ids, centres, images, old_centroids))
}

/// k clusters of `images` on their unit-length `features` `[N, F]` (pretrained ones, say),
/// with the mean item of each as its pixel centroid.
pub fn cluster_on(
    features: &Tensor,
    images: &Tensor,
    k: i64,
    rng: &mut Rng,
    poll: Poll,
) -> Result<Clusters> {
    let found = Clusters::fit(features, k, rng, poll)?;
    let ids = found.assign(features);
    let empty = Tensor::zeros(
        [k, images.numel() as i64 / images.size()[0]],
        (Kind::Float, images.device()),
    );
    Ok(in_features(ids, found.centroids, images, &empty))
}

/// Clusters of `images` whose items lie in clusters `ids` `[N]` of feature centres
/// `centres`: the pixel centroids are the mean items of each cluster (an empty one keeps
/// its row of `fallback`), the shares are counted over all items.
fn in_features(ids: Tensor, centres: Tensor, images: &Tensor, fallback: &Tensor) -> Clusters {
    let k = centres.size()[0];
    let flat = images.flatten(1, -1).to_kind(Kind::Float);
    let sums = Tensor::zeros_like(fallback).to_kind(Kind::Float).index_add(0, &ids, &flat);
    let counts = ids.bincount::<Tensor>(None, k).to_kind(Kind::Float).unsqueeze(1);
    let centroids =
        (sums / counts.clamp_min(1.0)).where_self(&counts.gt(0.0), &fallback.to_kind(Kind::Float));
    let weights = counts.squeeze_dim(1).to_kind(Kind::Double) / ids.size()[0] as f64;
    let fingerprint = fingerprint(images);
    Clusters {
        centroids,
        weights,
        in_features: Some(FeatureClusters { centres, assignments: ids, fingerprint }),
    }
}

/// `[k][k]`: how many items lie in old cluster i and new cluster j.
fn overlap(previous: &Tensor, ids: &Tensor, k: i64) -> Result<Vec<Vec<f64>>> {
    let pairs = previous.to_device(ids.device()) * k + ids;
    let counts = Vec::<f64>::try_from(pairs.bincount::<Tensor>(None, k * k).to_kind(Kind::Double))?;
    Ok(counts.chunks(k as usize).map(<[f64]>::to_vec).collect())
}

/// The assignment of new clusters (columns) to old numbers (rows) that shares the most
/// items: `order[j]` is the old number new cluster j takes. The Hungarian method with
/// potentials, O(k^3), on the cost `-overlap`.
fn matching(overlap: &[Vec<f64>]) -> Vec<usize> {
    let n = overlap.len();
    let cost = |row: usize, column: usize| -overlap[row - 1][column - 1];
    // 1-based, with row 0 / column 0 as the free slot the method starts from.
    let (mut u, mut v) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    let mut row_of = vec![0usize; n + 1];
    let mut way = vec![0usize; n + 1];
    for row in 1..=n {
        row_of[0] = row;
        let mut column = 0;
        let mut least = vec![f64::INFINITY; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[column] = true;
            let current = row_of[column];
            let (mut delta, mut next) = (f64::INFINITY, 0);
            for j in 1..=n {
                if !used[j] {
                    let reduced = cost(current, j) - u[current] - v[j];
                    if reduced < least[j] {
                        least[j] = reduced;
                        way[j] = column;
                    }
                    if least[j] < delta {
                        delta = least[j];
                        next = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[row_of[j]] += delta;
                    v[j] -= delta;
                } else {
                    least[j] -= delta;
                }
            }
            column = next;
            if row_of[column] == 0 {
                break;
            }
        }
        while column != 0 {
            let previous = way[column];
            row_of[column] = row_of[previous];
            column = previous;
        }
    }
    let mut order = vec![0; n];
    for column in 1..=n {
        order[column - 1] = row_of[column] - 1;
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_finds_the_assignment_of_most_overlap() {
        // Greedy would pair column 0 with row 0 (5) and leave 1 + 0; the best is 4 + 4 + 3.
        let overlap = vec![vec![5.0, 4.0, 0.0], vec![4.0, 1.0, 0.0], vec![0.0, 0.0, 3.0]];
        assert_eq!(matching(&overlap), vec![1, 0, 2]);
        // A permutation matrix gives itself back.
        let permuted = vec![vec![0.0, 0.0, 7.0], vec![7.0, 0.0, 0.0], vec![0.0, 7.0, 0.0]];
        assert_eq!(matching(&permuted), vec![1, 2, 0]);
    }

    #[test]
    fn reclustered_items_keep_their_numbers() {
        // Two tight groups in "feature" space, numbered 1 and 0 so far.
        let mut rng = Rng::new(5);
        let noise = rng.normal_tensor(&[40, 2], tch::Device::Cpu) * 0.01;
        let group = Tensor::arange(40, (Kind::Int64, tch::Device::Cpu)).ge(20);
        // Group 0 points along (1, 1), group 1 along (1, -1).
        let turn = group.to_kind(Kind::Float).unsqueeze(1) * Tensor::from_slice(&[0.0f32, -2.0]);
        let features = noise + 1.0 + turn;
        let features = &features / features.norm_scalaropt_dim(2.0, [1i64].as_slice(), true);
        let previous = group.logical_not().to_kind(Kind::Int64);
        let images = group.to_kind(Kind::Float).view([40, 1]).repeat([1, 3]);
        let old = Tensor::zeros([2, 3], (Kind::Float, tch::Device::Cpu));
        let clusters =
            recluster(&features, &images, &previous, &old, &mut rng, &mut || Ok(())).unwrap();
        let found = clusters.in_features.unwrap();
        assert!(found.assignments.equal(&previous));
        // Cluster 0 holds the second group, whose items are all ones.
        let expected = Tensor::from_slice(&[1.0f32, 1.0, 1.0, 0.0, 0.0, 0.0]).view([2, 3]);
        assert!(clusters.centroids.allclose(&expected, 1e-6, 1e-6, false));
        assert!(nearest(&features, &found.centres).equal(&previous));
    }
}
