//! The history of translations a CycleGAN discriminator learns from (Shrivastava et al.
//! 2017): once full, each new translation is, by a coin flip, either passed on or kept in
//! place of a random old one, which is passed on instead. D then sees the generator's
//! recent past, not only its latest state, which damps oscillation.

use tch::{Kind, Tensor};

use crate::error::Result;
use crate::rng::UniformSource;

pub struct ImagePool {
    capacity: i64,
    /// `[kept, C, H, W]`, `kept <= capacity`; empty until the first batch.
    images: Option<Tensor>,
}

impl ImagePool {
    pub fn new(capacity: i64) -> Self {
        ImagePool { capacity, images: None }
    }

    pub fn kept(&self) -> i64 {
        self.images.as_ref().map_or(0, |images| images.size()[0])
    }

    /// The translations D learns from instead of `batch` (detached); draws two uniform
    /// values per item from `draws`, whether the pool is full or not, so the streams stay
    /// in step across resumes.
    pub fn query(&mut self, batch: &Tensor, draws: &mut dyn UniformSource) -> Result<Tensor> {
        let batch = batch.detach();
        let n = batch.size()[0];
        let uniforms =
            Vec::<f64>::try_from(draws.uniform(n, &[2]).reshape([-1]).to_kind(Kind::Double))?;
        if self.capacity == 0 {
            return Ok(batch);
        }
        let mut out = Vec::with_capacity(n as usize);
        for (i, item) in batch.split(1, 0).into_iter().enumerate() {
            let (coin, pick) = (uniforms[2 * i], uniforms[2 * i + 1]);
            let kept = self.kept();
            if kept < self.capacity {
                self.images = Some(match &self.images {
                    Some(images) => Tensor::f_cat(&[images, &item], 0)?,
                    None => item.copy(),
                });
                out.push(item);
            } else if coin < 0.5 {
                let slot = ((pick * kept as f64) as i64).min(kept - 1);
                let images = self.images.as_mut().expect("a full pool holds images");
                let mut place = images.narrow(0, slot, 1);
                out.push(place.copy());
                place.copy_(&item);
            } else {
                out.push(item);
            }
        }
        Ok(Tensor::f_cat(&out, 0)?)
    }

    /// What a checkpoint stores: the kept images, if any.
    pub fn images(&self) -> Option<&Tensor> {
        self.images.as_ref()
    }

    /// Restores what `images` gave.
    pub fn restore(&mut self, images: Tensor) {
        self.images = (images.size()[0] > 0).then_some(images);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use tch::Device;

    struct Draws(Rng);

    impl UniformSource for Draws {
        fn uniform(&mut self, batch: i64, rest: &[i64]) -> Tensor {
            let mut shape = vec![batch];
            shape.extend(rest);
            self.0.uniform_tensor(&shape, Device::Cpu)
        }
    }

    /// The pool fills, then passes on about half new and half old translations, and never
    /// holds more than its capacity.
    #[test]
    fn the_pool_fills_then_mixes_old_and_new() {
        let mut pool = ImagePool::new(8);
        let mut draws = Draws(Rng::new(3));
        let first = Tensor::arange(6, (Kind::Float, Device::Cpu)).view([6, 1, 1, 1]);
        assert!(pool.query(&first, &mut draws).unwrap().equal(&first), "filling passes on");
        let mut old = 0;
        for round in 0..50 {
            let batch =
                Tensor::full([6, 1, 1, 1], 100.0 + round as f64, (Kind::Float, Device::Cpu));
            let out = pool.query(&batch, &mut draws).unwrap();
            assert_eq!(out.size(), [6, 1, 1, 1]);
            old += out.ne(100.0 + round as f64).sum(Kind::Int64).int64_value(&[]);
            assert_eq!(pool.kept(), 8);
        }
        assert!((75..=225).contains(&old), "{old} of 300 came from the pool");
        let mut empty = ImagePool::new(0);
        assert!(empty.query(&first, &mut draws).unwrap().equal(&first) && empty.kept() == 0);
    }
}
