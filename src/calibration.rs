//! D's logit turned into a density ratio: Platt scaling fitted on held-back real items
//! against fresh samples, as discriminator rejection sampling (Azadi et al. 2019) and
//! MH-GAN (Turner et al. 2019) both require. With as many real as generated items, the
//! calibrated odds of "real" estimate p_data(x) / p_G(x).

use serde::{Deserialize, Serialize};

use crate::error::{invalid, Result};

/// DRS's shift γ is this quantile of F over the calibration samples, so that the samples
/// above it are kept with probability over 1/2. Exact rejection sampling (γ = 0) keeps
/// about exp(-M) of them, often a few percent; DRS trades exactness for a usable rate.
const SHIFT_QUANTILE: f64 = 0.8;
/// DRS's ε, which keeps log(1 - exp(r - M - ε)) finite at the maximum.
const EPSILON: f64 = 1e-6;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// log p_data(x) / p_G(x) ≈ `scale` * logit + `offset`.
    pub scale: f64,
    pub offset: f64,
    /// The largest log ratio among the calibration samples: DRS's bound M.
    pub max_log_ratio: f64,
    /// DRS's shift γ of the acceptance logit.
    pub shift: f64,
    /// Real items it was fitted on.
    pub real_items: i64,
    /// The share of the calibration samples rejection sampling keeps, on average.
    pub acceptance_rate: f64,
}

impl Calibration {
    /// Fits the scaling on D's logits for real and generated items, `real.len()` of each.
    pub fn fit(real: &[f64], fake: &[f64]) -> Result<Calibration> {
        if real.len() < 2 || real.len() != fake.len() {
            return invalid(format!(
                "calibration needs at least 2 real items and as many samples, got {} and {}",
                real.len(),
                fake.len()
            ));
        }
        if real.iter().chain(fake).any(|l| !l.is_finite()) {
            return invalid("the discriminator gave a non-finite logit during calibration");
        }
        let (scale, offset) = platt_scaling(real, fake);
        let ratios: Vec<f64> = fake.iter().map(|l| scale * l + offset).collect();
        let max_log_ratio = ratios.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let mut unshifted: Vec<f64> =
            ratios.iter().map(|&r| acceptance_logit(r, max_log_ratio, 0.0)).collect();
        unshifted.sort_by(f64::total_cmp);
        let shift = unshifted[((unshifted.len() - 1) as f64 * SHIFT_QUANTILE).round() as usize];
        let acceptance_rate =
            unshifted.iter().map(|f| sigmoid(f - shift)).sum::<f64>() / unshifted.len() as f64;
        let real_items = real.len() as i64;
        Ok(Calibration { scale, offset, max_log_ratio, shift, real_items, acceptance_rate })
    }

    pub fn log_ratio(&self, logit: f64) -> f64 {
        self.scale * logit + self.offset
    }

    /// DRS's probability of keeping a sample of log ratio `r`: sigmoid(F(r)), with the
    /// bound M of the calibration or, within one class, that class's own.
    pub fn acceptance(&self, log_ratio: f64, bound: Option<f64>) -> f64 {
        sigmoid(acceptance_logit(log_ratio, bound.unwrap_or(self.max_log_ratio), self.shift))
    }
}

/// DRS's F = d - log(1 - exp(d - ε)) - γ with d = r - M, kept at most 0 (a sample above
/// the calibration maximum is accepted as surely as the maximum).
fn acceptance_logit(log_ratio: f64, max_log_ratio: f64, shift: f64) -> f64 {
    let d = (log_ratio - max_log_ratio).min(0.0);
    d - (-(d - EPSILON).exp()).ln_1p() - shift
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Logistic regression of "real" on the logit: (a, b) minimising the cross-entropy of
/// sigmoid(a * logit + b), by Newton's method on the two parameters.
fn platt_scaling(real: &[f64], fake: &[f64]) -> (f64, f64) {
    let samples: Vec<(f64, f64)> =
        real.iter().map(|&l| (l, 1.0)).chain(fake.iter().map(|&l| (l, 0.0))).collect();
    let (mut a, mut b) = (1.0, 0.0);
    for _ in 0..50 {
        // Gradient and Hessian of the mean loss, with a small ridge so that separable
        // logits (a perfect D) give a large but finite scale.
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (1e-4 * a, 0.0, 1e-4, 0.0, 0.0);
        let n = samples.len() as f64;
        for &(x, y) in &samples {
            let p = sigmoid(a * x + b);
            let w = (p * (1.0 - p)).max(1e-12);
            ga += (p - y) * x / n;
            gb += (p - y) / n;
            haa += w * x * x / n;
            hab += w * x / n;
            hbb += w / n;
        }
        let det = haa * hbb - hab * hab;
        if det <= 0.0 || !det.is_finite() {
            break;
        }
        let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
        a -= da;
        b -= db;
        if da.abs() + db.abs() < 1e-10 {
            break;
        }
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platt_scaling_recovers_a_logistic_model() {
        // Logits l with P(real | l) = sigmoid(2 l - 1), laid out deterministically: at each
        // l, real and fake counts in that proportion.
        let (mut real, mut fake) = (vec![], vec![]);
        for i in 0..200 {
            let l = -3.0 + 6.0 * i as f64 / 199.0;
            let p = sigmoid(2.0 * l - 1.0);
            for _ in 0..(100.0 * p).round() as usize {
                real.push(l);
            }
            for _ in 0..(100.0 * (1.0 - p)).round() as usize {
                fake.push(l);
            }
        }
        let (a, b) = platt_scaling(&real, &fake);
        assert!((a - 2.0).abs() < 0.05 && (b + 1.0).abs() < 0.05, "{a} {b}");
    }

    #[test]
    fn acceptance_grows_with_the_ratio_and_shift_sets_the_median_rate() {
        let real: Vec<f64> = (0..100).map(|i| i as f64 / 50.0).collect();
        let fake: Vec<f64> = (0..100).map(|i| i as f64 / 50.0 - 1.0).collect();
        let c = Calibration::fit(&real, &fake).unwrap();
        assert!(c.scale > 0.0);
        let accept: Vec<f64> = fake.iter().map(|&l| c.acceptance(c.log_ratio(l), None)).collect();
        assert!(accept.windows(2).all(|w| w[0] <= w[1]));
        // The sample at the shift quantile is accepted with probability 1/2.
        let at_quantile = accept[(99.0 * SHIFT_QUANTILE).round() as usize];
        assert!((at_quantile - 0.5).abs() < 1e-9, "{at_quantile}");
        assert!(c.acceptance(c.max_log_ratio + 5.0, None) > 0.99);
    }

    #[test]
    fn mismatched_or_non_finite_logits_are_refused() {
        assert!(Calibration::fit(&[1.0, 2.0], &[0.0]).is_err());
        assert!(Calibration::fit(&[1.0, f64::NAN], &[0.0, 1.0]).is_err());
    }
}
