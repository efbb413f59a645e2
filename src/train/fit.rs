//! What a `fit` call is asked and what it hands back: its options, the NaN policy, and
//! the history of log records.

use super::stats::{Record, StepStats, Window};
use crate::error::{invalid, Error, Result};

crate::option_table::named_choices! {
    /// What to do when a loss is NaN or infinite. Either way the bad update is not applied.
    pub enum NanPolicy ("on_nan") {
        Raise = "raise",
        Skip = "skip",
    }
}

impl NanPolicy {
    /// Whether step number `step` may apply its update: `Ok(true)` when the `values` of
    /// `what` are all finite, `Ok(false)` when they are not and the policy skips, else the
    /// error naming them.
    pub fn check(self, step: i64, what: &str, values: &[f64]) -> Result<bool> {
        if values.iter().all(|v| v.is_finite()) {
            return Ok(true);
        }
        match self {
            NanPolicy::Skip => Ok(false),
            NanPolicy::Raise => Err(Error::NonFinite {
                step,
                detail: format!(
                    "{what} = {values:?}; the update was not applied. Lower the learning rates, \
                     add a regulariser, or pass on_nan='skip'"
                ),
            }),
        }
    }
}

pub struct FitOptions {
    pub steps: i64,
    pub batch_size: i64,
    pub log_every: i64,
    pub on_nan: NanPolicy,
}

impl FitOptions {
    /// Checks the options for training on `n` items in `world_size` processes, with batch
    /// sizes that must be multiples of `multiple` (PacGAN's packing).
    pub fn check(&self, n: i64, world_size: i64, multiple: i64) -> Result<()> {
        if self.steps < 0 {
            return invalid(format!("steps must be at least 0, got {}", self.steps));
        }
        if self.batch_size < 1 {
            return invalid(format!("batch_size must be at least 1, got {}", self.batch_size));
        }
        if self.batch_size > n {
            return invalid(format!(
                "batch_size {} is larger than the data ({n} items)",
                self.batch_size
            ));
        }
        if self.batch_size % multiple != 0 {
            return invalid(format!(
                "batch_size {} must be a multiple of pac={multiple}",
                self.batch_size
            ));
        }
        if self.log_every < 1 {
            return invalid(format!("log_every must be at least 1, got {}", self.log_every));
        }
        let global_batch = self.batch_size * world_size;
        if global_batch > n {
            return invalid(format!(
                "batch_size x processes = {global_batch} exceeds the data ({n} items)"
            ));
        }
        Ok(())
    }
}

/// The history of a `fit` call, and its calls of the monitor.
pub(crate) struct FitLog {
    log_every: i64,
    history: Vec<Record>,
}

impl FitLog {
    pub fn new(log_every: i64) -> Self {
        FitLog { log_every, history: vec![] }
    }

    /// Logs the `stats` of the step that made `step` steps in all and `done` in this call:
    /// a record when `step` is a multiple of `log_every`, then `monitor(done, record)`.
    /// `Ok(true)` when the monitor asks to stop.
    pub fn stop_after(
        &mut self,
        stats: &StepStats,
        window: &mut Window,
        step: i64,
        done: i64,
        monitor: &mut impl FnMut(i64, Option<&Record>) -> Result<()>,
    ) -> Result<bool> {
        window.add(stats);
        let record = (step % self.log_every == 0).then(|| window.take(step));
        if let Some(record) = &record {
            self.history.push(record.clone());
        }
        match monitor(done, record.as_ref()) {
            Ok(()) => Ok(false),
            Err(Error::Interrupted) => Ok(true),
            Err(e) => Err(e),
        }
    }

    pub fn outcome(self, interrupted: bool) -> FitOutcome {
        FitOutcome { history: self.history, interrupted }
    }
}

pub struct FitOutcome {
    /// One record per `log_every` steps.
    pub history: Vec<Record>,
    pub interrupted: bool,
}
