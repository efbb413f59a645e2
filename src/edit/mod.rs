//! Image editing with a trained generator: latent interpolation (lerp / slerp), latent
//! arithmetic, projection of real images into latent space (GAN inversion, cf. Zhu et al.
//! 2016 "Generative Visual Manipulation on the Natural Image Manifold"), and masked
//! projection for inpainting (Yeh et al. 2017 "Semantic Image Inpainting with Deep
//! Generative Models"). Every loop works on a whole batch at once.

pub mod composite;
pub mod directions;
pub mod latents;
pub mod posterior;

use tch::{Kind, Tensor};

use crate::error::{invalid, Result};
use crate::flat_params::FlatParams;
use crate::gan::Gan;
use crate::optim::Adam;
use crate::rng::Rng;

crate::option_table::named_choices! {
    /// How `interpolate` walks from one latent to another.
    pub enum Path ("method") {
        /// Along the great circle, keeping the norm typical of the prior.
        Slerp = "slerp",
        /// Along the straight line.
        Lerp = "lerp",
    }
}

/// Latents along the path from `z0` to `z1` (both `[N, D]`): `[steps, N, D]`, endpoints
/// included. Slerp follows the great circle, which keeps the norm typical of the prior.
pub fn interpolate(z0: &Tensor, z1: &Tensor, steps: i64, path: Path) -> Result<Tensor> {
    if z0.size() != z1.size() || z0.dim() != 2 {
        return invalid(format!(
            "z0 and z1 must both be [N, D], got {:?} and {:?}",
            z0.size(),
            z1.size()
        ));
    }
    if steps < 2 {
        return invalid(format!("steps must be at least 2 (the two endpoints), got {steps}"));
    }
    let (z0, z1) = (z0.to_kind(Kind::Double), z1.to_kind(Kind::Double));
    let frames: Vec<Tensor> = (0..steps)
        .map(|i| {
            let t = i as f64 / (steps - 1) as f64;
            match path {
                Path::Lerp => &z0 + (&z1 - &z0) * t,
                Path::Slerp => slerp(&z0, &z1, t),
            }
        })
        .collect();
    Ok(Tensor::f_stack(&frames, 0)?.to_kind(Kind::Float))
}

fn slerp(z0: &Tensor, z1: &Tensor, t: f64) -> Tensor {
    let dims = [1i64].as_slice();
    let n0 = z0.norm_scalaropt_dim(2, dims, true);
    let n1 = z1.norm_scalaropt_dim(2, dims, true);
    let cos = ((z0 * z1).sum_dim_intlist(dims, true, Kind::Double) / (&n0 * &n1)).clamp(-1.0, 1.0);
    let omega = cos.acos();
    let sin = omega.sin();
    // Nearly parallel codes: the formula degenerates, and lerp's weights give the same path.
    let curved = sin.abs().ge(1e-6);
    let safe_sin = sin.where_self(&curved, &sin.ones_like());
    let weight = |s: f64| ((&omega * s).sin() / &safe_sin).where_self(&curved, &sin.full_like(s));
    z0 * weight(1.0 - t) + z1 * weight(t)
}

/// Latents `z` of a self-conditioned GAN moved into its clusters `ids` `[N]`: z stays and
/// the cluster code becomes theirs (a latent without a code moves its first coordinate
/// into the cluster's range, at the place it held in its own).
pub fn into_clusters(gan: &Gan, z: &Tensor, ids: &Tensor) -> Result<Tensor> {
    if gan.config().clusters == 0 {
        return invalid("moving latents into clusters needs a self-conditioned GAN (clusters > 0)");
    }
    let z = gan.check_latents(z, "latents")?;
    let (n, k) = (z.size()[0], gan.config().clusters);
    if ids.size() != [n] {
        return invalid(format!("one cluster per latent [{n}] expected, got {:?}", ids.size()));
    }
    let ids = ids.to_kind(Kind::Int64).to_device(gan.device());
    let (low, high) = (ids.min().int64_value(&[]), ids.max().int64_value(&[]));
    if low < 0 || high >= k {
        return invalid(format!("clusters must lie in [0, {k}), got {low}..={high}"));
    }
    Ok(gan.in_clusters(&z, &ids, None))
}

/// Settings of `project`. Defaults follow the Python signature.
pub struct ProjectOptions {
    pub steps: i64,
    pub lr: f64,
    /// Independent random starts per image; the best reconstruction is kept.
    pub restarts: i64,
    /// Weight of (|z|^2 / D - 1)^2, which keeps z on the shell where the prior's mass is.
    pub prior_weight: f64,
    /// Weight of the discriminator's non-saturating "looks real" loss on the generation.
    pub realism_weight: f64,
    /// The returned images average the generations of this many best starts: an estimate
    /// of the conditional mean, which lowers the expected error where pixels are unknown.
    pub average_best: i64,
    pub seed: u64,
    /// Projects into the EMA generator, which `generate` renders with, when there is one.
    pub use_ema: bool,
}

pub struct Projection {
    /// Best latent per image `[N, D]`.
    pub latents: Tensor,
    /// Their generations `[N, *data_shape]` (averaged over the best starts when asked).
    pub images: Tensor,
    /// Mean objective over all starts, per optimisation step.
    pub loss_curve: Vec<f64>,
    /// Masked pixel MSE of the returned images per image `[N]`.
    pub errors: Tensor,
}

/// Finds latents whose generations match `targets` `[N, *data_shape]` on the pixels where
/// `mask` (broadcastable to the targets, 1 = known) is set. A conditional GAN keeps the
/// given class `labels` `[N]` fixed.
pub fn project(
    gan: &Gan,
    targets: &Tensor,
    labels: Option<&Tensor>,
    mask: Option<&Tensor>,
    options: &ProjectOptions,
) -> Result<Projection> {
    let targets = gan.check_batch(targets, "images")?;
    let n = targets.size()[0];
    let labels = gan.check_labels(labels, n, "labels")?;
    if options.steps < 1 || options.restarts < 1 {
        return invalid(format!(
            "steps and restarts must be at least 1, got {} and {}",
            options.steps, options.restarts
        ));
    }
    if !(1..=options.restarts).contains(&options.average_best) {
        return invalid(format!(
            "average_best must lie in [1, restarts={}], got {}",
            options.restarts, options.average_best
        ));
    }
    if !(options.lr.is_finite() && options.lr > 0.0) {
        return invalid(format!("lr must be a positive number, got {}", options.lr));
    }
    if options.realism_weight > 0.0 && gan.config().pac > 1 {
        return invalid("realism_weight needs a discriminator that judges single images; this one packs pac > 1");
    }
    let mask = match mask {
        Some(mask) => check_mask(mask, &targets)?,
        None => targets.ones_like(),
    };
    let k = options.restarts;
    let repeat = |t: &Tensor| {
        let mut times = vec![k];
        times.extend(std::iter::repeat_n(1, t.dim() - 1));
        t.repeat(times.as_slice()) // [K * N, ...], start-major
    };
    let (targets_k, mask_k) = (repeat(&targets), repeat(&mask));
    let labels_k = labels.as_ref().map(repeat);
    let labels_k = labels_k.as_ref();

    let generator = gan.sampling_generator(options.use_ema);
    let mut search = LatentSearch::start(gan, &targets, &mask, k, options.seed);
    let mut params = FlatParams::from_tensor(&search.params);
    let mut adam = Adam::new(&params, (0.9, 0.999));
    let mut loss_curve = Vec::with_capacity(options.steps as usize);
    for step in 0..options.steps {
        if step == (options.steps as f64 * SOFT_CODE_SHARE) as i64 {
            search.harden();
        }
        let latents = search.latents();
        let conditioning = gan.conditioning(&latents, labels_k);
        let generated = gan.render(generator, &latents, labels_k, false);
        let mut objective = masked_mse(&generated, &targets_k, &mask_k);
        if options.prior_weight > 0.0 {
            let z = gan.style_part(&latents);
            let shell = z.square().mean_dim([1i64].as_slice(), false, Kind::Float) - 1.0;
            objective = objective + shell.square() * options.prior_weight;
        }
        if options.realism_weight > 0.0 {
            let logits = gan.discriminator().forward(&generated, conditioning.as_ref(), false);
            objective = objective + (-logits).softplus() * options.realism_weight;
        }
        let loss = objective.sum(None);
        loss_curve.push(loss.f_double_value(&[])? / (k * n) as f64);
        let grad = params.gradient(&loss)?;
        adam.update(&mut params, &grad, options.lr);
    }
    tch::no_grad(|| {
        search.harden();
        let latents = search.latents().detach();
        let errors =
            masked_mse(&gan.render(generator, &latents, labels_k, false), &targets_k, &mask_k)
                .view([k, n]);
        let ranked = errors.argsort(0, false).narrow(0, 0, options.average_best); // [M, N] start indices
        let rows = (&ranked * n + Tensor::arange(n, (Kind::Int64, gan.device()))).flatten(0, -1);
        // [M * N, D], best start first; row r is image r % N, like the rows of `labels_k`.
        let kept = latents.index_select(0, &rows);
        let kept_labels = labels_k.map(|l| l.narrow(0, 0, options.average_best * n));
        let generated = gan.render(generator, &kept, kept_labels.as_ref(), false);
        let mut shape = vec![options.average_best, n];
        shape.extend(&gan.config().data_shape);
        let images =
            generated.view(shape.as_slice()).mean_dim([0i64].as_slice(), false, Kind::Float);
        let latents = kept.narrow(0, 0, n);
        let errors = masked_mse(&images, &targets, &mask);
        Ok(Projection { latents, images, loss_curve, errors })
    })
}

/// The share of a projection's steps that searches a soft cluster code; the rest refine z
/// with the code hardened to its most likely cluster.
const SOFT_CODE_SHARE: f64 = 0.5;
/// A start's code puts this probability on its candidate cluster; the rest is spread
/// evenly, so the gradient can still move it to another.
const START_CODE_WEIGHT: f64 = 0.9;

/// The latents a projection optimises: z `[K * N, latent_dim]` and, for a GAN with a cluster
/// code, the code's logits `[K * N, clusters]`, in one tensor of parameters. The code is
/// their softmax, which G reads linearly, so the search can leave a start's cluster by
/// gradient; once hardened it is the one-hot code of the most likely cluster.
struct LatentSearch<'a> {
    gan: &'a Gan,
    params: Tensor,
    /// The hardened clusters `[K * N]`.
    hard: Option<Tensor>,
}

impl<'a> LatentSearch<'a> {
    /// Random z for `k` starts of each image; start r's code favours the r-th candidate
    /// cluster (`candidate_clusters`), so that the starts cover the likely clusters.
    fn start(gan: &'a Gan, targets: &Tensor, mask: &Tensor, k: i64, seed: u64) -> Self {
        let n = targets.size()[0];
        let z = Rng::new(seed).normal_tensor(&[k * n, gan.config().latent_dim], gan.device());
        let params = if gan.has_cluster_code() {
            let clusters = gan.config().clusters;
            let ranked = candidate_clusters(gan, targets, mask); // [N, clusters]
            let starts = Tensor::arange(k, (Kind::Int64, gan.device())).remainder(clusters);
            let chosen = ranked.index_select(1, &starts).tr().flatten(0, -1); // start-major
            let favoured =
                (START_CODE_WEIGHT * (clusters - 1) as f64 / (1.0 - START_CODE_WEIGHT)).ln();
            let logits = chosen.one_hot(clusters).to_kind(Kind::Float) * favoured;
            Tensor::cat(&[z, logits], 1)
        } else {
            z
        };
        LatentSearch { gan, params: params.set_requires_grad(true), hard: None }
    }

    fn latents(&self) -> Tensor {
        if !self.gan.has_cluster_code() {
            return self.params.shallow_clone();
        }
        let dim = self.gan.config().latent_dim;
        let z = self.params.narrow(1, 0, dim);
        let code = match &self.hard {
            Some(ids) => ids.one_hot(self.gan.config().clusters).to_kind(Kind::Float),
            None => self.params.narrow(1, dim, self.gan.config().clusters).softmax(1, Kind::Float),
        };
        Tensor::cat(&[z, code], 1)
    }

    /// Fixes each start's code to its most likely cluster.
    fn harden(&mut self) {
        if self.gan.has_cluster_code() && self.hard.is_none() {
            let dim = self.gan.config().latent_dim;
            let logits = self.params.narrow(1, dim, self.gan.config().clusters);
            self.hard = Some(tch::no_grad(|| logits.argmax(1, false)));
        }
    }
}

/// Clusters `[N, clusters]` ranked for each target, most likely first: by the distance of
/// its known pixels to each cluster's centre. In index order before the clusters are found.
fn candidate_clusters(gan: &Gan, targets: &Tensor, mask: &Tensor) -> Tensor {
    let (n, count) = (targets.size()[0], gan.config().clusters);
    let Some(found) = gan.clusters() else {
        return Tensor::arange(count, (Kind::Int64, gan.device())).unsqueeze(0).repeat([n, 1]);
    };
    tch::no_grad(|| {
        let (targets, mask) = (targets.flatten(1, -1), mask.flatten(1, -1));
        let centroids = found.centroids.to_kind(Kind::Float);
        // Per target and centre: the sum over known pixels of (t - c)^2.
        let distances = mask.matmul(&centroids.square().tr())
            - (&mask * &targets).matmul(&centroids.tr()) * 2.0;
        distances.argsort(1, false)
    })
}

/// Mean squared error per item `[N]` over the pixels where `mask` is 1.
fn masked_mse(generated: &Tensor, targets: &Tensor, mask: &Tensor) -> Tensor {
    let per_item =
        |t: Tensor| t.flatten(1, -1).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
    per_item((generated - targets).square() * mask) / per_item(mask.shallow_clone())
}

/// A float mask of the targets' shape; it must be 0/1-valued and leave a pixel known.
fn check_mask(mask: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let mask = mask.f_to_device(targets.device())?.f_to_kind(Kind::Float)?;
    // Broadcasting as in PyTorch: one item's shape, or a batch of them.
    let expanded = match mask.f_expand_as(targets) {
        Ok(expanded) => expanded.contiguous(),
        _ => {
            return invalid(format!(
                "mask of shape {:?} does not broadcast to the images' shape {:?}",
                mask.size(),
                targets.size()
            ))
        }
    };
    let per_image_known =
        expanded.flatten(1, -1).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
    if per_image_known.le(0.0).any().int64_value(&[]) != 0 {
        return invalid("mask leaves no known pixel in some image: nothing to project onto");
    }
    if expanded.ne(0.0).logical_and(&expanded.ne(1.0)).any().int64_value(&[]) != 0 {
        return invalid("mask values must be 0 (unknown) or 1 (known)");
    }
    Ok(expanded)
}
