//! The artifact header and the module description, with their encoders and checked decoders.
//!
//! Both are little-endian byte strings. The decoders never trust a count, an offset or a
//! string: every read is bounds-checked and every count is checked against the bytes left
//! before anything is allocated, so a corrupt or hostile section yields a [`DecodeError`],
//! never a panic or a huge allocation.
//!
//! The header ([`ArtifactHeader`], section `.wasmc.hdr`) is checked before anything else: magic
//! and format version, then the whole-artifact checksum (see [`checksum_parts`]), then layout
//! hash, target and CPU features. It also records a cheap hash of the metadata section, which
//! the loader verifies before decoding it even when the whole-artifact check is skipped.

use crate::types::{FuncType, ValType};

/// Magic bytes at the start of the header section.
pub const MAGIC: [u8; 8] = *b"WASMC\0\0\x01";
/// Version of the artifact format. Bump it on any change to this file, the vmctx layout, trap
/// codes or builtins. (3: the whole-artifact checksum is xxh3-128, was BLAKE3. 4: the
/// `SIGNAL_INTERRUPTION` flag; a loader must not run code whose loops it cannot stop.)
pub const FORMAT_VERSION: u32 = 4;
/// The compiler version this build of wasmc writes into [`ArtifactHeader::compiler_version`]
/// and the loader requires there: the workspace version, shared by every wasmc crate, so the
/// compiler and the loader of one build always agree. Code from another compiler version may
/// rely on runtime behaviour this loader does not have (a builtin's meaning, a trap
/// convention) even when the format version and layout hash match, so it is refused and must
/// be rebuilt.
pub const COMPILER_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Size of the encoded header.
pub const HEADER_SIZE: usize = 128;
/// Where [`ArtifactHeader::checksum`] lies in the encoded header.
pub const CHECKSUM_RANGE: core::ops::Range<usize> = 96..128;
/// Marker for "none" in `u32` fields (no entry trampoline, no host trampoline, ...).
pub const NONE: u32 = u32::MAX;
/// Wasm page size.
pub const WASM_PAGE_SIZE: u64 = 65536;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes do not start with [`MAGIC`]: not a wasmc artifact.
    BadMagic,
    /// Produced by another artifact format version.
    FormatVersion {
        /// Version in the artifact.
        found: u32,
        /// Version this build reads.
        expected: u32,
    },
    /// The bytes end before the structure does.
    Truncated {
        /// What was being read.
        what: &'static str,
    },
    /// A value is out of its range.
    Invalid {
        /// What was wrong.
        what: &'static str,
        /// The value found.
        value: u64,
    },
    /// A string is not UTF-8.
    BadString,
    /// Bytes are left after the structure.
    TrailingBytes,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::BadMagic => f.write_str("not a wasmc artifact (bad magic)"),
            DecodeError::FormatVersion { found, expected } => write!(
                f,
                "artifact format version {found} is not supported (this build reads version {expected}); rebuild it with this wasmc"
            ),
            DecodeError::Truncated { what } => write!(f, "truncated while reading {what}"),
            DecodeError::Invalid { what, value } => write!(f, "invalid {what}: {value}"),
            DecodeError::BadString => f.write_str("a name is not valid UTF-8"),
            DecodeError::TrailingBytes => f.write_str("unexpected bytes after the end"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// FNV-1a, 64-bit: a small, dependency-free hash for integrity checks against corruption
/// (not against an attacker; see the trust model in the docs).
#[derive(Debug, Clone, Copy)]
pub struct Fnv64(u64);

impl Fnv64 {
    /// A fresh hasher.
    pub fn new() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
    /// Feeds bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
    /// Hash of one byte string.
    pub fn hash(bytes: &[u8]) -> u64 {
        let mut h = Fnv64::new();
        h.write(bytes);
        h.finish()
    }
}

impl Default for Fnv64 {
    fn default() -> Self {
        Self::new()
    }
}

/// A compilation target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Target {
    /// `x86_64-unknown-linux-gnu`, ELF.
    X86_64Linux = 1,
    /// `aarch64-unknown-linux-gnu`, ELF.
    Aarch64Linux = 2,
    /// `x86_64-apple-darwin`, Mach-O.
    X86_64Darwin = 3,
    /// `aarch64-apple-darwin`, Mach-O.
    Aarch64Darwin = 4,
}

impl Target {
    /// Every supported target.
    pub const ALL: [Target; 4] = [
        Target::X86_64Linux,
        Target::Aarch64Linux,
        Target::X86_64Darwin,
        Target::Aarch64Darwin,
    ];

    /// The target triple.
    pub fn triple(self) -> &'static str {
        match self {
            Target::X86_64Linux => "x86_64-unknown-linux-gnu",
            Target::Aarch64Linux => "aarch64-unknown-linux-gnu",
            Target::X86_64Darwin => "x86_64-apple-darwin",
            Target::Aarch64Darwin => "aarch64-apple-darwin",
        }
    }

    /// Parses a triple; `x86_64-linux`, `aarch64-macos` and similar short forms are accepted.
    pub fn from_triple(s: &str) -> Option<Target> {
        let arch_x86 = s.starts_with("x86_64");
        let arch_arm = s.starts_with("aarch64") || s.starts_with("arm64");
        let linux = s.contains("linux");
        let darwin = s.contains("darwin") || s.contains("macos") || s.contains("apple");
        match (arch_x86, arch_arm, linux, darwin) {
            (true, false, true, false) => Some(Target::X86_64Linux),
            (false, true, true, false) => Some(Target::Aarch64Linux),
            (true, false, false, true) => Some(Target::X86_64Darwin),
            (false, true, false, true) => Some(Target::Aarch64Darwin),
            _ => None,
        }
    }

    /// The target this program runs on, if supported.
    pub fn host() -> Option<Target> {
        if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
            Some(Target::X86_64Linux)
        } else if cfg!(all(target_arch = "aarch64", target_os = "linux")) {
            Some(Target::Aarch64Linux)
        } else if cfg!(all(target_arch = "x86_64", target_os = "macos")) {
            Some(Target::X86_64Darwin)
        } else if cfg!(all(target_arch = "aarch64", target_os = "macos")) {
            Some(Target::Aarch64Darwin)
        } else {
            None
        }
    }

    /// Whether the object format is Mach-O (otherwise ELF).
    pub fn is_macho(self) -> bool {
        matches!(self, Target::X86_64Darwin | Target::Aarch64Darwin)
    }

    /// Whether the architecture is aarch64 (otherwise x86_64).
    pub fn is_aarch64(self) -> bool {
        matches!(self, Target::Aarch64Linux | Target::Aarch64Darwin)
    }

    /// Alignment of `.text` in the artifact: the largest page size of the target OS.
    pub fn text_align(self) -> u64 {
        match self {
            Target::X86_64Linux | Target::X86_64Darwin => 4096,
            Target::Aarch64Linux => 65536,
            Target::Aarch64Darwin => 16384,
        }
    }

    fn from_u32(v: u32) -> Option<Target> {
        Target::ALL.into_iter().find(|t| *t as u32 == v)
    }
}

impl core::fmt::Display for Target {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.triple())
    }
}

/// CPU features an artifact may assume, as bits of `ArtifactHeader::isa_features`.
pub mod isa_features {
    /// x86_64 SSE3.
    pub const X86_SSE3: u64 = 1 << 0;
    /// x86_64 SSSE3.
    pub const X86_SSSE3: u64 = 1 << 1;
    /// x86_64 SSE4.1.
    pub const X86_SSE41: u64 = 1 << 2;
    /// x86_64 SSE4.2.
    pub const X86_SSE42: u64 = 1 << 3;
    /// x86_64 POPCNT.
    pub const X86_POPCNT: u64 = 1 << 4;
    /// x86_64 AVX.
    pub const X86_AVX: u64 = 1 << 5;
    /// x86_64 AVX2.
    pub const X86_AVX2: u64 = 1 << 6;
    /// x86_64 BMI1.
    pub const X86_BMI1: u64 = 1 << 7;
    /// x86_64 BMI2.
    pub const X86_BMI2: u64 = 1 << 8;
    /// x86_64 LZCNT.
    pub const X86_LZCNT: u64 = 1 << 9;
    /// x86_64 FMA.
    pub const X86_FMA: u64 = 1 << 10;
    /// aarch64 LSE atomics.
    pub const AARCH64_LSE: u64 = 1 << 32;

    /// `(bit, name)` of every feature, for messages.
    pub const NAMES: &[(u64, &str)] = &[
        (X86_SSE3, "sse3"),
        (X86_SSSE3, "ssse3"),
        (X86_SSE41, "sse4.1"),
        (X86_SSE42, "sse4.2"),
        (X86_POPCNT, "popcnt"),
        (X86_AVX, "avx"),
        (X86_AVX2, "avx2"),
        (X86_BMI1, "bmi1"),
        (X86_BMI2, "bmi2"),
        (X86_LZCNT, "lzcnt"),
        (X86_FMA, "fma"),
        (AARCH64_LSE, "lse"),
    ];

    /// Names of the features in `bits`.
    pub fn names(bits: u64) -> Vec<&'static str> {
        NAMES
            .iter()
            .filter(|(b, _)| bits & b != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

/// Flags in `ArtifactHeader::flags`.
pub mod flags {
    /// The code can be stopped from outside (interrupts, deadlines, epoch deadlines): by
    /// its loop-header checks of `store_ctx::INTERRUPT`, or with [`SIGNAL_INTERRUPTION`] by
    /// a signal. Function entries are stopped through the stack limit either way.
    pub const EPOCH_INTERRUPTION: u32 = 1 << 0;
    /// Code counts fuel.
    pub const FUEL: u32 = 1 << 1;
    /// With [`EPOCH_INTERRUPTION`]: the loops have no checks; the loader stops the code by
    /// signalling the thread running it, and the handler sends a pc inside a Wasm function
    /// body to the trap path (Linux only).
    pub const SIGNAL_INTERRUPTION: u32 = 1 << 2;
    /// Every flag this version knows.
    pub const ALL: u32 = EPOCH_INTERRUPTION | FUEL | SIGNAL_INTERRUPTION;
}

/// The fixed header of an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactHeader {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// The target the code was compiled for.
    pub target: Target,
    /// [`crate::vmoffsets::layout_hash`] of the writer.
    pub layout_hash: u64,
    /// CPU features the code assumes ([`isa_features`] bits).
    pub isa_features: u64,
    /// [`flags`] bits.
    pub flags: u32,
    /// Bytes of address space the code assumes each 32-bit memory reserves (excluding guard).
    pub memory_reservation: u64,
    /// Bytes of inaccessible guard the code assumes after each memory's reservation.
    pub memory_guard: u64,
    /// [`Fnv64`] of the metadata section.
    pub meta_hash: u64,
    /// Version of the compiler that wrote the artifact (at most 32 bytes).
    pub compiler_version: String,
    /// The whole-artifact [`checksum`], recorded by the compiler and verified by the
    /// loader.
    pub checksum: [u8; 32],
}

impl ArtifactHeader {
    /// Encodes the header into its fixed-size form.
    pub fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut out = [0u8; HEADER_SIZE];
        out[0..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&self.format_version.to_le_bytes());
        out[12..16].copy_from_slice(&(self.target as u32).to_le_bytes());
        out[16..24].copy_from_slice(&self.layout_hash.to_le_bytes());
        out[24..32].copy_from_slice(&self.isa_features.to_le_bytes());
        out[32..36].copy_from_slice(&self.flags.to_le_bytes());
        out[40..48].copy_from_slice(&self.memory_reservation.to_le_bytes());
        out[48..56].copy_from_slice(&self.memory_guard.to_le_bytes());
        out[56..64].copy_from_slice(&self.meta_hash.to_le_bytes());
        let v = self.compiler_version.as_bytes();
        let n = v.len().min(32);
        out[64..64 + n].copy_from_slice(&v[..n]);
        out[CHECKSUM_RANGE].copy_from_slice(&self.checksum);
        out
    }

    /// Checks only the magic, the format version and the size of an encoded header, and
    /// returns the checksum it records: what the loader needs before it may trust (and
    /// decode) anything else.
    pub fn check_prefix(bytes: &[u8]) -> Result<[u8; 32], DecodeError> {
        if bytes.len() < 8 || bytes[0..8] != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        if bytes.len() < 12 {
            return Err(DecodeError::Truncated { what: "header" });
        }
        let format_version = u32::from_le_bytes(bytes[8..12].try_into().unwrap_or_default());
        if format_version != FORMAT_VERSION {
            return Err(DecodeError::FormatVersion {
                found: format_version,
                expected: FORMAT_VERSION,
            });
        }
        if bytes.len() != HEADER_SIZE {
            return Err(DecodeError::Truncated { what: "header" });
        }
        let mut checksum = [0u8; 32];
        checksum.copy_from_slice(&bytes[CHECKSUM_RANGE]);
        Ok(checksum)
    }

    /// Decodes a header, checking the magic and then the format version before anything else.
    pub fn decode(bytes: &[u8]) -> Result<ArtifactHeader, DecodeError> {
        let checksum = Self::check_prefix(bytes)?;
        let format_version = FORMAT_VERSION;
        let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap_or_default());
        let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap_or_default());
        let target_raw = u32_at(12);
        let target = Target::from_u32(target_raw).ok_or(DecodeError::Invalid {
            what: "target",
            value: u64::from(target_raw),
        })?;
        let ver = &bytes[64..96];
        let end = ver.iter().position(|b| *b == 0).unwrap_or(32);
        let compiler_version = core::str::from_utf8(&ver[..end])
            .map_err(|_| DecodeError::BadString)?
            .to_string();
        Ok(ArtifactHeader {
            format_version,
            target,
            layout_hash: u64_at(16),
            isa_features: u64_at(24),
            flags: u32_at(32),
            memory_reservation: u64_at(40),
            memory_guard: u64_at(48),
            meta_hash: u64_at(56),
            compiler_version,
            checksum,
        })
    }
}

/// The whole-artifact checksum of the given parts (the bytes [`checksum_parts`] names): their
/// xxh3-128 hash, little-endian, in the first 16 bytes; the other 16 are zero (the header's
/// field is 32 bytes wide). It detects damage (truncation, flipped bits, a partly overwritten
/// or mixed-up file), not tampering: whoever can rewrite the file can rewrite a keyless hash
/// beside it, whatever the hash (docs/RATIONALE.md). xxh3 runs at about 28 GB/s here, so a
/// checked load of an artifact costs about 37 us per MiB.
pub fn checksum(
    header: &[u8; HEADER_SIZE],
    meta: &[u8],
    traps: &[u8],
    data: &[u8],
    text: &[u8],
) -> [u8; 32] {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    checksum_parts(header, meta, traps, data, text, |b| hasher.update(b));
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(&hasher.digest128().to_le_bytes());
    out
}

/// Feeds `f`, in order, every byte string the whole-artifact checksum covers: the encoded
/// header with its checksum field zeroed, then the metadata, trap table, data and text
/// sections, each preceded by its length as a little-endian `u64` (so that bytes cannot move
/// from one section to the next without changing the hash). A missing section counts as
/// empty. [`checksum`] hashes exactly these, so the covered bytes are defined once.
///
/// What is not covered is the object file's own structure (ELF/Mach-O headers, section
/// headers, symbol and string tables, padding): the loader reads it only to find the
/// sections, and any change to it that moves or resizes a covered section changes the hash.
pub fn checksum_parts(
    header: &[u8; HEADER_SIZE],
    meta: &[u8],
    traps: &[u8],
    data: &[u8],
    text: &[u8],
    mut f: impl FnMut(&[u8]),
) {
    let mut h = *header;
    h[CHECKSUM_RANGE].fill(0);
    f(&h);
    for section in [meta, traps, data, text] {
        f(&(section.len() as u64).to_le_bytes());
        f(section);
    }
}

/// Kind of an import or export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ExternKind {
    /// A function.
    Func = 0,
    /// A table.
    Table = 1,
    /// A memory.
    Memory = 2,
    /// A global.
    Global = 3,
}

impl core::fmt::Display for ExternKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ExternKind::Func => "function",
            ExternKind::Table => "table",
            ExternKind::Memory => "memory",
            ExternKind::Global => "global",
        })
    }
}

/// A table type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableType {
    /// `FuncRef` or `ExternRef`.
    pub element: ValType,
    /// Minimum size in elements.
    pub min: u64,
    /// Maximum size in elements.
    pub max: Option<u64>,
    /// Whether indices are 64-bit (table64).
    pub idx64: bool,
}

/// A memory type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryType {
    /// Minimum size in pages.
    pub min: u64,
    /// Maximum size in pages.
    pub max: Option<u64>,
    /// Whether addresses are 64-bit (memory64).
    pub idx64: bool,
    /// Whether the memory is shared (threads).
    pub shared: bool,
    /// log2 of the page size (16 for 64 KiB pages).
    pub page_size_log2: u8,
}

/// A global type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalType {
    /// Value type.
    pub ty: ValType,
    /// Whether `global.set` is allowed.
    pub mutable: bool,
}

/// What an import brings in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportKind {
    /// A function of the given type index.
    Func(u32),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
}

impl ImportKind {
    /// The kind of extern.
    pub fn kind(&self) -> ExternKind {
        match self {
            ImportKind::Func(_) => ExternKind::Func,
            ImportKind::Table(_) => ExternKind::Table,
            ImportKind::Memory(_) => ExternKind::Memory,
            ImportKind::Global(_) => ExternKind::Global,
        }
    }
}

/// An import, in module order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// What is imported.
    pub kind: ImportKind,
}

/// An export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// Export name.
    pub name: String,
    /// Kind of the exported item.
    pub kind: ExternKind,
    /// Index in the kind's index space (imports first).
    pub index: u32,
}

/// Where a defined function's code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefinedFunc {
    /// Offset of the body in `.text`.
    pub text_off: u32,
    /// Length of the body in bytes.
    pub text_len: u32,
    /// Offset of its host-to-wasm entry trampoline in `.text`, or [`NONE`].
    pub entry_off: u32,
    /// Its slot in `vmctx.func_refs`, or [`NONE`] if it does not escape.
    pub func_ref_slot: u32,
}

/// One operation of a constant expression, evaluated on a small value stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstOp {
    /// Push an i32.
    I32Const(i32),
    /// Push an i64.
    I64Const(i64),
    /// Push an f32 (bits).
    F32Const(u32),
    /// Push an f64 (bits).
    F64Const(u64),
    /// Push a v128.
    V128Const(u128),
    /// Push a null reference of the given type.
    RefNull(ValType),
    /// Push a reference to a function.
    RefFunc(u32),
    /// Push the value of a global (imported or, with extended-const, defined before).
    GlobalGet(u32),
    /// i32 add (extended-const).
    I32Add,
    /// i32 sub (extended-const).
    I32Sub,
    /// i32 mul (extended-const).
    I32Mul,
    /// i64 add (extended-const).
    I64Add,
    /// i64 sub (extended-const).
    I64Sub,
    /// i64 mul (extended-const).
    I64Mul,
}

/// A constant expression: a global initialiser, a segment offset or an element item.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConstExpr {
    /// The operations, in order; the result is the single value left.
    pub ops: Vec<ConstOp>,
}

impl ConstExpr {
    /// An expression of one operation.
    pub fn single(op: ConstOp) -> Self {
        ConstExpr { ops: vec![op] }
    }
}

/// When a segment is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentMode {
    /// Applied at instantiation to table or memory `index` at `offset`.
    Active {
        /// Table or memory index.
        index: u32,
        /// Offset expression.
        offset: ConstExpr,
    },
    /// Used by `memory.init`/`table.init` only.
    Passive,
    /// Declares functions for `ref.func`; dropped at instantiation.
    Declared,
}

/// Items of an element segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElemItems {
    /// Function indices.
    Functions(Vec<u32>),
    /// Constant expressions.
    Exprs(Vec<ConstExpr>),
}

impl ElemItems {
    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            ElemItems::Functions(v) => v.len(),
            ElemItems::Exprs(v) => v.len(),
        }
    }
    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An element segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElemSegment {
    /// When it is applied.
    pub mode: SegmentMode,
    /// Element type.
    pub element: ValType,
    /// Items.
    pub items: ElemItems,
}

/// A data segment; its bytes are `data_len` bytes at `data_off` in `.wasmc.data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSegment {
    /// When it is applied (never `Declared`).
    pub mode: SegmentMode,
    /// Offset of the bytes in `.wasmc.data`.
    pub data_off: u32,
    /// Number of bytes.
    pub data_len: u32,
}

/// Everything the loader needs to know about a module, in Wasm index order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModuleMetadata {
    /// Module name from the name section.
    pub name: Option<String>,
    /// Function types by type index.
    pub types: Vec<FuncType>,
    /// Imports in module order.
    pub imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub functions: Vec<u32>,
    /// Code location of each defined function (function index minus imported functions).
    pub defined_funcs: Vec<DefinedFunc>,
    /// Function index of each `vmctx.func_refs` slot.
    pub escaped_funcs: Vec<u32>,
    /// Every table, imported ones first.
    pub tables: Vec<TableType>,
    /// Every memory, imported ones first.
    pub memories: Vec<MemoryType>,
    /// Every global, imported ones first.
    pub globals: Vec<GlobalType>,
    /// Initialiser of each defined global.
    pub global_inits: Vec<ConstExpr>,
    /// Exports.
    pub exports: Vec<Export>,
    /// The start function.
    pub start: Option<u32>,
    /// Element segments.
    pub elems: Vec<ElemSegment>,
    /// Data segments.
    pub datas: Vec<DataSegment>,
    /// Per type index, the `.text` offset of its wasm-to-host trampoline, or [`NONE`].
    pub host_trampolines: Vec<u32>,
    /// Function names from the name section, `(function index, name)`, sorted by index.
    pub func_names: Vec<(u32, String)>,
}

impl ModuleMetadata {
    /// Number of imported functions.
    pub fn num_imported_funcs(&self) -> u32 {
        self.count_imports(|k| matches!(k, ImportKind::Func(_)))
    }
    /// Number of imported tables.
    pub fn num_imported_tables(&self) -> u32 {
        self.count_imports(|k| matches!(k, ImportKind::Table(_)))
    }
    /// Number of imported memories.
    pub fn num_imported_memories(&self) -> u32 {
        self.count_imports(|k| matches!(k, ImportKind::Memory(_)))
    }
    /// Number of imported globals.
    pub fn num_imported_globals(&self) -> u32 {
        self.count_imports(|k| matches!(k, ImportKind::Global(_)))
    }
    fn count_imports(&self, f: impl Fn(&ImportKind) -> bool) -> u32 {
        u32::try_from(self.imports.iter().filter(|i| f(&i.kind)).count()).unwrap_or(u32::MAX)
    }

    /// The vmctx layout counts of this module.
    pub fn vmoffsets_counts(&self) -> crate::VMOffsetsCounts {
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let imported_memories = self.num_imported_memories();
        let imported_tables = self.num_imported_tables();
        let imported_globals = self.num_imported_globals();
        crate::VMOffsetsCounts {
            imported_memories,
            defined_memories: n(self.memories.len()).saturating_sub(imported_memories),
            imported_functions: self.num_imported_funcs(),
            imported_tables,
            imported_globals,
            defined_tables: n(self.tables.len()).saturating_sub(imported_tables),
            defined_globals: n(self.globals.len()).saturating_sub(imported_globals),
            escaped_functions: n(self.escaped_funcs.len()),
        }
    }

    /// The name of a function from the name section, if any.
    pub fn func_name(&self, func_index: u32) -> Option<&str> {
        self.func_names
            .binary_search_by_key(&func_index, |(i, _)| *i)
            .ok()
            .map(|i| self.func_names[i].1.as_str())
    }

    /// The type of a function.
    pub fn func_type(&self, func_index: u32) -> Option<&FuncType> {
        let ty = *self.functions.get(usize::try_from(func_index).ok()?)?;
        self.types.get(usize::try_from(ty).ok()?)
    }

    /// Encodes the metadata.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.opt_str(self.name.as_deref());
        w.u32(len32(self.types.len()));
        for t in &self.types {
            w.valtypes(&t.params);
            w.valtypes(&t.results);
        }
        w.u32(len32(self.imports.len()));
        for i in &self.imports {
            w.str(&i.module);
            w.str(&i.name);
            match &i.kind {
                ImportKind::Func(t) => {
                    w.u8(0);
                    w.u32(*t);
                }
                ImportKind::Table(t) => {
                    w.u8(1);
                    w.table(t);
                }
                ImportKind::Memory(m) => {
                    w.u8(2);
                    w.memory(m);
                }
                ImportKind::Global(g) => {
                    w.u8(3);
                    w.global(g);
                }
            }
        }
        w.u32s(&self.functions);
        w.u32(len32(self.defined_funcs.len()));
        for f in &self.defined_funcs {
            w.u32(f.text_off);
            w.u32(f.text_len);
            w.u32(f.entry_off);
            w.u32(f.func_ref_slot);
        }
        w.u32s(&self.escaped_funcs);
        w.u32(len32(self.tables.len()));
        for t in &self.tables {
            w.table(t);
        }
        w.u32(len32(self.memories.len()));
        for m in &self.memories {
            w.memory(m);
        }
        w.u32(len32(self.globals.len()));
        for g in &self.globals {
            w.global(g);
        }
        w.u32(len32(self.global_inits.len()));
        for e in &self.global_inits {
            w.const_expr(e);
        }
        w.u32(len32(self.exports.len()));
        for e in &self.exports {
            w.str(&e.name);
            w.u8(e.kind as u8);
            w.u32(e.index);
        }
        w.u32(self.start.unwrap_or(NONE));
        w.u32(len32(self.elems.len()));
        for e in &self.elems {
            w.mode(&e.mode);
            w.u8(e.element as u8);
            match &e.items {
                ElemItems::Functions(f) => {
                    w.u8(0);
                    w.u32s(f);
                }
                ElemItems::Exprs(x) => {
                    w.u8(1);
                    w.u32(len32(x.len()));
                    for e in x {
                        w.const_expr(e);
                    }
                }
            }
        }
        w.u32(len32(self.datas.len()));
        for d in &self.datas {
            w.mode(&d.mode);
            w.u32(d.data_off);
            w.u32(d.data_len);
        }
        w.u32s(&self.host_trampolines);
        w.u32(len32(self.func_names.len()));
        for (i, n) in &self.func_names {
            w.u32(*i);
            w.str(n);
        }
        w.out
    }

    /// Decodes metadata, checking every count, index and string. Cross-references (a type
    /// index of a function, an export index) are checked too, so the loader may index with
    /// them.
    pub fn decode(bytes: &[u8]) -> Result<ModuleMetadata, DecodeError> {
        let mut r = Reader { bytes, pos: 0 };
        let mut m = ModuleMetadata {
            name: r.opt_str()?,
            ..Default::default()
        };
        let n = r.count(2, "types")?;
        for _ in 0..n {
            let params = r.valtypes()?;
            let results = r.valtypes()?;
            m.types.push(FuncType { params, results });
        }
        let n = r.count(9, "imports")?;
        for _ in 0..n {
            let module = r.str()?;
            let name = r.str()?;
            let kind = match r.u8("import kind")? {
                0 => ImportKind::Func(r.u32()?),
                1 => ImportKind::Table(r.table()?),
                2 => ImportKind::Memory(r.memory()?),
                3 => ImportKind::Global(r.global()?),
                k => {
                    return Err(DecodeError::Invalid {
                        what: "import kind",
                        value: u64::from(k),
                    });
                }
            };
            m.imports.push(Import { module, name, kind });
        }
        m.functions = r.u32s("functions")?;
        let n = r.count(16, "defined functions")?;
        for _ in 0..n {
            m.defined_funcs.push(DefinedFunc {
                text_off: r.u32()?,
                text_len: r.u32()?,
                entry_off: r.u32()?,
                func_ref_slot: r.u32()?,
            });
        }
        m.escaped_funcs = r.u32s("escaped functions")?;
        let n = r.count(4, "tables")?;
        for _ in 0..n {
            m.tables.push(r.table()?);
        }
        let n = r.count(4, "memories")?;
        for _ in 0..n {
            m.memories.push(r.memory()?);
        }
        let n = r.count(2, "globals")?;
        for _ in 0..n {
            m.globals.push(r.global()?);
        }
        let n = r.count(4, "global initialisers")?;
        for _ in 0..n {
            m.global_inits.push(r.const_expr()?);
        }
        let n = r.count(9, "exports")?;
        for _ in 0..n {
            let name = r.str()?;
            let kind = match r.u8("export kind")? {
                0 => ExternKind::Func,
                1 => ExternKind::Table,
                2 => ExternKind::Memory,
                3 => ExternKind::Global,
                k => {
                    return Err(DecodeError::Invalid {
                        what: "export kind",
                        value: u64::from(k),
                    });
                }
            };
            m.exports.push(Export {
                name,
                kind,
                index: r.u32()?,
            });
        }
        let start = r.u32()?;
        m.start = (start != NONE).then_some(start);
        let n = r.count(3, "element segments")?;
        for _ in 0..n {
            let mode = r.mode()?;
            let element = r.valtype()?;
            let items = match r.u8("element items")? {
                0 => ElemItems::Functions(r.u32s("element functions")?),
                1 => {
                    let n = r.count(4, "element expressions")?;
                    let mut v = Vec::with_capacity(n);
                    for _ in 0..n {
                        v.push(r.const_expr()?);
                    }
                    ElemItems::Exprs(v)
                }
                k => {
                    return Err(DecodeError::Invalid {
                        what: "element items",
                        value: u64::from(k),
                    });
                }
            };
            m.elems.push(ElemSegment {
                mode,
                element,
                items,
            });
        }
        let n = r.count(9, "data segments")?;
        for _ in 0..n {
            let mode = r.mode()?;
            m.datas.push(DataSegment {
                mode,
                data_off: r.u32()?,
                data_len: r.u32()?,
            });
        }
        m.host_trampolines = r.u32s("host trampolines")?;
        let n = r.count(8, "function names")?;
        for _ in 0..n {
            let i = r.u32()?;
            let s = r.str()?;
            m.func_names.push((i, s));
        }
        if r.pos != bytes.len() {
            return Err(DecodeError::TrailingBytes);
        }
        m.check_references()?;
        Ok(m)
    }

    /// Checks that every index stored in the metadata is in range, so the loader can index
    /// with them without further checks.
    fn check_references(&self) -> Result<(), DecodeError> {
        let bad = |what: &'static str, value: u32| {
            Err(DecodeError::Invalid {
                what,
                value: u64::from(value),
            })
        };
        let ntypes = self.types.len();
        let nfuncs = self.functions.len();
        let nimported = self.num_imported_funcs() as usize;
        for i in &self.imports {
            if let ImportKind::Func(t) = i.kind
                && t as usize >= ntypes
            {
                return bad("import type index", t);
            }
        }
        for &t in &self.functions {
            if t as usize >= ntypes {
                return bad("function type index", t);
            }
        }
        if nimported > nfuncs || nfuncs - nimported != self.defined_funcs.len() {
            return bad("defined function count", len32(self.defined_funcs.len()));
        }
        for (slot, &f) in self.escaped_funcs.iter().enumerate() {
            let def = (f as usize)
                .checked_sub(nimported)
                .and_then(|d| self.defined_funcs.get(d));
            match def {
                Some(d) if d.func_ref_slot as usize == slot && d.entry_off != NONE => {}
                _ => return bad("escaped function", f),
            }
        }
        for d in &self.defined_funcs {
            if d.func_ref_slot != NONE && d.func_ref_slot as usize >= self.escaped_funcs.len() {
                return bad("function reference slot", d.func_ref_slot);
            }
        }
        if self.num_imported_globals() as usize > self.globals.len()
            || self.globals.len() - self.num_imported_globals() as usize != self.global_inits.len()
        {
            return bad("global initialiser count", len32(self.global_inits.len()));
        }
        if self.num_imported_tables() as usize > self.tables.len() {
            return bad("table count", len32(self.tables.len()));
        }
        if self.num_imported_memories() as usize > self.memories.len() {
            return bad("memory count", len32(self.memories.len()));
        }
        for e in &self.exports {
            let limit = match e.kind {
                ExternKind::Func => nfuncs,
                ExternKind::Table => self.tables.len(),
                ExternKind::Memory => self.memories.len(),
                ExternKind::Global => self.globals.len(),
            };
            if e.index as usize >= limit {
                return bad("export index", e.index);
            }
        }
        if let Some(s) = self.start
            && s as usize >= nfuncs
        {
            return bad("start function", s);
        }
        let check_expr = |e: &ConstExpr| -> Result<(), DecodeError> {
            for op in &e.ops {
                match *op {
                    ConstOp::RefFunc(f) if f as usize >= nfuncs => return bad("ref.func index", f),
                    ConstOp::GlobalGet(g) if g as usize >= self.globals.len() => {
                        return bad("global.get index", g);
                    }
                    _ => {}
                }
            }
            Ok(())
        };
        for e in &self.global_inits {
            check_expr(e)?;
        }
        for s in &self.elems {
            if let SegmentMode::Active { index, offset } = &s.mode {
                if *index as usize >= self.tables.len() {
                    return bad("element segment table", *index);
                }
                check_expr(offset)?;
            }
            match &s.items {
                ElemItems::Functions(f) => {
                    if let Some(&f) = f.iter().find(|&&f| f as usize >= nfuncs) {
                        return bad("element function index", f);
                    }
                }
                ElemItems::Exprs(x) => {
                    for e in x {
                        check_expr(e)?;
                    }
                }
            }
        }
        for d in &self.datas {
            if let SegmentMode::Active { index, offset } = &d.mode {
                if *index as usize >= self.memories.len() {
                    return bad("data segment memory", *index);
                }
                check_expr(offset)?;
            }
        }
        if self.host_trampolines.len() != ntypes {
            return bad("host trampoline count", len32(self.host_trampolines.len()));
        }
        Ok(())
    }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[derive(Default)]
struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn u32s(&mut self, v: &[u32]) {
        self.u32(len32(v.len()));
        for &x in v {
            self.u32(x);
        }
    }
    fn str(&mut self, s: &str) {
        self.u32(len32(s.len()));
        self.out.extend_from_slice(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    fn valtypes(&mut self, v: &[ValType]) {
        self.u32(len32(v.len()));
        for t in v {
            self.u8(*t as u8);
        }
    }
    fn opt_u64(&mut self, v: Option<u64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.u64(v);
            }
        }
    }
    fn table(&mut self, t: &TableType) {
        self.u8(t.element as u8);
        self.u64(t.min);
        self.opt_u64(t.max);
        self.u8(u8::from(t.idx64));
    }
    fn memory(&mut self, m: &MemoryType) {
        self.u64(m.min);
        self.opt_u64(m.max);
        self.u8(u8::from(m.idx64) | (u8::from(m.shared) << 1));
        self.u8(m.page_size_log2);
    }
    fn global(&mut self, g: &GlobalType) {
        self.u8(g.ty as u8);
        self.u8(u8::from(g.mutable));
    }
    fn const_expr(&mut self, e: &ConstExpr) {
        self.u32(len32(e.ops.len()));
        for op in &e.ops {
            match *op {
                ConstOp::I32Const(v) => {
                    self.u8(0);
                    self.u32(v as u32);
                }
                ConstOp::I64Const(v) => {
                    self.u8(1);
                    self.u64(v as u64);
                }
                ConstOp::F32Const(v) => {
                    self.u8(2);
                    self.u32(v);
                }
                ConstOp::F64Const(v) => {
                    self.u8(3);
                    self.u64(v);
                }
                ConstOp::V128Const(v) => {
                    self.u8(4);
                    self.out.extend_from_slice(&v.to_le_bytes());
                }
                ConstOp::RefNull(t) => {
                    self.u8(5);
                    self.u8(t as u8);
                }
                ConstOp::RefFunc(f) => {
                    self.u8(6);
                    self.u32(f);
                }
                ConstOp::GlobalGet(g) => {
                    self.u8(7);
                    self.u32(g);
                }
                ConstOp::I32Add => self.u8(8),
                ConstOp::I32Sub => self.u8(9),
                ConstOp::I32Mul => self.u8(10),
                ConstOp::I64Add => self.u8(11),
                ConstOp::I64Sub => self.u8(12),
                ConstOp::I64Mul => self.u8(13),
            }
        }
    }
    fn mode(&mut self, m: &SegmentMode) {
        match m {
            SegmentMode::Active { index, offset } => {
                self.u8(0);
                self.u32(*index);
                self.const_expr(offset);
            }
            SegmentMode::Passive => self.u8(1),
            SegmentMode::Declared => self.u8(2),
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(DecodeError::Truncated { what })?;
        let s = self
            .bytes
            .get(self.pos..end)
            .ok_or(DecodeError::Truncated { what })?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4, "u32")?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8, "u64")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    /// A count of items that take at least `min_size` bytes each: refused if the bytes left
    /// cannot hold them, so a corrupt count never causes a large allocation.
    fn count(&mut self, min_size: usize, what: &'static str) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        let left = self.bytes.len() - self.pos;
        if n.saturating_mul(min_size.max(1)) > left {
            return Err(DecodeError::Truncated { what });
        }
        Ok(n)
    }
    fn u32s(&mut self, what: &'static str) -> Result<Vec<u32>, DecodeError> {
        let n = self.count(4, what)?;
        (0..n).map(|_| self.u32()).collect()
    }
    fn str(&mut self) -> Result<String, DecodeError> {
        let n = self.count(1, "string")?;
        let b = self.take(n, "string")?;
        core::str::from_utf8(b)
            .map(str::to_string)
            .map_err(|_| DecodeError::BadString)
    }
    fn opt_str(&mut self) -> Result<Option<String>, DecodeError> {
        match self.u8("optional string")? {
            0 => Ok(None),
            1 => Ok(Some(self.str()?)),
            v => Err(DecodeError::Invalid {
                what: "optional string tag",
                value: u64::from(v),
            }),
        }
    }
    fn valtype(&mut self) -> Result<ValType, DecodeError> {
        let b = self.u8("value type")?;
        ValType::from_u8(b).ok_or(DecodeError::Invalid {
            what: "value type",
            value: u64::from(b),
        })
    }
    fn valtypes(&mut self) -> Result<Vec<ValType>, DecodeError> {
        let n = self.count(1, "value types")?;
        (0..n).map(|_| self.valtype()).collect()
    }
    fn opt_u64(&mut self) -> Result<Option<u64>, DecodeError> {
        match self.u8("optional u64")? {
            0 => Ok(None),
            1 => Ok(Some(self.u64()?)),
            v => Err(DecodeError::Invalid {
                what: "optional u64 tag",
                value: u64::from(v),
            }),
        }
    }
    fn table(&mut self) -> Result<TableType, DecodeError> {
        let element = self.valtype()?;
        if !element.is_ref() {
            return Err(DecodeError::Invalid {
                what: "table element type",
                value: element as u64,
            });
        }
        Ok(TableType {
            element,
            min: self.u64()?,
            max: self.opt_u64()?,
            idx64: self.u8("table64")? != 0,
        })
    }
    fn memory(&mut self) -> Result<MemoryType, DecodeError> {
        let min = self.u64()?;
        let max = self.opt_u64()?;
        let fl = self.u8("memory flags")?;
        let page_size_log2 = self.u8("page size")?;
        if page_size_log2 > 16 {
            return Err(DecodeError::Invalid {
                what: "page size log2",
                value: u64::from(page_size_log2),
            });
        }
        Ok(MemoryType {
            min,
            max,
            idx64: fl & 1 != 0,
            shared: fl & 2 != 0,
            page_size_log2,
        })
    }
    fn global(&mut self) -> Result<GlobalType, DecodeError> {
        Ok(GlobalType {
            ty: self.valtype()?,
            mutable: self.u8("global mutability")? != 0,
        })
    }
    fn const_expr(&mut self) -> Result<ConstExpr, DecodeError> {
        let n = self.count(1, "constant expression")?;
        let mut ops = Vec::with_capacity(n);
        for _ in 0..n {
            ops.push(match self.u8("constant op")? {
                0 => ConstOp::I32Const(self.u32()? as i32),
                1 => ConstOp::I64Const(self.u64()? as i64),
                2 => ConstOp::F32Const(self.u32()?),
                3 => ConstOp::F64Const(self.u64()?),
                4 => {
                    let b = self.take(16, "v128")?;
                    let mut a = [0u8; 16];
                    a.copy_from_slice(b);
                    ConstOp::V128Const(u128::from_le_bytes(a))
                }
                5 => ConstOp::RefNull(self.valtype()?),
                6 => ConstOp::RefFunc(self.u32()?),
                7 => ConstOp::GlobalGet(self.u32()?),
                8 => ConstOp::I32Add,
                9 => ConstOp::I32Sub,
                10 => ConstOp::I32Mul,
                11 => ConstOp::I64Add,
                12 => ConstOp::I64Sub,
                13 => ConstOp::I64Mul,
                k => {
                    return Err(DecodeError::Invalid {
                        what: "constant op",
                        value: u64::from(k),
                    });
                }
            });
        }
        Ok(ConstExpr { ops })
    }
    fn mode(&mut self) -> Result<SegmentMode, DecodeError> {
        match self.u8("segment mode")? {
            0 => Ok(SegmentMode::Active {
                index: self.u32()?,
                offset: self.const_expr()?,
            }),
            1 => Ok(SegmentMode::Passive),
            2 => Ok(SegmentMode::Declared),
            k => Err(DecodeError::Invalid {
                what: "segment mode",
                value: u64::from(k),
            }),
        }
    }
}

/// Encodes the trap table: `count: u32`, then `count` sorted `u32` text offsets, then `count`
/// [`crate::TrapCode`] bytes. `entries` must be sorted by offset.
pub fn encode_trap_table(entries: &[(u32, crate::TrapCode)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + entries.len() * 5);
    out.extend_from_slice(&len32(entries.len()).to_le_bytes());
    for (off, _) in entries {
        out.extend_from_slice(&off.to_le_bytes());
    }
    for (_, code) in entries {
        out.push(*code as u8);
    }
    out
}

/// Checks the shape of an encoded trap table (size and sortedness) once at load time, so
/// [`lookup_trap`] can then run in a signal handler without further checks.
pub fn validate_trap_table(bytes: &[u8]) -> Result<(), DecodeError> {
    let n = bytes
        .get(0..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or(DecodeError::Truncated { what: "trap table" })?;
    if n.checked_mul(5).and_then(|x| x.checked_add(4)) != Some(bytes.len()) {
        return Err(DecodeError::Truncated { what: "trap table" });
    }
    let mut prev = None;
    for i in 0..n {
        let o = 4 + i * 4;
        let off = u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        if prev.is_some_and(|p| p > off) {
            return Err(DecodeError::Invalid {
                what: "trap table order",
                value: u64::from(off),
            });
        }
        prev = Some(off);
        let code = bytes[4 + n * 4 + i];
        if crate::TrapCode::from_u8(code).is_none() {
            return Err(DecodeError::Invalid {
                what: "trap code",
                value: u64::from(code),
            });
        }
    }
    Ok(())
}

/// Finds the trap code recorded at `text_off` in an encoded trap table. Allocation-free and
/// lock-free: safe to call from a signal handler. Returns `None` for a malformed table.
pub fn lookup_trap(bytes: &[u8], text_off: u32) -> Option<crate::TrapCode> {
    let n = u32::from_le_bytes(bytes.get(0..4)?.try_into().ok()?) as usize;
    let offs = bytes.get(4..4 + n.checked_mul(4)?)?;
    let codes = bytes.get(4 + n * 4..4 + n * 5)?;
    let at = |i: usize| {
        u32::from_le_bytes([
            offs[i * 4],
            offs[i * 4 + 1],
            offs[i * 4 + 2],
            offs[i * 4 + 3],
        ])
    };
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match at(mid).cmp(&text_off) {
            core::cmp::Ordering::Less => lo = mid + 1,
            core::cmp::Ordering::Greater => hi = mid,
            core::cmp::Ordering::Equal => return crate::TrapCode::from_u8(codes[mid]),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrapCode;

    fn sample() -> ModuleMetadata {
        ModuleMetadata {
            name: Some("m".into()),
            types: vec![
                FuncType::new([ValType::I32], [ValType::I64]),
                FuncType::default(),
            ],
            imports: vec![
                Import {
                    module: "env".into(),
                    name: "f".into(),
                    kind: ImportKind::Func(1),
                },
                Import {
                    module: "env".into(),
                    name: "mem".into(),
                    kind: ImportKind::Memory(MemoryType {
                        min: 1,
                        max: Some(2),
                        idx64: false,
                        shared: false,
                        page_size_log2: 16,
                    }),
                },
            ],
            functions: vec![1, 0],
            defined_funcs: vec![DefinedFunc {
                text_off: 0,
                text_len: 16,
                entry_off: 32,
                func_ref_slot: 0,
            }],
            escaped_funcs: vec![1],
            tables: vec![TableType {
                element: ValType::FuncRef,
                min: 1,
                max: None,
                idx64: false,
            }],
            memories: vec![MemoryType {
                min: 1,
                max: Some(2),
                idx64: false,
                shared: false,
                page_size_log2: 16,
            }],
            globals: vec![GlobalType {
                ty: ValType::I32,
                mutable: true,
            }],
            global_inits: vec![ConstExpr {
                ops: vec![ConstOp::I32Const(1), ConstOp::I32Const(2), ConstOp::I32Add],
            }],
            exports: vec![Export {
                name: "run".into(),
                kind: ExternKind::Func,
                index: 1,
            }],
            start: Some(1),
            elems: vec![ElemSegment {
                mode: SegmentMode::Active {
                    index: 0,
                    offset: ConstExpr::single(ConstOp::I32Const(0)),
                },
                element: ValType::FuncRef,
                items: ElemItems::Functions(vec![1]),
            }],
            datas: vec![DataSegment {
                mode: SegmentMode::Passive,
                data_off: 0,
                data_len: 3,
            }],
            host_trampolines: vec![NONE, 64],
            func_names: vec![(1, "run".into())],
        }
    }

    #[test]
    fn metadata_round_trips() {
        let m = sample();
        assert_eq!(ModuleMetadata::decode(&m.encode()).unwrap(), m);
        assert_eq!(m.func_name(1), Some("run"));
        assert_eq!(m.func_type(1).unwrap().params, vec![ValType::I32]);
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error_or_decodes() {
        let bytes = sample().encode();
        for n in 0..bytes.len() {
            assert!(
                ModuleMetadata::decode(&bytes[..n]).is_err(),
                "prefix {n} decoded"
            );
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                let _ = ModuleMetadata::decode(&b);
            }
        }
    }

    #[test]
    fn bad_references_are_refused() {
        let mut m = sample();
        m.exports[0].index = 9;
        assert!(matches!(
            ModuleMetadata::decode(&m.encode()),
            Err(DecodeError::Invalid { .. })
        ));
        let mut m = sample();
        m.functions[1] = 7;
        assert!(ModuleMetadata::decode(&m.encode()).is_err());
    }

    #[test]
    fn header_round_trips_and_checks_magic_then_version() {
        let h = ArtifactHeader {
            format_version: FORMAT_VERSION,
            target: Target::Aarch64Darwin,
            layout_hash: crate::vmoffsets::layout_hash(),
            isa_features: isa_features::X86_SSE41,
            flags: flags::EPOCH_INTERRUPTION,
            memory_reservation: 1 << 32,
            memory_guard: 32 << 20,
            meta_hash: 42,
            compiler_version: "0.1.0".into(),
            checksum: [7; 32],
        };
        let b = h.encode();
        assert_eq!(ArtifactHeader::decode(&b).unwrap(), h);
        let mut bad = b;
        bad[0] = b'X';
        assert_eq!(ArtifactHeader::decode(&bad), Err(DecodeError::BadMagic));
        let mut old = b;
        old[8] = 0;
        assert!(matches!(
            ArtifactHeader::decode(&old),
            Err(DecodeError::FormatVersion { found: 0, .. })
        ));
        assert!(ArtifactHeader::decode(&b[..50]).is_err());
        assert_eq!(ArtifactHeader::check_prefix(&b), Ok([7; 32]));
    }

    #[test]
    fn checksum_parts_zero_the_checksum_and_prefix_lengths() {
        let mut header = [1u8; HEADER_SIZE];
        let mut parts: Vec<Vec<u8>> = Vec::new();
        checksum_parts(&header, b"m", b"", b"dd", b"t", |b| parts.push(b.to_vec()));
        assert_eq!(parts.len(), 9);
        assert!(parts[0][CHECKSUM_RANGE].iter().all(|b| *b == 0));
        assert_eq!(parts[1], 1u64.to_le_bytes());
        assert_eq!(parts[5], 2u64.to_le_bytes());
        // The stored checksum does not feed itself.
        header[CHECKSUM_RANGE].fill(9);
        let mut again: Vec<Vec<u8>> = Vec::new();
        checksum_parts(&header, b"m", b"", b"dd", b"t", |b| again.push(b.to_vec()));
        assert_eq!(parts, again);
    }

    #[test]
    fn trap_table_lookup() {
        let t = encode_trap_table(&[
            (4, TrapCode::UnreachableCodeReached),
            (10, TrapCode::MemoryOutOfBounds),
        ]);
        validate_trap_table(&t).unwrap();
        assert_eq!(lookup_trap(&t, 4), Some(TrapCode::UnreachableCodeReached));
        assert_eq!(lookup_trap(&t, 10), Some(TrapCode::MemoryOutOfBounds));
        assert_eq!(lookup_trap(&t, 5), None);
        assert!(validate_trap_table(&t[..t.len() - 1]).is_err());
        let unsorted = encode_trap_table(&[(10, TrapCode::Interrupt), (4, TrapCode::Interrupt)]);
        assert!(validate_trap_table(&unsorted).is_err());
        assert_eq!(lookup_trap(&[], 0), None);
    }

    #[test]
    fn target_triples() {
        for t in Target::ALL {
            assert_eq!(Target::from_triple(t.triple()), Some(t));
        }
        assert_eq!(Target::from_triple("riscv64-linux"), None);
    }
}
