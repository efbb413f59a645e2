//! Typed statistics of training steps, and their running means between log records.

/// A statistic a step reports. Names are path-like, as the Python side shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    /// D's whole loss, penalties included.
    D,
    DReal,
    DFake,
    /// WGAN-GP's gradient penalty (before its weight).
    GradientPenalty,
    /// The R1 penalty (before its weight), on the steps that apply it.
    R1,
    /// The R2 penalty on generated items (before its weight), on the same steps.
    R2,
    G,
    /// A translator's mean absolute error between its outputs and the targets.
    L1,
    /// CycleGAN's cycle-consistency L1, both ways.
    Cycle,
    /// CycleGAN's identity L1, both ways.
    Identity,
    /// Adaptive augmentation's probability, as the step applied it.
    AugmentP,
    /// E[sign(D(real))], which adaptive augmentation holds at its target.
    RealSign,
    /// 1 when the step's update was dropped for a non-finite loss.
    Skipped,
}

impl Stat {
    pub const ALL: [Stat; 13] = [
        Stat::D,
        Stat::DReal,
        Stat::DFake,
        Stat::GradientPenalty,
        Stat::R1,
        Stat::R2,
        Stat::G,
        Stat::L1,
        Stat::Cycle,
        Stat::Identity,
        Stat::AugmentP,
        Stat::RealSign,
        Stat::Skipped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stat::D => "loss/d",
            Stat::DReal => "loss/d/real",
            Stat::DFake => "loss/d/fake",
            Stat::GradientPenalty => "loss/d/gp",
            Stat::R1 => "loss/d/r1",
            Stat::R2 => "loss/d/r2",
            Stat::G => "loss/g",
            Stat::L1 => "loss/g/l1",
            Stat::Cycle => "loss/g/cycle",
            Stat::Identity => "loss/g/identity",
            Stat::AugmentP => "augment/p",
            Stat::RealSign => "augment/real_sign",
            Stat::Skipped => "nan/skipped",
        }
    }
}

/// D's losses of one critic iteration.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiscriminatorStats {
    pub total: f64,
    pub real: f64,
    pub fake: f64,
    pub gradient_penalty: Option<f64>,
    pub r1: Option<f64>,
    pub r2: Option<f64>,
    /// With adaptive augmentation, what it applied and saw.
    pub augment: Option<AugmentStats>,
}

/// Adaptive augmentation in one critic iteration.
#[derive(Clone, Copy, Debug, Default)]
pub struct AugmentStats {
    /// The probability D's inputs were augmented with.
    pub p: f64,
    /// E[sign(D(real))] over the (global) batch of `items` real items.
    pub real_sign: f64,
    pub items: f64,
}

impl DiscriminatorStats {
    /// The values the finite check looks at.
    pub fn values(&self) -> Vec<f64> {
        let penalties = [self.gradient_penalty, self.r1, self.r2];
        [Some(self.total), Some(self.real), Some(self.fake)]
            .into_iter()
            .chain(penalties)
            .flatten()
            .collect()
    }
}

/// G's losses of one step: the adversarial loss and the model's other terms (a
/// translator's L1 distance to its targets).
#[derive(Clone, Debug)]
pub struct GeneratorStats {
    pub adversarial: f64,
    pub terms: Vec<(Stat, f64)>,
}

impl GeneratorStats {
    pub fn adversarial(value: f64) -> Self {
        GeneratorStats { adversarial: value, terms: vec![] }
    }

    /// What a step reports for G when D's update was dropped.
    pub fn skipped() -> Self {
        GeneratorStats::adversarial(f64::NAN)
    }

    /// The values the finite check looks at.
    pub fn values(&self) -> Vec<f64> {
        std::iter::once(self.adversarial).chain(self.terms.iter().map(|(_, v)| *v)).collect()
    }
}

/// What one training step reports: D's losses of its last critic iteration, G's losses
/// (NaN when D's step was skipped), and whether the update was dropped.
#[derive(Clone, Debug)]
pub struct StepStats {
    pub discriminator: DiscriminatorStats,
    pub generator: GeneratorStats,
    pub skipped: bool,
}

impl StepStats {
    /// The reported statistics, in a fixed order; penalties only where the step took them.
    pub fn entries(&self) -> Vec<(Stat, f64)> {
        let d = &self.discriminator;
        let mut entries = vec![(Stat::D, d.total), (Stat::DReal, d.real), (Stat::DFake, d.fake)];
        entries.extend(d.gradient_penalty.map(|v| (Stat::GradientPenalty, v)));
        entries.extend(d.r1.map(|v| (Stat::R1, v)));
        entries.extend(d.r2.map(|v| (Stat::R2, v)));
        if let Some(augment) = d.augment {
            entries.extend([(Stat::AugmentP, augment.p), (Stat::RealSign, augment.real_sign)]);
        }
        entries.push((Stat::G, self.generator.adversarial));
        entries.extend(self.generator.terms.iter().copied());
        entries.push((Stat::Skipped, if self.skipped { 1.0 } else { 0.0 }));
        entries
    }
}

/// A log record: the step it was taken at and the mean of each statistic since the last.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub step: i64,
    pub means: Vec<(Stat, f64)>,
}

#[derive(Clone, Copy, Default)]
struct Mean {
    sum: f64,
    count: f64,
    seen: bool,
}

/// Running means of the statistics between two log records. Skipped steps are counted,
/// not averaged; statistics taken only on some steps (lazy R1) average over those steps.
/// Kept across `fit` calls so that chunked training logs like one call.
#[derive(Default)]
pub struct Window {
    means: [Mean; Stat::ALL.len()],
    skipped: f64,
}

impl Window {
    pub fn add(&mut self, stats: &StepStats) {
        self.skipped += if stats.skipped { 1.0 } else { 0.0 };
        for (stat, value) in stats.entries() {
            let mean = &mut self.means[stat as usize];
            mean.seen = true;
            if !stats.skipped {
                mean.sum += value;
                mean.count += 1.0;
            }
        }
    }

    /// Whether no step was added since the last record.
    pub fn is_empty(&self) -> bool {
        !self.means[Stat::Skipped as usize].seen
    }

    /// The record at `step`; starts a new window.
    pub fn take(&mut self, step: i64) -> Record {
        let means = Stat::ALL
            .into_iter()
            .filter(|stat| self.means[*stat as usize].seen)
            .map(|stat| {
                let Mean { sum, count, .. } = self.means[stat as usize];
                // NaN when every step of the window was skipped.
                (stat, if stat == Stat::Skipped { self.skipped } else { sum / count })
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
        let discriminator =
            DiscriminatorStats { total: d, real: d, fake: 0.0, r1, ..Default::default() };
        StepStats { discriminator, generator: GeneratorStats::adversarial(1.0), skipped }
    }

    #[test]
    fn window_averages_applied_steps_and_counts_skipped_ones() {
        let mut window = Window::default();
        window.add(&step(1.0, Some(4.0), false));
        window.add(&step(3.0, None, false));
        window.add(&step(f64::NAN, None, true));
        let record = window.take(3);
        assert_eq!(record.step, 3);
        let value = |stat| record.means.iter().find(|(s, _)| *s == stat).map(|(_, v)| *v);
        assert_eq!(value(Stat::D), Some(2.0));
        assert_eq!(value(Stat::R1), Some(4.0), "lazy R1 averages over the steps that took it");
        assert_eq!(value(Stat::GradientPenalty), None);
        assert_eq!(value(Stat::Skipped), Some(1.0));
        assert!(window.take(4).means.is_empty(), "taking a record starts a new window");
    }
}
