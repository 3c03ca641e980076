//! The Cranelift `TargetIsa` for a wasmc target, and the CPU features and memory tunables
//! the generated code assumes (both are stamped into the artifact header).

use std::sync::Arc;

use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use wasmc_abi::Target;
use wasmc_abi::metadata::isa_features;

use crate::{CompileError, OptLevel};

/// Bytes of address space the generated code assumes every 32-bit memory reserves, excluding
/// the guard: the whole 32-bit index space (ARCHITECTURE.md §4).
pub const MEMORY_RESERVATION: u64 = 1 << 32;

/// Bytes of inaccessible guard the generated code assumes after each memory's reservation.
/// A load or store whose static `offset + size` fits in the guard needs no bounds check: its
/// address is below `4 GiB + guard`, so it faults in the reservation or the guard.
pub const MEMORY_GUARD: u64 = 32 << 20;

/// A Cranelift ISA plus the CPU features it was configured with.
pub(crate) struct Isa {
    /// The Cranelift target.
    pub isa: OwnedTargetIsa,
    /// `abi::metadata::isa_features` bits the code may use.
    pub features: u64,
}

/// The x86-64-v2 baseline: every x86_64 artifact assumes these features, and the loader
/// checks the host has them.
const X86_FEATURES: &[(&str, u64)] = &[
    ("has_sse3", isa_features::X86_SSE3),
    ("has_ssse3", isa_features::X86_SSSE3),
    ("has_sse41", isa_features::X86_SSE41),
    ("has_sse42", isa_features::X86_SSE42),
    ("has_popcnt", isa_features::X86_POPCNT),
];

/// Builds the ISA for `target`.
/// Features x86-64-v3 adds to the baseline: what lets Cranelift use AVX encodings (VEX
/// three-operand forms, wider shuffles), AVX2 integer vector ops, BMI/LZCNT bit operations
/// and fused multiply-add.
const X86_V3_FEATURES: &[(&str, u64)] = &[
    ("has_avx", isa_features::X86_AVX),
    ("has_avx2", isa_features::X86_AVX2),
    ("has_bmi1", isa_features::X86_BMI1),
    ("has_bmi2", isa_features::X86_BMI2),
    ("has_lzcnt", isa_features::X86_LZCNT),
    ("has_fma", isa_features::X86_FMA),
];

/// Which CPU features compiled code may assume. They are recorded in the artifact's header,
/// and the loader refuses an artifact whose features the host lacks, naming them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CpuLevel {
    /// x86-64-v2 (SSE3 to SSE4.2 and POPCNT) on x86_64, the architecture baseline on aarch64:
    /// runs on any machine of the last fifteen years.
    #[default]
    Baseline,
    /// x86-64-v3 on x86_64 (adds AVX, AVX2, BMI1, BMI2, LZCNT, FMA): better SIMD and bit
    /// manipulation code, for hosts from about 2015 on. Same as `Baseline` on aarch64.
    X86_64V3,
    /// `X86_64V3` when this machine has all of its features and the target is x86_64,
    /// `Baseline` otherwise.
    Native,
}

impl CpuLevel {
    /// Whether code compiled at this level for this machine's architecture can run here
    /// (`X86_64V3` needs every v3 feature; the others always can).
    pub fn runs_on_host(self) -> bool {
        match self {
            CpuLevel::X86_64V3 => host_has_x86_64_v3(),
            CpuLevel::Baseline | CpuLevel::Native => true,
        }
    }

    /// The level actually used for `target` on this machine.
    fn resolve(self, target: Target) -> CpuLevel {
        match self {
            CpuLevel::Native if !target.is_aarch64() && host_has_x86_64_v3() => CpuLevel::X86_64V3,
            CpuLevel::Native => CpuLevel::Baseline,
            level => level,
        }
    }
}

fn host_has_x86_64_v3() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("lzcnt")
            && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

pub(crate) fn build_isa(
    target: Target,
    opt_level: OptLevel,
    cpu: CpuLevel,
) -> Result<Isa, CompileError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| CompileError::Target {
        message: format!("{target}: {what}: {e}"),
    };
    let mut shared = settings::builder();
    let opt = match opt_level {
        OptLevel::None => "none",
        OptLevel::Speed => "speed",
        OptLevel::SpeedAndSize => "speed_and_size",
    };
    let debug = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    for (name, value) in [
        ("opt_level", opt),
        // Traps resume at the entry trampoline with its saved frame pointer, and
        // `get_frame_pointer` needs frame pointers to exist.
        ("preserve_frame_pointers", "true"),
        // Big frames must touch every page so they hit the guard instead of jumping it.
        ("enable_probestack", "true"),
        ("probestack_strategy", "inline"),
        // Wasm multi-value functions may return more values than registers.
        ("enable_multi_ret_implicit_sret", "true"),
        ("unwind_info", "false"),
        ("is_pic", "false"),
        ("enable_verifier", debug),
    ] {
        shared
            .set(name, value)
            .map_err(|e| bad(&format!("setting {name}"), &e))?;
    }
    let flags = settings::Flags::new(shared);
    let mut builder = cranelift_codegen::isa::lookup_by_name(target.triple())
        .map_err(|e| bad("no Cranelift backend", &e))?;
    let mut features = 0;
    if !target.is_aarch64() {
        let v3: &[(&str, u64)] = match cpu.resolve(target) {
            CpuLevel::X86_64V3 => X86_V3_FEATURES,
            _ => &[],
        };
        for (name, bit) in X86_FEATURES.iter().chain(v3) {
            builder
                .enable(name)
                .map_err(|e| bad(&format!("enabling {name}"), &e))?;
            features |= bit;
        }
    }
    let isa: Arc<dyn TargetIsa> = builder
        .finish(flags)
        .map_err(|e| bad("building the ISA", &e))?;
    Ok(Isa { isa, features })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_builds() {
        for t in Target::ALL {
            let isa = build_isa(t, OptLevel::Speed, CpuLevel::Baseline).unwrap();
            assert_eq!(isa.isa.pointer_bytes(), 8);
            assert_eq!(isa.features != 0, !t.is_aarch64());
            assert_eq!(isa.features & isa_features::X86_AVX2, 0);
        }
    }

    #[test]
    fn x86_64_v3_records_avx2_and_aarch64_ignores_it() {
        let isa = build_isa(Target::X86_64Linux, OptLevel::Speed, CpuLevel::X86_64V3).unwrap();
        for (_, bit) in X86_FEATURES.iter().chain(X86_V3_FEATURES) {
            assert_ne!(isa.features & bit, 0);
        }
        assert!(
            isa.isa
                .isa_flags()
                .iter()
                .any(|f| f.name == "has_avx2" && f.as_bool() == Some(true))
        );
        let arm = build_isa(Target::Aarch64Linux, OptLevel::Speed, CpuLevel::X86_64V3).unwrap();
        assert_eq!(arm.features, 0);
    }
}
