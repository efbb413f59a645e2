//! Posterior inpainting: samples of the latents given the known pixels, p(z | y) ∝
//! N(z; 0, I) · N(y_known; G(z)_known, σ²), and the completions they render. Chains start
//! from the prior draws that best fit each image and move by Langevin dynamics (Welling &
//! Teh 2011); the posterior mean of the completions is the estimate with the least
//! expected squared error, and their spread says where it is unsure.

use tch::{Kind, Tensor};

use super::directions::style_coordinates;
use super::{check_mask, masked_mse};
use crate::error::{invalid, Result};
use crate::gan::Gan;
use crate::rng::Rng;

/// Settings of `inpaint`. Defaults follow the Python signature.
pub struct PosteriorOptions {
    /// Chains per image; each gives one sample.
    pub samples: i64,
    /// Langevin steps per chain.
    pub steps: i64,
    /// Langevin step size ε: z += ε ∇ log p(z | y) + sqrt(2ε) ξ.
    pub step_size: f64,
    /// Standard deviation σ of the pixel likelihood; `None` estimates it from the fits.
    pub noise: Option<f64>,
    /// Prior draws per image that the chains start from (its best-fitting `samples`).
    pub candidates: i64,
    pub seed: u64,
}

pub struct Posterior {
    /// Mean of the sampled completions `[N, *data_shape]` (generated everywhere).
    pub mean: Tensor,
    /// The samples' completions `[samples, N, *data_shape]`.
    pub samples: Tensor,
    /// Per-pixel standard deviation of the samples `[N, *data_shape]`.
    pub std: Tensor,
    /// The likelihood's σ, as given or estimated.
    pub noise: f64,
}

/// Samples completions of `targets` `[N, *data_shape]` where `mask` (1 = known) is 0.
pub fn inpaint(
    gan: &Gan,
    targets: &Tensor,
    labels: Option<&Tensor>,
    mask: &Tensor,
    options: &PosteriorOptions,
) -> Result<Posterior> {
    check_options(options)?;
    let targets = gan.check_batch(targets, "images")?;
    let n = targets.size()[0];
    let labels = gan.check_labels(labels, n, "labels")?;
    let mask = check_mask(mask, &targets)?;
    let known = mask.flatten(1, -1).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
    let mut rng = Rng::new(options.seed);
    let starts = best_candidates(gan, &targets, labels.as_ref(), &mask, options, &mut rng)?;
    let (s, width) = (options.samples, gan.latent_width());
    let noise = match options.noise {
        Some(noise) => noise,
        // The fit the best starts reach: the GAN's error on known pixels, its own noise.
        None => starts.fit.mean(Kind::Float).double_value(&[]).sqrt(),
    };
    let repeat = |t: &Tensor| {
        let mut times = vec![s];
        times.extend(std::iter::repeat_n(1, t.dim() - 1));
        t.repeat(times.as_slice()) // [S * N, ...], sample-major
    };
    let (targets_s, mask_s, known_s) = (repeat(&targets), repeat(&mask), repeat(&known));
    let labels_s = labels.as_ref().map(repeat);
    let generator = gan.sampling_generator(true);
    let mut z = starts.latents.detach(); // [S * N, D]
    let epsilon = options.step_size;
    // A self-conditioned GAN's cluster is the chain's start's: chains move z alone.
    let code = Tensor::zeros([width - gan.config().latent_dim], (Kind::Double, tch::Device::Cpu));
    let moving = Tensor::cat(&[style_coordinates(gan), code], 0);
    let moving = moving.to_kind(Kind::Float).to_device(gan.device());
    for _ in 0..options.steps {
        let leaf = z.set_requires_grad(true);
        let generated = gan.render(generator, &leaf, labels_s.as_ref(), false);
        let squared_error = masked_mse(&generated, &targets_s, &mask_s) * &known_s;
        let log_posterior = -(gan.style_part(&leaf).square().sum(Kind::Float) * 0.5)
            - squared_error.sum(Kind::Float) / (2.0 * noise * noise);
        let gradient = Tensor::f_run_backward(&[log_posterior], &[&leaf], false, false)?.remove(0);
        let kick = rng.normal_tensor(&[s * n, width], gan.device()) * (2.0 * epsilon).sqrt();
        z = tch::no_grad(|| leaf.detach() + (gradient * epsilon + kick) * &moving);
    }
    tch::no_grad(|| {
        let mut shape = vec![s, n];
        shape.extend(&gan.config().data_shape);
        let samples = gan.render(generator, &z, labels_s.as_ref(), false).view(shape.as_slice());
        let mean = samples.mean_dim([0i64].as_slice(), false, Kind::Float);
        let std = samples.std_correction([0i64].as_slice(), 0, false);
        Ok(Posterior { mean, samples, std, noise })
    })
}

fn check_options(options: &PosteriorOptions) -> Result<()> {
    if options.samples < 1 {
        return invalid(format!("samples must be at least 1, got {}", options.samples));
    }
    if options.steps < 0 {
        return invalid(format!("steps must be 0 or more, got {}", options.steps));
    }
    if options.candidates < options.samples {
        return invalid(format!(
            "candidates ({}) must be at least samples ({})",
            options.candidates, options.samples
        ));
    }
    if !(options.step_size.is_finite() && options.step_size > 0.0) {
        return invalid(format!("step_size must be a positive number, got {}", options.step_size));
    }
    if let Some(noise) = options.noise {
        if !(noise.is_finite() && noise > 0.0) {
            return invalid(format!("noise must be a positive number or None, got {noise}"));
        }
    }
    Ok(())
}

struct Starts {
    /// `[S * N, D]`, sample-major.
    latents: Tensor,
    /// Masked per-pixel MSE of each image's best candidate `[N]`.
    fit: Tensor,
}

/// Candidates rendered at once: bounds the memory of many draws of large images.
const CHUNK: i64 = 1024;

/// Per image, the `samples` of `candidates` prior draws whose generations best fit its
/// known pixels. An unconditional GAN renders one set of draws for all images; a
/// conditional one, a set per image in its class.
fn best_candidates(
    gan: &Gan,
    targets: &Tensor,
    labels: Option<&Tensor>,
    mask: &Tensor,
    options: &PosteriorOptions,
    rng: &mut Rng,
) -> Result<Starts> {
    let n = targets.size()[0];
    let (m, s) = (options.candidates, options.samples);
    let width = gan.latent_width();
    let (targets, mask) = (targets.flatten(1, -1), mask.flatten(1, -1));
    // The best `samples` of draws `z` `[M, D]` by `errors` `[n, M]`: `[n, S, D]` and `[n]`.
    let choose = |z: &Tensor, errors: Tensor| {
        let (best, order) = errors.topk(s, 1, false, true);
        let chosen = z.index_select(0, &order.flatten(0, -1)).view([-1, s, width]);
        (chosen, best.select(1, 0))
    };
    let (chosen, fit) = match labels {
        None => {
            let z = gan.draw_latents(rng, m);
            choose(&z, fit_errors(gan, &z, None, &targets, &mask)?)
        }
        Some(labels) => {
            let (mut chosen, mut fits) = (vec![], vec![]);
            for i in 0..n {
                let z = gan.draw_latents(rng, m);
                let class = labels.get(i).expand([m], false);
                let one = |t: &Tensor| t.get(i).unsqueeze(0);
                let errors = fit_errors(gan, &z, Some(&class), &one(&targets), &one(&mask))?;
                let (best_z, best) = choose(&z, errors);
                chosen.push(best_z);
                fits.push(best);
            }
            (Tensor::cat(&chosen, 0), Tensor::cat(&fits, 0))
        }
    };
    // Sample-major rows: row r holds image r % N.
    let latents = chosen.transpose(0, 1).reshape([s * n, width]);
    Ok(Starts { latents, fit })
}

/// Masked per-pixel MSE `[N, M]` of the generations of latents `z` `[M, D]` against
/// flattened targets and masks `[N, P]`, rendered a chunk at a time.
fn fit_errors(
    gan: &Gan,
    z: &Tensor,
    labels: Option<&Tensor>,
    targets: &Tensor,
    mask: &Tensor,
) -> Result<Tensor> {
    let known = mask.sum_dim_intlist([1i64].as_slice(), false, Kind::Float).unsqueeze(1);
    let masked_targets = mask * targets;
    let own = (&masked_targets * targets).sum_dim_intlist([1i64].as_slice(), true, Kind::Float);
    let label_chunks = labels.map(|l| l.split(CHUNK, 0));
    let mut chunks = vec![];
    for (i, chunk) in z.split(CHUNK, 0).iter().enumerate() {
        let chunk_labels = label_chunks.as_ref().map(|l| &l[i]);
        let images = gan.generate(chunk, chunk_labels, true)?.flatten(1, -1); // [C, P]
                                                                              // sum over known pixels of (g - t)^2 = g^2·m - 2 g·(m t) + t^2·m
        let squared = mask.matmul(&images.square().tr());
        let cross = masked_targets.matmul(&images.tr());
        chunks.push((squared - cross * 2.0 + &own) / &known);
    }
    Ok(Tensor::cat(&chunks, 1))
}
