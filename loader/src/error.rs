//! The loader's one error type, [`Error`], and the [`Trap`] it carries when Wasm traps.
//!
//! `Error` is a single boxed word so that `Result<T, Error>` stays small on the hot call path
//! (pinned by a test below). Its [`ErrorKind`] says what went wrong in terms a caller can act
//! on: a trap, a link failure naming the import, a refused artifact, a host function's own
//! error (returned unchanged), or a WASI exit.

use std::fmt;

use wasmc_abi::TrapCode;

/// Anything that can go wrong while loading, linking, instantiating or calling.
pub struct Error {
    kind: Box<ErrorKind>,
}

/// What went wrong; see [`Error::kind`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Wasm code trapped (or a segment was out of bounds during instantiation).
    Trap(Trap),
    /// An import could not be resolved or has the wrong type.
    Link {
        /// Module name of the import.
        module: String,
        /// Field name of the import.
        name: String,
        /// What is wrong, naming the expected and the found type.
        message: String,
    },
    /// The artifact was refused.
    Load(LoadError),
    /// A host function failed; this is its error, unchanged.
    Host(Box<dyn std::error::Error + Send + Sync>),
    /// The program asked to exit with this status (WASI `proc_exit`).
    Exit(i32),
    /// Instantiation failed for a reason other than linking or a trap (resources, limits,
    /// a feature the loader does not support).
    Instantiate(String),
    /// The API was used wrongly: wrong argument count or type, a handle from another store.
    Usage(String),
}

/// Why an artifact was refused by [`crate::Artifact::from_file`] or
/// [`crate::Artifact::from_bytes`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read or mapped.
    #[error("cannot read artifact {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The bytes are not an ELF or Mach-O object.
    #[error("not an object file: {0}")]
    NotAnObject(String),
    /// The object is not a wasmc artifact (a section is missing).
    #[error("not a wasmc artifact: {0}")]
    NotAnArtifact(String),
    /// The header could not be decoded (bad magic, other format version, truncated).
    #[error("bad artifact header: {0}")]
    Header(wasmc_abi::DecodeError),
    /// The artifact was written with another vmctx layout.
    #[error(
        "artifact layout hash {found:#018x} does not match this loader's {expected:#018x}; rebuild it with this wasmc"
    )]
    LayoutMismatch {
        /// Hash in the artifact.
        found: u64,
        /// Hash of this loader.
        expected: u64,
    },
    /// The artifact was written by another version of the wasmc compiler.
    #[error(
        "artifact was built by wasmc compiler version {found:?}, but this loader is version {expected:?}; rebuild the artifact with this wasmc version"
    )]
    CompilerVersion {
        /// Version recorded in the artifact.
        found: String,
        /// Version of this loader (`wasmc_abi::metadata::COMPILER_VERSION`).
        expected: &'static str,
    },
    /// The artifact targets another platform.
    #[error("artifact was compiled for {artifact}, but this host is {host}")]
    WrongTarget {
        /// The artifact's target.
        artifact: String,
        /// The host's target.
        host: String,
    },
    /// The artifact's code relies on runtime behaviour this loader does not know.
    #[error(
        "artifact has header flags {0:#x} this loader does not know; rebuild it with this wasmc"
    )]
    UnknownFlags(u32),
    /// The artifact's header flags contradict each other.
    #[error(
        "artifact header flags {0:#x} contradict each other (stopped by signal but not interruptible); rebuild it with this wasmc"
    )]
    InconsistentFlags(u32),
    /// The artifact uses CPU features this host lacks.
    #[error("artifact needs CPU features this host lacks: {}", .0.join(", "))]
    MissingCpuFeatures(Vec<&'static str>),
    /// The artifact assumes more guard or reservation than this loader provides.
    #[error(
        "artifact assumes a {what} of {artifact:#x} bytes but this loader provides {loader:#x}"
    )]
    MemoryConfig {
        /// `"memory reservation"` or `"memory guard"`.
        what: &'static str,
        /// Bytes assumed by the artifact.
        artifact: u64,
        /// Bytes provided by the loader.
        loader: u64,
    },
    /// The whole-artifact checksum does not match the one recorded in the header: the file
    /// was damaged (truncated, bit-flipped, partly overwritten) after it was written.
    #[error(
        "corrupt artifact: checksum {found} does not match the header's {expected}; the file was damaged after it was written"
    )]
    Checksum {
        /// Checksum recorded in the header (hex).
        expected: String,
        /// Checksum of the bytes as found (hex).
        found: String,
    },
    /// The metadata section does not match its hash in the header.
    #[error("corrupt metadata: hash {found:#018x} does not match the header's {expected:#018x}")]
    MetaHash {
        /// Hash recorded in the header.
        expected: u64,
        /// Hash of the section as found.
        found: u64,
    },
    /// A section could not be decoded.
    #[error("corrupt {section}: {error}")]
    Corrupt {
        /// The section.
        section: &'static str,
        /// What was wrong.
        error: wasmc_abi::DecodeError,
    },
    /// The object has relocations against code or undefined symbols: its code would need
    /// patching, which wasmc artifacts never do.
    #[error("artifact is not self-contained: {0}")]
    Relocations(String),
    /// A value in the metadata points outside its section.
    #[error("corrupt metadata: {0}")]
    BadMetadata(String),
    /// The code could not be made executable.
    #[error("cannot map code: {0}")]
    Map(std::io::Error),
}

/// A Wasm trap: the code, and the function it happened in when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    /// Why execution stopped.
    pub code: TrapCode,
    /// Index (in the module's function index space) of the function that trapped, if known.
    pub func_index: Option<u32>,
    /// Name of that function from the name section, if any.
    pub func_name: Option<String>,
    /// A more specific explanation than the code's own text, when the loader has one (for
    /// example which unknown import was called); shown instead of the code's message.
    pub message: Option<String>,
    /// The Wasm functions on the stack when the trap fired, innermost (the trapping one)
    /// first, as far as the frame-pointer walk reached (at most 64). Empty for traps raised
    /// outside Wasm code, such as segment failures during instantiation.
    pub backtrace: Vec<TrapFrame>,
}

/// One Wasm function in a [`Trap`]'s backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapFrame {
    /// Index of the function in its module's function index space.
    pub func_index: u32,
    /// Its name from the name section, if any.
    pub func_name: Option<String>,
}

impl fmt::Display for TrapFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.func_name {
            Some(name) => write!(f, "{name} (function {})", self.func_index),
            None => write!(f, "function {}", self.func_index),
        }
    }
}

impl Trap {
    /// A trap with no location (instantiation-time segment failures, builtins).
    pub fn new(code: TrapCode) -> Trap {
        Trap {
            code,
            func_index: None,
            func_name: None,
            message: None,
            backtrace: Vec::new(),
        }
    }

    /// A trap with no location and a specific explanation.
    pub fn with_message(code: TrapCode, message: impl Into<String>) -> Trap {
        Trap {
            message: Some(message.into()),
            ..Trap::new(code)
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "wasm trap: {m}")?,
            None => write!(f, "wasm trap: {}", self.code.message())?,
        }
        match (&self.func_name, self.func_index) {
            (Some(n), _) => write!(f, " in function {n}"),
            (None, Some(i)) => write!(f, " in function {i}"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for Trap {}

impl Error {
    /// Creates an error of the given kind.
    pub fn new(kind: ErrorKind) -> Error {
        Error {
            kind: Box::new(kind),
        }
    }

    /// A host error: what a host function returns when it fails. It reaches the caller of
    /// the Wasm function unchanged and can be recovered with [`Error::downcast_ref`].
    pub fn host(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        Error::new(ErrorKind::Host(error.into()))
    }

    /// A trap with the given code (a host function may return one to trap the caller).
    pub fn trap(code: TrapCode) -> Error {
        Error::new(ErrorKind::Trap(Trap::new(code)))
    }

    /// An exit request with a status (WASI `proc_exit`).
    pub fn exit(status: i32) -> Error {
        Error::new(ErrorKind::Exit(status))
    }

    pub(crate) fn usage(msg: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage(msg.into()))
    }

    pub(crate) fn instantiate(msg: impl Into<String>) -> Error {
        Error::new(ErrorKind::Instantiate(msg.into()))
    }

    pub(crate) fn link(module: &str, name: &str, message: String) -> Error {
        Error::new(ErrorKind::Link {
            module: module.to_string(),
            name: name.to_string(),
            message,
        })
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Consumes the error, returning its kind.
    pub fn into_kind(self) -> ErrorKind {
        *self.kind
    }

    /// The trap code if this is a trap.
    pub fn trap_code(&self) -> Option<TrapCode> {
        self.as_trap().map(|t| t.code)
    }

    /// The trap if this is one.
    pub fn as_trap(&self) -> Option<&Trap> {
        match &*self.kind {
            ErrorKind::Trap(t) => Some(t),
            _ => None,
        }
    }

    /// The exit status if this is an exit request.
    pub fn exit_code(&self) -> Option<i32> {
        match &*self.kind {
            ErrorKind::Exit(c) => Some(*c),
            _ => None,
        }
    }

    /// The host error, downcast to `E`, if this is a host error of that type.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match &*self.kind {
            ErrorKind::Host(e) => e.downcast_ref::<E>(),
            _ => None,
        }
    }

    /// Whether Wasm was stopped by the host: a deadline passed
    /// ([`crate::Store::set_deadline`]), an [`crate::InterruptHandle`] fired, or the epoch
    /// deadline passed ([`crate::Store::set_epoch_deadline`]). The trap code is
    /// [`TrapCode::Interrupt`]; the store can be used again.
    pub fn is_interrupt(&self) -> bool {
        self.trap_code() == Some(TrapCode::Interrupt)
    }

    /// Whether this is a trap (including an interrupt).
    pub fn is_trap(&self) -> bool {
        matches!(&*self.kind, ErrorKind::Trap(_))
    }

    /// Whether this is a link error.
    pub fn is_link(&self) -> bool {
        matches!(&*self.kind, ErrorKind::Link { .. })
    }

    /// Whether this is a load error.
    pub fn is_load(&self) -> bool {
        matches!(&*self.kind, ErrorKind::Load(_))
    }
}

impl From<LoadError> for Error {
    fn from(e: LoadError) -> Error {
        Error::new(ErrorKind::Load(e))
    }
}

impl From<Trap> for Error {
    fn from(t: Trap) -> Error {
        Error::new(ErrorKind::Trap(t))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.kind {
            ErrorKind::Trap(t) => t.fmt(f),
            ErrorKind::Link { message, .. } => f.write_str(message),
            ErrorKind::Load(e) => write!(f, "cannot load artifact: {e}"),
            ErrorKind::Host(e) => e.fmt(f),
            ErrorKind::Exit(c) => write!(f, "exited with status {c}"),
            ErrorKind::Instantiate(m) => write!(f, "instantiation failed: {m}"),
            ErrorKind::Usage(m) => f.write_str(m),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Show the message first: `unwrap()` on a `Result<_, Error>` prints this.
        write!(f, "{self} ({:?})", self.kind)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.kind {
            ErrorKind::Trap(t) => Some(t),
            ErrorKind::Load(e) => Some(e),
            ErrorKind::Host(e) => Some(&**e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_word() {
        assert_eq!(size_of::<Error>(), size_of::<usize>());
        assert_eq!(size_of::<Result<(), Error>>(), size_of::<usize>());
    }

    #[test]
    fn trap_display_names_the_function() {
        let mut t = Trap::new(TrapCode::UnreachableCodeReached);
        assert_eq!(t.to_string(), "wasm trap: unreachable");
        t.func_index = Some(3);
        assert_eq!(t.to_string(), "wasm trap: unreachable in function 3");
        t.func_name = Some("f".into());
        assert_eq!(t.to_string(), "wasm trap: unreachable in function f");
        let e = Error::from(t);
        assert_eq!(e.trap_code(), Some(TrapCode::UnreachableCodeReached));
    }

    #[derive(Debug)]
    struct MyErr;
    impl fmt::Display for MyErr {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("mine")
        }
    }
    impl std::error::Error for MyErr {}

    #[test]
    fn host_errors_downcast() {
        let e = Error::host(MyErr);
        assert!(e.downcast_ref::<MyErr>().is_some());
        assert_eq!(e.to_string(), "mine");
        assert_eq!(e.trap_code(), None);
        assert_eq!(Error::exit(3).exit_code(), Some(3));
    }
}
