//! Checks of the tensors callers hand in and of the sizes they ask for, shared by every
//! model.

use tch::{Device, Kind, Tensor};

use crate::error::{invalid, Result};

/// Largest tensor a call returns, in elements (8 GiB of floats): larger requests are
/// refused rather than exhausting memory.
pub const MAX_OUTPUT_ELEMENTS: i64 = 1 << 31;

/// Refuses `n` outputs of `per_item` values each when they would pass the limit.
pub fn check_output_size(n: i64, per_item: i64, what: &str) -> Result<()> {
    if n.saturating_mul(per_item) > MAX_OUTPUT_ELEMENTS {
        return invalid(format!(
            "{n} {what} would exceed {MAX_OUTPUT_ELEMENTS} values; ask for fewer"
        ));
    }
    Ok(())
}

/// Checks that `items` is a non-empty, finite float batch `[N, *shape]` and returns it
/// as float32 on `device`.
pub fn checked_batch(items: &Tensor, shape: &[i64], what: &str, device: Device) -> Result<Tensor> {
    let size = items.size();
    if size.len() != shape.len() + 1 || size[1..] != shape[..] {
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        return invalid(format!("{what} must have shape [N, {}], got {size:?}", dims.join(", ")));
    }
    if size[0] == 0 {
        return invalid(format!("{what} is empty"));
    }
    if !items.is_floating_point() {
        return invalid(format!("{what} must be floating point, got {:?}", items.kind()));
    }
    // Contiguous: a strided view (one column of a larger tensor) sends every layer it
    // reaches down slow paths.
    let items = items.f_to_device(device)?.f_to_kind(Kind::Float)?.f_contiguous()?;
    if !bool::try_from(items.f_isfinite()?.f_all()?)? {
        return invalid(format!("{what} contains NaN or infinite values"));
    }
    Ok(items)
}
