//! Fréchet distance between Gaussians fitted to two feature sets, the distance behind FID
//! (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local
//! Nash Equilibrium"): |mu_a - mu_b|^2 + Tr(C_a + C_b - 2 (C_a^1/2 C_b C_a^1/2)^1/2).

use tch::{Kind, Tensor};

use super::feature_pair;
use crate::error::Result;

/// Fréchet distance between the Gaussians fitted to `a` `[N, F]` and `b` `[M, F]` (N, M >= 2).
pub fn frechet_distance(a: &Tensor, b: &Tensor) -> Result<f64> {
    let (a, b) = feature_pair(a, b, ["a", "b"], 2)?;
    let (mean_a, cov_a) = moments(&a);
    let (mean_b, cov_b) = moments(&b);
    // Both square roots come from symmetric eigen-decompositions: unlike a general matrix
    // square root of C_a C_b, they stay real and accurate for singular covariances.
    let root_a = psd_power(&cov_a, 0.5)?;
    let middle = root_a.matmul(&cov_b).matmul(&root_a);
    let root_trace = eigenvalues(&middle)?.sqrt().sum(Kind::Double);
    let distance = (mean_a - mean_b).square().sum(Kind::Double) + cov_a.trace() + cov_b.trace()
        - root_trace * 2.0;
    // Exact zero can come out as -1e-15 after rounding.
    Ok(distance.double_value(&[]).max(0.0))
}

/// Mean `[F]` and unbiased covariance `[F, F]` of the rows of `x`.
fn moments(x: &Tensor) -> (Tensor, Tensor) {
    let mean = x.mean_dim(0, false, Kind::Double);
    let centered = x - &mean;
    let cov = centered.tr().matmul(&centered) / (x.size()[0] - 1) as f64;
    (mean, cov)
}

/// The symmetric part of `m`: eigh reads one triangle only, this uses both.
fn symmetric(m: &Tensor) -> Tensor {
    (m + m.tr()) * 0.5
}

/// Eigenvalues of `m`, PSD up to rounding, clamped at 0.
fn eigenvalues(m: &Tensor) -> Result<Tensor> {
    Ok(symmetric(m).f_linalg_eigvalsh("L")?.clamp_min(0.0))
}

/// `m^power` for a PSD `m`.
fn psd_power(m: &Tensor, power: f64) -> Result<Tensor> {
    let (values, vectors) = symmetric(m).f_linalg_eigh("L")?;
    let scaled = &vectors * values.clamp_min(0.0).pow_tensor_scalar(power); // columns scaled
    Ok(scaled.matmul(&vectors.tr()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use tch::Device;

    /// `n` rows whose sample mean and covariance are exactly `mean` and `cov`.
    fn exact_gaussian(n: i64, mean: &[f64], cov: &Tensor, seed: u64) -> Tensor {
        let f = mean.len() as i64;
        let raw = Rng::new(seed).normal_tensor(&[n, f], Device::Cpu).to_kind(Kind::Double);
        let (_, raw_cov) = moments(&raw);
        let centered = &raw - raw.mean_dim(0, true, Kind::Double);
        // Whiten to identity covariance, then colour with the target's Cholesky factor.
        let white = centered.matmul(&raw_cov.linalg_cholesky(false).inverse().tr());
        white.matmul(&cov.linalg_cholesky(false).tr()) + Tensor::from_slice(mean)
    }

    fn matrix(rows: &[&[f64]]) -> Tensor {
        Tensor::stack(&rows.iter().map(|r| Tensor::from_slice(r)).collect::<Vec<_>>(), 0)
    }

    #[test]
    fn matches_the_closed_form() {
        // Diagonal covariances: the trace term is sum (sqrt(a_i) - sqrt(b_i))^2.
        let cov_a = matrix(&[&[1.0, 0.0, 0.0], &[0.0, 4.0, 0.0], &[0.0, 0.0, 9.0]]);
        let cov_b = matrix(&[&[4.0, 0.0, 0.0], &[0.0, 1.0, 0.0], &[0.0, 0.0, 0.25]]);
        let a = exact_gaussian(500, &[0.0, 0.0, 1.0], &cov_a, 1);
        let b = exact_gaussian(300, &[1.0, 2.0, 1.0], &cov_b, 2);
        let expected = 5.0 + 1.0 + 1.0 + 2.5f64.powi(2);
        assert!((frechet_distance(&a, &b).unwrap() - expected).abs() < 1e-9);
        // Non-commuting 2x2 covariances: Tr sqrt(S) = sqrt(Tr S + 2 sqrt(det S)) for 2x2 PSD S,
        // and S = C_a^1/2 C_b C_a^1/2 has Tr S = Tr(C_a C_b) = 8, det S = 3 * 3.
        let a = exact_gaussian(400, &[1.0, -1.0], &matrix(&[&[2.0, 1.0], &[1.0, 2.0]]), 3);
        let b = exact_gaussian(400, &[0.0, 0.0], &matrix(&[&[1.0, 0.0], &[0.0, 3.0]]), 4);
        let expected = 2.0 + 4.0 + 4.0 - 2.0 * 14f64.sqrt();
        assert!((frechet_distance(&a, &b).unwrap() - expected).abs() < 1e-9);
    }

    #[test]
    fn zero_for_the_same_set_and_growing_with_noise() {
        let mut rng = Rng::new(5);
        let mixing = rng.normal_tensor(&[16, 16], Device::Cpu);
        let a = rng.normal_tensor(&[400, 16], Device::Cpu).matmul(&mixing); // correlated features
        let scale = moments(&a.to_kind(Kind::Double)).1.trace().double_value(&[]);
        assert!(frechet_distance(&a, &a).unwrap() < 1e-6 * scale);
        let mut noisy = |std: f64| {
            let noise = rng.normal_tensor(&[400, 16], Device::Cpu) * std;
            frechet_distance(&a, &(&a + noise)).unwrap()
        };
        let (small, large) = (noisy(0.1), noisy(1.0));
        assert!(0.0 < small && small < large, "{small} {large}");
    }

    #[test]
    fn rejects_bad_input() {
        let a = Tensor::zeros([5, 3], (Kind::Float, Device::Cpu));
        assert!(frechet_distance(&a, &a.narrow(0, 0, 1)).is_err());
        assert!(frechet_distance(&a, &a.narrow(1, 0, 2)).is_err());
        assert!(frechet_distance(&a.view([15]), &a).is_err());
    }
}
