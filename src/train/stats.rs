//! Named statistics of training steps, and their running means between log records. A
//! step path reports what it computes under path-like names ("loss/d/real"), as the
//! Python side shows them; nothing here knows which names a model uses.

use tch::Tensor;

use crate::error::Result;

/// Whether a step's update was dropped for a non-finite loss: 1 or 0 per step, and the
/// number of such steps in a log record.
pub const SKIPPED: &str = "nan/skipped";

/// The named values one pass of a training step reports, in the order it reports them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Logged, and checked for finite values before an update.
    logged: Vec<(&'static str, f64)>,
    /// What the model's hooks read besides (`Trainable::discriminators_updated`).
    notes: Vec<(&'static str, f64)>,
}

impl Stats {
    /// Reports each scalar tensor under its name, copied from the device at once.
    pub fn of(named: Vec<(&'static str, Tensor)>) -> Result<Self> {
        let (names, tensors): (Vec<_>, Vec<_>) = named.into_iter().unzip();
        let values = super::scalars(&tensors)?;
        Ok(Stats { logged: names.into_iter().zip(values).collect(), notes: vec![] })
    }

    /// Reports `value` as `name`.
    pub fn push(&mut self, name: &'static str, value: f64) {
        self.logged.push((name, value));
    }

    /// Hands `value` to the model's hooks as `name`, without logging it.
    pub fn note(&mut self, name: &'static str, value: f64) {
        self.notes.push((name, value));
    }

    /// The value reported or noted as `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        (self.logged.iter().chain(&self.notes)).find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The reported values, which the finite check looks at.
    pub fn values(&self) -> Vec<f64> {
        self.logged.iter().map(|(_, v)| *v).collect()
    }

    pub fn entries(&self) -> &[(&'static str, f64)] {
        &self.logged
    }
}

/// What one training step reports: the discriminators' statistics of the last critic
/// iteration, the generators' (none when that iteration was dropped), and whether the
/// update was dropped.
#[derive(Clone, Debug)]
pub struct StepStats {
    pub discriminator: Stats,
    pub generator: Stats,
    pub skipped: bool,
}

impl StepStats {
    /// The reported statistics in order: the discriminators', the generators', `SKIPPED`.
    pub fn entries(&self) -> Vec<(&'static str, f64)> {
        let mut entries = self.discriminator.entries().to_vec();
        entries.extend_from_slice(self.generator.entries());
        entries.push((SKIPPED, if self.skipped { 1.0 } else { 0.0 }));
        entries
    }
}

/// A log record: the step it was taken at and the mean of each statistic since the last.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub step: i64,
    pub means: Vec<(&'static str, f64)>,
}

#[derive(Clone, Copy, Default)]
struct Mean {
    sum: f64,
    count: f64,
}

/// Running means of the statistics between two log records. Skipped steps are counted,
/// not averaged; statistics taken only on some steps (lazy R1) average over those steps
/// and keep their place among the others. Kept across `fit` calls so that chunked
/// training logs like one call.
#[derive(Default)]
pub struct Window {
    means: Vec<(&'static str, Mean)>,
    steps: usize,
    skipped: f64,
}

impl Window {
    pub fn add(&mut self, stats: &StepStats) {
        self.steps += 1;
        self.skipped += if stats.skipped { 1.0 } else { 0.0 };
        // A name not seen yet goes after the one the step reported before it.
        let mut place = 0;
        for (name, value) in stats.entries() {
            let index = match self.means.iter().position(|(n, _)| *n == name) {
                Some(index) => index,
                None => {
                    self.means.insert(place, (name, Mean::default()));
                    place
                }
            };
            place = index + 1;
            if !stats.skipped {
                let mean = &mut self.means[index].1;
                mean.sum += value;
                mean.count += 1.0;
            }
        }
    }

    /// Whether no step was added since the last record.
    pub fn is_empty(&self) -> bool {
        self.steps == 0
    }

    /// The record at `step`; starts a new window.
    pub fn take(&mut self, step: i64) -> Record {
        let means = (self.means.iter())
            .map(|&(name, Mean { sum, count })| {
                // NaN when every step of the window was skipped.
                (name, if name == SKIPPED { self.skipped } else { sum / count })
            })
            .collect();
        *self = Window::default();
        Record { step, means }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(d: f64, r1: Option<f64>, skipped: bool) -> StepStats {
        let mut discriminator = Stats::default();
        discriminator.push("loss/d", d);
        if let Some(r1) = r1 {
            discriminator.push("loss/d/r1", r1);
        }
        discriminator.push("augment/p", 0.5);
        let mut generator = Stats::default();
        generator.push("loss/g", 1.0);
        StepStats { discriminator, generator, skipped }
    }

    #[test]
    fn window_averages_applied_steps_and_counts_skipped_ones() {
        let mut window = Window::default();
        window.add(&step(1.0, None, false));
        window.add(&step(3.0, Some(4.0), false));
        window.add(&step(f64::NAN, None, true));
        let record = window.take(3);
        assert_eq!(record.step, 3);
        let names: Vec<&str> = record.means.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["loss/d", "loss/d/r1", "augment/p", "loss/g", SKIPPED]);
        let value = |name| record.means.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        assert_eq!(value("loss/d"), Some(2.0));
        assert_eq!(value("loss/d/r1"), Some(4.0), "lazy R1 averages over the steps that took it");
        assert_eq!(value(SKIPPED), Some(1.0));
        assert!(window.is_empty() && window.take(4).means.is_empty(), "a record starts anew");
    }

    #[test]
    fn notes_reach_hooks_but_not_the_log() {
        let mut stats = Stats::default();
        stats.push("loss/d", 0.5);
        stats.note("augment/items", 64.0);
        assert_eq!((stats.get("loss/d"), stats.get("augment/items")), (Some(0.5), Some(64.0)));
        assert_eq!(stats.values(), [0.5]);
    }
}
