//! The options every model shares: the loss, the networks' width, learning rates, betas
//! and their schedule, the EMA, precision and seed. Their kinds, ranges, ceilings and
//! docs are written here once; `option_table!` holds their fields and defaults, and each
//! model's table includes them all with `shared (losses ...) { ... }`, giving its own
//! defaults where they differ.

use tch::Kind as TensorKind;

use crate::option_table::{named_choices, Bounds, Kind};

named_choices! {
    pub enum LossKind ("loss") {
        /// Non-saturating loss of Goodfellow et al. 2014, as binary cross-entropy on logits.
        Bce = "bce",
        /// Least squares GAN (Mao et al. 2017) with targets 1 (real) and 0 (fake).
        Lsgan = "lsgan",
        /// Hinge loss (Lim & Ye 2017, Miyato et al. 2018).
        Hinge = "hinge",
        /// Wasserstein loss with gradient penalty (Gulrajani et al. 2017).
        WganGp = "wgan-gp",
        /// Relativistic pairing (Jolicoeur-Martineau 2019), R3GAN's loss (Huang et al.
        /// 2024) with R1 and R2: D minimises softplus(-(D(real) - D(fake))) over pairs of a
        /// real and a generated item, G the mirror. Logged whole as D's real half.
        Relativistic = "relativistic",
    }
}

named_choices! {
    /// The precision of convolutions and matmuls. Weights, optimiser state, batch-norm
    /// statistics and losses stay fp32 either way.
    pub enum Precision ("precision") {
        Fp32 = "fp32",
        /// Mixed precision as autocast does it: bf16 inputs and weights for convolutions
        /// and matmuls. Fast on CUDA and on CPUs with AVX512-BF16 or AMX.
        Bf16 = "bf16",
        /// bf16 on a CPU that computes it natively (AVX512-BF16 or AMX, and oneDNN allowed
        /// to use them), fp32 elsewhere, where bf16 is emulated and slower.
        Auto = "auto",
    }
}

impl Precision {
    pub fn compute_kind(self) -> TensorKind {
        match self {
            Precision::Fp32 => TensorKind::Float,
            Precision::Bf16 => TensorKind::BFloat16,
            Precision::Auto if native_bf16() => TensorKind::BFloat16,
            Precision::Auto => TensorKind::Float,
        }
    }
}

/// Whether this CPU computes bf16 natively: its flags list AVX512-BF16 or AMX-BF16, and
/// `ONEDNN_MAX_CPU_ISA`, where set, lets oneDNN use them.
pub fn native_bf16() -> bool {
    static NATIVE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *NATIVE.get_or_init(|| {
        let flags = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let listed = flags
            .lines()
            .filter(|line| line.starts_with("flags"))
            .any(|line| line.split_whitespace().any(|f| f == "avx512_bf16" || f == "amx_bf16"));
        let allowed = std::env::var("ONEDNN_MAX_CPU_ISA").map_or(true, |isa| {
            let isa = isa.to_ascii_uppercase();
            isa == "ALL" || isa.contains("BF16") || isa.contains("AMX")
        });
        listed && allowed
    })
}

/// A shared option's kind and one-line doc.
pub type Shared = (Kind, &'static str);

/// Most channels of a network's first layer (deeper layers are wider still): beyond it a
/// typo would exhaust memory instead of raising an error.
pub const MAX_BASE_CHANNELS: i64 = 1024;

/// The loss, among the `choices` a model's networks can train with.
pub const fn loss(choices: &'static [&'static str]) -> Shared {
    (Kind::Choice(choices), "adversarial loss")
}

pub const BASE_CHANNELS: Shared =
    (Kind::Int { min: 1, max: MAX_BASE_CHANNELS }, "width of the networks' first layer");
pub const LR_G: Shared = (Kind::Float(Bounds::POSITIVE), "Adam learning rate of G");
pub const LR_D: Shared = (Kind::Float(Bounds::POSITIVE), "Adam learning rate of D");
pub const BETAS_G: Shared = (Kind::Pair(Bounds::FRACTION), "Adam betas of G");
pub const BETAS_D: Shared = (Kind::Pair(Bounds::FRACTION), "Adam betas of D");
pub const LR_HALF_LIFE: Shared = (
    Kind::Int { min: 0, max: i64::MAX },
    "steps over which the learning rates halve (0: constant)",
);
pub const EMA: Shared = (Kind::OptionalFloat(Bounds::OPEN_UNIT), "EMA decay of G (None: no EMA)");
pub const PRECISION: Shared = (
    Kind::Choice(Precision::NAMES),
    "bf16: mixed-precision convolutions and matmuls; auto: bf16 where the CPU has it natively",
);
pub const SEED: Shared = (Kind::Seed, "seeds initialisation, random draws and batch order");

/// The factor of learning rates that halve every `half_life` steps (0: constant), after
/// `step` updates.
pub fn half_life_factor(half_life: i64, step: i64) -> f64 {
    if half_life == 0 {
        return 1.0;
    }
    0.5f64.powf(step.max(0) as f64 / half_life as f64)
}

/// A model's option table (see `option_table!`): its own options, then the shared
/// sub-table, whose fields, defaults, kinds and docs are written here once. The closing
/// `shared (losses CHOICES) { name = value, ... }` names the losses the model's networks
/// train with and its defaults where they differ from the sub-table's.
macro_rules! model_option_table {
    (
        $(#[$meta:meta])*
        pub struct $config:ident, table $specs:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty = $default:expr, $kind:expr $(, $short:literal)?;
            )+
        }
        shared (losses $losses:expr) { $( $name:ident = $value:expr ),* $(,)? }
    ) => {
        $crate::option_table::option_table! {
            $(#[$meta])*
            pub struct $config, table $specs {
                $(
                    $(#[doc = $doc])*
                    $field: $ty = $default, $kind $(, $short)?;
                )+
                /// The adversarial loss.
                loss: $crate::shared_options::LossKind = $crate::shared_options::LossKind::Bce,
                    $crate::shared_options::loss($losses);
                /// Channels of the networks' first (widest-resolution) layer; deeper layers
                /// are wider.
                base_channels: i64 = 64, $crate::shared_options::BASE_CHANNELS;
                /// Adam learning rate of the generator(s); `lr_half_life` scales it.
                lr_g: f64 = 2e-4, $crate::shared_options::LR_G;
                /// Adam learning rate of the discriminator(s).
                lr_d: f64 = 2e-4, $crate::shared_options::LR_D;
                betas_g: (f64, f64) = (0.5, 0.999), $crate::shared_options::BETAS_G;
                betas_d: (f64, f64) = (0.5, 0.999), $crate::shared_options::BETAS_D;
                /// Exponential learning-rate decay: the rates halve every `lr_half_life`
                /// steps, so the game settles late in a run instead of circling; 0 keeps
                /// them constant.
                lr_half_life: i64 = 0, $crate::shared_options::LR_HALF_LIFE;
                /// Decay of the exponential moving average of the generators' weights;
                /// `None` keeps no copy.
                ema: Option<f64> = None, $crate::shared_options::EMA;
                precision: $crate::shared_options::Precision =
                    $crate::shared_options::Precision::Fp32, $crate::shared_options::PRECISION;
                /// Seeds initialisation, random draws and batch order.
                seed: u64 = 0, $crate::shared_options::SEED;
            }
            overrides { $( $name = $value ),* }
        }
    };
}

pub(crate) use model_option_table;
