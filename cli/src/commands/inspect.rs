//! `wasmc inspect`: print what an artifact holds (format and compiler version, target, CPU
//! features, flags, checksum, imports, exports with their types, memories, tables, globals,
//! data segments, code size per function), as text or as JSON. A `.wasm`/`.wat` input is
//! compiled in memory first and the result described. Nothing is mapped or run: artifacts for
//! other targets can be inspected too.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use serde_json::{Value, json};
use wasmc_abi::metadata::{
    ExternKind, GlobalType, ImportKind, MemoryType, ModuleMetadata, SegmentMode, TableType, flags,
    isa_features,
};
use wasmc_cli::diagnostic::SourceError;
use wasmc_cli::input::{InputKind, wasm_from_source};
use wasmc_compiler::{CompileOptions, Compiler, Target};
use wasmc_loader::ArtifactInfo;

/// Print what an artifact holds (a `.wasm` or `.wat` input is compiled in memory first).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  wasmc inspect fib.wasmc.o
  wasmc inspect app.wasm --target aarch64-apple-darwin --top 20
  wasmc inspect app.wasmc.o --json | jq .exports

The artifact's checksum is verified; an artifact built for another target or CPU can still
be inspected (it is only read, never loaded).")]
pub struct InspectCommand {
    /// The artifact, Wasm binary or WAT text to describe (recognised by content).
    pub file: PathBuf,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,

    /// How many functions to list, largest code first.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// For Wasm input: the target to compile for [default: the host].
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,
}

impl InspectCommand {
    /// Describes `file` on stdout.
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let name = self.file.display().to_string();
        let bytes = std::fs::read(&self.file).with_context(|| format!("reading {name}"))?;
        let (bytes, compiled) = if InputKind::detect(&bytes) == InputKind::Artifact {
            if self.target.is_some() {
                anyhow::bail!("--target applies to Wasm input only; {name} is already compiled");
            }
            (bytes, false)
        } else {
            let wasm = wasm_from_source(&bytes, &name)?;
            let mut options = CompileOptions::new();
            if let Some(triple) = &self.target {
                let target = Target::from_triple(triple)
                    .with_context(|| format!("unsupported target `{triple}`"))?;
                options = options.target(target);
            }
            let compiler = Compiler::new(&options).context("setting up the compiler")?;
            let artifact = compiler
                .compile(&wasm)
                .map_err(|e| SourceError::new(&name, &wasm, e))
                .with_context(|| format!("compiling {name}"))?;
            (artifact, true)
        };
        let info = ArtifactInfo::parse(&bytes).with_context(|| format!("inspecting {name}"))?;
        if self.json {
            let mut v = describe_json(&info, self.top);
            v["file"] = json!(name);
            v["compiled_in_memory"] = json!(compiled);
            println!("{}", serde_json::to_string_pretty(&v)?);
        } else {
            let source = if compiled {
                format!("{name} (compiled in memory)")
            } else {
                name
            };
            print!("{}", describe_text(&info, &source, self.top));
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn flag_names(bits: u32) -> Vec<&'static str> {
    let mut names = Vec::new();
    if bits & flags::EPOCH_INTERRUPTION != 0 {
        names.push("epoch-interruption");
    }
    if bits & flags::SIGNAL_INTERRUPTION != 0 {
        names.push("signal-interruption");
    }
    if bits & flags::FUEL != 0 {
        names.push("fuel");
    }
    if bits & !flags::ALL != 0 {
        names.push("unknown");
    }
    names
}

fn limits(min: u64, max: Option<u64>) -> String {
    match max {
        Some(max) => format!("{min}..{max}"),
        None => format!("{min}.."),
    }
}

fn memory_str(m: &MemoryType) -> String {
    let mut s = format!("memory {} pages", limits(m.min, m.max));
    if m.idx64 {
        s.push_str(" i64");
    }
    if m.shared {
        s.push_str(" shared");
    }
    if m.page_size_log2 != 16 {
        let _ = write!(s, " page size {}", 1u64 << m.page_size_log2.min(63));
    }
    s
}

fn table_str(t: &TableType) -> String {
    format!(
        "table {} {}{}",
        limits(t.min, t.max),
        t.element,
        if t.idx64 { " i64" } else { "" }
    )
}

fn global_str(g: &GlobalType) -> String {
    if g.mutable {
        format!("global (mut {})", g.ty)
    } else {
        format!("global {}", g.ty)
    }
}

/// The type of an import, as WAT-like text.
fn import_str(meta: &ModuleMetadata, kind: &ImportKind) -> String {
    match kind {
        ImportKind::Func(t) => meta
            .types
            .get(*t as usize)
            .map_or_else(|| format!("(func type {t})"), ToString::to_string),
        ImportKind::Table(t) => table_str(t),
        ImportKind::Memory(m) => memory_str(m),
        ImportKind::Global(g) => global_str(g),
    }
}

/// The type of an export, as WAT-like text.
fn export_str(meta: &ModuleMetadata, kind: ExternKind, index: u32) -> String {
    let i = index as usize;
    let found = match kind {
        ExternKind::Func => meta.func_type(index).map(ToString::to_string),
        ExternKind::Table => meta.tables.get(i).map(table_str),
        ExternKind::Memory => meta.memories.get(i).map(memory_str),
        ExternKind::Global => meta.globals.get(i).map(global_str),
    };
    found.unwrap_or_else(|| format!("{kind} {index}"))
}

/// `(function index, name, code bytes)` of every defined function, largest first.
fn functions_by_size(meta: &ModuleMetadata) -> Vec<(u32, Option<&str>, u32)> {
    let imported = meta.num_imported_funcs();
    let mut v: Vec<(u32, Option<&str>, u32)> = meta
        .defined_funcs
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let index = imported.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
            (index, meta.func_name(index), f.text_len)
        })
        .collect();
    v.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    v
}

fn segment_str(mode: &SegmentMode, what: &str) -> String {
    match mode {
        SegmentMode::Active { index, .. } => format!("active, {what} {index}"),
        SegmentMode::Passive => "passive".to_string(),
        SegmentMode::Declared => "declared".to_string(),
    }
}

/// Which imports (by position) bring in items of `kind`, so item `i` of that kind's index
/// space can be labelled "imported from m.n".
fn imported_names(meta: &ModuleMetadata, kind: ExternKind) -> Vec<String> {
    meta.imports
        .iter()
        .filter(|i| i.kind.kind() == kind)
        .map(|i| format!("{}.{}", i.module, i.name))
        .collect()
}

fn describe_text(info: &ArtifactInfo, source: &str, top: usize) -> String {
    let h = &info.header;
    let m = &info.meta;
    let mut o = String::new();
    let features = isa_features::names(h.isa_features);
    let flag_list = flag_names(h.flags);
    let none = |v: &[&str]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let _ = writeln!(o, "file:            {source}");
    let _ = writeln!(
        o,
        "object:          {} {} bytes",
        info.object_format, info.file_size
    );
    let _ = writeln!(o, "format version:  {}", h.format_version);
    let _ = writeln!(o, "compiler:        wasmc {}", h.compiler_version);
    let _ = writeln!(o, "target:          {}", h.target);
    let _ = writeln!(o, "cpu features:    {}", none(&features));
    let _ = writeln!(o, "flags:           {}", none(&flag_list));
    let _ = writeln!(
        o,
        "memory config:   reservation {:#x}, guard {:#x}",
        h.memory_reservation, h.memory_guard
    );
    let _ = writeln!(o, "layout hash:     {:#018x}", h.layout_hash);
    let _ = writeln!(
        o,
        "checksum:        xxh3-128 {} (verified)",
        hex(&h.checksum[..16])
    );
    let _ = writeln!(
        o,
        "module name:     {}",
        m.name.as_deref().unwrap_or("(none)")
    );
    let _ = writeln!(
        o,
        "sections:        text {} bytes, metadata {} bytes, data {} bytes, {} trap sites",
        info.text_size, info.meta_size, info.data_size, info.trap_sites
    );

    let _ = writeln!(o, "\nimports ({}):", m.imports.len());
    for i in &m.imports {
        let _ = writeln!(o, "  {}.{}: {}", i.module, i.name, import_str(m, &i.kind));
    }
    let _ = writeln!(o, "\nexports ({}):", m.exports.len());
    for e in &m.exports {
        let _ = writeln!(o, "  {}: {}", e.name, export_str(m, e.kind, e.index));
    }
    let sections: [(&str, ExternKind, Vec<String>); 3] = [
        (
            "memories",
            ExternKind::Memory,
            m.memories.iter().map(memory_str).collect(),
        ),
        (
            "tables",
            ExternKind::Table,
            m.tables.iter().map(table_str).collect(),
        ),
        (
            "globals",
            ExternKind::Global,
            m.globals.iter().map(global_str).collect(),
        ),
    ];
    for (title, kind, items) in sections {
        let imported = imported_names(m, kind);
        let _ = writeln!(o, "\n{title} ({}):", items.len());
        for (i, s) in items.iter().enumerate() {
            match imported.get(i) {
                Some(from) => {
                    let _ = writeln!(o, "  {i}: {s} (imported from {from})");
                }
                None => {
                    let _ = writeln!(o, "  {i}: {s}");
                }
            }
        }
    }
    let _ = writeln!(o, "\ndata segments ({}):", m.datas.len());
    for (i, d) in m.datas.iter().enumerate() {
        let _ = writeln!(
            o,
            "  {i}: {} bytes, {}",
            d.data_len,
            segment_str(&d.mode, "memory")
        );
    }
    let _ = writeln!(o, "\nelement segments ({}):", m.elems.len());
    for (i, e) in m.elems.iter().enumerate() {
        let _ = writeln!(
            o,
            "  {i}: {} {}, {}",
            e.items.len(),
            e.element,
            segment_str(&e.mode, "table")
        );
    }
    if let Some(s) = m.start {
        let _ = writeln!(
            o,
            "\nstart function:  {s}{}",
            m.func_name(s).map(|n| format!(" ${n}")).unwrap_or_default()
        );
    }
    let funcs = functions_by_size(m);
    let code: u64 = funcs.iter().map(|f| u64::from(f.2)).sum();
    let _ = writeln!(
        o,
        "\nfunctions: {} imported, {} defined, {code} bytes of function code ({} bytes of trampolines)",
        m.num_imported_funcs(),
        funcs.len(),
        (info.text_size as u64).saturating_sub(code)
    );
    if !funcs.is_empty() {
        let _ = writeln!(o, "largest {}:", top.min(funcs.len()));
        for (index, name, len) in funcs.iter().take(top) {
            let ty = m.func_type(*index).map(ToString::to_string);
            let _ = writeln!(
                o,
                "  {len:>8} bytes  func {index}{} {}",
                name.map(|n| format!(" ${n}")).unwrap_or_default(),
                ty.unwrap_or_default()
            );
        }
    }
    o
}

fn describe_json(info: &ArtifactInfo, top: usize) -> Value {
    let h = &info.header;
    let m = &info.meta;
    let funcs = functions_by_size(m);
    let code: u64 = funcs.iter().map(|f| u64::from(f.2)).sum();
    let indexed = |kind: ExternKind, items: Vec<String>| -> Vec<Value> {
        let imported = imported_names(m, kind);
        items
            .into_iter()
            .enumerate()
            .map(|(i, t)| json!({ "index": i, "type": t, "imported_from": imported.get(i) }))
            .collect()
    };
    json!({
        "format_version": h.format_version,
        "compiler_version": h.compiler_version,
        "object_format": info.object_format,
        "file_size": info.file_size,
        "target": h.target.triple(),
        "cpu_features": isa_features::names(h.isa_features),
        "flags": flag_names(h.flags),
        "memory_reservation": h.memory_reservation,
        "memory_guard": h.memory_guard,
        "layout_hash": format!("{:#018x}", h.layout_hash),
        "checksum": { "algorithm": "xxh3-128", "value": hex(&h.checksum[..16]), "verified": true },
        "module_name": m.name,
        "sizes": {
            "text": info.text_size,
            "metadata": info.meta_size,
            "data": info.data_size,
            "function_code": code,
            "trap_sites": info.trap_sites,
        },
        "imports": m.imports.iter().map(|i| json!({
            "module": i.module,
            "name": i.name,
            "kind": i.kind.kind().to_string(),
            "type": import_str(m, &i.kind),
        })).collect::<Vec<_>>(),
        "exports": m.exports.iter().map(|e| json!({
            "name": e.name,
            "kind": e.kind.to_string(),
            "index": e.index,
            "type": export_str(m, e.kind, e.index),
        })).collect::<Vec<_>>(),
        "memories": indexed(ExternKind::Memory, m.memories.iter().map(memory_str).collect()),
        "tables": indexed(ExternKind::Table, m.tables.iter().map(table_str).collect()),
        "globals": indexed(ExternKind::Global, m.globals.iter().map(global_str).collect()),
        "data_segments": m.datas.iter().map(|d| json!({
            "bytes": d.data_len,
            "mode": segment_str(&d.mode, "memory"),
        })).collect::<Vec<_>>(),
        "element_segments": m.elems.iter().map(|e| json!({
            "items": e.items.len(),
            "mode": segment_str(&e.mode, "table"),
        })).collect::<Vec<_>>(),
        "start": m.start,
        "imported_functions": m.num_imported_funcs(),
        "defined_functions": funcs.len(),
        "largest_functions": funcs.iter().take(top).map(|(index, name, len)| json!({
            "index": index,
            "name": name,
            "bytes": len,
            "type": m.func_type(*index).map(ToString::to_string),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(wat: &str) -> ArtifactInfo {
        let wasm = wat::parse_str(wat).unwrap();
        let bytes = wasmc_compiler::compile(&wasm).unwrap();
        ArtifactInfo::parse(&bytes).unwrap()
    }

    const WAT: &str = r#"(module $m
        (import "env" "f" (func $imp (param i32) (result i64)))
        (import "env" "mem" (memory 1 2))
        (global (export "g") (mut f64) (f64.const 1))
        (table (export "t") 3 funcref)
        (data (i32.const 0) "abcdef")
        (func $big (export "big") (param i32 i32) (result i32)
          local.get 0 local.get 1 i32.mul local.get 0 i32.add local.get 1 i32.div_u)
        (func $small (export "small")))"#;

    #[test]
    fn text_names_everything_an_artifact_holds() {
        let t = describe_text(&info(WAT), "m.wat", 1);
        for needle in [
            "format version:  4",
            "target:          ",
            "checksum:        xxh3-128 ",
            "env.f: (func (param i32) (result i64))",
            "env.mem: memory 1..2 pages",
            "big: (func (param i32 i32) (result i32))",
            "g: global (mut f64)",
            "t: table 3.. funcref",
            "0: memory 1..2 pages (imported from env.mem)",
            "0: 6 bytes, active, memory 0",
            "1 imported, 2 defined",
            "largest 1:",
            "$big",
        ] {
            assert!(t.contains(needle), "missing {needle:?} in\n{t}");
        }
        assert!(!t.contains("$small"), "--top 1 lists one function\n{t}");
    }

    #[test]
    fn json_has_the_same_facts() {
        let v = describe_json(&info(WAT), 10);
        assert_eq!(
            v["format_version"],
            json!(wasmc_abi::metadata::FORMAT_VERSION)
        );
        assert_eq!(v["checksum"]["value"].as_str().map(str::len), Some(32));
        assert_eq!(v["imports"][1]["kind"], json!("memory"));
        assert_eq!(v["exports"][0]["name"], json!("g"));
        assert_eq!(v["data_segments"][0]["bytes"], json!(6));
        assert_eq!(v["largest_functions"][0]["name"], json!("big"));
        assert_eq!(v["largest_functions"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["module_name"], json!("m"));
    }
}
