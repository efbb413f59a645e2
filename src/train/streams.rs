//! The random streams of training (latents, fake labels, augmentation, penalty mixing)
//! and, when training data-parallel, this process's place among the replicas.

use tch::{Device, Tensor};

use crate::error::Result;
use crate::replica::Replica;
use crate::rng::{classes_of, Rng, UniformSource};

pub struct Streams {
    pub rng: Rng,
    pub device: Device,
    /// Set when training data-parallel with other processes.
    pub replica: Option<Replica>,
}

impl Streams {
    /// Processes training together (1 without a replica).
    pub fn world_size(&self) -> i64 {
        self.replica.as_ref().map_or(1, |r| r.world_size)
    }

    /// Random values `[batch, *rest]` for this process: the replica's slice of a global
    /// draw, so every replica's stream advances alike and the replicas together use what
    /// one process with the global batch would. Uniform in [0, 1) or standard normal.
    pub fn draw(&mut self, batch: i64, rest: &[i64], uniform: bool) -> Tensor {
        let mut shape = vec![batch * self.world_size()];
        shape.extend(rest);
        let global = if uniform {
            self.rng.uniform_tensor(&shape, self.device)
        } else {
            self.rng.normal_tensor(&shape, self.device)
        };
        self.own_slice(global, batch)
    }

    /// Uniformly random classes `[batch]` among `classes`.
    pub fn draw_classes(&mut self, batch: i64, classes: i64) -> Tensor {
        classes_of(&self.draw(batch, &[], true), classes)
    }

    /// This process's `[batch]` part of a global `[batch * world_size, ...]` tensor.
    pub fn own_slice(&self, global: Tensor, batch: i64) -> Tensor {
        match &self.replica {
            Some(replica) => replica.slice(&global, batch),
            None => global,
        }
    }

    /// Averages a flat gradient across replicas (nothing to do in one process).
    pub fn sync_gradient(&mut self, gradient: &Tensor) -> Result<()> {
        match self.replica.as_mut() {
            Some(replica) => (replica.sync)(gradient),
            None => Ok(()),
        }
    }
}

/// Augmentation draws from the training streams, sliced like every other draw.
impl UniformSource for Streams {
    fn uniform(&mut self, batch: i64, rest: &[i64]) -> Tensor {
        self.draw(batch, rest, true)
    }
}
