//! The order in which `fit` visits the data.

use tch::{Device, Tensor};

use crate::rng::Rng;

/// Per-epoch permutations that depend only on the seed and the epoch, so batch `k` is the
/// same whether training ran in one call or was resumed from a checkpoint.
pub(crate) struct EpochSampler {
    n: i64,
    batch_size: i64,
    seed: u64,
    device: Device,
    epoch: Option<(u64, Tensor)>,
}

impl EpochSampler {
    pub(crate) fn new(n: i64, batch_size: i64, seed: u64, device: Device) -> Self {
        EpochSampler { n, batch_size, seed, device, epoch: None }
    }

    /// The indices `[batch_size]` of batch number `batch_number` since training began.
    pub(crate) fn indices(&mut self, batch_number: u64) -> Tensor {
        let per_epoch = (self.n / self.batch_size) as u64;
        let epoch = batch_number / per_epoch;
        if self.epoch.as_ref().map(|(e, _)| *e) != Some(epoch) {
            let mut rng =
                Rng::new(self.seed ^ 0x005E_ED0F_DA7A ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            self.epoch = Some((epoch, rng.permutation(self.n as usize, self.device)));
        }
        let (_, permutation) = self.epoch.as_ref().expect("set above");
        permutation.narrow(0, (batch_number % per_epoch) as i64 * self.batch_size, self.batch_size)
    }
}
