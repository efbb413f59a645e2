//! A small seedable generator (xoshiro256++) whose whole state is four integers, so that
//! every random stream of a GAN (latents, shuffling, initialisation) is saved in
//! checkpoints and independent of libtorch's global generator.

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rng {
    state: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        // SplitMix64 spreads the seed over the state, as the xoshiro authors recommend.
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng { state: [next(), next(), next(), next()] }
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A child stream, for work that must not disturb this one (seeded sampling).
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }

    /// Standard normal values (Box-Muller).
    pub fn normals(&mut self, n: usize) -> Vec<f32> {
        Vec::<f32>::try_from(self.normal_tensor(&[n as i64], Device::Cpu)).expect("a float vector")
    }

    /// Standard normal values (Box-Muller, from this generator's uniforms). The transform
    /// runs as tensor ops, whose vectorised log and sin/cos are several times faster
    /// than a scalar loop on the latents of every step.
    pub fn normal_tensor(&mut self, shape: &[i64], device: Device) -> Tensor {
        let n = shape.iter().product::<i64>();
        let pairs = (n + 1) / 2;
        // 1 - u lies in (0, 1], so the log is finite; f32 keeps its relative precision.
        let uniforms: Vec<f32> = (0..2 * pairs).map(|_| (1.0 - self.uniform()) as f32).collect();
        let uniforms = Tensor::from_slice(&uniforms).view([2, pairs]);
        let radius = (uniforms.get(0).log() * -2.0).sqrt();
        let angle = uniforms.get(1) * std::f64::consts::TAU;
        let normals = Tensor::stack(&[&radius * angle.cos(), radius * angle.sin()], 1)
            .view([-1])
            .narrow(0, 0, n);
        normals.view(shape).to_device(device)
    }

    pub fn uniform_tensor(&mut self, shape: &[i64], device: Device) -> Tensor {
        let n = shape.iter().product::<i64>() as usize;
        let values: Vec<f32> = (0..n).map(|_| self.uniform() as f32).collect();
        Tensor::from_slice(&values).view(shape).to_device(device)
    }

    /// A random permutation of 0..n (Fisher-Yates) as an int64 tensor.
    pub fn permutation(&mut self, n: usize, device: Device) -> Tensor {
        let mut order: Vec<i64> = (0..n as i64).collect();
        for i in (1..n).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        Tensor::from_slice(&order).to_kind(Kind::Int64).to_device(device)
    }
}

/// Classes among `classes` of uniform values in [0, 1): equally likely.
pub fn classes_of(uniform: &Tensor, classes: i64) -> Tensor {
    (uniform * classes as f64).floor().clamp_max(classes as f64 - 1.0).to_kind(Kind::Int64)
}

/// A source of uniform random values `[batch, *rest]` in [0, 1), one draw per item.
pub trait UniformSource {
    fn uniform(&mut self, batch: i64, rest: &[i64]) -> Tensor;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.normals(5), b.normals(5));
        assert_ne!(Rng::new(8).normals(5), Rng::new(7).normals(5));
    }

    #[test]
    fn normals_have_unit_moments() {
        let xs = Rng::new(1).normals(100_000);
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
    }
}
