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
pub(crate) fn build_isa(target: Target, opt_level: OptLevel) -> Result<Isa, CompileError> {
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
        for (name, bit) in X86_FEATURES {
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
            let isa = build_isa(t, OptLevel::Speed).unwrap();
            assert_eq!(isa.isa.pointer_bytes(), 8);
            assert_eq!(isa.features != 0, !t.is_aarch64());
        }
    }
}
