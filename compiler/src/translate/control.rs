//! Structured control flow: `block`, `loop`, `if`/`else`, `end`, the branches, `return`,
//! `unreachable`, and the stack operators `select`, `drop`, `nop`.
//!
//! See the essay in `mod.rs` for the frame model. A branch passes the top values of the
//! stack as block arguments of its target: the frame's `next` block, or a loop's header.

use std::collections::HashMap;

use cranelift_codegen::ir::{BlockArg, InstBuilder, JumpTableData, Type, Value};
use wasmc_abi::TrapCode;
use wasmparser::{BlockType, Operator};

use super::traps::ir_trap;
use super::{ControlFrame, ElseBranch, FrameKind, FuncTranslator, ir_type};
use crate::CompileError;

fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|v| BlockArg::Value(*v)).collect()
}

impl FuncTranslator<'_, '_> {
    /// Parameter and result types of a block type.
    fn block_signature(&self, bt: BlockType) -> Result<(Vec<Type>, Vec<Type>), CompileError> {
        Ok(match bt {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => {
                let vt = crate::environ::val_type(t, self.offset)?;
                (Vec::new(), vec![ir_type(vt)])
            }
            BlockType::FuncType(idx) => {
                let ft = self
                    .module
                    .types
                    .get(idx as usize)
                    .ok_or_else(|| self.bug(format!("block type {idx} out of range")))?;
                (
                    ft.params.iter().map(|t| ir_type(*t)).collect(),
                    ft.results.iter().map(|t| ir_type(*t)).collect(),
                )
            }
        })
    }

    /// A new block with parameters of `types`.
    fn block_with_params(&mut self, types: &[Type]) -> cranelift_codegen::ir::Block {
        let b = self.builder.create_block();
        for t in types {
            self.builder.append_block_param(b, *t);
        }
        b
    }

    /// Translates a control or parametric operator; `false` if `op` is not one.
    pub(super) fn translate_control(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        match *op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.builder
                    .ins()
                    .trap(ir_trap(TrapCode::UnreachableCodeReached));
                self.reachable = false;
            }
            Operator::Block { blockty } => {
                let (params, results) = self.block_signature(blockty)?;
                let next = self.block_with_params(&results);
                let height = self.stack.len() - params.len().min(self.stack.len());
                self.control.push(ControlFrame {
                    kind: FrameKind::Block,
                    next,
                    params,
                    results,
                    height,
                    next_reachable: false,
                });
            }
            Operator::Loop { blockty } => {
                let (params, results) = self.block_signature(blockty)?;
                let header = self.block_with_params(&params);
                let next = self.block_with_params(&results);
                let args = self.pop_n(params.len())?;
                let height = self.stack.len();
                self.builder.ins().jump(header, &block_args(&args));
                self.builder.switch_to_block(header);
                let header_params = self.builder.block_params(header).to_vec();
                self.stack.extend(header_params);
                if self.options.epoch_interruption && !self.options.signal_interruption {
                    self.epoch_check()?;
                }
                self.fuel_check();
                self.control.push(ControlFrame {
                    kind: FrameKind::Loop { header },
                    next,
                    params,
                    results,
                    height,
                    next_reachable: false,
                });
            }
            Operator::If { blockty } => {
                let (params, results) = self.block_signature(blockty)?;
                let cond = self.pop()?;
                let then_block = self.builder.create_block();
                let next = self.block_with_params(&results);
                let param_vals = self.peek_n(params.len())?.to_vec();
                let else_branch = if params == results {
                    let brif = self.builder.ins().brif(
                        cond,
                        then_block,
                        &[],
                        next,
                        &block_args(&param_vals),
                    );
                    ElseBranch::Direct(brif)
                } else {
                    let else_block = self.builder.create_block();
                    self.builder
                        .ins()
                        .brif(cond, then_block, &[], else_block, &[]);
                    self.builder.seal_block(else_block);
                    ElseBranch::Block(else_block)
                };
                self.builder.seal_block(then_block);
                self.builder.switch_to_block(then_block);
                let height = self.stack.len() - params.len();
                self.control.push(ControlFrame {
                    kind: FrameKind::If {
                        else_branch,
                        params: param_vals,
                    },
                    next,
                    params,
                    results,
                    height,
                    next_reachable: false,
                });
            }
            Operator::Else => self.translate_else()?,
            Operator::End => self.translate_end()?,
            Operator::Br { relative_depth } => {
                self.branch(relative_depth)?;
                self.reachable = false;
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop()?;
                let (target, args) = self.branch_target_args(relative_depth)?;
                let cont = self.builder.create_block();
                self.builder
                    .ins()
                    .brif(cond, target, &block_args(&args), cont, &[]);
                self.builder.seal_block(cont);
                self.builder.switch_to_block(cont);
            }
            Operator::BrTable { ref targets } => {
                let index = self.pop()?;
                let default = targets.default();
                let mut depths = Vec::with_capacity(targets.len() as usize);
                for d in targets.targets() {
                    depths.push(d.map_err(|e| CompileError::invalid(&e))?);
                }
                self.br_table(index, &depths, default)?;
                self.reachable = false;
            }
            Operator::Return => {
                let n = self
                    .control
                    .first()
                    .ok_or_else(|| self.bug("no function frame"))?
                    .results
                    .len();
                let vals = self.peek_n(n)?.to_vec();
                self.builder.ins().return_(&vals);
                self.reachable = false;
            }
            Operator::Drop => {
                self.pop()?;
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let cond = self.pop()?;
                let b = self.pop()?;
                let a = self.pop()?;
                let v = self.builder.ins().select(cond, a, b);
                self.stack.push(v);
            }
            Operator::TypedSelectMulti { .. } => {
                return Err(CompileError::unsupported(
                    "select with several result types is not supported",
                    self.offset,
                ));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The target block of a branch to `depth` and the values it carries (not popped).
    fn branch_target_args(
        &mut self,
        depth: u32,
    ) -> Result<(cranelift_codegen::ir::Block, Vec<Value>), CompileError> {
        let i = self
            .control
            .len()
            .checked_sub(1 + depth as usize)
            .ok_or_else(|| self.bug(format!("branch depth {depth} out of range")))?;
        let frame = &mut self.control[i];
        let (target, n) = frame.branch_target();
        if !matches!(frame.kind, FrameKind::Loop { .. }) {
            frame.next_reachable = true;
        }
        let args = self.peek_n(n)?.to_vec();
        Ok((target, args))
    }

    /// An unconditional branch to `depth`.
    fn branch(&mut self, depth: u32) -> Result<(), CompileError> {
        let (target, args) = self.branch_target_args(depth)?;
        self.builder.ins().jump(target, &block_args(&args));
        Ok(())
    }

    /// `br_table`: a Cranelift jump table. Targets that take arguments go through one small
    /// block per distinct depth, which jumps with the values.
    fn br_table(&mut self, index: Value, depths: &[u32], default: u32) -> Result<(), CompileError> {
        let mut blocks: HashMap<u32, cranelift_codegen::ir::Block> = HashMap::new();
        let mut pending = Vec::new();
        let mut resolve = |t: &mut Self, depth: u32| -> Result<_, CompileError> {
            if let Some(b) = blocks.get(&depth) {
                return Ok(*b);
            }
            let (target, args) = t.branch_target_args(depth)?;
            let b = if args.is_empty() {
                target
            } else {
                let b = t.builder.create_block();
                pending.push((b, target, args));
                b
            };
            blocks.insert(depth, b);
            Ok(b)
        };
        let mut table = Vec::with_capacity(depths.len());
        for d in depths {
            table.push(resolve(self, *d)?);
        }
        let default_block = resolve(self, default)?;
        let pool = &mut self.builder.func.dfg;
        let default_call = pool.block_call(default_block, &[]);
        let calls: Vec<_> = table.iter().map(|b| pool.block_call(*b, &[])).collect();
        let jt = self
            .builder
            .create_jump_table(JumpTableData::new(default_call, &calls));
        self.builder.ins().br_table(index, jt);
        for (b, target, args) in pending {
            self.builder.seal_block(b);
            self.builder.switch_to_block(b);
            self.builder.ins().jump(target, &block_args(&args));
        }
        Ok(())
    }

    /// `else`: closes the true branch and starts the false one.
    pub(super) fn translate_else(&mut self) -> Result<(), CompileError> {
        let reachable = self.reachable;
        let frame = self
            .control
            .last_mut()
            .ok_or_else(|| CompileError::codegen(None, "else without a frame"))?;
        let FrameKind::If {
            else_branch,
            params,
        } = &mut frame.kind
        else {
            return Err(CompileError::codegen(None, "else outside an if"));
        };
        let (else_block, params) = match std::mem::replace(else_branch, ElseBranch::Taken) {
            ElseBranch::Block(b) => (b, params.clone()),
            ElseBranch::Direct(brif) => {
                // The false edge carries the parameters: the new block takes them.
                let b = self.builder.create_block();
                let mut vals = Vec::with_capacity(params.len());
                for v in params.iter() {
                    let ty = self.builder.func.dfg.value_type(*v);
                    vals.push(self.builder.append_block_param(b, ty));
                }
                self.builder.change_jump_destination(brif, frame.next, b);
                self.builder.seal_block(b);
                (b, vals)
            }
            ElseBranch::Taken => return Err(CompileError::codegen(None, "second else")),
        };
        let next = frame.next;
        let n = frame.results.len();
        let height = frame.height;
        if reachable {
            frame.next_reachable = true;
            let vals = self.peek_n(n)?.to_vec();
            self.builder.ins().jump(next, &block_args(&vals));
        }
        self.stack.truncate(height);
        self.builder.switch_to_block(else_block);
        self.stack.extend(params);
        self.reachable = true;
        Ok(())
    }

    /// `end`: closes the innermost frame.
    pub(super) fn translate_end(&mut self) -> Result<(), CompileError> {
        let mut frame = self
            .control
            .pop()
            .ok_or_else(|| CompileError::codegen(None, "end without a frame"))?;
        if self.reachable {
            frame.next_reachable = true;
            let vals = self.peek_n(frame.results.len())?.to_vec();
            self.builder.ins().jump(frame.next, &block_args(&vals));
        }
        self.stack.truncate(frame.height);
        // An `if` without `else`: the false branch passes the parameters straight through
        // (validation guarantees they match the results).
        match &frame.kind {
            FrameKind::If {
                else_branch: ElseBranch::Block(else_block),
                params,
            } => {
                self.builder.switch_to_block(*else_block);
                self.builder.ins().jump(frame.next, &block_args(params));
                frame.next_reachable = true;
            }
            FrameKind::If {
                else_branch: ElseBranch::Direct(_),
                ..
            } => frame.next_reachable = true,
            _ => {}
        }
        if let FrameKind::Loop { header } = frame.kind {
            self.builder.seal_block(header);
        }
        self.builder.seal_block(frame.next);
        if frame.next_reachable {
            self.builder.switch_to_block(frame.next);
            let results = self.builder.block_params(frame.next).to_vec();
            self.stack.extend(results);
            self.reachable = true;
            if matches!(frame.kind, FrameKind::Function) {
                self.fuel_before_return();
                let vals = self.stack.split_off(frame.height);
                self.builder.ins().return_(&vals);
                self.reachable = false;
            }
        } else {
            self.reachable = false;
        }
        Ok(())
    }
}
