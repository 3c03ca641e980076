//! Profiler support: names for loaded Wasm code, so `perf` shows `fib` instead of a hex address.
//!
//! `perf report` resolves addresses in anonymous or file-backed code that has no ELF symbols it
//! can find by reading `/tmp/perf-<pid>.map`: one line per symbol, `START SIZE NAME`, start and
//! size in hex without `0x`. Our code is mapped from the artifact (or copied into anonymous
//! pages), so perf cannot read the artifact's own symbol table at the mapped address; the map
//! file names each defined function instead. Wasmtime offers the same with
//! `--profile=perfmap`.
//!
//! The map is append-only and covers the process's whole life, as perf expects; an artifact
//! that is dropped leaves stale lines behind, which is harmless unless another artifact is later
//! mapped at the same address (perf then shows the older name too).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use crate::Artifact;

/// One named range of loaded code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSymbol {
    /// The Wasm function index.
    pub func_index: u32,
    /// The function's name from the name section, if it has one.
    pub name: Option<String>,
    /// Address of the first instruction in this process.
    pub start: usize,
    /// Length of the body in bytes.
    pub len: usize,
}

impl CodeSymbol {
    /// The name written to profiler maps: `wasm::<module>::<function>`, with the module and
    /// function names from the name section or their indices.
    pub fn display_name(&self, module: Option<&str>) -> String {
        let module = module.unwrap_or("module");
        match &self.name {
            Some(n) if !n.is_empty() => format!("wasm::{module}::{n}"),
            _ => format!("wasm::{module}::function[{}]", self.func_index),
        }
    }
}

impl Artifact {
    /// Every defined function's code range in this process, sorted by address.
    pub fn code_symbols(&self) -> Vec<CodeSymbol> {
        let inner = &self.inner;
        let imported = inner.meta.num_imported_funcs();
        let mut syms: Vec<CodeSymbol> = inner
            .meta
            .defined_funcs
            .iter()
            .enumerate()
            .filter(|(_, f)| f.text_len > 0)
            .map(|(i, f)| {
                // Defined function `i` has function index `imported + i`; both fit in u32
                // because the metadata decoder checked the counts.
                let func_index = imported + u32::try_from(i).unwrap_or(u32::MAX - imported);
                CodeSymbol {
                    func_index,
                    name: inner.meta.func_name(func_index).map(str::to_owned),
                    start: inner.text + f.text_off as usize,
                    len: f.text_len as usize,
                }
            })
            .collect();
        syms.sort_by_key(|s| s.start);
        syms
    }
}

/// This process's perf map file, `/tmp/perf-<pid>.map`, open for appending.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let artifact: wasmc_loader::Artifact = unimplemented!();
/// let map = wasmc_loader::profiling::PerfMap::open()?;
/// map.add(&artifact)?; // then: perf record -g <this program>; perf report
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PerfMap {
    file: Mutex<File>,
    path: PathBuf,
}

impl PerfMap {
    /// The map file perf reads for this process.
    pub fn path_for_this_process() -> PathBuf {
        std::env::temp_dir().join(format!("perf-{}.map", std::process::id()))
    }

    /// Opens (creating if needed) this process's perf map for appending.
    ///
    /// # Errors
    ///
    /// The I/O error of opening the file.
    pub fn open() -> io::Result<PerfMap> {
        let path = Self::path_for_this_process();
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(PerfMap {
            file: Mutex::new(file),
            path,
        })
    }

    /// Where the map is written.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Appends a line for every function of `artifact`.
    ///
    /// One `write` call per artifact, so concurrent writers (threads, or perf reading while we
    /// write) never see a torn line.
    ///
    /// # Errors
    ///
    /// The I/O error of writing the file.
    pub fn add(&self, artifact: &Artifact) -> io::Result<()> {
        let module = artifact.inner.meta.name.as_deref();
        let mut text = String::new();
        for s in artifact.code_symbols() {
            text.push_str(&format!(
                "{:x} {:x} {}\n",
                s.start,
                s.len,
                s.display_name(module)
            ));
        }
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(text.as_bytes())?;
        file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_cover_defined_functions_with_names() {
        let wasm = wat::parse_str(
            r#"(module $m
                 (import "env" "h" (func $h))
                 (func $first (export "a") call $h)
                 (func (export "b") (result i32) i32.const 7))"#,
        )
        .unwrap();
        let bytes = wasmc_compiler::compile(&wasm).unwrap();
        // SAFETY: the bytes come straight from the wasmc compiler.
        let artifact = unsafe { Artifact::from_bytes(&bytes) }.unwrap();
        let syms = artifact.code_symbols();
        assert_eq!(syms.len(), 2);
        assert_eq!(syms[0].func_index, 1);
        assert_eq!(syms[0].name.as_deref(), Some("first"));
        assert_eq!(syms[0].display_name(Some("m")), "wasm::m::first");
        assert_eq!(syms[1].func_index, 2);
        assert_eq!(syms[1].display_name(None), "wasm::module::function[2]");
        assert!(syms[0].len > 0 && syms[0].start + syms[0].len <= syms[1].start);

        let map = PerfMap::open().unwrap();
        map.add(&artifact).unwrap();
        let written = std::fs::read_to_string(map.path()).unwrap();
        let line = format!("{:x} {:x} wasm::m::first\n", syms[0].start, syms[0].len);
        assert!(written.contains(&line), "{written}");
        std::fs::remove_file(map.path()).unwrap();
    }
}
