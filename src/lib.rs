//! rustgan: GAN training and image editing on libtorch tensors, exposed to Python as
//! `rustgan._rustgan` (with the `python` feature, which maturin enables).
//!
//! Layers, each using only those above it: `config`, `rng`, `error`, `calibration`,
//! `adaptive_augment` → `models` → `network`, `optim` → `options` → `gan` (the model) →
//! `augment`, `losses` → `train` (the trainer) → `checkpoint`, `edit`, `guide`, `metrics`,
//! `translate` (pix2pix) → `cycle` (CycleGAN, on pix2pix's networks) → `python` (the
//! bindings).

// On tensors `x += y` is in place, which autograd forbids on some graphs; `x = x + y` is
// not an assignment operator in disguise.
#![allow(clippy::assign_op_pattern)]

pub mod augment;
pub mod batch;
pub mod calibration;
pub mod checkpoint;
pub mod config;
pub mod cycle;
pub mod edit;
pub mod error;
pub mod flat_params;
pub mod gan;
pub mod guide;
pub mod losses;
pub mod metrics;
pub mod models;
pub mod network;
pub mod optim;
pub mod option_table;
pub mod options;
pub mod replica;
pub mod rng;
pub mod shared_options;
pub mod train;
pub mod translate;
pub mod weights;

#[cfg(feature = "python")]
mod python;
