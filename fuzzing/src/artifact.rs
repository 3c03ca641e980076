//! The `artifact` target: mutated artifacts fed to the loader never crash it.
//!
//! A valid artifact (for the host, ELF, or for aarch64 Darwin, Mach-O) is mutated by a list of
//! byte edits drawn from the input, then given to `ArtifactInfo::parse` (any target) and to
//! `Artifact::from_bytes` and `from_bytes_unchecked` (which map the code, but nothing here
//! ever calls it). Either may refuse; none may panic, crash or hang.
//!
//! Two modes make the deeper checks reachable. Without repair, a checked load that succeeds
//! must have found every covered section byte-identical to the original (the checksum's
//! promise). With repair, the metadata hash and the whole-artifact checksum are recomputed
//! after mutating, so the mutated metadata, trap table and offsets reach their decoders:
//! that exercises "the metadata parser never trusts an offset or a count".

use std::sync::OnceLock;

use arbitrary::Unstructured;
use object::{Object, ObjectSection};
use wasmc_abi::metadata::{self, ArtifactHeader, Fnv64};
use wasmc_abi::{Target, obj};
use wasmc_compiler::{CompileOptions, Compiler};
use wasmc_loader::{Artifact, ArtifactInfo};

/// A module that fills every section of the metadata: imports of each kind, a start
/// function, active and passive segments of both kinds, names.
const SEED_WAT: &str = r#"
(module $seed
  (type $t (func (param i32 i64) (result f64)))
  (import "env" "f" (func $imp (param i32) (result i32)))
  (import "env" "g" (global $ig i32))
  (import "env" "t" (table 1 8 funcref))
  (memory (export "mem") 1 4)
  (table $own 4 externref)
  (global $g (export "g") (mut i64) (i64.const 9))
  (global $f f32 (f32.const 1.5))
  (data (i32.const 4) "seed data")
  (data $p "passive")
  (elem (table 0) (i32.const 0) func $a)
  (elem $pe funcref (ref.func $b) (ref.null func))
  (func $a (export "a") (type $t)
    local.get 1 f64.convert_i64_s local.get 0 f64.convert_i32_u f64.div)
  (func $b (export "b") (param i32) (result i32)
    local.get 0 call $imp global.get $ig i32.add
    i32.const 0 local.get 0 call_indirect (type 1) i32.add)
  (func $start global.get $g i64.const 1 i64.add global.set $g)
  (start $start))
"#;

fn seed(target: Target) -> &'static [u8] {
    static SEEDS: [OnceLock<Vec<u8>>; 4] = [const { OnceLock::new() }; 4];
    let slot = Target::ALL.iter().position(|t| *t == target).unwrap_or(0);
    SEEDS[slot].get_or_init(|| {
        let wasm = wat::parse_str(SEED_WAT).expect("the seed module parses");
        Compiler::new(&CompileOptions::new().target(target))
            .and_then(|c| c.compile(&wasm))
            .expect("the seed module compiles")
    })
}

/// File ranges of the sections the checksum covers, by name.
fn covered(bytes: &[u8]) -> Option<Vec<(&'static str, std::ops::Range<usize>)>> {
    let file = object::File::parse(bytes).ok()?;
    let mut out = Vec::new();
    for name in [
        obj::HEADER_SECTION,
        obj::META_SECTION,
        obj::TRAPS_SECTION,
        obj::DATA_SECTION,
        obj::TEXT_SECTION,
    ] {
        let section = if file.format() == object::BinaryFormat::MachO {
            let (seg, sect) = obj::macho_section(name)?;
            file.sections()
                .find(|s| s.name() == Ok(sect) && s.segment_name() == Ok(Some(seg)))
        } else {
            file.section_by_name(name)
        };
        let Some(section) = section else { continue };
        let (off, len) = section.file_range()?;
        let start = usize::try_from(off).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        if end > bytes.len() {
            return None;
        }
        out.push((name, start..end));
    }
    Some(out)
}

/// Recomputes the metadata hash and the whole-artifact checksum of `bytes` in place, so
/// that mutations inside the sections reach the decoders. Does nothing if the object or
/// the header cannot be found.
fn repair(bytes: &mut [u8]) {
    let Some(ranges) = covered(bytes) else { return };
    let get = |name: &str| {
        ranges
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| r.clone())
    };
    let (Some(hdr), Some(meta), Some(traps)) = (
        get(obj::HEADER_SECTION),
        get(obj::META_SECTION),
        get(obj::TRAPS_SECTION),
    ) else {
        return;
    };
    // A header that no longer decodes is left as it is: the loader refuses it first.
    let Ok(mut header) = ArtifactHeader::decode(&bytes[hdr.clone()]) else {
        return;
    };
    header.meta_hash = Fnv64::hash(&bytes[meta.clone()]);
    let data = get(obj::DATA_SECTION).map_or(&[][..], |r| &bytes[r]);
    let text = get(obj::TEXT_SECTION).map_or(&[][..], |r| &bytes[r]);
    header.checksum = metadata::checksum(&header.encode(), &bytes[meta], &bytes[traps], data, text);
    bytes[hdr].copy_from_slice(&header.encode());
}

/// Applies up to 16 edits drawn from `u` to `bytes`; `region` limits offsets (e.g. to the
/// metadata section) when given.
fn mutate(bytes: &mut Vec<u8>, u: &mut Unstructured<'_>, region: Option<std::ops::Range<usize>>) {
    let edits = u.int_in_range(1..=16u8).unwrap_or(1);
    for _ in 0..edits {
        let (Ok(op), Ok(pos), Ok(value)) = (
            u.arbitrary::<u8>(),
            u.arbitrary::<u32>(),
            u.arbitrary::<u8>(),
        ) else {
            return;
        };
        let range = region.clone().unwrap_or(0..bytes.len());
        if range.is_empty() || bytes.is_empty() {
            return;
        }
        let at = range.start + pos as usize % range.len();
        match op % 8 {
            0..=3 => bytes[at] ^= 1 << (value % 8),
            4 => bytes[at] = value,
            // Counts and lengths are often little-endian u32s: set one to an extreme.
            5 => {
                let v = [0u32, 1, 0x7fff_ffff, u32::MAX, u32::from(value) << 24]
                    [usize::from(value % 5)];
                let end = (at + 4).min(bytes.len());
                bytes[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
            }
            6 if region.is_none() => bytes.truncate(at),
            _ if region.is_none() => bytes.insert(at, value),
            _ => bytes[at] = bytes[at].wrapping_add(value),
        }
    }
}

/// Runs one input; panics on a bug. Returns whether the input reached the loader.
pub fn run(data: &[u8]) -> bool {
    let mut u = Unstructured::new(data);
    let Ok(mode) = u.arbitrary::<u8>() else {
        return false;
    };
    let target = if mode & 4 == 0 {
        Target::host().unwrap_or(Target::X86_64Linux)
    } else {
        Target::Aarch64Darwin
    };
    let original = seed(target);
    let mut bytes = original.to_vec();
    let meta_region = covered(&bytes).and_then(|r| {
        r.into_iter()
            .find(|(n, _)| *n == obj::META_SECTION)
            .map(|(_, r)| r)
    });
    let repaired = match mode % 4 {
        0 | 1 => {
            mutate(&mut bytes, &mut u, None);
            false
        }
        2 => {
            mutate(&mut bytes, &mut u, None);
            repair(&mut bytes);
            true
        }
        _ => {
            mutate(&mut bytes, &mut u, meta_region);
            repair(&mut bytes);
            true
        }
    };
    load(&bytes, original, repaired);
    true
}

/// Feeds `bytes` to every loading entry point; checks the checksum's promise unless the
/// bytes were repaired.
fn load(bytes: &[u8], original: &[u8], repaired: bool) {
    let info = ArtifactInfo::parse(bytes);
    // SAFETY: loading maps the code read-only+executable but nothing here calls it or
    // instantiates the artifact, so no byte of it ever runs.
    let checked = unsafe { Artifact::from_bytes(bytes) };
    // SAFETY: as above.
    let unchecked = unsafe { Artifact::from_bytes_unchecked(bytes) };
    if let Err(e) = &checked {
        let _ = e.to_string();
    }
    if let Err(e) = &unchecked {
        let _ = e.to_string();
    }
    if checked.is_ok() {
        assert!(
            unchecked.is_ok(),
            "the unchecked load refuses what the checked one accepts"
        );
    }
    if repaired {
        return;
    }
    if info.is_ok() || checked.is_ok() {
        let (Some(a), Some(b)) = (covered(bytes), covered(original)) else {
            panic!("accepted bytes whose sections cannot be found");
        };
        for ((name, ra), (_, rb)) in a.iter().zip(&b) {
            assert!(
                bytes[ra.clone()] == original[rb.clone()],
                "accepted an artifact whose {name} section changed"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_load() {
        for t in [Target::host().unwrap(), Target::Aarch64Darwin] {
            let info = ArtifactInfo::parse(seed(t)).unwrap();
            assert_eq!(info.header.target, t);
            assert!(!info.meta.imports.is_empty() && info.meta.start.is_some());
        }
        // A repair of unmodified bytes changes nothing.
        let mut b = seed(Target::Aarch64Darwin).to_vec();
        repair(&mut b);
        assert_eq!(b, seed(Target::Aarch64Darwin));
    }

    #[test]
    fn smoke() {
        let n = crate::smoke(0xa27f, 400, 128, run);
        assert!(n >= 390, "only {n} of 400 inputs reached the loader");
    }
}
