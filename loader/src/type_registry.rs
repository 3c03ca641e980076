//! Process-wide canonical ids of function types.
//!
//! `call_indirect` compares the callee's `VMFuncRef.type_id` with the caller's
//! `vmctx.type_ids[t]`, and funcrefs cross instances and modules, so equal types must get
//! equal ids everywhere in the process. Ids are never freed: a program sees a bounded number
//! of distinct signatures, and recycling an id while a funcref still carries it would let a
//! `call_indirect` accept the wrong signature.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use wasmc_abi::FuncType;

#[derive(Default)]
struct Registry {
    ids: HashMap<FuncType, u32>,
    types: Vec<FuncType>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// The canonical id of `ty`, allocating one on first sight.
pub(crate) fn intern(ty: &FuncType) -> u32 {
    // A poisoned lock only means another thread panicked while holding it; the map is
    // still consistent (insertions are single operations), so keep going.
    let mut r = registry().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&id) = r.ids.get(ty) {
        return id;
    }
    // Ids start at 1 so that a zeroed `VMFuncRef` never matches a real type.
    let id = u32::try_from(r.types.len() + 1).unwrap_or(u32::MAX);
    r.types.push(ty.clone());
    r.ids.insert(ty.clone(), id);
    id
}

/// The type with canonical id `id`.
#[cfg(test)]
pub(crate) fn lookup(id: u32) -> Option<FuncType> {
    let r = registry().lock().unwrap_or_else(|e| e.into_inner());
    let i = usize::try_from(id).ok()?.checked_sub(1)?;
    r.types.get(i).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmc_abi::ValType;

    #[test]
    fn equal_types_share_an_id() {
        let a = FuncType::new([ValType::I32], [ValType::I64]);
        let b = FuncType::new([ValType::I32], [ValType::I64]);
        let c = FuncType::new([ValType::I64], [ValType::I32]);
        assert_eq!(intern(&a), intern(&b));
        assert_ne!(intern(&a), intern(&c));
        assert_ne!(intern(&a), 0);
        assert_eq!(lookup(intern(&c)), Some(c));
        assert_eq!(lookup(0), None);
    }
}
