//! [`Linker`]: resolves a module's imports by `(module, name)`, with renaming.
//!
//! Definitions are host functions (store-independent closures, materialised as a [`Func`] in
//! the store at each instantiation that imports them) or externs of a store (another
//! instance's exports, host-created memories, tables and globals). A later definition of the
//! same `(module, name)` replaces the earlier one, so a script can re-register a name.
//!
//! Renaming happens at instantiation, without recompiling: an import `(m, n)` is looked up
//! as `(m', n)` where `m'` is `m` after the module renames ([`Linker::rename_module`]), then
//! `(m', n)` is replaced by its single rename if it has one ([`Linker::rename`]). This is
//! wazero's order (`WithImportModule`, then `WithImport`): a single rename's key is matched
//! against the module name *after* module renames. Renames are applied once, never chained.
//! Instantiation resolves every import, then [`Instance::new`] type-checks them all before
//! any code runs; a link error names the import as the module declares it and, when it was
//! renamed, the name it was looked up as.

use std::collections::HashMap;
use std::sync::Arc;

use wasmc_abi::metadata::ImportKind;
use wasmc_abi::{FuncType, TrapCode};

use crate::artifact::Artifact;
use crate::error::{Error, Trap};
use crate::func::{
    Caller, Func, HostBody, HostFn, RawSlots, TypedHostFn, WasmParams, WasmResults, WasmTy,
};
use crate::import_map::ImportMap;
use crate::instance::{Extern, Instance, describe_import};
use crate::store::Store;
use crate::val::Val;

enum Definition<T> {
    Extern(Extern),
    HostFunc {
        ty: FuncType,
        func: HostBody<T>,
        /// `module::name` as defined (for tracing spans).
        name: Arc<str>,
    },
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::HostFunc { ty, func, name } => Definition::HostFunc {
                ty: ty.clone(),
                func: func.clone(),
                name: name.clone(),
            },
        }
    }
}

/// Resolves imports by `(module, name)`, after renaming (see the module documentation).
pub struct Linker<T> {
    defs: HashMap<(String, String), Definition<T>>,
    /// `old module -> new module`.
    module_renames: HashMap<String, String>,
    /// `(module after module renames, name) -> (module, name)`.
    renames: HashMap<(String, String), (String, String)>,
}

impl<T> Default for Linker<T> {
    fn default() -> Self {
        Linker {
            defs: HashMap::new(),
            module_renames: HashMap::new(),
            renames: HashMap::new(),
        }
    }
}

impl<T> std::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.defs.keys().collect();
        names.sort();
        f.debug_struct("Linker")
            .field("defined", &names)
            .field("module_renames", &self.module_renames)
            .field("renames", &self.renames)
            .finish()
    }
}

/// `module::name`, as link errors spell an import.
fn qualified(module: &str, name: &str) -> String {
    format!("`{module}::{name}`")
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new() -> Linker<T> {
        Linker::default()
    }

    fn insert_host(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: HostBody<T>,
    ) -> &mut Self {
        let qualified: Arc<str> = format!("{module}::{name}").into();
        self.insert(
            module,
            name,
            Definition::HostFunc {
                ty,
                func,
                name: qualified,
            },
        )
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> &mut Self {
        self.defs
            .insert((module.to_string(), name.to_string()), def);
        self
    }

    /// Makes every import of module `old` resolve in module `new` (`wasi_unstable` ->
    /// `wasi_snapshot_preview1`). Applied before single renames; a second rename of the same
    /// `old` replaces the first.
    pub fn rename_module(&mut self, old: &str, new: &str) -> &mut Self {
        self.module_renames.insert(old.to_string(), new.to_string());
        self
    }

    /// Makes the import `old_module::old_name` resolve as `new_module::new_name`. Applied
    /// after module renames, so `old_module` is matched against the import's module name as
    /// already renamed by [`Linker::rename_module`]. A second rename of the same import
    /// replaces the first.
    pub fn rename(
        &mut self,
        old_module: &str,
        old_name: &str,
        new_module: &str,
        new_name: &str,
    ) -> &mut Self {
        self.renames.insert(
            (old_module.to_string(), old_name.to_string()),
            (new_module.to_string(), new_name.to_string()),
        );
        self
    }

    /// Adds the renames of an [`ImportMap`] (module renames with [`Linker::rename_module`],
    /// single ones with [`Linker::rename`]; the linker applies them in its usual order).
    pub fn apply_import_map(&mut self, map: &ImportMap) -> &mut Self {
        for (old, new) in &map.modules {
            self.rename_module(old, new);
        }
        for ((om, on), (nm, nn)) in &map.imports {
            self.rename(om, on, nm, nn);
        }
        self
    }

    /// The `(module, name)` an import declared as `(module, name)` is looked up as, after
    /// module renames and then single renames.
    pub fn resolve_name<'a>(&'a self, module: &'a str, name: &'a str) -> (&'a str, &'a str) {
        let module = self
            .module_renames
            .get(module)
            .map_or(module, String::as_str);
        match self.renames.get(&(module.to_string(), name.to_string())) {
            Some((m, n)) => (m, n),
            None => (module, name),
        }
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
        Ok(self.insert_host(module, name, ty, HostBody::Untyped(Arc::new(func))))
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
        Ok(self.insert_host(module, name, ty, HostBody::Typed(func)))
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

    /// Defines every function import of `artifact` that this linker cannot resolve (after
    /// renaming) as a host function that traps when called, with a message naming the
    /// import. Modules whose unused imports have no host counterpart then instantiate.
    /// Memory, table and global imports are left alone: they stay link errors.
    ///
    /// The definitions are added under the resolved names, so later renames do not move
    /// them; call this after all renames and definitions.
    ///
    /// # Errors
    ///
    /// None today; the `Result` leaves room for definition-time checks.
    pub fn define_unknown_imports_as_traps(
        &mut self,
        artifact: &Artifact,
    ) -> Result<&mut Self, Error> {
        let meta = artifact.metadata();
        let mut missing = Vec::new();
        for imp in &meta.imports {
            let ImportKind::Func(t) = imp.kind else {
                continue;
            };
            let (m, n) = self.resolve_name(&imp.module, &imp.name);
            if self.defs.contains_key(&(m.to_string(), n.to_string())) {
                continue;
            }
            let Some(ty) = meta.types.get(t as usize) else {
                continue;
            };
            missing.push((m.to_string(), n.to_string(), imp.clone(), ty.clone()));
        }
        for (m, n, imp, ty) in missing {
            let message = format!(
                "call to unknown import {} (defined to trap by define_unknown_imports_as_traps)",
                qualified(&imp.module, &imp.name)
            );
            let func: Arc<HostFn<T>> =
                Arc::new(move |_: Caller<'_, T>, _: &[Val], _: &mut [Val]| {
                    Err(Error::from(Trap::with_message(
                        TrapCode::HostTrap,
                        message.clone(),
                    )))
                });
            self.insert_host(&m, &n, ty, HostBody::Untyped(func));
        }
        Ok(self)
    }

    /// The definition of `(module, name)` (not renamed: the name it is defined under), as an
    /// extern of `store` (a host function is created in the store).
    pub fn get(&self, store: &mut Store<T>, module: &str, name: &str) -> Option<Extern> {
        match self.defs.get(&(module.to_string(), name.to_string()))? {
            Definition::Extern(e) => Some(*e),
            Definition::HostFunc { ty, func, name } => Some(Extern::Func(Func::new_arc(
                store,
                ty.clone(),
                func.clone(),
                Some(name.clone()),
            ))),
        }
    }

    /// Instantiates `artifact`, resolving its imports from this linker (after renaming).
    /// If the module is a reactor (it exports a function `_initialize`), `_initialize` runs
    /// once before this returns (see [`Instance::initialize_reactor`]); a command's `_start`
    /// is left for the caller to run.
    ///
    /// # Errors
    ///
    /// A link error naming the first import that is missing or has the wrong type (no code
    /// runs); otherwise as [`Instance::new`] and [`Instance::initialize_reactor`].
    pub fn instantiate(
        &self,
        store: &mut Store<T>,
        artifact: &Artifact,
    ) -> Result<Instance, Error> {
        let instance = self.instantiate_uninitialized(store, artifact)?;
        if instance.needs_initialize(store) {
            instance.initialize_reactor(store)?;
        }
        Ok(instance)
    }

    /// Like [`Linker::instantiate`], but leaves a reactor's `_initialize` to the caller
    /// (for hosts that must prepare something first). Until
    /// [`Instance::initialize_reactor`] has run, calling the instance's other exports is a
    /// usage error.
    ///
    /// # Errors
    ///
    /// As [`Linker::instantiate`].
    pub fn instantiate_uninitialized(
        &self,
        store: &mut Store<T>,
        artifact: &Artifact,
    ) -> Result<Instance, Error> {
        let meta = artifact.metadata();
        // Check that every import is defined before creating anything in the store.
        let mut resolved = Vec::with_capacity(meta.imports.len());
        for imp in &meta.imports {
            let (m, n) = self.resolve_name(&imp.module, &imp.name);
            let renamed = (m, n) != (imp.module.as_str(), imp.name.as_str());
            let Some(def) = self.defs.get(&(m.to_string(), n.to_string())) else {
                let expected = describe_import(&imp.kind, &meta.types);
                let as_what = if renamed {
                    format!(" (renamed to {})", qualified(m, n))
                } else {
                    String::new()
                };
                return Err(Error::link(
                    &imp.module,
                    &imp.name,
                    format!(
                        "unknown import: {}{as_what} has not been defined (expected {expected})",
                        qualified(&imp.module, &imp.name)
                    ),
                ));
            };
            resolved.push((def.clone(), renamed.then(|| (m.to_string(), n.to_string()))));
        }
        let mut externs = Vec::with_capacity(resolved.len());
        let mut names = Vec::with_capacity(resolved.len());
        for (imp, (def, renamed)) in meta.imports.iter().zip(resolved) {
            externs.push(match def {
                Definition::Extern(e) => e,
                Definition::HostFunc { ty, func, name } => {
                    if !matches!(imp.kind, ImportKind::Func(_)) {
                        let as_what = renamed
                            .as_ref()
                            .map(|(m, n)| format!(" (renamed to {})", qualified(m, n)))
                            .unwrap_or_default();
                        return Err(Error::link(
                            &imp.module,
                            &imp.name,
                            format!(
                                "incompatible import type for {}{as_what}: expected {}, found function {ty}",
                                qualified(&imp.module, &imp.name),
                                describe_import(&imp.kind, &meta.types),
                            ),
                        ));
                    }
                    Extern::Func(Func::new_arc(store, ty, func, Some(name)))
                }
            });
            names.push(renamed);
        }
        Instance::new_resolved(store, artifact, &externs, &names)
    }
}

/// A typed closure usable as a host function; see [`Linker::func_wrap`].
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    /// The function's type and its body working on raw slots: arguments are decoded straight
    /// from the call's slots and results encoded into them, with no allocation per call.
    fn into_func(self) -> (FuncType, TypedHostFn<T>);
}

macro_rules! into_func {
    ($( ($($a:ident $i:tt),*) )*) => {$(
        impl<T: 'static, F, R, $($a: WasmTy),*> IntoFunc<T, ($($a,)*), R> for F
        where
            F: Fn(Caller<'_, T>, $($a),*) -> Result<R, Error> + Send + Sync + 'static,
            R: WasmResults,
        {
            fn into_func(self) -> (FuncType, TypedHostFn<T>) {
                let ty = FuncType::new(vec![$($a::TYPE),*], R::types());
                // A constant once monomorphised, so the slot accesses below need no checks.
                let slots_needed = <($($a,)*) as WasmParams>::COUNT.max(R::COUNT);
                let f = move |caller: Caller<'_, T>, slots: RawSlots<'_>| -> Result<(), Error> {
                    if !slots.holds(slots_needed) {
                        return Err(Error::trap(TrapCode::HostTrap));
                    }
                    self(caller, $($a::from_raw(slots.get($i))),*)?.store_raw(slots);
                    Ok(())
                };
                (ty, TypedHostFn::new(f))
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
