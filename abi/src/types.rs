//! Wasm value and function types, and how a Wasm signature becomes a native one.
//!
//! Calling conventions (the compiler builds `ir::Signature`s from these rules; the loader calls
//! through them):
//!
//! - **Wasm functions** use Cranelift's `tail` convention with
//!   `(callee_vmctx: ptr, caller_vmctx: ptr, params...) -> results`.
//!   `callee_vmctx` is the `VMContext` of the instance that owns the code (or, for a host
//!   function reached through a wasm-to-host trampoline, its `VMHostFunc`).
//! - **Array calls** (host-facing entry points and host functions) use the platform's C
//!   convention: `extern "C" fn(callee_vmctx: ptr, caller_vmctx: ptr, values: *mut ValRaw,
//!   len: usize) -> u32`. Arguments are read from `values[0..nparams]`, results written to
//!   `values[0..nresults]`; `len >= max(nparams, nresults)`. The return value is 1 on success
//!   and 0 when the call trapped (the reason is recorded on the loader's side).
//! - A `ValRaw` slot is [`VALRAW_SIZE`] bytes; a value is stored little-endian at the start of
//!   its slot: i32/f32 in 4 bytes, i64/f64 in 8 bytes, references as a pointer-sized integer
//!   (0 is null), v128 in all 16 bytes.

/// Size in bytes of one `ValRaw` slot of an array call.
pub const VALRAW_SIZE: u32 = 16;

/// Size in bytes of a native pointer on every supported target.
pub const POINTER_SIZE: u32 = 8;

/// A Wasm value type. The discriminant is the byte stored in metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ValType {
    /// 32-bit integer.
    I32 = 0,
    /// 64-bit integer.
    I64 = 1,
    /// 32-bit IEEE float.
    F32 = 2,
    /// 64-bit IEEE float.
    F64 = 3,
    /// 128-bit vector.
    V128 = 4,
    /// Nullable function reference (a `*const VMFuncRef`, 0 for null).
    FuncRef = 5,
    /// Nullable external reference (a pointer-sized host handle, 0 for null).
    ExternRef = 6,
}

impl ValType {
    /// Decodes the metadata byte of a value type.
    pub fn from_u8(b: u8) -> Option<ValType> {
        Some(match b {
            0 => ValType::I32,
            1 => ValType::I64,
            2 => ValType::F32,
            3 => ValType::F64,
            4 => ValType::V128,
            5 => ValType::FuncRef,
            6 => ValType::ExternRef,
            _ => return None,
        })
    }

    /// Whether this is a reference type (stored as a pointer-sized integer).
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef)
    }

    /// Size in bytes of a value of this type in memory, a global or a table slot.
    pub fn byte_size(self) -> u32 {
        match self {
            ValType::I32 | ValType::F32 => 4,
            ValType::I64 | ValType::F64 => 8,
            ValType::V128 => 16,
            ValType::FuncRef | ValType::ExternRef => POINTER_SIZE,
        }
    }
}

impl core::fmt::Display for ValType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
        })
    }
}

/// A Wasm function type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FuncType {
    /// Parameter types, in order.
    pub params: Vec<ValType>,
    /// Result types, in order.
    pub results: Vec<ValType>,
}

impl FuncType {
    /// Creates a function type.
    pub fn new(params: impl Into<Vec<ValType>>, results: impl Into<Vec<ValType>>) -> Self {
        FuncType {
            params: params.into(),
            results: results.into(),
        }
    }

    /// Number of `ValRaw` slots an array call of this type needs. Inline: the loader's host
    /// call shim checks it on every call from Wasm.
    #[inline]
    pub fn array_len(&self) -> usize {
        self.params.len().max(self.results.len())
    }
}

impl core::fmt::Display for FuncType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("(func")?;
        if !self.params.is_empty() {
            f.write_str(" (param")?;
            for p in &self.params {
                write!(f, " {p}")?;
            }
            f.write_str(")")?;
        }
        if !self.results.is_empty() {
            f.write_str(" (result")?;
            for r in &self.results {
                write!(f, " {r}")?;
            }
            f.write_str(")")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valtype_bytes_round_trip() {
        for b in 0..=255u8 {
            if let Some(t) = ValType::from_u8(b) {
                assert_eq!(t as u8, b);
            }
        }
        assert_eq!(ValType::from_u8(7), None);
    }

    #[test]
    fn func_type_display_matches_wat() {
        let t = FuncType::new([ValType::I32, ValType::F64], [ValType::I64]);
        assert_eq!(t.to_string(), "(func (param i32 f64) (result i64))");
        assert_eq!(FuncType::default().to_string(), "(func)");
    }
}
