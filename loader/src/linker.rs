//! [`Linker`]: resolves a module's imports by `(module, name)`.
//!
//! Definitions are host functions (store-independent closures, materialised as a [`Func`] in
//! the store at each instantiation that imports them) or externs of a store (another
//! instance's exports, host-created memories, tables and globals). A later definition of the
//! same `(module, name)` replaces the earlier one, so a script can re-register a name.
//! Instantiation resolves every import, then [`Instance::new`] type-checks them all before any
//! code runs; a missing import is a link error naming the module, the field and the type
//! the module expects.

use std::collections::HashMap;
use std::sync::Arc;

use wasmc_abi::FuncType;
use wasmc_abi::metadata::ImportKind;

use crate::artifact::Artifact;
use crate::error::Error;
use crate::func::{Caller, Func, HostFn, WasmResults, WasmTy, raw_to_val, val_to_raw};
use crate::instance::{Extern, Instance};
use crate::store::Store;
use crate::val::Val;

enum Definition<T> {
    Extern(Extern),
    HostFunc { ty: FuncType, func: Arc<HostFn<T>> },
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::HostFunc { ty, func } => Definition::HostFunc {
                ty: ty.clone(),
                func: func.clone(),
            },
        }
    }
}

/// Resolves imports by `(module, name)`.
pub struct Linker<T> {
    defs: HashMap<(String, String), Definition<T>>,
}

impl<T> Default for Linker<T> {
    fn default() -> Self {
        Linker {
            defs: HashMap::new(),
        }
    }
}

impl<T> std::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.defs.keys().collect();
        names.sort();
        f.debug_struct("Linker").field("defined", &names).finish()
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new() -> Linker<T> {
        Linker::default()
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> &mut Self {
        self.defs
            .insert((module.to_string(), name.to_string()), def);
        self
    }

    /// Defines a host function of type `ty`. The closure reads its arguments from the slice
    /// and writes its results (pre-filled with zeros of the right types) to the other.
    ///
    /// # Errors
    ///
    /// None today; the `Result` leaves room for definition-time checks.
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Result<&mut Self, Error> {
        Ok(self.insert(
            module,
            name,
            Definition::HostFunc {
                ty,
                func: Arc::new(func),
            },
        ))
    }

    /// Defines a host function from a typed closure
    /// `Fn(Caller<'_, T>, A1, .., An) -> Result<R, Error>` (up to 6 parameters of `i32`,
    /// `i64`, `f32`, `f64`; `R` a [`WasmResults`]).
    ///
    /// # Errors
    ///
    /// None today; see [`Linker::func_new`].
    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Result<&mut Self, Error> {
        let (ty, func) = func.into_func();
        Ok(self.insert(module, name, Definition::HostFunc { ty, func }))
    }

    /// Defines an extern of a store (a host-created memory, table or global, or any export).
    ///
    /// # Errors
    ///
    /// None today; a handle of another store is reported when an instantiation imports it.
    pub fn define(
        &mut self,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self, Error> {
        Ok(self.insert(module, name, Definition::Extern(item.into())))
    }

    /// Defines every export of `instance` under `module`.
    ///
    /// # Errors
    ///
    /// A usage error if the instance belongs to another store.
    pub fn instance(
        &mut self,
        store: &mut Store<T>,
        module: &str,
        instance: Instance,
    ) -> Result<&mut Self, Error> {
        store.opaque.check(instance.store_id, "instance")?;
        for (name, ext) in instance.exports(store) {
            self.insert(module, &name, Definition::Extern(ext));
        }
        Ok(self)
    }

    /// The definition of `(module, name)`, as an extern of `store` (a host function is
    /// created in the store).
    pub fn get(&self, store: &mut Store<T>, module: &str, name: &str) -> Option<Extern> {
        match self.defs.get(&(module.to_string(), name.to_string()))? {
            Definition::Extern(e) => Some(*e),
            Definition::HostFunc { ty, func } => {
                Some(Extern::Func(Func::new_arc(store, ty.clone(), func.clone())))
            }
        }
    }

    /// Instantiates `artifact`, resolving its imports from this linker.
    ///
    /// # Errors
    ///
    /// A link error naming the first import that is missing or has the wrong type (no code
    /// runs); otherwise as [`Instance::new`].
    pub fn instantiate(
        &self,
        store: &mut Store<T>,
        artifact: &Artifact,
    ) -> Result<Instance, Error> {
        let meta = artifact.metadata();
        // Check that every import is defined before creating anything in the store.
        for imp in &meta.imports {
            if !self
                .defs
                .contains_key(&(imp.module.clone(), imp.name.clone()))
            {
                let expected = match &imp.kind {
                    ImportKind::Func(t) => format!(
                        "function {}",
                        meta.types
                            .get(*t as usize)
                            .map_or_else(|| "?".to_string(), ToString::to_string)
                    ),
                    ImportKind::Table(t) => format!("table of {}", t.element),
                    ImportKind::Memory(_) => "memory".to_string(),
                    ImportKind::Global(g) => format!("global {}", g.ty),
                };
                return Err(Error::link(
                    &imp.module,
                    &imp.name,
                    format!(
                        "unknown import: `{}::{}` has not been defined (expected {expected})",
                        imp.module, imp.name
                    ),
                ));
            }
        }
        let mut externs = Vec::with_capacity(meta.imports.len());
        for imp in &meta.imports {
            let def = self.defs[&(imp.module.clone(), imp.name.clone())].clone();
            externs.push(match def {
                Definition::Extern(e) => e,
                Definition::HostFunc { ty, func } => {
                    if !matches!(imp.kind, ImportKind::Func(_)) {
                        return Err(Error::link(
                            &imp.module,
                            &imp.name,
                            format!(
                                "incompatible import type for `{}::{}`: expected {}, found function {ty}",
                                imp.module,
                                imp.name,
                                imp.kind.kind()
                            ),
                        ));
                    }
                    Extern::Func(Func::new_arc(store, ty, func))
                }
            });
        }
        Instance::new(store, artifact, &externs)
    }
}

/// A typed closure usable as a host function; see [`Linker::func_wrap`].
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    /// The function's type and its untyped form.
    fn into_func(self) -> (FuncType, Arc<HostFn<T>>);
}

macro_rules! into_func {
    ($( ($($a:ident $i:tt),*) )*) => {$(
        impl<T: 'static, F, R, $($a: WasmTy),*> IntoFunc<T, ($($a,)*), R> for F
        where
            F: Fn(Caller<'_, T>, $($a),*) -> Result<R, Error> + Send + Sync + 'static,
            R: WasmResults,
        {
            fn into_func(self) -> (FuncType, Arc<HostFn<T>>) {
                let ty = FuncType::new(vec![$($a::TYPE),*], R::types());
                let result_types = R::types();
                let f = move |caller: Caller<'_, T>, args: &[Val], results: &mut [Val]| -> Result<(), Error> {
                    let _ = &args;
                    let r = self(caller, $($a::from_raw(val_to_raw(args[$i]))),*)?;
                    let mut slots = vec![0u128; result_types.len().max(1)];
                    r.store(&mut slots);
                    for ((res, t), raw) in results.iter_mut().zip(&result_types).zip(&slots) {
                        *res = raw_to_val(*raw, *t);
                    }
                    Ok(())
                };
                (ty, Arc::new(f))
            }
        }
    )*};
}

into_func! {
    ()
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, G 5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmc_abi::ValType;

    #[test]
    fn typed_host_functions_convert_values() {
        let mut store = Store::new(0u32);
        let mut linker = Linker::new();
        linker
            .func_wrap("env", "add", |mut c: Caller<'_, u32>, a: i32, b: i64| {
                *c.data_mut() += 1;
                Ok(i64::from(a) + b)
            })
            .unwrap();
        let f = linker
            .get(&mut store, "env", "add")
            .and_then(Extern::into_func)
            .unwrap();
        assert_eq!(
            f.ty(&store),
            FuncType::new([ValType::I32, ValType::I64], [ValType::I64])
        );
        let mut r = [Val::I64(0)];
        f.call(&mut store, &[Val::I32(2), Val::I64(40)], &mut r)
            .unwrap();
        assert_eq!(r[0], Val::I64(42));
        assert_eq!(*store.data(), 1);
        assert!(linker.get(&mut store, "env", "nope").is_none());
    }
}
