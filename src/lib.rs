//! rustgan: GAN training and image editing on libtorch tensors, exposed to Python as
//! `rustgan._rustgan`.

pub mod augment;
pub mod checkpoint;
pub mod config;
pub mod edit;
pub mod error;
pub mod fused_mlp;
pub mod gan;
pub mod losses;
pub mod metrics;
pub mod models;
pub mod optim;
pub mod replica;
pub mod rng;
pub mod train;
pub mod weights;

mod python;
