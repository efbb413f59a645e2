//! Adaptive discriminator augmentation (Karras et al. 2020, "Training Generative
//! Adversarial Networks with Limited Data"): D sees each image augmented with a probability
//! p, raised while D grows sure of the real images and lowered while it does not. Its
//! certainty is r = E[sign(D(real))] over the last `ADJUST_EVERY` batches, held against a
//! target (0.6 in the paper).

use serde::{Deserialize, Serialize};

/// D updates between adjustments of p.
const ADJUST_EVERY: i64 = 4;
/// Images over which p can move all the way from 0 to 1 (StyleGAN2-ADA's 500k).
const IMAGES_TO_FULL: f64 = 500_000.0;

/// The probability and what has been seen of D since it was last adjusted; a checkpoint
/// keeps all of it, so a resumed run adjusts as an unbroken one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveAugment {
    /// The probability with which each augmentation is applied to an image.
    pub p: f64,
    /// Sum of sign(D(real)) over the items seen since the last adjustment.
    sign_sum: f64,
    items: f64,
    batches: i64,
}

impl AdaptiveAugment {
    /// Takes one D update's mean `real_sign` over `items` real items, and every
    /// `ADJUST_EVERY` updates moves p towards more augmentation if r exceeds `target`, less
    /// if below.
    pub fn observe(&mut self, real_sign: f64, items: f64, target: f64) {
        self.sign_sum += real_sign * items;
        self.items += items;
        self.batches += 1;
        if self.batches < ADJUST_EVERY {
            return;
        }
        let r = self.sign_sum / self.items;
        let direction = if r > target {
            1.0
        } else if r < target {
            -1.0
        } else {
            0.0
        };
        let p = (self.p + direction * self.items / IMAGES_TO_FULL).clamp(0.0, 1.0);
        *self = AdaptiveAugment { p, ..Default::default() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(updates: i64, sign_mean: f64) -> AdaptiveAugment {
        let mut ada = AdaptiveAugment::default();
        for _ in 0..updates {
            ada.observe(sign_mean, 500.0, 0.6);
        }
        ada
    }

    #[test]
    fn p_moves_every_four_updates_by_the_images_seen() {
        assert_eq!(after(3, 1.0).p, 0.0, "no adjustment before the fourth update");
        assert!((after(4, 1.0).p - 2000.0 / IMAGES_TO_FULL).abs() < 1e-12);
        assert!((after(8, 0.9).p - 4000.0 / IMAGES_TO_FULL).abs() < 1e-12);
    }

    #[test]
    fn p_falls_below_the_target_and_stays_in_the_unit_interval() {
        assert_eq!(after(40, 0.2).p, 0.0);
        assert_eq!(after(40, 0.6).p, 0.0, "at the target p stays");
        let mut ada = AdaptiveAugment { p: 0.999, ..Default::default() };
        for _ in 0..8 {
            ada.observe(1.0, 500.0, 0.6);
        }
        assert_eq!(ada.p, 1.0);
        for _ in 0..4 {
            ada.observe(-1.0, 500.0, 0.6);
        }
        assert!(ada.p < 1.0);
    }
}
