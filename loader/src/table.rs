//! [`Table`]: tables of references, defined by instances or created by the host.
//!
//! Elements are pointer-sized (a `*const VMFuncRef` or externref bits, 0 for null) and live
//! in a `Vec<usize>`; the table's `VMTableDefinition` (read by compiled code) is rewritten
//! whenever the vector moves or changes length.

use wasmc_abi::ValType;
use wasmc_abi::metadata::TableType;

use crate::error::Error;
use crate::limits::{GrowRequest, Verdict};
use crate::store::{Store, TableData};
use crate::val::{ExternRef, Val, raw_usize};
use crate::vmctx::{OwnedVm, VMTableDefinition, VmPtr};

/// Hard cap on table size, whatever the declared maximum: beyond it `table.grow` fails
/// (returns -1) instead of trying to allocate gigabytes.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// A table in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Table {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

/// Creates the store record of a table, its elements set to `init` (raw bits). `def` is
/// where its `VMTableDefinition` lives; `None` allocates one.
pub(crate) fn new_table_data(
    ty: TableType,
    init: usize,
    def: Option<(VmPtr<VMTableDefinition>, usize)>,
) -> Result<TableData, Error> {
    if ty.idx64 {
        return Err(Error::instantiate("unsupported: 64-bit tables (memory64)"));
    }
    if ty.min > MAX_TABLE_ELEMENTS || ty.max.is_some_and(|m| m < ty.min) {
        return Err(Error::instantiate(format!(
            "table minimum of {} elements is too large",
            ty.min
        )));
    }
    let n = usize::try_from(ty.min).map_err(|_| Error::instantiate("table too large"))?;
    let mut elements = Vec::new();
    elements
        .try_reserve_exact(n)
        .map_err(|_| Error::instantiate(format!("cannot allocate a table of {n} elements")))?;
    elements.resize(n, init);
    let (def, vmctx, owned) = match def {
        Some((p, vmctx)) => (p, vmctx, None),
        None => {
            let owned = OwnedVm::new(VMTableDefinition {
                base: std::ptr::null_mut(),
                current_elements: 0,
            });
            (owned.vm_ptr(), 0, Some(owned))
        }
    };
    let mut t = TableData {
        ty,
        elements,
        def,
        vmctx,
        _owned: owned,
    };
    sync_def(&mut t);
    Ok(t)
}

/// Publishes the element vector's address and length to compiled code.
pub(crate) fn sync_def(t: &mut TableData) {
    t.def.write(VMTableDefinition {
        base: t.elements.as_mut_ptr(),
        current_elements: t.elements.len(),
    });
}

/// The question for the store's resource limiter before table `t` grows by `delta`
/// elements; `None` if the new size does not fit in this host's integers.
pub(crate) fn table_grow_request(t: &TableData, delta: u64) -> Option<GrowRequest> {
    let old = t.elements.len() as u64;
    GrowRequest::table(old, old.checked_add(delta)?, t.ty.max)
}

/// Grows a table by `delta` elements set to `init`; the old size, or `None` if it cannot.
/// The resource limiter has been asked already (`table_grow_request`).
pub(crate) fn grow_table(t: &mut TableData, delta: u64, init: usize) -> Option<u64> {
    let old = t.elements.len() as u64;
    let new = old.checked_add(delta)?;
    let max =
        t.ty.max
            .unwrap_or(u64::from(u32::MAX))
            .min(MAX_TABLE_ELEMENTS);
    if new > max {
        return None;
    }
    let new = usize::try_from(new).ok()?;
    t.elements.try_reserve_exact(new - t.elements.len()).ok()?;
    t.elements.resize(new, init);
    sync_def(t);
    Some(old)
}

impl Table {
    /// Creates a table owned by the host, every element set to `init`.
    ///
    /// # Errors
    ///
    /// A usage error if `init` does not match the element type; an instantiation error if
    /// the table is too large or the store's resource limiter refuses it (count of tables,
    /// initial size).
    pub fn new<T>(store: &mut Store<T>, ty: TableType, init: Val) -> Result<Table, Error> {
        if init.ty() != ty.element {
            return Err(Error::usage(format!(
                "table of {} initialised with a {}",
                ty.element,
                init.ty()
            )));
        }
        let raw = raw_usize(init.to_raw(&store.opaque)?);
        store.check_counts(0, 1)?;
        if store.limiter.is_some() {
            store.check_initial(GrowRequest::table(0, ty.min, ty.max))?;
        }
        let data = new_table_data(ty, raw, None)?;
        store.opaque.tables.push(data);
        Ok(Table {
            store_id: store.opaque.id,
            index: store.opaque.tables.len() - 1,
        })
    }

    fn rec<'s, T>(&self, store: &'s Store<T>) -> &'s TableData {
        store.opaque.assert_owns(self.store_id, "table");
        &store.opaque.tables[self.index]
    }

    /// The table's type, with the current size as minimum.
    ///
    /// # Panics
    ///
    /// If the table belongs to another store (as every accessor of a table).
    pub fn ty<T>(&self, store: &Store<T>) -> TableType {
        let t = self.rec(store);
        TableType {
            min: t.elements.len() as u64,
            ..t.ty
        }
    }

    /// Number of elements.
    pub fn size<T>(&self, store: &Store<T>) -> u64 {
        self.rec(store).elements.len() as u64
    }

    /// The element at `index`, or `None` past the end.
    pub fn get<T>(&self, store: &Store<T>, index: u64) -> Option<Val> {
        let t = self.rec(store);
        let raw = *t.elements.get(usize::try_from(index).ok()?)?;
        Some(match t.ty.element {
            ValType::ExternRef => Val::ExternRef(ExternRef::from_raw(raw)),
            _ => Val::FuncRef(store.opaque.funcref_from_raw(raw)),
        })
    }

    /// Sets the element at `index`.
    ///
    /// # Errors
    ///
    /// A usage error if the value has the wrong type; a `TableOutOfBounds` trap past the end.
    pub fn set<T>(&self, store: &mut Store<T>, index: u64, val: Val) -> Result<(), Error> {
        store.opaque.check(self.store_id, "table")?;
        let elem = store.opaque.tables[self.index].ty.element;
        if val.ty() != elem {
            return Err(Error::usage(format!(
                "cannot store a {} in a table of {elem}",
                val.ty()
            )));
        }
        let raw = raw_usize(val.to_raw(&store.opaque)?);
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| store.opaque.tables[self.index].elements.get_mut(i))
            .ok_or_else(|| Error::trap(wasmc_abi::TrapCode::TableOutOfBounds))?;
        *slot = raw;
        Ok(())
    }

    /// Grows the table by `delta` elements set to `init`, returning the old size.
    ///
    /// # Errors
    ///
    /// A usage error if `init` has the wrong type or the table cannot grow that much; an
    /// instantiation-kind error naming the limit if the store's resource limiter
    /// ([`Store::limiter`]) refuses, or the limiter's own error.
    pub fn grow<T>(&self, store: &mut Store<T>, delta: u64, init: Val) -> Result<u64, Error> {
        store.opaque.check(self.store_id, "table")?;
        let elem = store.opaque.tables[self.index].ty.element;
        if init.ty() != elem {
            return Err(Error::usage(format!(
                "cannot grow a table of {elem} with a {}",
                init.ty()
            )));
        }
        let raw = raw_usize(init.to_raw(&store.opaque)?);
        if delta > 0
            && store.limiter.is_some()
            && let Some(request) = table_grow_request(&store.opaque.tables[self.index], delta)
            && let Verdict::Refuse(limit) = store.ask_limiter(&request)?
        {
            return Err(request.refused(limit));
        }
        grow_table(&mut store.opaque.tables[self.index], delta, raw)
            .ok_or_else(|| Error::usage(format!("table cannot grow by {delta} elements")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(min: u64, max: Option<u64>) -> TableType {
        TableType {
            element: ValType::ExternRef,
            min,
            max,
            idx64: false,
        }
    }

    #[test]
    fn host_tables_grow_within_their_maximum() {
        let mut store = Store::new(());
        let t = Table::new(&mut store, ty(1, Some(3)), Val::ExternRef(None)).unwrap();
        assert_eq!(t.size(&store), 1);
        let r = ExternRef::new(5);
        assert_eq!(t.grow(&mut store, 2, Val::ExternRef(r)).unwrap(), 1);
        assert_eq!(t.get(&store, 2), Some(Val::ExternRef(r)));
        assert!(t.grow(&mut store, 1, Val::ExternRef(None)).is_err());
        assert!(t.set(&mut store, 3, Val::ExternRef(None)).is_err());
        assert!(t.set(&mut store, 0, Val::I32(1)).is_err());
        let def = store.opaque.tables[t.index].def.read();
        assert_eq!(def.current_elements, 3);
        assert_eq!(t.get(&store, 3), None);
    }

    #[test]
    fn oversized_tables_are_refused() {
        let mut store = Store::new(());
        assert!(
            Table::new(
                &mut store,
                ty(u64::from(u32::MAX), None),
                Val::ExternRef(None)
            )
            .is_err()
        );
    }
}
