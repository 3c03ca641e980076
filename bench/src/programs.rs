//! The programs to measure: the shared corpus, the harness's own `bench/programs/`, `.wasm`
//! files named on the command line and the built-in trivial module; where their native
//! builds are; what checksum each must print.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

/// Where a program comes from; the geometric means of the issue's targets are over
/// [`Group::Corpus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// `../shared/bench/wasm/*.wasm`.
    Corpus,
    /// `bench/programs/*.wasm`.
    Harness,
    /// A path given on the command line.
    Extra,
    /// The trivial module of the cold-start target.
    Trivial,
}

/// One program to measure.
#[derive(Debug)]
pub struct Program {
    /// A unique short name (file stem).
    pub name: String,
    /// Where it comes from.
    pub group: Group,
    /// The `.wasm` file, if it is one.
    pub path: Option<PathBuf>,
    /// The module.
    pub wasm: Vec<u8>,
    /// Native builds by compiler label (`gcc`, `clang`) that exist.
    pub natives: Vec<(String, PathBuf)>,
    /// The checksum it must print, from a README table, when known at this scale.
    pub expected: Option<String>,
    /// Whether it prints a `checksum:` line at all (the trivial module prints nothing).
    pub prints_checksum: bool,
}

/// The name of the built-in trivial module.
pub const TRIVIAL: &str = "trivial";

/// A module whose `_start` returns at once: cold start is then all load, instantiate and
/// call overhead. It exports a memory, as WASI programs do.
const TRIVIAL_WAT: &str = r#"(module (memory (export "memory") 1) (func (export "_start")))"#;

/// Finds every program: the corpus, then `harness_dir`, then `extra` paths, then the trivial
/// module; keeps those whose name is in `only` (all when it is empty). Expected checksums
/// apply at `scale` 1 only.
///
/// # Errors
///
/// An unreadable directory or file, or an `only` name that matches nothing.
pub fn discover(
    corpus: &Path,
    harness_dir: &Path,
    extra: &[PathBuf],
    only: &[String],
    scale: u32,
) -> Result<Vec<Program>> {
    let mut programs = Vec::new();
    let corpus_expected = expected_checksums(&corpus.join("README.md"))?;
    for path in wasm_files(&corpus.join("wasm"))? {
        programs.push(from_file(path, Group::Corpus, &corpus_expected)?);
    }
    let harness_expected = expected_checksums(&harness_dir.join("..").join("README.md"))?;
    for path in wasm_files(harness_dir)? {
        programs.push(from_file(path, Group::Harness, &harness_expected)?);
    }
    for path in extra {
        programs.push(from_file(path.clone(), Group::Extra, &HashMap::new())?);
    }
    programs.push(Program {
        name: TRIVIAL.to_owned(),
        group: Group::Trivial,
        path: None,
        wasm: wat::parse_str(TRIVIAL_WAT).context("assembling the trivial module")?,
        natives: Vec::new(),
        expected: None,
        prints_checksum: false,
    });

    // Names become file names in the scratch directory and keys in the report.
    let mut seen = HashSet::new();
    for p in &mut programs {
        let base = p.name.clone();
        let mut n = 2;
        while !seen.insert(p.name.clone()) {
            p.name = format!("{base}-{n}");
            n += 1;
        }
        if scale != 1 {
            p.expected = None;
        }
    }

    if !only.is_empty() {
        for name in only {
            if !programs.iter().any(|p| &p.name == name) {
                let known: Vec<&str> = programs.iter().map(|p| p.name.as_str()).collect();
                bail!(
                    "--only {name}: no such program (known: {})",
                    known.join(", ")
                );
            }
        }
        programs.retain(|p| only.contains(&p.name));
    }
    Ok(programs)
}

/// The `.wasm` files directly in `dir`, sorted; none if `dir` does not exist.
fn wasm_files(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        eprintln!(
            "note: {} does not exist; no programs from there",
            dir.display()
        );
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("listing {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "wasm") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn from_file(path: PathBuf, group: Group, expected: &HashMap<String, String>) -> Result<Program> {
    let wasm = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .with_context(|| format!("{} has no file name", path.display()))?;
    Ok(Program {
        natives: native_builds(&path, &name),
        expected: expected.get(&name).cloned(),
        name,
        group,
        path: Some(path),
        wasm,
        prints_checksum: true,
    })
}

/// Native builds of `<dir>/<name>.wasm` (or `<dir>/wasm/<name>.wasm`): `native/<name>.gcc`
/// and `native/<name>.clang` beside it (or beside `wasm/`).
pub fn native_builds(wasm: &Path, name: &str) -> Vec<(String, PathBuf)> {
    let Some(dir) = wasm.parent() else {
        return Vec::new();
    };
    let native_dir = if dir.file_name().is_some_and(|n| n == "wasm") {
        dir.parent().unwrap_or(dir).join("native")
    } else {
        dir.join("native")
    };
    ["gcc", "clang"]
        .iter()
        .map(|cc| (cc.to_string(), native_dir.join(format!("{name}.{cc}"))))
        .filter(|(_, p)| p.is_file())
        .collect()
}

/// The expected checksums in the Markdown table of `readme`: rows whose first cell is a
/// program name and whose last cell is one `code span`. A missing file has none.
fn expected_checksums(readme: &Path) -> Result<HashMap<String, String>> {
    let text = match std::fs::read_to_string(readme) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", readme.display())),
    };
    Ok(parse_expected(&text))
}

fn parse_expected(text: &str) -> HashMap<String, String> {
    let mut table = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let (Some(name), Some(last)) = (cells.first(), cells.last()) else {
            continue;
        };
        let is_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if cells.len() < 2 || !is_name {
            continue;
        }
        if let Some(code) = last.strip_prefix('`').and_then(|s| s.strip_suffix('`'))
            && !code.contains('`')
        {
            table.insert((*name).to_owned(), code.to_owned());
        }
    }
    table
}

/// The text after the last `checksum:` in `stdout`, trimmed.
pub fn checksum_of(stdout: &[u8]) -> Option<String> {
    String::from_utf8_lossy(stdout).lines().rev().find_map(|l| {
        l.trim()
            .strip_prefix("checksum:")
            .map(|c| c.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_expected_checksum_table() {
        let text = "| program | stresses | expected checksum (scale 1) |\n\
                    |---|---|---|\n\
                    | fib | recursion | `5858078a27f24878` |\n\
                    | nbody   | fp | `-1153.310886531 0.071429101` |\n\
                    | not a row |\n";
        let t = parse_expected(text);
        assert_eq!(t.len(), 2);
        assert_eq!(t["fib"], "5858078a27f24878");
        assert_eq!(t["nbody"], "-1153.310886531 0.071429101");
    }

    #[test]
    fn finds_the_last_checksum_line() {
        assert_eq!(
            checksum_of(b"x: 1\nchecksum: ab cd \n").as_deref(),
            Some("ab cd")
        );
        assert_eq!(checksum_of(b"no checksum here\n"), None);
    }
}
