//! Tables: `table.get/set/size` inline, `table.grow/fill/copy/init` and `elem.drop` through
//! builtins, and `call_indirect` with its checks (ARCHITECTURE.md §5): index in bounds
//! (`UndefinedElement`), element not null (`IndirectCallToNull`), canonical type ids equal
//! (`BadSignature`).

use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, condcodes::IntCC, types};
use wasmc_abi::{Builtin, TrapCode};
use wasmparser::Operator;

use super::traps::ir_trap;
use super::{FuncTranslator, vmctx};
use crate::CompileError;

impl FuncTranslator<'_, '_> {
    /// The length of `table` if it is a defined table that cannot grow (maximum = minimum):
    /// its element array then never moves once the instance exists (the loader reallocates
    /// only on a growth, `loader/src/table.rs`).
    fn fixed_table_len(&self, table: u32) -> Option<u64> {
        if table < self.module.num_imported_tables {
            return None;
        }
        self.module
            .tables
            .get(table as usize)
            .filter(|t| !t.idx64 && t.max == Some(t.min))
            .map(|t| t.min)
    }

    /// The address of element `index` (an i32) of `table`, and the flags to access it with;
    /// an out-of-bounds index traps with `code`.
    ///
    /// A defined table whose maximum is its minimum never grows, so its length is a constant
    /// and its element array never moves (the loader reallocates only on a growth; see
    /// `loader/src/table.rs`): the bound is an immediate, the base a readonly load Cranelift
    /// may hoist, and an out-of-bounds index selects address 0 instead of branching, so the
    /// access itself traps (its flags carry `code`). The whole address is then pure: with a
    /// loop-invariant index (a comparator passed to a sort) it leaves the loop, as in
    /// wasmtime. Other tables compare with the current length and trap on a branch.
    fn table_elem_addr(
        &mut self,
        table: u32,
        index: Value,
        code: TrapCode,
    ) -> Result<(Value, MemFlagsData), CompileError> {
        if self
            .module
            .tables
            .get(table as usize)
            .is_none_or(|t| t.idx64)
        {
            return Err(CompileError::unsupported(
                "64-bit tables are not supported",
                self.offset,
            ));
        }
        let def = vmctx::table_def(&mut self.builder, self.module, self.vmctx, table);
        let index = self.builder.ins().uextend(types::I64, index);
        let scaled = self
            .builder
            .ins()
            .ishl_imm_u(index, vmctx::TABLE_ELEMENT_SHIFT);
        if let Some(n) = self.fixed_table_len(table) {
            let oob =
                self.builder
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, index, n as i64);
            let base = vmctx::load_fixed_table_base(&mut self.builder, def);
            let addr = self.builder.ins().iadd(base, scaled);
            let zero = self.builder.ins().iconst(types::I64, 0);
            let addr = self.builder.ins().select_spectre_guard(oob, zero, addr);
            let flags = vmctx::table_elem().with_trap_code(Some(ir_trap(code)));
            return Ok((addr, flags));
        }
        let len = vmctx::load_table_length(&mut self.builder, def);
        let oob = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.builder.ins().trapnz(oob, ir_trap(code));
        let base = vmctx::load_table_base(&mut self.builder, def);
        Ok((self.builder.ins().iadd(base, scaled), vmctx::table_elem()))
    }

    /// Translates a table operator or `call_indirect`; `false` if `op` is not one.
    pub(super) fn translate_table(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use types::{I32, I64};
        match *op {
            Operator::TableGet { table } => {
                let index = self.pop()?;
                let (addr, flags) =
                    self.table_elem_addr(table, index, TrapCode::TableOutOfBounds)?;
                let v = self.builder.ins().load(I64, flags, addr, 0);
                self.stack.push(v);
            }
            Operator::TableSet { table } => {
                let value = self.pop()?;
                let index = self.pop()?;
                let (addr, flags) =
                    self.table_elem_addr(table, index, TrapCode::TableOutOfBounds)?;
                self.builder.ins().store(flags, value, addr, 0);
            }
            Operator::TableSize { table } => {
                let def = vmctx::table_def(&mut self.builder, self.module, self.vmctx, table);
                let len = vmctx::load_table_length(&mut self.builder, def);
                let v = self.builder.ins().ireduce(I32, len);
                self.stack.push(v);
            }
            Operator::TableGrow { table } => {
                let delta = self.pop()?;
                let init = self.pop()?;
                let delta = self.builder.ins().uextend(I64, delta);
                let t = self.i32_const(table);
                let old = self.call_grow_builtin(Builtin::TableGrow, &[t, delta, init])?;
                let v = self.builder.ins().ireduce(I32, old);
                self.stack.push(v);
            }
            Operator::TableFill { table } => {
                let len = self.pop()?;
                let value = self.pop()?;
                let dst = self.pop()?;
                let len = self.builder.ins().uextend(I64, len);
                let dst = self.builder.ins().uextend(I64, dst);
                let t = self.i32_const(table);
                self.call_builtin(Builtin::TableFill, &[t, dst, value, len])?;
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let len = self.pop()?;
                let src = self.pop()?;
                let dst = self.pop()?;
                let len = self.builder.ins().uextend(I64, len);
                let src = self.builder.ins().uextend(I64, src);
                let dst = self.builder.ins().uextend(I64, dst);
                let d = self.i32_const(dst_table);
                let s = self.i32_const(src_table);
                self.call_builtin(Builtin::TableCopy, &[d, s, dst, src, len])?;
            }
            Operator::TableInit { elem_index, table } => {
                let len = self.pop()?;
                let src = self.pop()?;
                let dst = self.pop()?;
                let dst = self.builder.ins().uextend(I64, dst);
                let t = self.i32_const(table);
                let e = self.i32_const(elem_index);
                self.call_builtin(Builtin::TableInit, &[t, e, dst, src, len])?;
            }
            Operator::ElemDrop { elem_index } => {
                let e = self.i32_const(elem_index);
                self.call_builtin(Builtin::ElemDrop, &[e])?;
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, false)?,
            Operator::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, true)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `call_indirect`, or with `tail` `return_call_indirect` (the checks are the same; the
    /// call replaces this frame, see `call.rs`).
    fn call_indirect(
        &mut self,
        type_index: u32,
        table: u32,
        tail: bool,
    ) -> Result<(), CompileError> {
        let index = self.pop()?;
        let (addr, flags) = self.table_elem_addr(table, index, TrapCode::UndefinedElement)?;
        let funcref = self.builder.ins().load(types::I64, flags, addr, 0);
        self.builder
            .ins()
            .trapz(funcref, ir_trap(TrapCode::IndirectCallToNull));
        let actual = vmctx::load_funcref_type_id(&mut self.builder, funcref);
        let expected = vmctx::load_type_id(&mut self.builder, self.vmctx, type_index);
        let mismatch = self.builder.ins().icmp(IntCC::NotEqual, actual, expected);
        self.builder
            .ins()
            .trapnz(mismatch, ir_trap(TrapCode::BadSignature));
        let (code, callee_vmctx) = vmctx::load_funcref_call(&mut self.builder, funcref);
        let n = self
            .module
            .types
            .get(type_index as usize)
            .ok_or_else(|| self.bug(format!("type {type_index} out of range")))?
            .params
            .len();
        let sig = self.sig_ref(type_index);
        let mut args = Vec::with_capacity(n + 2);
        args.push(callee_vmctx);
        args.push(self.vmctx);
        args.extend(self.pop_n(n)?);
        if tail {
            self.builder.ins().return_call_indirect(sig, code, &args);
            self.reachable = false;
        } else {
            let call = self.builder.ins().call_indirect(sig, code, &args);
            self.push_call_results(call);
        }
        Ok(())
    }
}
