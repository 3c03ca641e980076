//! The `spectest` host module that spec scripts import: print functions that do nothing, four
//! constant globals, a table and a memory, with the types the reference interpreter gives them.

use wasmc_abi::metadata::{GlobalType, MemoryType, TableType};
use wasmc_abi::{FuncType, ValType};
use wasmc_loader::{Error, Extern, Func, Global, Linker, Memory, Store, Table, Val};

/// The module name scripts import from.
pub const MODULE: &str = "spectest";

/// Defines everything of `spectest` in `linker`, creating the objects in `store`.
///
/// # Errors
///
/// Whatever the loader reports when creating or defining an item (a bug on our side: the
/// types are fixed).
pub fn define<T: 'static>(linker: &mut Linker<T>, store: &mut Store<T>) -> Result<(), Error> {
    use ValType::{F32, F64, I32, I64};
    // The reference interpreter prints the arguments; the scripts never check that output.
    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in prints {
        let func = Func::new(
            store,
            FuncType::new(params, []),
            |_caller, _args, _results| Ok(()),
        );
        linker.define(MODULE, name, Extern::Func(func))?;
    }

    let globals = [
        ("global_i32", Val::I32(666)),
        ("global_i64", Val::I64(666)),
        ("global_f32", Val::F32(666.6f32.to_bits())),
        ("global_f64", Val::F64(666.6f64.to_bits())),
    ];
    for (name, val) in globals {
        let ty = GlobalType {
            ty: val.ty(),
            mutable: false,
        };
        let global = Global::new(store, ty, val)?;
        linker.define(MODULE, name, Extern::Global(global))?;
    }

    let table = Table::new(
        store,
        TableType {
            element: ValType::FuncRef,
            min: 10,
            max: Some(20),
            idx64: false,
        },
        Val::FuncRef(None),
    )?;
    linker.define(MODULE, "table", Extern::Table(table))?;

    let memory = Memory::new(
        store,
        MemoryType {
            min: 1,
            max: Some(2),
            idx64: false,
            shared: false,
            page_size_log2: 16,
        },
    )?;
    linker.define(MODULE, "memory", Extern::Memory(memory))?;
    Ok(())
}
