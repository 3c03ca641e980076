//! Section and symbol names of a wasmc artifact. No other file spells them out.
//!
//! | section (ELF)  | Mach-O            | writer                     | reader                  |
//! |----------------|-------------------|----------------------------|-------------------------|
//! | `.wasmc.hdr`   | `__WASMC,__hdr`   | `compiler/src/artifact.rs` | loader, checked first   |
//! | `.wasmc.meta`  | `__WASMC,__meta`  | `compiler/src/artifact.rs` | loader, after the header |
//! | `.wasmc.traps` | `__WASMC,__traps` | `compiler/src/artifact.rs` | loader's signal handler |
//! | `.wasmc.data`  | `__WASMC,__data`  | `compiler/src/artifact.rs` | loader, data segments   |
//! | `.text`        | `__TEXT,__text`   | `compiler/src/artifact.rs` | loader, mapped RX       |
//!
//! `.text` holds every function, import stub and trampoline, laid out by the compiler with all
//! calls already resolved: an artifact has no relocations against `.text` and no undefined
//! symbols, and the loader refuses one that does.

/// The artifact header section (an `ArtifactHeader`).
pub const HEADER_SECTION: &str = ".wasmc.hdr";
/// The module metadata section (a `ModuleMetadata`).
pub const META_SECTION: &str = ".wasmc.meta";
/// The trap table section (see `metadata::encode_trap_table`).
pub const TRAPS_SECTION: &str = ".wasmc.traps";
/// Bytes of data segments.
pub const DATA_SECTION: &str = ".wasmc.data";
/// The code section.
pub const TEXT_SECTION: &str = ".text";

/// Mach-O segment of the wasmc sections.
pub const MACHO_SEGMENT: &str = "__WASMC";

/// The Mach-O `(segment, section)` of an ELF section name above.
pub fn macho_section(elf_name: &str) -> Option<(&'static str, &'static str)> {
    Some(match elf_name {
        HEADER_SECTION => (MACHO_SEGMENT, "__hdr"),
        META_SECTION => (MACHO_SEGMENT, "__meta"),
        TRAPS_SECTION => (MACHO_SEGMENT, "__traps"),
        DATA_SECTION => (MACHO_SEGMENT, "__data"),
        TEXT_SECTION => ("__TEXT", "__text"),
        _ => return None,
    })
}

/// The one global symbol of an artifact, on its header.
pub const HEADER_SYMBOL: &str = "wasmc_module_header";

/// Symbol of a defined function: its name from the name section when it has one, otherwise
/// `wasm_function_<index>`. The index is appended to a name so that symbols stay unique.
pub fn func_symbol(func_index: u32, name: Option<&str>) -> String {
    match name {
        Some(n) if !n.is_empty() => format!("{n}.{func_index}"),
        _ => format!("wasm_function_{func_index}"),
    }
}

/// Symbol of the import stub of an imported function.
pub fn import_stub_symbol(module: &str, name: &str) -> String {
    format!("wasmc_import.{module}.{name}")
}

/// Symbol of the host-to-wasm entry trampoline of a function.
pub fn entry_trampoline_symbol(func_index: u32) -> String {
    format!("wasmc_entry.{func_index}")
}

/// Symbol of the wasm-to-host trampoline of a type.
pub fn host_trampoline_symbol(type_index: u32) -> String {
    format!("wasmc_to_host.{type_index}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_unique_per_index() {
        assert_ne!(func_symbol(1, Some("f")), func_symbol(2, Some("f")));
        assert_eq!(func_symbol(3, None), "wasm_function_3");
        assert_eq!(func_symbol(3, Some("")), "wasm_function_3");
    }

    #[test]
    fn every_section_has_a_macho_name_of_legal_length() {
        for s in [
            HEADER_SECTION,
            META_SECTION,
            TRAPS_SECTION,
            DATA_SECTION,
            TEXT_SECTION,
        ] {
            let (seg, sect) = macho_section(s).unwrap();
            assert!(seg.len() <= 16 && sect.len() <= 16);
        }
    }
}
