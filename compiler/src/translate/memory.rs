//! Linear memory: loads and stores of every width, `memory.size`, `memory.grow`, and the
//! bulk operators (`memory.copy/fill/init`, `data.drop`) through builtins.
//!
//! Bounds checks (ARCHITECTURE.md §4, two reviewers for any change here): a 32-bit memory
//! reserves 4 GiB plus `MEMORY_GUARD` bytes of address space. For index `i`, static offset
//! `o` and access size `s`:
//! - `o + s <= MEMORY_GUARD`: no check. `base + i + o + s <= base + 4 GiB + guard`, so the
//!   access either hits accessible memory or faults inside the reservation or the guard; the
//!   access carries a `HEAP_OUT_OF_BOUNDS` trap record, which the signal handler looks up.
//! - otherwise: trap unless `uextend(i) + o + s <= current_length`, computed in 64 bits
//!   (`i < 2^32` and `o < 2^32`, so the sum cannot overflow).
//!
//! Accesses are little-endian and may be unaligned, as Wasm allows.

use cranelift_codegen::ir::{
    Endianness, InstBuilder, MemFlagsData, Type, Value, condcodes::IntCC, types,
};
use wasmc_abi::{Builtin, TrapCode};
use wasmparser::{MemArg, Operator};

use super::traps::ir_trap;
use super::{FuncTranslator, vmctx};
use crate::CompileError;
use crate::isa::MEMORY_GUARD;

/// How a load widens its value.
#[derive(Clone, Copy)]
enum Load {
    /// Full width of the result type.
    Full,
    /// Zero-extends `bits` bits.
    Zero(u8),
    /// Sign-extends `bits` bits.
    Sign(u8),
}

/// Flags of a heap access: little-endian, may fault (with a trap record).
fn heap_flags() -> MemFlagsData {
    MemFlagsData::new()
        .with_endianness(Endianness::Little)
        .with_trap_code(Some(ir_trap(TrapCode::MemoryOutOfBounds)))
}

impl FuncTranslator<'_, '_> {
    /// The address of an access of `size` bytes at `index + memarg.offset`, with the bounds
    /// check the access needs, and the immediate offset to use with it.
    fn heap_addr(
        &mut self,
        memarg: &MemArg,
        index: Value,
        size: u64,
    ) -> Result<(Value, i32), CompileError> {
        let wasmparser::MemArgTarget::Memory(mem) = memarg.target else {
            return Err(CompileError::unsupported(
                "GC array accesses are not supported",
                self.offset,
            ));
        };
        if self
            .module
            .memories
            .get(mem as usize)
            .is_none_or(|m| m.idx64)
        {
            return Err(CompileError::unsupported(
                "64-bit memories are not supported",
                self.offset,
            ));
        }
        let def = vmctx::memory_def(&mut self.builder, self.module, self.vmctx, mem);
        let base = vmctx::load_memory_base(&mut self.builder, def);
        let index = self.builder.ins().uextend(types::I64, index);
        // Validation bounds a 32-bit memory's offset by 2^32, so `end` fits easily.
        let end = memarg.offset.saturating_add(size);
        if end <= MEMORY_GUARD {
            let addr = self.builder.ins().iadd(base, index);
            // `memarg.offset <= MEMORY_GUARD` fits an i32 immediate.
            let imm = i32::try_from(memarg.offset).map_err(|_| self.bug("offset over guard"))?;
            return Ok((addr, imm));
        }
        let length = vmctx::load_memory_length(&mut self.builder, def);
        let end_val = self.builder.ins().iadd_imm_u(index, end as i64);
        let oob = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThan, end_val, length);
        self.builder
            .ins()
            .trapnz(oob, ir_trap(TrapCode::MemoryOutOfBounds));
        let addr = self.builder.ins().iadd(base, index);
        // A 32-bit memory's offset is below 2^32 (validated).
        let addr = self.builder.ins().iadd_imm_u(addr, memarg.offset as i64);
        Ok((addr, 0))
    }

    fn load(&mut self, memarg: &MemArg, ty: Type, kind: Load) -> Result<(), CompileError> {
        let index = self.pop()?;
        let size = match kind {
            Load::Full => u64::from(ty.bytes()),
            Load::Zero(bits) | Load::Sign(bits) => u64::from(bits / 8),
        };
        let (addr, off) = self.heap_addr(memarg, index, size)?;
        let f = heap_flags();
        let ins = self.builder.ins();
        let v = match kind {
            Load::Full => ins.load(ty, f, addr, off),
            Load::Zero(8) => ins.uload8(ty, f, addr, off),
            Load::Sign(8) => ins.sload8(ty, f, addr, off),
            Load::Zero(16) => ins.uload16(ty, f, addr, off),
            Load::Sign(16) => ins.sload16(ty, f, addr, off),
            Load::Zero(_) => ins.uload32(f, addr, off),
            Load::Sign(_) => ins.sload32(f, addr, off),
        };
        self.stack.push(v);
        Ok(())
    }

    fn store(&mut self, memarg: &MemArg, bytes: u8) -> Result<(), CompileError> {
        let value = self.pop()?;
        let index = self.pop()?;
        let (addr, off) = self.heap_addr(memarg, index, u64::from(bytes))?;
        let f = heap_flags();
        let ty = self.builder.func.dfg.value_type(value);
        let ins = self.builder.ins();
        if u32::from(bytes) == ty.bytes() {
            ins.store(f, value, addr, off);
        } else {
            match bytes {
                1 => ins.istore8(f, value, addr, off),
                2 => ins.istore16(f, value, addr, off),
                _ => ins.istore32(f, value, addr, off),
            };
        }
        Ok(())
    }

    fn check_mem32(&self, mem: u32) -> Result<(), CompileError> {
        match self.module.memories.get(mem as usize) {
            Some(m) if !m.idx64 => Ok(()),
            _ => Err(CompileError::unsupported(
                "64-bit memories are not supported",
                self.offset,
            )),
        }
    }

    /// Translates a memory operator; `false` if `op` is not one.
    pub(super) fn translate_memory(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use types::{F32, F64, I32, I64};
        match op {
            Operator::I32Load { memarg } => self.load(memarg, I32, Load::Full)?,
            Operator::I64Load { memarg } => self.load(memarg, I64, Load::Full)?,
            Operator::F32Load { memarg } => self.load(memarg, F32, Load::Full)?,
            Operator::F64Load { memarg } => self.load(memarg, F64, Load::Full)?,
            Operator::I32Load8S { memarg } => self.load(memarg, I32, Load::Sign(8))?,
            Operator::I32Load8U { memarg } => self.load(memarg, I32, Load::Zero(8))?,
            Operator::I32Load16S { memarg } => self.load(memarg, I32, Load::Sign(16))?,
            Operator::I32Load16U { memarg } => self.load(memarg, I32, Load::Zero(16))?,
            Operator::I64Load8S { memarg } => self.load(memarg, I64, Load::Sign(8))?,
            Operator::I64Load8U { memarg } => self.load(memarg, I64, Load::Zero(8))?,
            Operator::I64Load16S { memarg } => self.load(memarg, I64, Load::Sign(16))?,
            Operator::I64Load16U { memarg } => self.load(memarg, I64, Load::Zero(16))?,
            Operator::I64Load32S { memarg } => self.load(memarg, I64, Load::Sign(32))?,
            Operator::I64Load32U { memarg } => self.load(memarg, I64, Load::Zero(32))?,
            Operator::I32Store { memarg } | Operator::F32Store { memarg } => {
                self.store(memarg, 4)?
            }
            Operator::I64Store { memarg } | Operator::F64Store { memarg } => {
                self.store(memarg, 8)?
            }
            Operator::I32Store8 { memarg } | Operator::I64Store8 { memarg } => {
                self.store(memarg, 1)?
            }
            Operator::I32Store16 { memarg } | Operator::I64Store16 { memarg } => {
                self.store(memarg, 2)?
            }
            Operator::I64Store32 { memarg } => self.store(memarg, 4)?,
            Operator::MemorySize { mem } => {
                self.check_mem32(*mem)?;
                let def = vmctx::memory_def(&mut self.builder, self.module, self.vmctx, *mem);
                let len = vmctx::load_memory_length(&mut self.builder, def);
                let pages = self.builder.ins().ushr_imm_u(len, 16);
                let v = self.builder.ins().ireduce(I32, pages);
                self.stack.push(v);
            }
            Operator::MemoryGrow { mem } => {
                self.check_mem32(*mem)?;
                let delta = self.pop()?;
                let delta = self.builder.ins().uextend(I64, delta);
                let m = self.i32_const(*mem);
                let old = self
                    .call_builtin(Builtin::MemoryGrow, &[m, delta])?
                    .ok_or_else(|| self.bug("memory_grow without result"))?;
                // -1 (failure) stays -1; old sizes fit in 32 bits for a 32-bit memory.
                let v = self.builder.ins().ireduce(I32, old);
                self.stack.push(v);
            }
            Operator::MemoryCopy { dst_mem, src_mem } => {
                self.check_mem32(*dst_mem)?;
                self.check_mem32(*src_mem)?;
                let len = self.pop()?;
                let src = self.pop()?;
                let dst = self.pop()?;
                let len = self.builder.ins().uextend(I64, len);
                let src = self.builder.ins().uextend(I64, src);
                let dst = self.builder.ins().uextend(I64, dst);
                let d = self.i32_const(*dst_mem);
                let s = self.i32_const(*src_mem);
                self.call_builtin(Builtin::MemoryCopy, &[d, dst, s, src, len])?;
            }
            Operator::MemoryFill { mem } => {
                self.check_mem32(*mem)?;
                let len = self.pop()?;
                let byte = self.pop()?;
                let dst = self.pop()?;
                let len = self.builder.ins().uextend(I64, len);
                let dst = self.builder.ins().uextend(I64, dst);
                let m = self.i32_const(*mem);
                self.call_builtin(Builtin::MemoryFill, &[m, dst, byte, len])?;
            }
            Operator::MemoryInit { data_index, mem } => {
                self.check_mem32(*mem)?;
                let len = self.pop()?;
                let src = self.pop()?;
                let dst = self.pop()?;
                let dst = self.builder.ins().uextend(I64, dst);
                let m = self.i32_const(*mem);
                let d = self.i32_const(*data_index);
                self.call_builtin(Builtin::MemoryInit, &[m, d, dst, src, len])?;
            }
            Operator::DataDrop { data_index } => {
                let d = self.i32_const(*data_index);
                self.call_builtin(Builtin::DataDrop, &[d])?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
