//! Wasm values as the host sees them ([`Val`], [`ExternRef`]) and their raw encodings in
//! array-call slots, globals and table elements.

use std::num::NonZeroU64;

use wasmc_abi::ValType;

use crate::error::Error;
use crate::func::Func;
use crate::store::StoreOpaque;

/// The low 32 bits of a raw slot: how an i32/f32 is stored in one.
#[expect(
    clippy::cast_possible_truncation,
    reason = "truncation is the decoding"
)]
pub(crate) fn raw_u32(raw: u128) -> u32 {
    raw as u32
}

/// The low 64 bits of a raw slot: how an i64/f64 is stored in one.
#[expect(
    clippy::cast_possible_truncation,
    reason = "truncation is the decoding"
)]
pub(crate) fn raw_u64(raw: u128) -> u64 {
    raw as u64
}

/// The low pointer-sized bits of a raw slot: how a reference is stored in one.
pub(crate) fn raw_usize(raw: u128) -> usize {
    raw as usize
}

/// A Wasm value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as its bits (so NaN payloads survive).
    F32(u32),
    /// An `f64`, as its bits.
    F64(u64),
    /// A `v128`.
    V128(u128),
    /// A function reference (`None` is null).
    FuncRef(Option<Func>),
    /// An external reference (`None` is null).
    ExternRef(Option<ExternRef>),
}

impl Val {
    /// The type of this value.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The null reference of a reference type, or zero of a numeric type.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
        }
    }

    /// The `i32`, if this is one.
    pub fn i32(&self) -> Option<i32> {
        if let Val::I32(v) = self {
            Some(*v)
        } else {
            None
        }
    }

    /// The `i64`, if this is one.
    pub fn i64(&self) -> Option<i64> {
        if let Val::I64(v) = self {
            Some(*v)
        } else {
            None
        }
    }

    /// The `f32`, if this is one.
    pub fn f32(&self) -> Option<f32> {
        if let Val::F32(v) = self {
            Some(f32::from_bits(*v))
        } else {
            None
        }
    }

    /// The `f64`, if this is one.
    pub fn f64(&self) -> Option<f64> {
        if let Val::F64(v) = self {
            Some(f64::from_bits(*v))
        } else {
            None
        }
    }

    /// The raw 16-byte encoding (little-endian value at the start), as stored in array-call
    /// slots and globals.
    pub(crate) fn to_raw(self, store: &StoreOpaque) -> Result<u128, Error> {
        Ok(match self {
            Val::I32(v) => u128::from(v as u32),
            Val::I64(v) => u128::from(v as u64),
            Val::F32(v) => u128::from(v),
            Val::F64(v) => u128::from(v),
            Val::V128(v) => v,
            Val::FuncRef(f) => store.funcref_to_raw(f)? as u128,
            Val::ExternRef(e) => e.map_or(0, ExternRef::to_raw) as u128,
        })
    }

    /// Decodes a raw value of type `ty`.
    pub(crate) fn from_raw(raw: u128, ty: ValType, store: &StoreOpaque) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw_u32(raw) as i32),
            ValType::I64 => Val::I64(raw_u64(raw) as i64),
            ValType::F32 => Val::F32(raw_u32(raw)),
            ValType::F64 => Val::F64(raw_u64(raw)),
            ValType::V128 => Val::V128(raw),
            ValType::FuncRef => Val::FuncRef(store.funcref_from_raw(raw_usize(raw))),
            ValType::ExternRef => Val::ExternRef(ExternRef::from_raw(raw_usize(raw))),
        }
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}

/// A non-null external reference: an opaque host handle carrying a `u64`.
///
/// In Wasm it is a pointer-sized value whose bits are `value + 1`, so that 0 stays the null
/// reference; `u64::MAX` therefore cannot be carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternRef {
    raw: NonZeroU64,
}

impl ExternRef {
    /// A reference carrying `value`; `None` for `u64::MAX`, whose encoding would be null.
    pub fn new(value: u64) -> Option<ExternRef> {
        NonZeroU64::new(value.wrapping_add(1)).map(|raw| ExternRef { raw })
    }

    /// The value it carries.
    pub fn value(&self) -> u64 {
        self.raw.get() - 1
    }

    /// Decodes table/global/slot bits (0 is null).
    pub(crate) fn from_raw(raw: usize) -> Option<ExternRef> {
        NonZeroU64::new(raw as u64).map(|raw| ExternRef { raw })
    }

    /// The bits stored in Wasm.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "every supported target is 64-bit"
    )]
    pub(crate) fn to_raw(self) -> usize {
        self.raw.get() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extern_refs_never_encode_as_null() {
        let r = ExternRef::new(0).unwrap();
        assert_eq!(r.to_raw(), 1);
        assert_eq!(r.value(), 0);
        assert_eq!(ExternRef::from_raw(r.to_raw()), Some(r));
        assert_eq!(ExternRef::from_raw(0), None);
        assert_eq!(ExternRef::new(u64::MAX), None);
        assert_eq!(ExternRef::new(41).unwrap().value(), 41);
    }

    #[test]
    fn default_values_have_their_type() {
        for t in [
            ValType::I32,
            ValType::I64,
            ValType::F32,
            ValType::F64,
            ValType::V128,
            ValType::FuncRef,
            ValType::ExternRef,
        ] {
            assert_eq!(Val::default_for(t).ty(), t);
        }
    }
}
