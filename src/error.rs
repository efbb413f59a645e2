//! The one error type of the crate; `python/errors.rs` maps each variant to a Python exception.

use thiserror::Error as ThisError;

#[derive(Debug, ThisError)]
pub enum Error {
    /// A bad argument from the caller: wrong shape, unknown option, out-of-range value.
    #[error("{0}")]
    InvalidArgument(String),
    /// An argument of the wrong type: a float where an int belongs, a string for a flag.
    #[error("{0}")]
    ArgumentType(String),
    /// A loss became NaN or infinite; the update of that step was not applied.
    #[error("non-finite loss at step {step}: {detail}")]
    NonFinite { step: i64, detail: String },
    /// A checkpoint that is missing, unreadable or does not match the model.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint { path: String, reason: String },
    /// Another training process failed or could not be reached.
    #[error("distributed training: {0}")]
    Distributed(String),
    /// The caller asked to stop (Ctrl-C).
    #[error("interrupted")]
    Interrupted,
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A Rust panic caught at the binding boundary: a bug, reported instead of aborting.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Asked between the pieces of long work (clustering before training, say), so that a
/// caller can stop it: `Err(Error::Interrupted)` ends the work with that error.
pub type Poll<'a> = &'a mut dyn FnMut() -> Result<()>;

/// Shorthand for `Err(Error::InvalidArgument(..))`.
pub fn invalid<T>(message: impl Into<String>) -> Result<T> {
    Err(Error::InvalidArgument(message.into()))
}

/// The error for a name `given` for `what` that is none of `names`.
pub fn unknown<T>(what: &str, given: &str, names: &[&str]) -> Result<T> {
    let listed: Vec<String> = names.iter().map(|name| format!("'{name}'")).collect();
    invalid(format!("unknown {what} '{given}': choose one of {}", listed.join(", ")))
}
