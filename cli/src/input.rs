//! What kind of program a file holds (Wasm binary, WAT text or a wasmc artifact), and the one
//! place where the CLI turns Wasm into a loaded [`Artifact`] in memory.

use std::fmt;

use wasmc_compiler::{CompileError, Compiler};
use wasmc_loader::Artifact;

/// The Wasm binary magic, `\0asm`.
const WASM_MAGIC: &[u8; 4] = b"\0asm";

/// The kinds of file `wasmc run` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A Wasm binary module (starts with `\0asm`).
    Wasm,
    /// An object file, presumably written by `wasmc build` (ELF or Mach-O magic).
    Artifact,
    /// Anything else is taken to be WAT text; parsing it reports what is wrong.
    Wat,
}

impl InputKind {
    /// Classifies a file by its first bytes, never by its name: `wasmc build -o x.wasm` is legal.
    pub fn detect(bytes: &[u8]) -> InputKind {
        const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
        // 64-bit Mach-O, little-endian (`MH_MAGIC_64` as stored on disk).
        const MACHO_MAGIC: &[u8; 4] = b"\xcf\xfa\xed\xfe";
        match bytes.get(..4) {
            Some(m) if m == WASM_MAGIC => InputKind::Wasm,
            Some(m) if m == ELF_MAGIC || m == MACHO_MAGIC => InputKind::Artifact,
            _ => InputKind::Wat,
        }
    }
}

/// Returns the Wasm binary for a `.wasm` or `.wat` input (binary input is returned unchanged).
///
/// `name` is used in error messages only.
pub fn wasm_from_source(bytes: &[u8], name: &str) -> anyhow::Result<Vec<u8>> {
    if InputKind::detect(bytes) == InputKind::Wasm {
        return Ok(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{name} is neither a Wasm binary (no `\\0asm` magic) nor UTF-8 WAT text \
             (invalid UTF-8 at byte {})",
            e.valid_up_to()
        )
    })?;
    let mut wasm = wat::parse_str(text).map_err(|mut e| {
        e.set_path(std::path::Path::new(name));
        anyhow::Error::new(e).context(format!("parsing {name} as WAT text"))
    })?;
    wasm.shrink_to_fit();
    Ok(wasm)
}

/// Why [`compile_and_load`] failed: the two cases mean different things to the spec runner
/// (an invalid module versus a loader bug).
#[derive(Debug)]
pub enum CompileAndLoadError {
    /// The compiler rejected the module (invalid, malformed or unsupported).
    Compile(CompileError),
    /// The loader rejected the artifact our compiler just produced.
    Load(wasmc_loader::Error),
}

impl fmt::Display for CompileAndLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The cause itself is the `source`; printing it here too would repeat it in
            // every error chain.
            CompileAndLoadError::Compile(_) => f.write_str("the module does not compile"),
            CompileAndLoadError::Load(_) => f.write_str("the compiled artifact does not load"),
        }
    }
}

impl std::error::Error for CompileAndLoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CompileAndLoadError::Compile(e) => Some(e),
            CompileAndLoadError::Load(e) => Some(e),
        }
    }
}

/// Compiles `wasm` for the host and loads the result, without touching the file system.
pub fn compile_and_load(compiler: &Compiler, wasm: &[u8]) -> Result<Artifact, CompileAndLoadError> {
    let bytes = compiler
        .compile(wasm)
        .map_err(CompileAndLoadError::Compile)?;
    // SAFETY: `bytes` was produced a moment ago by our own compiler and has not left this
    // function, so it is a well-formed artifact for this host (the loader still checks the
    // header, target and layout hash).
    #[allow(unsafe_code, reason = "loading bytes our compiler just produced")]
    let artifact = unsafe { Artifact::from_bytes(&bytes) };
    artifact.map_err(CompileAndLoadError::Load)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_kind_by_content() {
        assert_eq!(InputKind::detect(b"\0asm\x01\0\0\0"), InputKind::Wasm);
        assert_eq!(InputKind::detect(b"\x7fELF\x02\x01"), InputKind::Artifact);
        assert_eq!(
            InputKind::detect(b"\xcf\xfa\xed\xfe...."),
            InputKind::Artifact
        );
        assert_eq!(InputKind::detect(b"(module)"), InputKind::Wat);
        assert_eq!(InputKind::detect(b""), InputKind::Wat);
    }

    #[test]
    fn wat_text_becomes_wasm() {
        let wasm = wasm_from_source(b"(module (func (export \"f\")))", "t.wat").unwrap();
        assert_eq!(&wasm[..4], WASM_MAGIC);
        let same = wasm_from_source(&wasm, "t.wasm").unwrap();
        assert_eq!(same, wasm);
    }

    #[test]
    fn bad_text_names_the_file() {
        let err = wasm_from_source(b"(module (func (oops)))", "bad.wat").unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("bad.wat"), "{msg}");
        let err = wasm_from_source(b"\xff\xfe", "bin.dat").unwrap_err();
        assert!(format!("{err:#}").contains("neither a Wasm binary"));
    }
}
