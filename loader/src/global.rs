//! [`Global`]: global variables, defined by instances or created by the host.
//!
//! A global's value sits little-endian at offset 0 of its 16-byte `VMGlobalDefinition`
//! (references as pointer-sized integers), which compiled code reads and writes directly.

use wasmc_abi::metadata::GlobalType;

use crate::error::Error;
use crate::store::{GlobalData, Store};
use crate::val::Val;
use crate::vmctx::{OwnedVm, VMGlobalDefinition};

/// A global in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Global {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

pub(crate) fn raw_to_def(raw: u128) -> VMGlobalDefinition {
    VMGlobalDefinition {
        bytes: raw.to_le_bytes(),
    }
}

pub(crate) fn def_to_raw(def: VMGlobalDefinition) -> u128 {
    u128::from_le_bytes(def.bytes)
}

impl Global {
    /// Creates a global owned by the host.
    ///
    /// # Errors
    ///
    /// A usage error if `val` does not have the global's type.
    pub fn new<T>(store: &mut Store<T>, ty: GlobalType, val: Val) -> Result<Global, Error> {
        if val.ty() != ty.ty {
            return Err(Error::usage(format!(
                "global of type {} initialised with a {}",
                ty.ty,
                val.ty()
            )));
        }
        let raw = val.to_raw(&store.opaque)?;
        let owned = OwnedVm::new(raw_to_def(raw));
        store.opaque.globals.push(GlobalData {
            ty,
            def: owned.vm_ptr(),
            _owned: Some(owned),
        });
        Ok(Global {
            store_id: store.opaque.id,
            index: store.opaque.globals.len() - 1,
        })
    }

    fn rec<'s, T>(&self, store: &'s Store<T>) -> &'s GlobalData {
        store.opaque.assert_owns(self.store_id, "global");
        &store.opaque.globals[self.index]
    }

    /// The global's type.
    ///
    /// # Panics
    ///
    /// If the global belongs to another store (as `get`).
    pub fn ty<T>(&self, store: &Store<T>) -> GlobalType {
        self.rec(store).ty
    }

    /// The current value.
    pub fn get<T>(&self, store: &Store<T>) -> Val {
        let g = self.rec(store);
        Val::from_raw(def_to_raw(g.def.read()), g.ty.ty, &store.opaque)
    }

    /// Sets the value.
    ///
    /// # Errors
    ///
    /// A usage error if the global is immutable or `val` has another type.
    pub fn set<T>(&self, store: &mut Store<T>, val: Val) -> Result<(), Error> {
        store.opaque.check(self.store_id, "global")?;
        let g = &store.opaque.globals[self.index];
        if !g.ty.mutable {
            return Err(Error::usage("cannot set an immutable global"));
        }
        if val.ty() != g.ty.ty {
            return Err(Error::usage(format!(
                "cannot set a global of type {} to a {}",
                g.ty.ty,
                val.ty()
            )));
        }
        let raw = val.to_raw(&store.opaque)?;
        g.def.write(raw_to_def(raw));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmc_abi::ValType;

    #[test]
    fn host_globals_round_trip() {
        let mut store = Store::new(());
        let ty = GlobalType {
            ty: ValType::F64,
            mutable: true,
        };
        let g = Global::new(&mut store, ty, Val::F64(1.5f64.to_bits())).unwrap();
        assert_eq!(g.get(&store), Val::F64(1.5f64.to_bits()));
        g.set(&mut store, Val::F64(2.5f64.to_bits())).unwrap();
        assert_eq!(g.get(&store).f64(), Some(2.5));
        assert!(g.set(&mut store, Val::I32(1)).is_err());
        let c = Global::new(
            &mut store,
            GlobalType {
                ty: ValType::I32,
                mutable: false,
            },
            Val::I32(7),
        )
        .unwrap();
        assert!(c.set(&mut store, Val::I32(1)).is_err());
        assert_eq!(c.get(&store), Val::I32(7));
    }
}
