//! Kernel inception distance (Bińkowski et al. 2018, "Demystifying MMD GANs"): the unbiased
//! estimate of the squared maximum mean discrepancy under the polynomial kernel
//! k(x, y) = (x . y / F + 1)^3, averaged over random subsets. Unlike FID it has no bias that
//! depends on the sample size.

use tch::{Kind, Tensor};

use super::feature_pair;
use crate::error::{invalid, Result};
use crate::rng::Rng;

/// KID between `a` `[N, F]` and `b` `[M, F]`: mean and (population) standard deviation of
/// the MMD^2 estimates of `subsets` random subsets of `subset_size` rows of each set, drawn
/// without replacement within a subset. `subset_size` is clamped to min(N, M).
pub fn kernel_inception_distance(
    a: &Tensor,
    b: &Tensor,
    subsets: i64,
    subset_size: i64,
    seed: u64,
) -> Result<(f64, f64)> {
    let (a, b) = feature_pair(a, b, ["a", "b"], 2)?;
    if subsets < 1 {
        return invalid(format!("subsets must be at least 1, got {subsets}"));
    }
    if subset_size < 2 {
        return invalid(format!("subset_size must be at least 2, got {subset_size}"));
    }
    let (n, m, features) = (a.size()[0], b.size()[0], a.size()[1] as f64);
    let size = subset_size.min(n).min(m);
    // [size, size]
    let kernel = |x: &Tensor, y: &Tensor| (x.matmul(&y.tr()) / features + 1.0).pow_tensor_scalar(3);
    // Mean over pairs of distinct rows: the diagonal k(x, x) would bias the estimate upwards.
    let distinct_mean = |k: Tensor| (k.sum(Kind::Double) - k.trace()) / (size * (size - 1)) as f64;
    let mut rng = Rng::new(seed);
    let mut subset = |x: &Tensor, rows: i64| {
        x.index_select(0, &rng.permutation(rows as usize, x.device()).narrow(0, 0, size))
    };
    let estimates: Vec<f64> = (0..subsets)
        .map(|_| {
            let (x, y) = (subset(&a, n), subset(&b, m));
            let cross = kernel(&x, &y).mean(Kind::Double);
            let mmd = distinct_mean(kernel(&x, &x)) + distinct_mean(kernel(&y, &y)) - cross * 2.0;
            mmd.double_value(&[])
        })
        .collect();
    let mean = estimates.iter().sum::<f64>() / subsets as f64;
    let variance = estimates.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / subsets as f64;
    Ok((mean, variance.sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn normals(n: i64, seed: u64) -> Tensor {
        Rng::new(seed).normal_tensor(&[n, 8], Device::Cpu)
    }

    #[test]
    fn near_zero_for_one_distribution_and_positive_for_a_shift() {
        let (a, b) = (normals(600, 1), normals(600, 2));
        let (same, same_std) = kernel_inception_distance(&a, &b, 20, 200, 0).unwrap();
        let (shifted, _) = kernel_inception_distance(&a, &(&b + 1.0), 20, 200, 0).unwrap();
        assert!(same.abs() < 0.05 && same_std < 0.1, "{same} {same_std}");
        assert!(shifted > 0.5, "{shifted}");
        let (itself, _) = kernel_inception_distance(&a, &a, 20, 200, 0).unwrap();
        assert!(itself.abs() < 0.05, "{itself}");
    }

    #[test]
    fn deterministic_for_a_seed_and_clamped_subsets() {
        let (a, b) = (normals(50, 3), normals(40, 4) * 2.0);
        let run = |seed| kernel_inception_distance(&a, &b, 5, 30, seed).unwrap();
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        // Subsets larger than a set use all of it: every draw sees the same 40 rows of b.
        let (_, spread) = kernel_inception_distance(&a.narrow(0, 0, 40), &b, 5, 1000, 0).unwrap();
        assert!(spread < 1e-9, "{spread}");
    }

    #[test]
    fn rejects_bad_input() {
        let a = normals(10, 0);
        assert!(kernel_inception_distance(&a, &a, 0, 5, 0).is_err());
        assert!(kernel_inception_distance(&a, &a, 3, 1, 0).is_err());
        assert!(kernel_inception_distance(&a, &a.narrow(1, 0, 4), 3, 5, 0).is_err());
    }
}
