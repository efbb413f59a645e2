//! Data-parallel training: this process as one replica among `world_size`. Every replica
//! draws the same global batch of indices and latents and keeps its own slice of it; the
//! gradients of each network are averaged across replicas by one all-reduce of its flat
//! gradient buffer, supplied by the caller (torch.distributed in the Python package).

use tch::Tensor;

use crate::error::{invalid, Result};

/// Averages a flat gradient across replicas in place.
pub type GradientSync = Box<dyn FnMut(&Tensor) -> Result<()> + Send>;

pub struct Replica {
    pub rank: i64,
    pub world_size: i64,
    pub sync: GradientSync,
}

impl Replica {
    pub fn new(rank: i64, world_size: i64, sync: GradientSync) -> Result<Self> {
        if world_size < 1 || !(0..world_size).contains(&rank) {
            return invalid(format!("rank {rank} is not in a world of {world_size} processes"));
        }
        Ok(Replica { rank, world_size, sync })
    }

    /// This replica's slice `[batch]` of a global tensor `[batch * world_size, ...]`.
    pub fn slice(&self, global: &Tensor, batch: i64) -> Tensor {
        global.narrow(0, self.rank * batch, batch)
    }
}
