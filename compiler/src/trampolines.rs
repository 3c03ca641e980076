//! The pieces of `.text` that are not Wasm function bodies (ARCHITECTURE.md §2):
//!
//! - an **entry trampoline** per escaped defined function: the array-call entry the host
//!   uses, which calls the function under a trap landing pad (`try_call` with a default
//!   handler whose address, with the frame and stack pointers, it stores in the store
//!   context for the signal handler);
//! - a **wasm-to-host trampoline** per function type: the `wasm_call` of an imported host
//!   function, spilling the arguments into a `ValRaw` array and calling the host's array
//!   call;
//! - an **import stub** per imported function: loads the import's code pointer and vmctx
//!   from the vmctx and tail-calls it.

use cranelift_codegen::ir::{
    self, BlockArg, ExceptionTableData, ExceptionTableItem, Function, InstBuilder, MemFlagsData,
    StackSlotData, StackSlotKind, UserExternalName, UserFuncName, types,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use wasmc_abi::TrapCode;
use wasmc_abi::types::VALRAW_SIZE;

use crate::CompileError;
use crate::environ::ModuleInfo;
use crate::translate::traps::ir_trap;
use crate::translate::vmctx::{self, store_fields};
use crate::translate::{array_signature, ir_type, names, wasm_signature};

/// Namespaces of the trampolines' own names (only for printing; nothing calls them).
mod own_names {
    pub(super) const ENTRY: u32 = 2;
    pub(super) const TO_HOST: u32 = 3;
}

/// Flags of an access to the caller's `ValRaw` array: aligned and valid (the caller passes
/// one slot per parameter and result), host memory in no particular alias region.
fn values_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

fn slot_offset(i: usize) -> i32 {
    i32::try_from(i).map_or(i32::MAX, |i| i.saturating_mul(VALRAW_SIZE as i32))
}

/// The entry trampoline of defined function `func_index`.
pub(crate) fn entry_trampoline(
    isa: &dyn TargetIsa,
    module: &ModuleInfo<'_>,
    func_index: u32,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CompileError> {
    let ty = module.func_type(func_index);
    *func = Function::with_name_signature(
        UserFuncName::user(own_names::ENTRY, func_index),
        array_signature(isa),
    );
    vmctx::declare_alias_regions(func);
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let (callee_vmctx, caller_vmctx, values) = (params[0], params[1], params[2]);

    // The verifier refuses `get_exception_handler_address` in the entry block, so the
    // landing-pad bookkeeping and the call live in a second block.
    let body = b.create_block();
    b.ins().jump(body, &[]);
    b.switch_to_block(body);
    let store_ctx = vmctx::load_store_ctx(&mut b, callee_vmctx);
    let fp = b.ins().get_frame_pointer(types::I64);
    vmctx::store_store_ctx_field(&mut b, store_ctx, store_fields::LAST_ENTRY_FP, fp);
    let sp = b.ins().get_stack_pointer(types::I64);
    vmctx::store_store_ctx_field(&mut b, store_ctx, store_fields::LAST_ENTRY_SP, sp);
    let handler = b.ins().get_exception_handler_address(types::I64, body, 0);
    vmctx::store_store_ctx_field(&mut b, store_ctx, store_fields::LAST_ENTRY_HANDLER, handler);

    let mut args = vec![callee_vmctx, caller_vmctx];
    for (i, p) in ty.params.iter().enumerate() {
        let v = b
            .ins()
            .load(ir_type(*p), values_flags(), values, slot_offset(i));
        args.push(v);
    }
    let sig = b.import_signature(wasm_signature(isa, ty));
    let name = b
        .func
        .declare_imported_user_function(UserExternalName::new(names::DEFINED_FUNC, func_index));
    let callee = b.import_function(ir::ExtFuncData {
        name: ir::ExternalName::user(name),
        signature: sig,
        colocated: true,
        patchable: false,
    });

    let done = b.create_block();
    for r in &ty.results {
        b.append_block_param(done, ir_type(*r));
    }
    let trapped = b.create_block();
    let ret_args: Vec<BlockArg> = (0..ty.results.len())
        .map(|i| BlockArg::TryCallRet(u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    let normal = b.func.dfg.block_call(done, &ret_args);
    let exceptional = b.func.dfg.block_call(trapped, &[]);
    let table = ExceptionTableData::new(sig, normal, [ExceptionTableItem::Default(exceptional)]);
    let table = b.func.dfg.exception_tables.push(table);
    b.ins().try_call(callee, &args, table);

    b.switch_to_block(done);
    let results = b.block_params(done).to_vec();
    for (i, v) in results.into_iter().enumerate() {
        b.ins().store(values_flags(), v, values, slot_offset(i));
    }
    let ok = b.ins().iconst(types::I32, 1);
    b.ins().return_(&[ok]);

    b.switch_to_block(trapped);
    let failed = b.ins().iconst(types::I32, 0);
    b.ins().return_(&[failed]);

    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    Ok(())
}

/// The wasm-to-host trampoline of module type `type_index`.
pub(crate) fn host_trampoline(
    isa: &dyn TargetIsa,
    module: &ModuleInfo<'_>,
    type_index: u32,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CompileError> {
    let ty = &module.types[type_index as usize];
    *func = Function::with_name_signature(
        UserFuncName::user(own_names::TO_HOST, type_index),
        wasm_signature(isa, ty),
    );
    vmctx::declare_alias_regions(func);
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let (host_func, caller_vmctx) = (params[0], params[1]);

    let slots = ty.array_len().max(1);
    let size = u32::try_from(slots)
        .ok()
        .and_then(|n| n.checked_mul(VALRAW_SIZE))
        .ok_or_else(|| CompileError::codegen(None, "too many parameters for a host call"))?;
    let slot = b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 4));
    for (i, v) in params[2..].iter().enumerate() {
        b.ins().stack_store(types::I64, *v, slot, slot_offset(i));
    }
    let values = b.ins().stack_addr(types::I64, slot, 0);

    // Where the host can find the last Wasm frame (for backtraces).
    let store_ctx = vmctx::load_store_ctx(&mut b, caller_vmctx);
    let fp = b.ins().get_frame_pointer(types::I64);
    vmctx::store_store_ctx_field(&mut b, store_ctx, store_fields::LAST_EXIT_FP, fp);
    let pc = b.ins().get_return_address(types::I64);
    vmctx::store_store_ctx_field(&mut b, store_ctx, store_fields::LAST_EXIT_PC, pc);

    let callee = vmctx::load_host_array_call(&mut b, host_func);
    let sig = b.import_signature(array_signature(isa));
    let len = b
        .ins()
        .iconst(types::I64, i64::try_from(slots).unwrap_or(i64::MAX));
    let call = b
        .ins()
        .call_indirect(sig, callee, &[host_func, caller_vmctx, values, len]);
    let ok = b.inst_results(call)[0];
    b.ins().trapz(ok, ir_trap(TrapCode::HostTrap));
    let mut results = Vec::with_capacity(ty.results.len());
    for (i, r) in ty.results.iter().enumerate() {
        results.push(
            b.ins()
                .stack_load(types::I64, ir_type(*r), slot, slot_offset(i)),
        );
    }
    b.ins().return_(&results);
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    Ok(())
}

/// The import stub of imported function `func_index`.
pub(crate) fn import_stub(
    isa: &dyn TargetIsa,
    module: &ModuleInfo<'_>,
    func_index: u32,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CompileError> {
    let type_index = module.func_type_index(func_index);
    let ty = &module.types[type_index as usize];
    *func = Function::with_name_signature(
        UserFuncName::user(names::IMPORT_STUB, func_index),
        wasm_signature(isa, ty),
    );
    vmctx::declare_alias_regions(func);
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let own_vmctx = params[0];
    let (code, callee_vmctx) = vmctx::load_imported_func(&mut b, module, own_vmctx, func_index);
    let sig = b.import_signature(wasm_signature(isa, ty));
    let mut args = vec![callee_vmctx, own_vmctx];
    args.extend_from_slice(&params[2..]);
    b.ins().return_call_indirect(sig, code, &args);
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    Ok(())
}
