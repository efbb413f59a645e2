//! A network's trainable variables as views of one flat buffer, so that an optimiser's
//! update, an EMA or a gradient copy is a handful of large ops instead of a handful per
//! parameter tensor: small GANs are bound by op count, not arithmetic.

use tch::{nn, Tensor};

use crate::error::Result;

/// A network's trainable variables as views of one contiguous buffer.
///
/// 4D variables (convolution weights) are laid out channels last, `[O, H, W, I]` in
/// memory, which oneDNN's convolutions read without reordering them on every call.
/// Buffers laid out like `flat` (gradients, Adam's moments, the EMA) share the order;
/// `canonical` gives the plain row-major order that checkpoints store.
pub struct FlatParams {
    pub flat: Tensor,
    pub vars: Vec<Tensor>,
    /// The variables' names in their `VarStore`.
    pub names: Vec<String>,
    /// Where `gradient` writes, reused from step to step.
    pub grad: Tensor,
}

fn is_channels_last(var: &Tensor) -> bool {
    var.dim() == 4
}

/// `tensor` flattened in the order a variable like it is stored in the buffer.
fn flatten_like_buffer(tensor: &Tensor) -> Tensor {
    if is_channels_last(tensor) {
        tensor.permute([0, 2, 3, 1]).reshape([-1])
    } else {
        tensor.reshape([-1])
    }
}

impl FlatParams {
    /// Moves the trainable variables of `vs` into one buffer; the variables keep their
    /// values and identity, only their storage changes.
    pub fn new(vs: &nn::VarStore) -> Self {
        let mut vars = vs.trainable_variables();
        let named = vs.variables();
        let names = vars
            .iter()
            .map(|v| {
                named
                    .iter()
                    .find(|(_, t)| t.data_ptr() == v.data_ptr())
                    .map(|(n, _)| n.clone())
                    .unwrap_or_default()
            })
            .collect();
        let flat = tch::no_grad(|| {
            Tensor::cat(&vars.iter().map(flatten_like_buffer).collect::<Vec<_>>(), 0)
        });
        let mut offset = 0;
        for var in vars.iter_mut() {
            let numel = var.numel() as i64;
            let segment = flat.narrow(0, offset, numel);
            let view = if is_channels_last(var) {
                let s = var.size();
                segment.view([s[0], s[2], s[3], s[1]]).permute([0, 3, 1, 2])
            } else {
                segment.view(var.size().as_slice())
            };
            var.set_data(&view);
            offset += numel;
        }
        let grad = flat.zeros_like();
        FlatParams { flat, vars, names, grad }
    }

    /// A single tensor that is already a leaf requiring grad (a batch of latents).
    pub fn from_tensor(tensor: &Tensor) -> Self {
        let flat = tch::no_grad(|| tensor.view([-1]));
        FlatParams {
            grad: flat.zeros_like(),
            flat,
            vars: vec![tensor.shallow_clone()],
            names: vec![String::new()],
        }
    }

    /// d loss / d params, flattened like the buffer. Gradients are returned, not
    /// accumulated into `.grad`, so nothing needs zeroing between steps. The result is
    /// overwritten by the next call.
    pub fn gradient(&self, loss: &Tensor) -> Result<Tensor> {
        Ok(gradients(loss, &[self])?.remove(0))
    }

    /// The variables' views into `buffer`, a tensor laid out like `flat`.
    pub fn views_into(&self, buffer: &Tensor) -> Vec<Tensor> {
        self.vars
            .iter()
            .map(|v| buffer.as_strided(v.size(), v.stride(), v.storage_offset()))
            .collect()
    }

    /// `buffer` (laid out like `flat`) with each variable's part in row-major order.
    pub fn canonical(&self, buffer: &Tensor) -> Tensor {
        Tensor::cat(&self.views_into(buffer).iter().map(|v| v.reshape([-1])).collect::<Vec<_>>(), 0)
    }

    /// Fills `buffer` (laid out like `flat`) from `canonical`'s row-major order.
    pub fn copy_from_canonical(&self, buffer: &Tensor, canonical: &Tensor) {
        tch::no_grad(|| {
            let mut offset = 0;
            for mut view in self.views_into(buffer) {
                let numel = view.numel() as i64;
                view.copy_(&canonical.narrow(0, offset, numel).view(view.size().as_slice()));
                offset += numel;
            }
        });
    }
}

/// d loss / d params of each of `networks`, in one backward pass through a graph they
/// share (two generators in one loss), each written where `FlatParams::gradient` writes.
pub fn gradients(loss: &Tensor, networks: &[&FlatParams]) -> Result<Vec<Tensor>> {
    let vars: Vec<Tensor> =
        networks.iter().flat_map(|n| n.vars.iter().map(Tensor::shallow_clone)).collect();
    let mut grads = Tensor::f_run_backward(&[loss], &vars, false, false)?.into_iter();
    let mut flats = vec![];
    for network in networks {
        let parts: Vec<Tensor> =
            grads.by_ref().take(network.vars.len()).map(|g| flatten_like_buffer(&g)).collect();
        flats.push(Tensor::f_cat_out(&network.grad, &parts, 0)?);
    }
    Ok(flats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    /// Convolution weights sit channels last in the buffer; `canonical` undoes that.
    #[test]
    fn canonical_order_is_row_major_and_invertible() {
        let vs = nn::VarStore::new(Device::Cpu);
        let conv = nn::conv2d(vs.root() / "conv", 3, 5, 2, Default::default());
        let original = conv.ws.copy();
        let params = FlatParams::new(&vs);
        assert!(conv.ws.equal(&original), "values survive the move into the buffer");
        assert_eq!(conv.ws.stride(), vec![12, 1, 6, 3], "channels last");
        let canonical = params.canonical(&params.flat);
        let row_major: Vec<Tensor> = params.vars.iter().map(|v| v.reshape([-1])).collect();
        assert!(canonical.equal(&Tensor::cat(&row_major, 0)));
        let restored = params.flat.zeros_like();
        params.copy_from_canonical(&restored, &canonical);
        assert!(restored.equal(&params.flat));
    }
}
