//! Linear memory: loads and stores of every width (`v128` ones included: plain, widening,
//! splat, zero-filling and single-lane), `memory.size`, `memory.grow`, and the
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
//!
//! A 64-bit memory (memory64) always gets an explicit check: its index can be anything below
//! 2^64, which no reservation covers. `index + offset + size` is computed with an overflow
//! trap and compared with `current_length` (`heap_addr64`). The loader never moves a 64-bit
//! memory either (it reserves up to a cap, see `loader/src/memory.rs`), so the base load
//! stays readonly. Bulk operators pass `i64` operands to the builtins as they are.
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
use wasmc_abi::metadata::WASM_PAGE_SIZE;

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

/// The widening loads of SIMD (`v128.load8x8_s` etc.).
#[derive(Clone, Copy)]
enum Extend {
    S8x8,
    U8x8,
    S16x4,
    U16x4,
    S32x2,
    U32x2,
}

/// Flags of a heap access: little-endian, may fault (with a trap record), in Cranelift's
/// `heap` alias region, so a store to linear memory does not make the compiler reload the
/// vmctx records (`vmctx.rs`) or table elements it already has.
fn heap_flags() -> MemFlagsData {
    MemFlagsData::new()
        .with_endianness(Endianness::Little)
        .with_alias_region(Some(vmctx::heap_region()))
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
        let idx64 = self
            .module
            .memories
            .get(mem as usize)
            .ok_or_else(|| self.bug(format!("memory {mem} out of range")))?
            .idx64;
        let def = vmctx::memory_def(&mut self.builder, self.module, self.vmctx, mem);
        let base = vmctx::load_memory_base(&mut self.builder, def);
        if idx64 {
            let min_bytes = self.module.memories[mem as usize]
                .min
                .saturating_mul(WASM_PAGE_SIZE);
            return Ok(self.heap_addr64(def, base, memarg.offset, index, size, min_bytes));
        }
        let index = self.builder.ins().uextend(types::I64, index);
        // Validation bounds a 32-bit memory's offset by 2^32, so `end` fits easily.
        let end = memarg.offset.saturating_add(size);
        if end <= MEMORY_GUARD {
            let addr = self.builder.ins().iadd(base, index);
            if memarg.offset == 0 {
                return Ok((addr, 0));
            }
            // The static offset is an `iadd` of a constant, not the access's immediate: the
            // machine code is the same (lowering folds both into the addressing mode), but
            // this is the IR wasmtime builds, and regalloc2's choices depend on the IR's
            // shape. With the offset as an immediate it kept a loop-invariant pointer of the
            // corpus's base64 decode loop in a register inside the loop and stored it back to
            // its stack slot on every turn (text 1.12x wasmtime; 1.04x this way, the other
            // programs unchanged). A heuristic, measured, not a semantic difference.
            let offset = self
                .builder
                .ins()
                .iconst(types::I64, memarg.offset.cast_signed());
            return Ok((self.builder.ins().iadd(addr, offset), 0));
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

    /// The address of an access to a 64-bit memory: always an explicit check, since no
    /// reservation covers a 64-bit index.
    ///
    /// When `end = offset + size` is at most the memory's minimum size (`min_bytes`, which the
    /// length never drops below), the check is `index > length - end`: the subtraction
    /// cannot wrap, and it does not depend on the index, so it is one compare per access.
    /// Otherwise `index + offset + size` is computed with overflow traps (a wrapped sum
    /// would pass the check) and compared with the current length.
    fn heap_addr64(
        &mut self,
        def: vmctx::Place,
        base: Value,
        offset: u64,
        index: Value,
        size: u64,
        min_bytes: u64,
    ) -> (Value, i32) {
        let trap = ir_trap(TrapCode::MemoryOutOfBounds);
        let length = vmctx::load_memory_length(&mut self.builder, def);
        if let Some(end) = offset.checked_add(size)
            && end <= min_bytes
        {
            let bound = self
                .builder
                .ins()
                .iadd_imm_s(length, (end as i64).wrapping_neg());
            let oob = self
                .builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThan, index, bound);
            self.builder.ins().trapnz(oob, trap);
            let addr = self.builder.ins().iadd(base, index);
            return match i32::try_from(offset) {
                Ok(imm) => (addr, imm),
                Err(_) => (self.builder.ins().iadd_imm_u(addr, offset as i64), 0),
            };
        }
        let (start, rest) = match offset.checked_add(size) {
            // The usual case: one add with an overflow trap covers offset and size.
            Some(end) => (index, end),
            // `offset + size` alone overflows: the access cannot be in bounds, but the
            // trap has to come from the checks below (the code after it stays valid IR).
            None => {
                let o = self.builder.ins().iconst(types::I64, offset as i64);
                let start = self.builder.ins().uadd_overflow_trap(index, o, trap);
                (start, size)
            }
        };
        let rest_val = self.builder.ins().iconst(types::I64, rest as i64);
        let end = self.builder.ins().uadd_overflow_trap(start, rest_val, trap);
        let oob = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThan, end, length);
        self.builder.ins().trapnz(oob, trap);
        let addr = self.builder.ins().iadd(base, start);
        if start != index {
            return (addr, 0);
        }
        match i32::try_from(offset) {
            Ok(imm) => (addr, imm),
            Err(_) => {
                // In bounds, so `base + index + offset` does not wrap.
                let addr = self.builder.ins().iadd_imm_u(addr, offset as i64);
                (addr, 0)
            }
        }
    }

    /// Widens a memory operand to `i64`: 32-bit memories' operands are zero-extended, 64-bit
    /// memories' are already `i64`. Builtins take every address and length as `i64`.
    fn widen_i64(&mut self, v: Value) -> Value {
        if self.builder.func.dfg.value_type(v) == types::I64 {
            v
        } else {
            self.builder.ins().uextend(types::I64, v)
        }
    }

    fn is_mem64(&self, mem: u32) -> Result<bool, CompileError> {
        self.module
            .memories
            .get(mem as usize)
            .map(|m| m.idx64)
            .ok_or_else(|| self.bug(format!("memory {mem} out of range")))
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

    /// `v128.load8x8_s` and friends: 8 bytes, each lane widened.
    fn load_extend(&mut self, memarg: &MemArg, kind: Extend) -> Result<(), CompileError> {
        let index = self.pop()?;
        let (addr, off) = self.heap_addr(memarg, index, 8)?;
        let f = heap_flags();
        let ins = self.builder.ins();
        let v = match kind {
            Extend::S8x8 => ins.sload8x8(f, addr, off),
            Extend::U8x8 => ins.uload8x8(f, addr, off),
            Extend::S16x4 => ins.sload16x4(f, addr, off),
            Extend::U16x4 => ins.uload16x4(f, addr, off),
            Extend::S32x2 => ins.sload32x2(f, addr, off),
            Extend::U32x2 => ins.uload32x2(f, addr, off),
        };
        self.vpush(v);
        Ok(())
    }

    /// `v128.loadN_splat`: one lane-sized load copied to every lane of shape `ty`.
    fn load_splat(&mut self, memarg: &MemArg, ty: Type) -> Result<(), CompileError> {
        let index = self.pop()?;
        let lane = ty.lane_type();
        let (addr, off) = self.heap_addr(memarg, index, u64::from(lane.bytes()))?;
        let x = self.builder.ins().load(lane, heap_flags(), addr, off);
        let v = self.builder.ins().splat(ty, x);
        self.vpush(v);
        Ok(())
    }

    /// `v128.loadN_zero`: one lane-sized load into lane 0, the other lanes zero
    /// (`scalar_to_vector` zeroes them).
    fn load_zero(&mut self, memarg: &MemArg, ty: Type) -> Result<(), CompileError> {
        let index = self.pop()?;
        let lane = ty.lane_type();
        let (addr, off) = self.heap_addr(memarg, index, u64::from(lane.bytes()))?;
        let x = self.builder.ins().load(lane, heap_flags(), addr, off);
        let v = self.builder.ins().scalar_to_vector(ty, x);
        self.vpush(v);
        Ok(())
    }

    /// `v128.loadN_lane`: replaces lane `lane` of the vector operand with a load.
    fn load_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) -> Result<(), CompileError> {
        let vector = self.vpop(ty)?;
        let index = self.pop()?;
        let lt = ty.lane_type();
        let (addr, off) = self.heap_addr(memarg, index, u64::from(lt.bytes()))?;
        let x = self.builder.ins().load(lt, heap_flags(), addr, off);
        let v = self.builder.ins().insertlane(vector, x, lane);
        self.vpush(v);
        Ok(())
    }

    /// `v128.storeN_lane`: stores lane `lane` of the vector operand.
    fn store_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) -> Result<(), CompileError> {
        let vector = self.vpop(ty)?;
        let index = self.pop()?;
        let lt = ty.lane_type();
        let (addr, off) = self.heap_addr(memarg, index, u64::from(lt.bytes()))?;
        let x = self.builder.ins().extractlane(vector, lane);
        self.builder.ins().store(heap_flags(), x, addr, off);
        Ok(())
    }

    /// Translates a memory operator; `false` if `op` is not one.
    pub(super) fn translate_memory(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use types::{F32, F64, I8X16, I16X8, I32, I32X4, I64, I64X2};
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
            Operator::V128Load { memarg } => self.load(memarg, I8X16, Load::Full)?,
            Operator::V128Store { memarg } => self.store(memarg, 16)?,
            Operator::V128Load8x8S { memarg } => self.load_extend(memarg, Extend::S8x8)?,
            Operator::V128Load8x8U { memarg } => self.load_extend(memarg, Extend::U8x8)?,
            Operator::V128Load16x4S { memarg } => self.load_extend(memarg, Extend::S16x4)?,
            Operator::V128Load16x4U { memarg } => self.load_extend(memarg, Extend::U16x4)?,
            Operator::V128Load32x2S { memarg } => self.load_extend(memarg, Extend::S32x2)?,
            Operator::V128Load32x2U { memarg } => self.load_extend(memarg, Extend::U32x2)?,
            Operator::V128Load8Splat { memarg } => self.load_splat(memarg, I8X16)?,
            Operator::V128Load16Splat { memarg } => self.load_splat(memarg, I16X8)?,
            Operator::V128Load32Splat { memarg } => self.load_splat(memarg, I32X4)?,
            Operator::V128Load64Splat { memarg } => self.load_splat(memarg, I64X2)?,
            Operator::V128Load32Zero { memarg } => self.load_zero(memarg, I32X4)?,
            Operator::V128Load64Zero { memarg } => self.load_zero(memarg, I64X2)?,
            Operator::V128Load8Lane { memarg, lane } => self.load_lane(memarg, I8X16, *lane)?,
            Operator::V128Load16Lane { memarg, lane } => self.load_lane(memarg, I16X8, *lane)?,
            Operator::V128Load32Lane { memarg, lane } => self.load_lane(memarg, I32X4, *lane)?,
            Operator::V128Load64Lane { memarg, lane } => self.load_lane(memarg, I64X2, *lane)?,
            Operator::V128Store8Lane { memarg, lane } => self.store_lane(memarg, I8X16, *lane)?,
            Operator::V128Store16Lane { memarg, lane } => self.store_lane(memarg, I16X8, *lane)?,
            Operator::V128Store32Lane { memarg, lane } => self.store_lane(memarg, I32X4, *lane)?,
            Operator::V128Store64Lane { memarg, lane } => self.store_lane(memarg, I64X2, *lane)?,
            Operator::MemorySize { mem } => {
                let def = vmctx::memory_def(&mut self.builder, self.module, self.vmctx, *mem);
                let len = vmctx::load_memory_length(&mut self.builder, def);
                let pages = self.builder.ins().ushr_imm_u(len, 16);
                let v = if self.is_mem64(*mem)? {
                    pages
                } else {
                    self.builder.ins().ireduce(I32, pages)
                };
                self.stack.push(v);
            }
            Operator::MemoryGrow { mem } => {
                let delta = self.pop()?;
                let delta = self.widen_i64(delta);
                let m = self.i32_const(*mem);
                let old = self.call_grow_builtin(Builtin::MemoryGrow, &[m, delta])?;
                // -1 (failure) stays -1; old sizes fit in 32 bits for a 32-bit memory.
                let v = if self.is_mem64(*mem)? {
                    old
                } else {
                    self.builder.ins().ireduce(I32, old)
                };
                self.stack.push(v);
            }
            Operator::MemoryCopy { dst_mem, src_mem } => {
                let len = self.pop()?;
                let src = self.pop()?;
                let dst = self.pop()?;
                let len = self.widen_i64(len);
                let src = self.widen_i64(src);
                let dst = self.widen_i64(dst);
                let d = self.i32_const(*dst_mem);
                let s = self.i32_const(*src_mem);
                self.call_builtin(Builtin::MemoryCopy, &[d, dst, s, src, len])?;
            }
            Operator::MemoryFill { mem } => {
                let len = self.pop()?;
                let byte = self.pop()?;
                let dst = self.pop()?;
                let len = self.widen_i64(len);
                let dst = self.widen_i64(dst);
                let m = self.i32_const(*mem);
                self.call_builtin(Builtin::MemoryFill, &[m, dst, byte, len])?;
            }
            Operator::MemoryInit { data_index, mem } => {
                let len = self.pop()?;
                let src = self.pop()?;
                let dst = self.pop()?;
                let dst = self.widen_i64(dst);
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
