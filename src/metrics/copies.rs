//! How often a generator copies its training set: the share of samples nearer, in pixels,
//! to a training item than nearly every held-out real item is. Held-out items are new to
//! the training set by construction, so the distance most of them keep from it is what
//! "new" looks like; a sample closer than that is taken for a copy.

use tch::{Kind, Tensor};

use super::feature_pair;
use crate::error::{invalid, Result};

/// Rows of queries compared with all references at once: bounds the distance matrix.
const CHUNK: i64 = 256;

#[derive(Debug)]
pub struct CopyRate {
    /// Share of samples nearer to a training item than `threshold`.
    pub rate: f64,
    /// The distance `quantile` of the held-out items keep from the training set, or more.
    pub threshold: f64,
    /// Each sample's distance to its nearest training item `[N]`.
    pub distances: Tensor,
}

/// The Euclidean distance from each row of `queries` `[N, F]` to its nearest row of
/// `references` `[M, F]`: `[N]`, f64.
pub fn nearest_distances(queries: &Tensor, references: &Tensor) -> Result<Tensor> {
    let reference_norms = references.square().sum_dim_intlist([1i64].as_slice(), false, None);
    let parts: Vec<Tensor> = queries
        .split(CHUNK, 0)
        .iter()
        .map(|chunk| {
            let norms = chunk.square().sum_dim_intlist([1i64].as_slice(), true, None);
            let squared = norms - chunk.matmul(&references.tr()) * 2.0 + &reference_norms;
            squared.amin([1i64].as_slice(), false).clamp_min(0.0).sqrt()
        })
        .collect();
    Ok(Tensor::f_cat(&parts, 0)?)
}

/// The copy rate of `samples` `[N, F]` (flattened images) against `train` `[M, F]`, with
/// the threshold set by `held_out` `[H, F]`: a sample counts as a copy when it lies nearer
/// to a training item than `quantile` (0.99: 99%) of the held-out items do.
pub fn copy_rate(
    samples: &Tensor,
    train: &Tensor,
    held_out: &Tensor,
    quantile: f64,
) -> Result<CopyRate> {
    if !(quantile > 0.0 && quantile < 1.0) {
        return invalid(format!("quantile must lie in (0, 1), got {quantile}"));
    }
    let (samples, train) = feature_pair(samples, train, ["samples", "train"], 1)?;
    let (held_out, _) = feature_pair(held_out, &train, ["held_out", "train"], 2)?;
    let held_distances = nearest_distances(&held_out, &train)?;
    // The held-out distance that `quantile` of them reach or exceed.
    let threshold = held_distances.f_quantile_scalar(1.0 - quantile, None, false, "linear")?;
    let threshold = threshold.double_value(&[]);
    let distances = nearest_distances(&samples, &train)?;
    let rate = distances.lt(threshold).to_kind(Kind::Double).mean(Kind::Double).double_value(&[]);
    Ok(CopyRate { rate, threshold, distances })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn normals(shape: &[i64], seed: i64) -> Tensor {
        tch::manual_seed(seed);
        Tensor::randn(shape, (Kind::Double, Device::Cpu))
    }

    #[test]
    fn copies_count_and_new_draws_do_not() {
        let train = normals(&[400, 16], 0);
        let held_out = normals(&[200, 16], 1);
        let new = normals(&[100, 16], 2);
        let fresh = copy_rate(&new, &train, &held_out, 0.99).unwrap();
        assert!(fresh.rate < 0.05, "draws from the same distribution: {}", fresh.rate);
        // Training items with a little noise are copies.
        let copies = train.narrow(0, 0, 100) + normals(&[100, 16], 3) * 0.01;
        let copied = copy_rate(&copies, &train, &held_out, 0.99).unwrap();
        assert_eq!(copied.rate, 1.0);
        assert!(copied.distances.max().double_value(&[]) < copied.threshold);
    }

    #[test]
    fn nearest_distances_are_exact() {
        let references = Tensor::from_slice(&[0.0f64, 0.0, 3.0, 4.0]).view([2, 2]);
        let queries = Tensor::from_slice(&[3.0f64, 4.0, 1.0, 0.0, 6.0, 8.0]).view([3, 2]);
        let found = nearest_distances(&queries, &references).unwrap();
        assert!(found.allclose(&Tensor::from_slice(&[0.0f64, 1.0, 5.0]), 1e-9, 1e-9, false));
    }

    #[test]
    fn bad_input_is_named() {
        let train = normals(&[10, 4], 0);
        let error = copy_rate(&train, &train, &normals(&[10, 5], 1), 0.99).unwrap_err();
        assert!(error.to_string().contains("held_out"), "{error}");
        assert!(copy_rate(&train, &train, &train, 1.0).is_err());
        let nan = Tensor::full([3, 4], f64::NAN, (Kind::Double, Device::Cpu));
        assert!(copy_rate(&nan, &train, &train, 0.99).unwrap_err().to_string().contains("samples"));
    }
}
