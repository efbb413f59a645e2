//! Convolution and linear layers computed in the GAN's precision. With bf16 they follow
//! autocast: inputs and weights are cast to bf16 for the convolution or matmul, while the
//! fp32 weights stay the master copy that Adam updates.

use tch::nn::{self, ModuleT};
use tch::{Kind, Tensor};

use super::spectral_norm::NormalisedWeight;

/// A layer's weight: trained as is, or spectrally normalised on every forward pass.
#[derive(Debug)]
pub enum Weight {
    Plain(Tensor),
    Normalised(NormalisedWeight),
}

impl Weight {
    /// `weight` of the layer whose variables live under `p`.
    pub fn new(p: &nn::Path, weight: Tensor, spectral_norm: bool) -> Self {
        if spectral_norm {
            Weight::Normalised(NormalisedWeight::new(p, weight))
        } else {
            Weight::Plain(weight)
        }
    }

    fn get(&self, train: bool) -> Tensor {
        match self {
            Weight::Plain(weight) => weight.shallow_clone(),
            Weight::Normalised(weight) => weight.get(train),
        }
    }
}

fn cast(tensor: &Tensor, kind: Kind) -> Tensor {
    if tensor.kind() == kind {
        tensor.shallow_clone()
    } else {
        tensor.to_kind(kind)
    }
}

/// A 2D convolution, or a transposed one, with square kernels.
#[derive(Debug)]
pub struct Conv {
    weight: Weight,
    bias: Option<Tensor>,
    stride: i64,
    padding: i64,
    transposed: bool,
    /// Extra rows and columns of a transposed convolution's output, for odd sizes.
    output_padding: [i64; 2],
    compute: Kind,
}

impl Conv {
    pub fn new(
        weight: Weight,
        bias: Option<Tensor>,
        stride: i64,
        padding: i64,
        compute: Kind,
    ) -> Self {
        Conv { weight, bias, stride, padding, transposed: false, output_padding: [0; 2], compute }
    }

    pub fn transposed(
        weight: Tensor,
        bias: Option<Tensor>,
        stride: i64,
        padding: i64,
        compute: Kind,
    ) -> Self {
        let output_padding = [0; 2];
        Conv {
            weight: Weight::Plain(weight),
            bias,
            stride,
            padding,
            transposed: true,
            output_padding,
            compute,
        }
    }

    /// The transposed convolution with `extra` more output rows and columns.
    pub fn with_output_padding(self, extra: [i64; 2]) -> Self {
        Conv { output_padding: extra, ..self }
    }
}

impl ModuleT for Conv {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let (xs, weight) = (cast(xs, self.compute), cast(&self.weight.get(train), self.compute));
        let bias = self.bias.as_ref().map(|b| cast(b, self.compute));
        let (stride, padding) = ([self.stride; 2], [self.padding; 2]);
        if self.transposed {
            let extra = self.output_padding;
            xs.conv_transpose2d(&weight, bias.as_ref(), stride, padding, extra, 1, [1; 2])
        } else {
            xs.conv2d(&weight, bias.as_ref(), stride, padding, [1; 2], 1)
        }
    }
}

#[derive(Debug)]
pub struct Linear {
    weight: Weight,
    bias: Option<Tensor>,
    compute: Kind,
}

impl Linear {
    pub fn new(weight: Weight, bias: Option<Tensor>, compute: Kind) -> Self {
        Linear { weight, bias, compute }
    }
}

impl ModuleT for Linear {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let weight = cast(&self.weight.get(train), self.compute);
        let bias = self.bias.as_ref().map(|b| cast(b, self.compute));
        cast(xs, self.compute).linear(&weight, bias.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    /// bf16 convolutions stay close to fp32 ones and give fp32 weight gradients.
    #[test]
    fn bf16_convolution_is_close_and_trains_fp32_weights() {
        let vs = nn::VarStore::new(Device::Cpu);
        let conv = nn::conv2d(vs.root() / "0", 3, 8, 4, Default::default());
        let xs = Tensor::randn([2, 3, 8, 8], (Kind::Float, Device::Cpu));
        let full = Conv::new(
            Weight::Plain(conv.ws.shallow_clone()),
            conv.bs.as_ref().map(|b| b.shallow_clone()),
            2,
            1,
            Kind::Float,
        );
        let half = Conv::new(
            Weight::Plain(conv.ws.shallow_clone()),
            conv.bs.as_ref().map(|b| b.shallow_clone()),
            2,
            1,
            Kind::BFloat16,
        );
        let (exact, lowered) = (full.forward_t(&xs, true), half.forward_t(&xs, true));
        assert_eq!(lowered.kind(), Kind::BFloat16);
        let error = (lowered.to_kind(Kind::Float) - &exact).abs().max().double_value(&[]);
        let scale = exact.abs().max().double_value(&[]);
        assert!(
            error > 0.0 && error < 0.02 * scale,
            "bf16 error {error} against values up to {scale}"
        );
        let grads = Tensor::run_backward(
            &[lowered.to_kind(Kind::Float).sum(Kind::Float)],
            &[&conv.ws],
            false,
            false,
        );
        assert_eq!(grads[0].kind(), Kind::Float);
    }
}
