//! Directions in latent space that mean something: SeFa's closed-form factorisation of the
//! first generator layer (Shen & Zhou 2021), GANSpace's principal components of the first
//! activations pulled back to z (Härkönen et al. 2020), and InterFaceGAN's linear boundary
//! of an attribute (Shen et al. 2020); and moving latents along them.

use tch::{Device, Kind, Tensor};

use crate::error::{invalid, Result};
use crate::gan::latents::class_ids;
use crate::gan::Gan;
use crate::models::{self, LatentLayout};

/// Unit vectors `[k, latent_dim]`, most important first, and the share of the variation
/// each explains `[k]`.
pub struct Directions {
    pub vectors: Tensor,
    pub explained: Tensor,
}

/// A boundary's unit normal `[latent_dim]`, pointing to where the attribute is high, and
/// the share of the fitted latents on the side their attribute puts them.
pub struct Boundary {
    pub normal: Tensor,
    pub accuracy: f64,
}

/// Share of the latents at each end of a continuous attribute that a boundary separates;
/// the middle, where the attribute says little, is left out (as InterFaceGAN does).
const EXTREME_SHARE: f64 = 0.3;
/// Ridge on the boundary's weights: separable classes would otherwise send them to infinity.
const RIDGE: f64 = 1.0;
const NEWTON_STEPS: i64 = 30;
/// Fits run in double precision on the CPU: they are small, and solves want the precision.
const DOUBLE: (Kind, Device) = (Kind::Double, Device::Cpu);

/// The coordinates of z that directions may use `[latent_dim]` (1 or 0). A
/// self-conditioned GAN saved before cluster codes draws each latent's cluster from its
/// first coordinate, so that coordinate is a choice of cluster, not a style to move along;
/// directions leave it alone.
pub fn style_coordinates(gan: &Gan) -> Tensor {
    let mask = Tensor::ones([gan.config().latent_dim], DOUBLE);
    if gan.config().clusters > 0 && !gan.has_cluster_code() {
        let _ = mask.get(0).fill_(0.0);
    }
    mask
}

fn check_count(k: i64, latent_dim: i64) -> Result<()> {
    if !(1..=latent_dim).contains(&k) {
        return invalid(format!("k must lie in [1, latent_dim={latent_dim}], got {k}"));
    }
    Ok(())
}

/// Eigenvectors of `WᵀW` for G's first weight `W` restricted to z (to its style
/// coordinates): the directions its first layer amplifies most. `explained` is each eigenvalue's share of their sum.
pub fn sefa(gan: &Gan, k: i64) -> Result<Directions> {
    let latent_dim = gan.config().latent_dim;
    check_count(k, latent_dim)?;
    let weight = first_weight(gan)?;
    let (values, vectors) = Tensor::f_linalg_eigh(&weight.tr().matmul(&weight), "L")?; // ascending
    let top = values.argsort(0, true).narrow(0, 0, k);
    let explained = values.index_select(0, &top) / values.sum(Kind::Double);
    Ok(Directions {
        vectors: with_fixed_signs(&vectors.index_select(1, &top).tr()),
        explained: explained.to_kind(Kind::Float),
    })
}

/// G's first layer as a matrix `[outputs, latent_dim]` from z's style coordinates (the
/// one-hot columns of a conditional generator left out), in double precision.
fn first_weight(gan: &Gan) -> Result<Tensor> {
    let layer = models::family(gan.config().arch).latent_layer();
    let variables = gan.sampling_generator(true).vs().variables();
    let Some(weight) = variables.get(layer.weight) else {
        return invalid(format!("this generator has no latent layer '{}'", layer.weight));
    };
    let matrix = match layer.layout {
        LatentLayout::TransposedConv => weight.flatten(1, -1).tr(),
        LatentLayout::Linear => weight.shallow_clone(),
    };
    let from_z = matrix.narrow(1, 0, gan.config().latent_dim).to_kind(Kind::Double).detach();
    Ok(from_z.to_device(Device::Cpu) * style_coordinates(gan))
}

/// The principal components of G's first-block activations over latents `z` `[n, D]`
/// (centred per class of a conditional or self-conditioned GAN, so that class changes do
/// not dominate), pulled back to z by least squares: `z ≈ coordinates · U`. `explained` is
/// each component's share of the activations' variance.
pub fn pca(gan: &Gan, z: &Tensor, labels: Option<&Tensor>, k: i64) -> Result<Directions> {
    let latent_dim = gan.config().latent_dim;
    check_count(k, latent_dim)?;
    let n = z.size()[0];
    if n <= latent_dim {
        return invalid(format!(
            "pca needs more samples than latent_dim={latent_dim} to pull components back to z, got {n}"
        ));
    }
    let labels = gan.check_labels(gan.sampling_labels(n, labels).as_ref(), n, "labels")?;
    let latents = gan.check_latents(z, "latents")?;
    let conditioning = gan.conditioning(&latents, labels.as_ref());
    let z = gan.style_part(&latents);
    let generator = gan.sampling_generator(true);
    let features = tch::no_grad(|| generator.first_activations(&z, conditioning.as_ref()))
        .to_kind(Kind::Double);
    let centred = match &conditioning {
        Some(classes) => centred_per_class(&features, &class_ids(classes)),
        None => &features - features.mean_dim([0i64].as_slice(), true, Kind::Double),
    };
    let (_, singular, basis) = centred.f_svd(true, true)?; // basis: [features, rank]
    let k_found = k.min(singular.size()[0]);
    let variance = singular.square();
    let coordinates = centred.matmul(&basis.narrow(1, 0, k_found)); // [n, k]
                                                                    // Least squares: the coordinates are orthogonal, with squared norms `variance`.
    let style = z.to_kind(Kind::Double) * style_coordinates(gan).to_device(z.device());
    let pulled_back = coordinates.tr().matmul(&style)
        / variance.narrow(0, 0, k_found).clamp_min(1e-12).unsqueeze(1); // [k, D]
    let norms = pulled_back.norm_scalaropt_dim(2, [1i64].as_slice(), true).clamp_min(1e-12);
    Ok(Directions {
        vectors: (pulled_back / norms).to_kind(Kind::Float),
        explained: (variance.narrow(0, 0, k_found) / variance.sum(Kind::Double))
            .to_kind(Kind::Float),
    })
}

fn centred_per_class(features: &Tensor, classes: &Tensor) -> Tensor {
    let count = classes.max().int64_value(&[]) + 1;
    let one_hot = classes.one_hot(count).to_kind(Kind::Double); // [n, classes]
    let sizes = one_hot.sum_dim_intlist([0i64].as_slice(), false, Kind::Double).clamp_min(1.0);
    let means = one_hot.tr().matmul(features) / sizes.unsqueeze(1); // [classes, features]
    features - one_hot.matmul(&means)
}

/// Each row with the sign that makes its largest entry positive, so results do not depend
/// on the solver's arbitrary choice.
fn with_fixed_signs(vectors: &Tensor) -> Tensor {
    let largest = vectors.abs().argmax(1, true);
    let signs = vectors.gather(1, &largest, false).sign();
    (vectors * signs).to_kind(Kind::Float)
}

/// A linear boundary in latent space between low and high `values` `[n]` of an attribute
/// of the latents `z` `[n, D]` (of classes `labels` when conditional): logistic regression
/// on two classes (values with exactly two levels), or on the top and bottom shares of a
/// continuous attribute. A continuous attribute is taken relative to its mean in each
/// class (or cluster), which moves in z cannot change. The normal is made orthogonal to
/// the unit normals in `keep` `[m, D]`, so that moving along it leaves those attributes
/// alone (conditional manipulation), and lies in the style coordinates.
pub fn boundary(
    gan: &Gan,
    z: &Tensor,
    labels: Option<&Tensor>,
    values: &Tensor,
    keep: Option<&Tensor>,
) -> Result<Boundary> {
    let latents = gan.check_latents(z, "latents")?;
    let (n, latent_dim) = (latents.size()[0], gan.config().latent_dim);
    if values.size() != [n] {
        return invalid(format!(
            "the attribute must give one value per sample, shape [{n}], got {:?}",
            values.size()
        ));
    }
    let labels = gan.check_labels(labels, n, "labels")?;
    let classes = gan.conditioning(&latents, labels.as_ref()).map(|c| class_ids(&c));
    let z = gan.style_part(&latents).to_kind(Kind::Double).to_device(Device::Cpu)
        * style_coordinates(gan);
    let mut values = values.to_kind(Kind::Double).to_device(Device::Cpu);
    if !bool::try_from(values.isfinite().all())? {
        return invalid("the attribute's values contain NaN or infinite values");
    }
    let (low, high) = (values.min().double_value(&[]), values.max().double_value(&[]));
    if low == high {
        return invalid(format!(
            "the attribute is constant ({low}) over the {n} samples: nothing to separate"
        ));
    }
    let levels = values.unique_dim(0, false, false, false).0.size()[0];
    if let (true, Some(classes)) = (levels > 2, &classes) {
        values =
            centred_per_class(&values.unsqueeze(1), &classes.to_device(Device::Cpu)).squeeze_dim(1);
    }
    let (inputs, targets) = if levels == 2 {
        (z, values.eq(high).to_kind(Kind::Double))
    } else {
        let order = values.argsort(0, false);
        let end = ((n as f64 * EXTREME_SHARE) as i64).max(1);
        let chosen = Tensor::cat(&[order.narrow(0, 0, end), order.narrow(0, n - end, end)], 0);
        let targets = Tensor::cat(&[Tensor::zeros([end], DOUBLE), Tensor::ones([end], DOUBLE)], 0);
        (z.index_select(0, &chosen), targets)
    };
    let weights = logistic_regression(&inputs, &targets)?;
    let mut normal = weights.narrow(0, 0, latent_dim);
    if let Some(keep) = keep {
        normal = orthogonal_to(&normal, keep, latent_dim)?;
    }
    let length = normal.norm().double_value(&[]);
    if length < 1e-8 {
        return invalid("the attribute has no linear boundary in latent space");
    }
    let normal = normal / length;
    let predicted = inputs.matmul(&normal).gt(0.0).to_kind(Kind::Double);
    let accuracy = predicted.eq_tensor(&targets).to_kind(Kind::Double).mean(Kind::Double);
    Ok(Boundary { normal: normal.to_kind(Kind::Float), accuracy: accuracy.double_value(&[]) })
}

/// Ridge-regularised logistic regression by Newton's method: weights `[D + 1]`, the bias last.
fn logistic_regression(inputs: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let (n, d) = (inputs.size()[0], inputs.size()[1]);
    let x = Tensor::cat(&[inputs.shallow_clone(), Tensor::ones([n, 1], DOUBLE)], 1);
    let ridge = Tensor::full([d + 1], RIDGE, DOUBLE);
    let _ = ridge.narrow(0, d, 1).fill_(0.0); // the bias is free
    let mut weights = Tensor::zeros([d + 1], DOUBLE);
    for _ in 0..NEWTON_STEPS {
        let p = x.matmul(&weights).sigmoid();
        let gradient = x.tr().matmul(&(&p - targets)) + &ridge * &weights;
        let curvature = (&p * p.ones_like().g_sub(&p)).unsqueeze(1);
        let hessian = x.tr().matmul(&(&x * curvature)) + ridge.diag(0);
        weights -= Tensor::f_linalg_solve(&hessian, &gradient, true)?;
    }
    Ok(weights)
}

/// `normal` minus its part in the span of the rows of `keep` `[m, D]`.
fn orthogonal_to(normal: &Tensor, keep: &Tensor, latent_dim: i64) -> Result<Tensor> {
    let keep = check_directions(keep, latent_dim, "keep")?.to_kind(Kind::Double);
    let (basis, _) = Tensor::f_linalg_qr(&keep.tr(), "reduced")?; // [D, m], orthonormal columns
    Ok(normal - basis.matmul(&basis.tr().matmul(normal)))
}

/// Checks directions `[K, D]` (or `[D]`): the right length, finite and non-zero.
pub(super) fn check_directions(directions: &Tensor, latent_dim: i64, what: &str) -> Result<Tensor> {
    let given = directions.size();
    let directions = match directions.dim() {
        1 => directions.unsqueeze(0),
        _ => directions.shallow_clone(),
    };
    let size = directions.size();
    if size.len() != 2 || size[1] != latent_dim || size[0] == 0 {
        return invalid(format!(
            "{what} must have shape [{latent_dim}] or [K, {latent_dim}] (latent_dim), got {given:?}"
        ));
    }
    let directions = directions.to_kind(Kind::Float).to_device(Device::Cpu);
    if !bool::try_from(directions.isfinite().all())? {
        return invalid(format!("{what} contains NaN or infinite values"));
    }
    let norms = directions.norm_scalaropt_dim(2, [1i64].as_slice(), false);
    if norms.min().double_value(&[]) == 0.0 {
        return invalid(format!("{what} contains a zero vector, which has no direction"));
    }
    Ok(directions)
}

/// `z` `[N, D]` moved by each of `amounts` `[A]` along each of `directions` `[K, D]`:
/// `[K, A, N, D]`.
pub fn move_latents(z: &Tensor, directions: &Tensor, amounts: &Tensor) -> Result<Tensor> {
    let latent_dim = z.size()[1];
    let directions = check_directions(directions, latent_dim, "direction")?;
    if amounts.dim() != 1 || amounts.size()[0] == 0 {
        return invalid(format!(
            "amounts must be a non-empty list of numbers, got shape {:?}",
            amounts.size()
        ));
    }
    let amounts = amounts.to_kind(Kind::Float).to_device(Device::Cpu);
    if !bool::try_from(amounts.isfinite().all())? {
        return invalid("amounts contain NaN or infinite values");
    }
    let z = z.to_kind(Kind::Float).to_device(Device::Cpu);
    let steps = amounts.view([1, -1, 1, 1]) * directions.unsqueeze(1).unsqueeze(1);
    Ok(z.unsqueeze(0).unsqueeze(0) + steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normals(shape: &[i64], seed: i64) -> Tensor {
        tch::manual_seed(seed);
        Tensor::randn(shape, (Kind::Float, Device::Cpu))
    }

    #[test]
    fn boundary_recovers_a_planted_direction() {
        let config = crate::config::GanConfig {
            data_shape: vec![2],
            arch: crate::config::Arch::Mlp,
            latent_dim: 8,
            ..Default::default()
        };
        let gan = Gan::new(config, Device::Cpu).unwrap();
        let z = normals(&[2000, 8], 0);
        let truth = Tensor::from_slice(&[0.0f32, 3.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0]) / 5.0;
        let attribute = z.matmul(&truth) + normals(&[2000], 1) * 0.1;
        let found = boundary(&gan, &z, None, &attribute, None).unwrap();
        let cosine = found.normal.dot(&truth).double_value(&[]);
        assert!(cosine > 0.98, "cosine {cosine}");
        assert!(found.accuracy > 0.95, "accuracy {}", found.accuracy);
        // Conditional manipulation: keeping axis 3 leaves axis 1.
        let keep = Tensor::from_slice(&[0.0f32, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]).view([1, 8]);
        let kept = boundary(&gan, &z, None, &attribute, Some(&keep)).unwrap().normal;
        assert!(kept.double_value(&[3]).abs() < 1e-6);
        assert!(kept.double_value(&[1]) > 0.99, "{kept:?}");
    }

    #[test]
    fn moves_are_amounts_times_directions() {
        let z = normals(&[3, 4], 2);
        let directions = Tensor::eye(4, (Kind::Float, Device::Cpu)).narrow(0, 0, 2);
        let amounts = Tensor::from_slice(&[-1.0f32, 0.0, 2.0]);
        let moved = move_latents(&z, &directions, &amounts).unwrap();
        assert_eq!(moved.size(), [2, 3, 3, 4]);
        let change = &moved.get(1).get(2) - &z; // direction 1 by 2
        let expected = Tensor::from_slice(&[0.0f32, 2.0, 0.0, 0.0]).expand([3, 4], false);
        assert!(change.allclose(&expected, 1e-6, 1e-6, false));
    }
}
