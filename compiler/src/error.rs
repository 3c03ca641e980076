//! `CompileError`: why a module could not be compiled.
//!
//! Variants mean something to a caller: the input is not valid Wasm (`Invalid`), it uses
//! something wasmc does not compile yet (`Unsupported`), the target cannot be built
//! (`Target`), or Cranelift failed on input we produced (`Codegen`, always a wasmc bug).

use wasmparser::BinaryReaderError;

/// Why a module could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// The bytes are not a valid WebAssembly module (parse or validation error).
    #[error("{message} (at offset 0x{offset:x})")]
    Invalid {
        /// What is wrong, as the validator words it.
        message: String,
        /// Byte offset in the Wasm input.
        offset: u64,
    },
    /// The module is valid but uses something wasmc does not compile (yet).
    #[error("{message} (at offset 0x{offset:x})")]
    Unsupported {
        /// What is not supported.
        message: String,
        /// Byte offset in the Wasm input.
        offset: u64,
    },
    /// Cranelift refused the code we generated (verifier or lowering failure), or the code
    /// could not be laid out. This is a wasmc bug.
    #[error("code generation failed{}: {message}", func_index.map(|i| format!(" in function {i}")).unwrap_or_default())]
    Codegen {
        /// The function being compiled, when the failure belongs to one.
        func_index: Option<u32>,
        /// What failed.
        message: String,
    },
    /// The compilation target cannot be set up.
    #[error("bad compilation target: {message}")]
    Target {
        /// What is wrong with the target.
        message: String,
    },
    /// The compilation was cancelled through its `CompileControl`.
    #[error("compilation cancelled")]
    Cancelled,
}

impl CompileError {
    /// A validation or parse error from wasmparser.
    pub(crate) fn invalid(e: &BinaryReaderError) -> CompileError {
        CompileError::Invalid {
            message: e.message().to_string(),
            offset: e.offset(),
        }
    }

    /// Something valid that wasmc does not compile.
    pub(crate) fn unsupported(message: impl Into<String>, offset: u64) -> CompileError {
        CompileError::Unsupported {
            message: message.into(),
            offset,
        }
    }

    /// A code generation failure.
    pub(crate) fn codegen(func_index: Option<u32>, message: impl Into<String>) -> CompileError {
        CompileError::Codegen {
            func_index,
            message: message.into(),
        }
    }
}

impl From<BinaryReaderError> for CompileError {
    fn from(e: BinaryReaderError) -> CompileError {
        CompileError::invalid(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_is_formatted_like_wasmparser() {
        let e = CompileError::Invalid {
            message: "type mismatch".into(),
            offset: 0x2a,
        };
        assert_eq!(e.to_string(), "type mismatch (at offset 0x2a)");
        let c = CompileError::codegen(Some(3), "verifier");
        assert_eq!(
            c.to_string(),
            "code generation failed in function 3: verifier"
        );
    }
}
