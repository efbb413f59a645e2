//! Mode coverage of a mixture of Gaussians, the protocol of PacGAN (Lin et al. 2018, "PacGAN:
//! The power of two samples in generative adversarial networks"): each sample belongs to its
//! nearest center; it is high quality when within 3 standard deviations of it; a mode is
//! covered when a high-quality sample belongs to it.

use tch::Tensor;

use super::feature_pair;
use crate::error::{invalid, Result};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModeCoverage {
    /// Modes with at least one high-quality sample.
    pub modes: i64,
    /// Fraction of samples within 3 standard deviations of their nearest center, in [0, 1].
    pub high_quality: f64,
    /// KL(p || uniform) in nats, p the histogram of the high-quality samples over the modes:
    /// 0 when every mode gets the same share, ln K when one mode gets them all. With no
    /// high-quality sample p is undefined; it is then ln K, the worst value a histogram gets.
    pub reverse_kl: f64,
}

/// Coverage of the mixture with centers `[K, D]` and per-coordinate standard deviation `std`
/// by `samples` `[N, D]` (D = 2 in the PacGAN experiments; any D works).
pub fn modes_2d(samples: &Tensor, centers: &Tensor, std: f64) -> Result<ModeCoverage> {
    let (samples, centers) = feature_pair(samples, centers, ["samples", "centers"], 1)?;
    if !(std > 0.0 && std.is_finite()) {
        return invalid(format!("std must be positive and finite, got {std}"));
    }
    let (n, k) = (samples.size()[0], centers.size()[0]);
    let (distance, nearest) =
        Tensor::f_cdist(&samples, &centers, 2.0, None)?.f_min_dim(1, false)?; // [N]
    let high_quality = distance.f_lt(3.0 * std)?;
    let counts = Vec::<i64>::try_from(
        &nearest.f_masked_select(&high_quality)?.f_bincount::<Tensor>(None, k)?,
    )?;
    let hits: i64 = counts.iter().sum();
    let reverse_kl = if hits == 0 {
        (k as f64).ln()
    } else {
        let shares = counts.iter().filter(|&&c| c > 0).map(|&c| c as f64 / hits as f64);
        shares.map(|p| p * (p * k as f64).ln()).sum::<f64>().max(0.0)
    };
    Ok(ModeCoverage {
        modes: counts.iter().filter(|&&c| c > 0).count() as i64,
        high_quality: hits as f64 / n as f64,
        reverse_kl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use tch::{Device, Kind};

    /// `per_mode` samples around each center of a `side` x `side` grid with spacing 2.
    fn grid_mixture(side: i64, per_mode: i64, std: f64, seed: u64) -> (Tensor, Tensor) {
        let axis = Tensor::arange(side, (Kind::Double, Device::Cpu)) * 2.0;
        let rows = axis.repeat_interleave_self_int(side, 0, None);
        let centers = Tensor::stack(&[rows, axis.repeat([side])], 1); // [K, 2]
        let noise = Rng::new(seed).normal_tensor(&[side * side * per_mode, 2], Device::Cpu);
        let samples = centers.repeat_interleave_self_int(per_mode, 0, None)
            + noise.to_kind(Kind::Double) * std;
        (samples, centers)
    }

    #[test]
    fn true_mixture_covers_every_mode() {
        let (samples, centers) = grid_mixture(5, 400, 0.05, 1);
        let coverage = modes_2d(&samples, &centers, 0.05).unwrap();
        assert_eq!(coverage.modes, 25);
        // A 2D Gaussian puts 1 - exp(-9/2) = 98.9 % of its mass within 3 std.
        assert!((coverage.high_quality - 0.989).abs() < 0.01, "{coverage:?}");
        assert!(coverage.reverse_kl < 0.01, "{coverage:?}");
    }

    #[test]
    fn collapse_onto_one_center() {
        let (_, centers) = grid_mixture(3, 1, 0.1, 0);
        let samples = centers.get(4).unsqueeze(0).repeat([50, 1]);
        let coverage = modes_2d(&samples, &centers, 0.1).unwrap();
        assert_eq!(coverage.modes, 1);
        assert_eq!(coverage.high_quality, 1.0);
        assert!((coverage.reverse_kl - 9f64.ln()).abs() < 1e-12);
        // Samples far from every center: nothing is covered.
        let lost = modes_2d(&(samples + 100.0), &centers, 0.1).unwrap();
        assert_eq!((lost.modes, lost.high_quality, lost.reverse_kl), (0, 0.0, 9f64.ln()));
    }

    #[test]
    fn rejects_bad_input() {
        let (samples, centers) = grid_mixture(2, 3, 0.1, 0);
        assert!(modes_2d(&samples, &centers, 0.0).is_err());
        assert!(modes_2d(&samples.narrow(1, 0, 1), &centers, 0.1).is_err());
        assert!(modes_2d(&samples.narrow(0, 0, 0), &centers, 0.1).is_err());
        let nan = samples.full_like(f64::NAN);
        assert!(modes_2d(&nan, &centers, 0.1).unwrap_err().to_string().contains("NaN"));
    }
}
