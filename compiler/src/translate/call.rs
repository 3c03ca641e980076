//! Calls: direct calls (colocated, to a defined function or an import stub), builtin calls
//! through `vmctx->builtins`, the signatures of all calling conventions, and the reference
//! operators `ref.func`, `ref.null`, `ref.is_null`.
//!
//! Conventions (ARCHITECTURE.md §2): Wasm functions use `tail` with
//! `(callee_vmctx, caller_vmctx, params...) -> results`; array calls and builtins use the
//! platform's C convention.

use cranelift_codegen::ir::{AbiParam, InstBuilder, Signature, Value, condcodes::IntCC, types};
use cranelift_codegen::isa::TargetIsa;
use wasmc_abi::{Builtin, BuiltinType, FuncType, TrapCode};
use wasmparser::Operator;

use super::traps::ir_trap;
use super::{FuncTranslator, WASM_CALL_CONV, ir_type, names, vmctx, vmctx_param};
use crate::CompileError;

/// The signature of a Wasm function of type `ty`.
pub(crate) fn wasm_signature(_isa: &dyn TargetIsa, ty: &FuncType) -> Signature {
    let mut sig = Signature::new(WASM_CALL_CONV);
    sig.params.push(vmctx_param());
    sig.params.push(AbiParam::new(types::I64));
    sig.params
        .extend(ty.params.iter().map(|t| AbiParam::new(ir_type(*t))));
    sig.returns
        .extend(ty.results.iter().map(|t| AbiParam::new(ir_type(*t))));
    sig
}

/// The array-call signature: `(callee_vmctx, caller_vmctx, values, len) -> i32`.
pub(crate) fn array_signature(isa: &dyn TargetIsa) -> Signature {
    let mut sig = Signature::new(isa.default_call_conv());
    sig.params.push(vmctx_param());
    for _ in 0..3 {
        sig.params.push(AbiParam::new(types::I64));
    }
    sig.returns.push(AbiParam::new(types::I32));
    sig
}

fn builtin_type(t: BuiltinType) -> AbiParam {
    AbiParam::new(match t {
        BuiltinType::VmCtx | BuiltinType::I64 | BuiltinType::Ptr => types::I64,
        BuiltinType::I32 => types::I32,
    })
}

/// The native signature of a builtin.
pub(crate) fn builtin_signature(isa: &dyn TargetIsa, builtin: Builtin) -> Signature {
    let s = builtin.signature();
    let mut sig = Signature::new(isa.default_call_conv());
    sig.params.extend(s.params.iter().map(|t| builtin_type(*t)));
    sig.returns.extend(s.result.map(builtin_type));
    sig
}

impl FuncTranslator<'_, '_> {
    /// Calls a builtin with `args` (after the vmctx). A builtin that can trap returns a status
    /// that is checked here (`HostTrap`), and nothing is returned; otherwise its result.
    pub(super) fn call_builtin(
        &mut self,
        builtin: Builtin,
        args: &[Value],
    ) -> Result<Option<Value>, CompileError> {
        let sig = self.builtin_sig(builtin);
        let fnptr = vmctx::load_builtin(&mut self.builder, self.vmctx, builtin);
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(self.vmctx);
        all.extend_from_slice(args);
        let call = self.builder.ins().call_indirect(sig, fnptr, &all);
        let result = self.builder.inst_results(call).first().copied();
        if builtin.can_trap() {
            let status = result.ok_or_else(|| self.bug("trapping builtin without status"))?;
            self.builder
                .ins()
                .trapnz(status, ir_trap(TrapCode::HostTrap));
            return Ok(None);
        }
        Ok(result)
    }

    /// Calls `memory_grow` or `table_grow` and returns the old size (or -1): when the loader
    /// answers [`wasmc_abi::builtins::GROW_TRAPPED`] instead (a resource limiter asked for a
    /// trap), raises `HostTrap` so the recorded reason reaches the caller.
    pub(super) fn call_grow_builtin(
        &mut self,
        builtin: Builtin,
        args: &[Value],
    ) -> Result<Value, CompileError> {
        let old = self
            .call_builtin(builtin, args)?
            .ok_or_else(|| self.bug(format!("{} without result", builtin.name())))?;
        // The sentinel is -2 as an i64 (u64::MAX - 1 reinterpreted).
        let sentinel = wasmc_abi::builtins::GROW_TRAPPED as i64;
        let trapped = self.builder.ins().icmp_imm_s(IntCC::Equal, old, sentinel);
        self.builder
            .ins()
            .trapnz(trapped, ir_trap(TrapCode::HostTrap));
        Ok(old)
    }

    /// An `i32` constant (indices passed to builtins).
    pub(super) fn i32_const(&mut self, v: u32) -> Value {
        self.builder.ins().iconst(types::I32, i64::from(v))
    }

    /// Pushes the results of call instruction `call`.
    pub(super) fn push_call_results(&mut self, call: cranelift_codegen::ir::Inst) {
        let results = self.builder.inst_results(call).to_vec();
        self.stack.extend(results);
    }

    /// A direct call of `function_index`; with `tail`, a `return_call`: the callee replaces
    /// this frame (every Wasm function uses the `tail` convention, whose callee pops its
    /// stack arguments, so any signature can be tail-called) and the code after it is
    /// unreachable.
    fn call(&mut self, function_index: u32, tail: bool) -> Result<(), CompileError> {
        let ty = self.module.func_type(function_index);
        let n = ty.params.len();
        let namespace = if self.module.is_imported_func(function_index) {
            names::IMPORT_STUB
        } else {
            names::DEFINED_FUNC
        };
        let callee = self.colocated_func(namespace, function_index);
        let mut args = Vec::with_capacity(n + 2);
        args.push(self.vmctx);
        args.push(self.vmctx);
        args.extend(self.pop_n(n)?);
        if tail {
            self.builder.ins().return_call(callee, &args);
            self.reachable = false;
        } else {
            let call = self.builder.ins().call(callee, &args);
            self.push_call_results(call);
        }
        Ok(())
    }

    /// Translates calls and reference operators; `false` if `op` is not one.
    pub(super) fn translate_call(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        match *op {
            Operator::Call { function_index } => self.call(function_index, false)?,
            Operator::ReturnCall { function_index } => self.call(function_index, true)?,
            Operator::RefNull { .. } => {
                let v = self.builder.ins().iconst(types::I64, 0);
                self.stack.push(v);
            }
            Operator::RefIsNull => {
                let r = self.pop()?;
                let is_null = self.builder.ins().icmp_imm_u(IntCC::Equal, r, 0);
                let v = self.builder.ins().uextend(types::I32, is_null);
                self.stack.push(v);
            }
            Operator::RefFunc { function_index } => {
                let v = vmctx::func_ref_addr(
                    &mut self.builder,
                    self.module,
                    self.vmctx,
                    function_index,
                )
                .ok_or_else(|| {
                    self.bug(format!(
                        "ref.func of function {function_index} that does not escape"
                    ))
                })?;
                self.stack.push(v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
