//! Improved precision and recall (Kynkäänniemi et al. 2019, "Improved Precision and Recall
//! Metric for Assessing Generative Models"). Each set's manifold is the union of balls around
//! its samples, each ball reaching the sample's k-th nearest neighbour in the set. Precision:
//! the fraction of fake samples inside the real manifold (quality); recall: the fraction of
//! real samples inside the fake manifold (diversity).

use tch::{Kind, Tensor};

use super::feature_pair;
use crate::error::{invalid, Result};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrecisionRecall {
    pub precision: f64,
    pub recall: f64,
}

/// Precision and recall of `fake` `[M, F]` against `real` `[N, F]`, with k-nearest-neighbour
/// balls (k = 3 in the paper); both sets need more than `k` rows.
pub fn precision_recall(real: &Tensor, fake: &Tensor, k: i64) -> Result<PrecisionRecall> {
    if k < 1 {
        return invalid(format!("k must be at least 1, got {k}"));
    }
    let (real, fake) = feature_pair(real, fake, ["real", "fake"], k + 1)?;
    Ok(scores(&real, &fake, k, BLOCK_VALUES))
}

/// Distances computed at once: 2^24 values (128 MiB of f64) whatever the set sizes, so
/// 10k x 10k sets never need the full matrix.
const BLOCK_VALUES: i64 = 1 << 24;

fn scores(real: &Tensor, fake: &Tensor, k: i64, block_values: i64) -> PrecisionRecall {
    let block_rows = |columns: &Tensor| (block_values / columns.size()[0]).max(1);
    let (real_rows, fake_rows) = (block_rows(real), block_rows(fake));
    PrecisionRecall {
        precision: fraction_inside(fake, real, &knn_radii(real, k, real_rows), real_rows),
        recall: fraction_inside(real, fake, &knn_radii(fake, k, fake_rows), fake_rows),
    }
}

/// Distance from each row of `x` `[N, F]` to its k-th nearest other row: `[N]`.
fn knn_radii(x: &Tensor, k: i64, block_rows: i64) -> Tensor {
    let blocks: Vec<Tensor> = x
        .split(block_rows, 0)
        .iter()
        // The (k+1)-th smallest distance, as the nearest row is the row itself.
        .map(|rows| Tensor::cdist(rows, x, 2.0, None).kthvalue(k + 1, 1, false).0)
        .collect();
    Tensor::cat(&blocks, 0)
}

/// Fraction of the rows of `queries` within `radii` `[N]` of at least one row of `centers` `[N, F]`.
fn fraction_inside(queries: &Tensor, centers: &Tensor, radii: &Tensor, block_rows: i64) -> f64 {
    let radii = radii.unsqueeze(0); // [1, N]
    let inside: Vec<Tensor> = queries
        .split(block_rows, 0)
        .iter()
        .map(|rows| {
            Tensor::cdist(rows, centers, 2.0, None)
                .le_tensor(&radii)
                .any_dim(1, false)
                .sum(Kind::Int64)
        })
        .collect();
    Tensor::stack(&inside, 0).sum(Kind::Int64).int64_value(&[]) as f64 / queries.size()[0] as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use tch::Device;

    fn normals(n: i64, seed: u64) -> Tensor {
        Rng::new(seed).normal_tensor(&[n, 4], Device::Cpu)
    }

    #[test]
    fn one_for_the_same_set_and_zero_for_disjoint_sets() {
        let real = normals(300, 1);
        assert_eq!(
            precision_recall(&real, &real, 3).unwrap(),
            PrecisionRecall { precision: 1.0, recall: 1.0 }
        );
        let far = precision_recall(&real, &(normals(200, 2) + 100.0), 3).unwrap();
        assert_eq!(far, PrecisionRecall { precision: 0.0, recall: 0.0 });
    }

    #[test]
    fn dropped_half_keeps_precision_and_loses_recall() {
        let real = normals(400, 3);
        let half = real.index_select(0, &real.select(1, 0).gt(0.0).nonzero().squeeze_dim(1));
        let scores = precision_recall(&real, &half, 3).unwrap();
        assert_eq!(scores.precision, 1.0);
        assert!(scores.recall > 0.4 && scores.recall < 0.8, "{scores:?}");
    }

    #[test]
    fn blocks_give_the_same_answer() {
        let (real, fake) =
            (normals(50, 4).to_kind(Kind::Double), normals(60, 5).to_kind(Kind::Double) * 1.5);
        let whole = scores(&real, &fake, 3, BLOCK_VALUES);
        assert!(whole.precision > 0.5 && whole.recall > 0.5, "{whole:?}");
        assert_eq!(scores(&real, &fake, 3, 7 * 60), whole); // blocks of 7 or 8 rows
        assert!(knn_radii(&real, 3, 7).allclose(&knn_radii(&real, 3, 50), 1e-12, 1e-12, false));
    }

    #[test]
    fn rejects_bad_input() {
        let real = normals(10, 0);
        assert!(precision_recall(&real, &real, 0).is_err());
        assert!(precision_recall(&real, &real.narrow(0, 0, 3), 3).is_err());
        assert!(precision_recall(&real, &real.narrow(1, 0, 2), 3).is_err());
    }
}
