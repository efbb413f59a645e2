//! Putting the known pixels back over a fill: inpainting and completion keep what was
//! known, and may fade the fill in over a few pixels at the hole's border.

use tch::Tensor;

use crate::error::{invalid, Result};

/// How much of each pixel of `targets` `[N, C, H, W]` a composite takes from the targets:
/// the 0/1 `mask` (broadcast to the targets), faded over `feather` pixels at the hole's
/// border so that no seam shows.
pub fn known_weight(mask: &Tensor, targets: &Tensor, feather: i64) -> Result<Tensor> {
    let shape = targets.size();
    if shape.len() != 4 {
        return invalid(format!("targets must have shape [N, C, H, W], got {shape:?}"));
    }
    let (height, width) = (shape[2], shape[3]);
    if feather < 0 || feather >= height.max(width) {
        return invalid(format!(
            "feather must lie in [0, {}) pixels for {height}x{width} images, got {feather}",
            height.max(width)
        ));
    }
    let known = mask.f_to_kind(tch::Kind::Float)?.f_to_device(targets.device())?;
    let known = known.f_expand(&shape, false)?.contiguous();
    if feather == 0 {
        return Ok(known);
    }
    let size = 2 * feather + 1;
    let planes = known.reshape([-1, 1, height, width]);
    let blurred =
        planes.f_avg_pool2d([size, size], [1, 1], [feather, feather], false, false, None)?;
    // 1 deep inside the known region, fading towards its edge.
    Ok(&known * blurred.reshape(&shape))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn feathering_fades_only_near_the_hole() {
        let targets = Tensor::zeros([1, 1, 8, 8], (Kind::Float, Device::Cpu));
        let mask = Tensor::ones([1, 1, 8, 8], (Kind::Float, Device::Cpu));
        let _ = mask.narrow(2, 4, 4).fill_(0.0);
        let sharp = known_weight(&mask, &targets, 0).unwrap();
        assert!(sharp.equal(&mask));
        let soft = known_weight(&mask, &targets, 1).unwrap();
        let at = |row: i64| soft.double_value(&[0, 0, row, 3]);
        assert_eq!((at(0), at(5)), (1.0, 0.0), "far from the border: as the mask");
        assert!(at(3) > 0.0 && at(3) < 1.0, "fades at the border");
        assert!(
            known_weight(&mask, &targets, 8).is_err() && known_weight(&mask, &targets, -1).is_err()
        );
    }
}
