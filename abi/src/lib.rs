//! `wasmc-abi`: everything the wasmc compiler and the wasmc loader must agree on.
//!
//! If both sides need a fact, it lives here and nowhere else:
//!
//! - [`vmoffsets`]: the layout of the `VMContext` and of the records compiled code reads
//!   (`VMFuncRef`, `VMMemoryDefinition`, `VMStoreContext`, ...);
//! - [`types`]: Wasm value and function types, and how a Wasm signature becomes a native one;
//! - [`trap`]: trap codes, their byte encoding in the trap table, and their text;
//! - [`builtins`]: the runtime functions compiled code calls through `vmctx.builtins`;
//! - [`obj`]: section and symbol names of the artifact;
//! - [`metadata`]: the artifact header (checked before anything else) and the module
//!   description the loader instantiates from, with their encoders and checked decoders.
//!
//! The crate has no dependencies and no `unsafe`. Any change to a layout, a trap number or the
//! builtin list must bump [`metadata::FORMAT_VERSION`] so that old artifacts are refused.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod builtins;
pub mod metadata;
pub mod obj;
pub mod trap;
pub mod types;
pub mod vmoffsets;

pub use builtins::{Builtin, BuiltinType};
pub use metadata::{ArtifactHeader, DecodeError, ModuleMetadata, Target};
pub use trap::TrapCode;
pub use types::{FuncType, ValType};
pub use vmoffsets::{VMOffsets, VMOffsetsCounts};
