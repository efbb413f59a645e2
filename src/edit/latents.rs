//! Edits that keep a GAN's latent layout (`gan::latents`): z follows a path, moves along
//! directions and adds up, while a self-conditioned GAN's cluster code is blended in a
//! straight line, carried along or taken from one latent. Each call checks its latents
//! once and renders them where it returns images.

use tch::{Kind, Tensor};

use super::directions::{check_directions, move_latents};
use super::{interpolate, Path};
use crate::error::{invalid, Result};
use crate::gan::Gan;

/// The cluster codes of `latents` `[N, width]`: all after z, empty without codes.
fn code_part(gan: &Gan, latents: &Tensor) -> Tensor {
    let dim = gan.config().latent_dim;
    latents.narrow(1, dim, latents.size()[1] - dim)
}

/// Images `[outer..., *data_shape]` of latents `[outer..., width]`, each row of a latent
/// with `labels` `[N]` when conditional, where N is the second-to-last axis.
fn render_rows(
    gan: &Gan,
    latents: &Tensor,
    labels: Option<&Tensor>,
    use_ema: bool,
) -> Result<Tensor> {
    let size = latents.size();
    let rows: i64 = size[..size.len() - 1].iter().product();
    let per_label = rows / size[size.len() - 2];
    let labels = labels.map(|l| l.repeat([per_label]));
    let images = gan.generate(&latents.reshape([rows, -1]), labels.as_ref(), use_ema)?;
    let mut shape = size[..size.len() - 1].to_vec();
    shape.extend_from_slice(&gan.config().data_shape);
    Ok(images.f_reshape(&shape)?)
}

/// Latents along the path from `z0` to `z1` (both `[N, width]`), endpoints included:
/// `[steps, N, width]`. z follows `path`; a cluster code moves in a straight line,
/// through soft codes that blend the two clusters.
pub fn interpolate_latents(
    gan: &Gan,
    z0: &Tensor,
    z1: &Tensor,
    steps: i64,
    path: Path,
) -> Result<Tensor> {
    let (a, b) = (gan.check_latents(z0, "z0")?, gan.check_latents(z1, "z1")?);
    if a.size() != b.size() {
        return invalid(format!("z0 and z1 differ in shape: {:?} vs {:?}", a.size(), b.size()));
    }
    let z = interpolate(&gan.style_part(&a), &gan.style_part(&b), steps, path)?;
    let codes = interpolate(&code_part(gan, &a), &code_part(gan, &b), steps, Path::Lerp)?;
    Ok(Tensor::f_cat(&[z, codes], 2)?)
}

/// Images along `interpolate_latents`' path: `[steps, N, *data_shape]`, a conditional
/// GAN keeping each latent's class `labels` `[N]`.
pub fn interpolate_images(
    gan: &Gan,
    z0: &Tensor,
    z1: &Tensor,
    steps: i64,
    path: Path,
    labels: Option<&Tensor>,
    use_ema: bool,
) -> Result<Tensor> {
    let latents = interpolate_latents(gan, z0, z1, steps, path)?;
    render_rows(gan, &latents, labels, use_ema)
}

/// The mean of a group of latents `[M_i, width]` that share a width.
fn group_mean(gan: &Gan, group: &[Tensor], what: &str) -> Result<Tensor> {
    if group.is_empty() {
        return invalid(format!("{what} must be a non-empty list of latent codes"));
    }
    let latents = group.iter().map(|z| gan.check_latents(z, what)).collect::<Result<Vec<_>>>()?;
    let widths: Vec<i64> = latents.iter().map(|z| z.size()[1]).collect();
    if widths.iter().any(|&w| w != widths[0]) {
        return invalid(format!("the latents of {what} differ in width: {widths:?}"));
    }
    Ok(Tensor::f_cat(&latents, 0)?.mean_dim([0i64].as_slice(), true, Kind::Float))
}

/// Vector arithmetic on latents, `base + mean(plus) - mean(minus)` on z: a latent
/// `[1, width]`. A cluster code does not add up: the result carries the base's, else the
/// mean of `plus`'s codes. `base` is the first of its latents.
pub fn arithmetic(
    gan: &Gan,
    plus: &[Tensor],
    minus: Option<&[Tensor]>,
    base: Option<&Tensor>,
) -> Result<Tensor> {
    let added = group_mean(gan, plus, "plus")?;
    let mut z = gan.style_part(&added);
    let mut code = code_part(gan, &added);
    if let Some(minus) = minus {
        z = z - gan.style_part(&group_mean(gan, minus, "minus")?);
    }
    if let Some(base) = base {
        let base = gan.check_latents(base, "base")?.narrow(0, 0, 1);
        z = z + gan.style_part(&base);
        code = code_part(gan, &base);
    }
    Ok(Tensor::f_cat(&[z, code], 1)?)
}

/// Directions in z `[K, latent_dim]` (or `[latent_dim]`) as directions of latents of
/// `width`, checked: zero over a cluster code, so that moving along them leaves the code
/// alone. Directions as wide as the latents pass as they are.
fn in_latents(gan: &Gan, directions: &Tensor, width: i64) -> Result<Tensor> {
    let dim = gan.config().latent_dim;
    if width > dim && directions.size().last() == Some(&width) {
        return check_directions(directions, width, "direction");
    }
    let directions = check_directions(directions, dim, "direction")?;
    Ok(directions.constant_pad_nd([0, width - dim]))
}

/// Latents `z` `[N, width]` moved by each of `amounts` `[A]` along each of `directions`
/// `[K, latent_dim]`, rendered: `[K, A, N, *data_shape]`, a conditional GAN keeping each
/// latent's class `labels` `[N]` and a self-conditioned one each latent's code.
pub fn move_images(
    gan: &Gan,
    z: &Tensor,
    directions: &Tensor,
    amounts: &Tensor,
    labels: Option<&Tensor>,
    use_ema: bool,
) -> Result<Tensor> {
    let latents = gan.check_latents(z, "z")?;
    let width = latents.size()[1];
    let moved = move_latents(&latents, &in_latents(gan, directions, width)?, amounts)?;
    render_rows(gan, &moved, labels, use_ema)
}

/// Latents `z` `[N, width]` rendered in each of `classes` `[C]` (default: all) by a
/// conditional GAN, or in each of the clusters of a self-conditioned one (z stays, the code
/// becomes the cluster's): `[C, N, *data_shape]`.
pub fn class_swap(
    gan: &Gan,
    z: &Tensor,
    classes: Option<&Tensor>,
    use_ema: bool,
) -> Result<Tensor> {
    let (num_classes, clusters) = (gan.config().num_classes, gan.config().clusters);
    if num_classes == 0 && clusters == 0 {
        return invalid(
            "class_swap needs a class-conditional GAN (num_classes > 0) or a self-conditioned \
             one (clusters > 0)",
        );
    }
    let z = gan.check_latents(z, "z")?;
    let classes = match classes {
        Some(classes) if classes.dim() != 1 || classes.numel() == 0 => {
            return invalid("classes must be a non-empty list of class indices")
        }
        Some(classes) => classes.to_kind(Kind::Int64).to_device(z.device()),
        None => Tensor::arange(num_classes.max(clusters), (Kind::Int64, z.device())),
    };
    let count = classes.size()[0];
    let (codes, per_code) =
        (z.repeat([count, 1]), classes.repeat_interleave_self_int(z.size()[0], 0, None));
    let images = if clusters > 0 {
        crate::edit::into_clusters(gan, &codes, &per_code)
            .and_then(|latents| gan.generate(&latents, None, use_ema))?
    } else {
        gan.generate(&codes, Some(&per_code), use_ema)?
    };
    let mut shape = vec![count, z.size()[0]];
    shape.extend_from_slice(&gan.config().data_shape);
    Ok(images.f_reshape(&shape)?)
}

/// The explorer's latent `[1, width]`: the first of `base`'s latents with z truncated,
/// then moved by `amounts` `[K]` along `directions` `[K, latent_dim]`; its code kept.
pub fn steered(
    gan: &Gan,
    base: &Tensor,
    directions: &Tensor,
    amounts: &Tensor,
    truncation: f64,
) -> Result<Tensor> {
    let base = gan.truncated(&gan.check_latents(base, "base")?.narrow(0, 0, 1), truncation)?;
    let width = base.size()[1];
    let directions = in_latents(gan, directions, width)?;
    let k = directions.size()[0];
    if amounts.size() != [k] {
        return invalid(format!(
            "one amount per direction [{k}] expected, got {:?}",
            amounts.size()
        ));
    }
    let amounts = amounts.to_kind(Kind::Float).to_device(directions.device());
    if !bool::try_from(amounts.isfinite().all())? {
        return invalid("amounts contain NaN or infinite values");
    }
    let step = amounts.unsqueeze(0).matmul(&directions).to_device(base.device());
    Ok(base + step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GanConfig;
    use crate::rng::Rng;
    use tch::Device;

    /// A self-conditioned MLP GAN whose latents are z (3) and a code of 4 clusters.
    fn coded() -> Gan {
        let config = GanConfig { clusters: 4, ..GanConfig::tiny_mlp() };
        Gan::new(config, Device::Cpu).unwrap()
    }

    fn close(a: &Tensor, b: &Tensor) -> bool {
        a.allclose(b, 1e-5, 1e-6, false)
    }

    #[test]
    fn a_path_follows_z_and_blends_the_code_in_a_line() {
        let gan = coded();
        let latents = gan.draw_latents(&mut Rng::new(0), 2);
        let (a, b) = (latents.narrow(0, 0, 1), latents.narrow(0, 1, 1));
        let path = interpolate_latents(&gan, &a, &b, 5, Path::Slerp).unwrap();
        assert_eq!(path.size(), [5, 1, 7]);
        assert!(close(&path.get(0), &a) && close(&path.get(4), &b), "endpoints");
        let middle = (code_part(&gan, &a) + code_part(&gan, &b)) * 0.5;
        assert!(close(&code_part(&gan, &path.get(2)), &middle), "the code moves in a line");
        let images = interpolate_images(&gan, &a, &b, 5, Path::Lerp, None, true).unwrap();
        assert_eq!(images.size(), [5, 1, 2]);
        let other = gan.style_part(&a);
        assert!(interpolate_latents(&gan, &a, &other, 5, Path::Lerp).is_err(), "widths differ");
    }

    #[test]
    fn arithmetic_adds_z_and_keeps_one_code() {
        let gan = coded();
        let latents = gan.draw_latents(&mut Rng::new(1), 3);
        let row = |i| latents.narrow(0, i, 1);
        let sum = arithmetic(&gan, &[row(0)], Some(&[row(1)]), Some(&row(2))).unwrap();
        let z = gan.style_part(&row(0)) - gan.style_part(&row(1)) + gan.style_part(&row(2));
        assert!(close(&gan.style_part(&sum), &z));
        assert!(code_part(&gan, &sum).equal(&code_part(&gan, &row(2))), "the base's code");
        let mixed = [row(0), gan.style_part(&row(1))];
        assert!(
            arithmetic(&gan, &mixed, None, None).is_err_and(|e| e.to_string().contains("width"))
        );
        assert!(arithmetic(&gan, &[], None, None).is_err());
    }

    #[test]
    fn moves_and_steering_leave_the_code_alone() {
        let gan = coded();
        let base = gan.draw_latents(&mut Rng::new(2), 1);
        let directions = Tensor::eye(3, (Kind::Float, Device::Cpu));
        let amounts = Tensor::from_slice(&[1.0f32, 0.0, -2.0]);
        let steered = steered(&gan, &base, &directions, &amounts, 0.5).unwrap();
        let expected = gan.style_part(&base) * 0.5 + Tensor::from_slice(&[1.0f32, 0.0, -2.0]);
        assert!(close(&gan.style_part(&steered), &expected.view([1, 3])));
        assert!(code_part(&gan, &steered).equal(&code_part(&gan, &base)));
        assert!(steered_fails(&gan, &base, &directions, &amounts.narrow(0, 0, 2), 0.5));
        assert!(steered_fails(&gan, &base, &directions, &amounts, 1.5), "truncation > 1");
        let images = move_images(&gan, &base, &directions, &amounts, None, true).unwrap();
        assert_eq!(images.size(), [3, 3, 1, 2]);
    }

    fn steered_fails(gan: &Gan, base: &Tensor, d: &Tensor, a: &Tensor, t: f64) -> bool {
        steered(gan, base, d, a, t).is_err()
    }
}
