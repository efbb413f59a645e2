//! What a GAN's latent holds. Most GANs' latents are z `[N, latent_dim]`. A self-conditioned
//! GAN's (`cluster_code`) are z followed by its cluster's code `[N, latent_dim + clusters]`:
//! one-hot when drawn, any distribution over the clusters when an edit softens it, which G
//! reads linearly (through its one-hot input or its conditional batch norm) and D through
//! its projection. Editing moves z and searches or sets the code apart. Latents without a
//! code, and every latent of a GAN saved before codes, take the cluster that z's first
//! coordinate picks (`clusters::of_latents`).

use tch::{Kind, Tensor};

use super::clusters;
use super::Gan;
use crate::error::{invalid, Result};
use crate::network::Network;
use crate::rng::Rng;

/// How far a soft code's entries may sum from 1.
const CODE_SUM_TOLERANCE: f64 = 1e-3;

impl Gan {
    /// Whether this GAN's latents carry a cluster code after z.
    pub fn has_cluster_code(&self) -> bool {
        self.config.clusters > 0 && self.config.cluster_code
    }

    /// The clusters' shares `[k]` when latents carry a cluster code.
    pub fn code_shares(&self) -> Option<Tensor> {
        self.cluster_shares().filter(|_| self.has_cluster_code())
    }

    /// Width of the latents `latent` draws: z, and the cluster code when there is one.
    pub fn latent_width(&self) -> i64 {
        let code = if self.has_cluster_code() { self.config.clusters } else { 0 };
        self.config.latent_dim + code
    }

    /// `n` latents `[n, latent_width]` from `rng`: z, then a one-hot code of a cluster drawn
    /// at the clusters' shares.
    pub fn draw_latents(&self, rng: &mut Rng, n: i64) -> Tensor {
        let z = rng.normal_tensor(&[n, self.config.latent_dim], self.device);
        match self.code_shares() {
            Some(shares) => {
                let ids = clusters::of_quantiles(&rng.uniform_tensor(&[n], self.device), &shares);
                self.with_clusters(&z, &ids)
            }
            None => z,
        }
    }

    /// Checks latents `[N, latent_dim]` (or, with a cluster code, `[N, latent_width]` whose
    /// codes are distributions) and moves them to the device as floats.
    pub fn check_latents(&self, latents: &Tensor, what: &str) -> Result<Tensor> {
        let (dim, width) = (self.config.latent_dim, self.latent_width());
        let shape = latents.size();
        let widths = if width > dim { format!("{dim} or {width}") } else { dim.to_string() };
        if shape.len() != 2 || !(shape[1] == dim || shape[1] == width) || shape[0] == 0 {
            return invalid(format!("{what} must have shape [N, {widths}], got {shape:?}"));
        }
        let latents = latents.f_to_device(self.device)?.f_to_kind(Kind::Float)?;
        if !bool::try_from(latents.isfinite().all())? {
            return invalid(format!("{what} contain NaN or infinite values"));
        }
        if shape[1] > dim {
            let code = latents.narrow(1, dim, width - dim);
            let sums = code.sum_dim_intlist([1i64].as_slice(), false, Kind::Double);
            let off = (sums - 1.0).abs().max().double_value(&[]);
            if code.min().double_value(&[]) < 0.0 || off > CODE_SUM_TOLERANCE {
                return invalid(format!(
                    "the cluster codes of {what} (their last {} values) must be distributions \
                     over the clusters: non-negative, summing to 1",
                    width - dim
                ));
            }
        }
        Ok(latents)
    }

    /// Latents with z pulled toward the mean latent by `truncation` in [0, 1] (the
    /// truncation trick: less variety, more typical images); a cluster code stays.
    pub fn truncated(&self, latents: &Tensor, truncation: f64) -> Result<Tensor> {
        check_truncation(truncation)?;
        let dim = self.config.latent_dim;
        let code = latents.narrow(1, dim, latents.size()[1] - dim);
        Ok(Tensor::f_cat(&[self.style_part(latents) * truncation, code], 1)?)
    }

    /// The z part of latents: all but a cluster code.
    pub fn style_part(&self, latents: &Tensor) -> Tensor {
        latents.narrow(1, 0, self.config.latent_dim)
    }

    /// Whether `latents` carry a cluster code.
    pub fn carries_code(&self, latents: &Tensor) -> bool {
        self.has_cluster_code() && latents.size()[1] > self.config.latent_dim
    }

    /// What G and D are conditioned on for `latents`: their cluster codes `[N, k]` (float),
    /// or class labels `[N]` (int64): the caller's `labels`, else a self-conditioned GAN's
    /// clusters picked by z's first coordinate (at equal shares before any training).
    pub fn conditioning(&self, latents: &Tensor, labels: Option<&Tensor>) -> Option<Tensor> {
        if self.carries_code(latents) {
            let dim = self.config.latent_dim;
            return Some(latents.narrow(1, dim, self.config.clusters));
        }
        match (labels, self.cluster_shares()) {
            (Some(labels), _) => Some(labels.shallow_clone()),
            (None, Some(shares)) => Some(clusters::of_latents(latents, &shares)),
            (None, None) => None,
        }
    }

    /// The cluster of each latent `[N]`: its code's most likely one, or the one z picks.
    pub fn clusters_of(&self, latents: &Tensor) -> Option<Tensor> {
        self.conditioning(latents, None).map(|c| class_ids(&c))
    }

    /// Latents moved into clusters `ids` `[N]`: z with the clusters' one-hot codes; a latent
    /// without a code moves its first coordinate into the cluster's range, at the place it
    /// held in its own (`position` overrides it), so that its own cluster gives it back.
    pub fn in_clusters(&self, latents: &Tensor, ids: &Tensor, position: Option<&Tensor>) -> Tensor {
        if self.carries_code(latents) {
            return self.with_clusters(&self.style_part(latents), ids);
        }
        let shares = self.cluster_shares().expect("a self-conditioned GAN");
        let own = || clusters::position_in(latents, &shares);
        let position = position.map_or_else(own, Tensor::shallow_clone);
        clusters::latents_in(latents, ids, &shares, &position)
    }

    /// z `[N, latent_dim]` with the one-hot codes of clusters `ids` `[N]` after it.
    fn with_clusters(&self, z: &Tensor, ids: &Tensor) -> Tensor {
        let code = ids.one_hot(self.config.clusters).to_kind(z.kind());
        Tensor::cat(&[z, &code], 1)
    }

    /// G's rendering of `latents` with `generator` (and `labels` when conditional).
    pub fn render(
        &self,
        generator: &Network,
        latents: &Tensor,
        labels: Option<&Tensor>,
        train: bool,
    ) -> Tensor {
        let conditioning = self.conditioning(latents, labels);
        generator.forward(&self.style_part(latents), conditioning.as_ref(), train)
    }
}

/// Checks that `truncation` lies in [0, 1].
pub fn check_truncation(truncation: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&truncation) {
        return invalid(format!("truncation must lie in [0, 1], got {truncation}"));
    }
    Ok(())
}

/// Class labels `[N]` of a conditioning: the labels themselves, or the most likely cluster
/// of each cluster code `[N, k]`.
pub fn class_ids(conditioning: &Tensor) -> Tensor {
    match conditioning.dim() {
        2 => conditioning.argmax(1, false),
        _ => conditioning.shallow_clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GanConfig;
    use tch::Device;

    fn coded(cluster_code: bool) -> Gan {
        let config = GanConfig { clusters: 4, cluster_code, ..GanConfig::tiny_mlp() };
        Gan::new(config, Device::Cpu).unwrap()
    }

    #[test]
    fn a_coded_latent_carries_its_cluster_and_old_ones_keep_the_first_coordinate() {
        let gan = coded(true);
        let latents = gan.draw_latents(&mut Rng::new(0), 4000);
        assert_eq!(latents.size(), [4000, 3 + 4]);
        let ids = gan.clusters_of(&latents).unwrap();
        let shares = ids.bincount::<Tensor>(None, 4).to_kind(Kind::Double) / 4000.0;
        assert!((shares - 0.25).abs().max().double_value(&[]) < 0.03);
        // z alone is independent of the code: its first coordinate does not pick it.
        let picked = gan.clusters_of(&gan.style_part(&latents)).unwrap();
        assert!(
            picked.eq_tensor(&ids).to_kind(Kind::Float).mean(Kind::Float).double_value(&[]) < 0.5
        );
        // Moving into clusters sets the code and keeps z.
        let target = Tensor::from_slice(&[3i64, 0, 1]);
        let moved = gan.in_clusters(&latents.narrow(0, 0, 3), &target, None);
        assert!(gan.clusters_of(&moved).unwrap().equal(&target));
        assert!(gan.style_part(&moved).equal(&gan.style_part(&latents.narrow(0, 0, 3))));
        // A GAN saved before codes draws z alone.
        let old = coded(false);
        assert_eq!(old.draw_latents(&mut Rng::new(0), 5).size(), [5, 3]);
        assert!(old.check_latents(&latents, "latents").is_err());
    }

    #[test]
    fn codes_must_be_distributions() {
        let gan = coded(true);
        let soft = Tensor::from_slice(&[0.0f32, 0.0, 0.0, 0.5, 0.25, 0.25, 0.0]).view([1, 7]);
        assert!(gan.check_latents(&soft, "latents").is_ok());
        for bad in [[0.0f32, 0.0, 0.0, 0.5, 0.5, 0.5, 0.0], [0.0, 0.0, 0.0, 1.5, -0.5, 0.0, 0.0]] {
            let error = gan.check_latents(&Tensor::from_slice(&bad).view([1, 7]), "latents");
            assert!(error.is_err_and(|e| e.to_string().contains("distributions")));
        }
    }
}
