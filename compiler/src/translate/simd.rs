//! The 128-bit SIMD operators (the `simd` proposal, part of Wasm 2.0) and the relaxed-SIMD
//! operators, lowered to Cranelift vector instructions. Loads and stores of `v128` are in
//! `memory.rs`, where the bounds checks live.
//!
//! # Representation
//!
//! Every `v128` on the value stack, in a local, a block parameter, a global or a call is an
//! `I8X16` value (`ir_type(V128)`). An operator that needs lanes of another shape bitcasts its
//! operands to that shape (`vpop`) and its result back to `I8X16` (`vpush`); the bitcasts are
//! register renames and Cranelift folds chains of them. Keeping one type everywhere means
//! control flow and calls never see two IR types for the same Wasm type.
//!
//! # Semantics that need care
//!
//! - **Shift counts** are taken modulo the lane width (`band_imm`), as Wasm defines them.
//! - **`pmin`/`pmax`** are `b < a ? b : a` and `a < b ? b : a`, lane-wise, *not* `fmin`/`fmax`:
//!   they are built from `fcmp` and `bitselect` so NaNs and zeros select exactly the operand
//!   the spec names. `min`/`max` are Cranelift's `fmin`/`fmax`, which follow the Wasm rules.
//! - **`trunc_sat_f64x2_*_zero`** convert to `i64x2` with saturation, then narrow against a
//!   zero vector with saturation: the two upper lanes are zero and the values already fit.
//! - **Dot products and pairwise additions** widen first (`swiden_*`/`uwiden_*`) and add pairs
//!   (`iadd_pairwise`); the x86 backend recognises these shapes (`pmaddwd`).
//!
//! # Relaxed SIMD: the deterministic choices
//!
//! Relaxed SIMD lets an engine pick among several results; wasmc always picks the same one on
//! every target, so a module computes identical bits on x86_64 and aarch64:
//!
//! - `relaxed_swizzle` = `swizzle` (an out-of-range index gives 0);
//! - `relaxed_trunc*` = the saturating `trunc_sat*` conversions (NaN gives 0);
//! - `relaxed_madd`/`relaxed_nmadd` = an unfused multiply then add (`a * b + c`,
//!   `-(a * b) + c`), two roundings, never a fused `fma` (which would need a libcall where the
//!   CPU has no FMA unit);
//! - `relaxed_laneselect` = `bitselect` (every bit of the mask counts);
//! - `relaxed_min`/`relaxed_max` = `min`/`max` (NaN propagates, `-0 < +0`);
//! - `relaxed_q15mulr_s` = `q15mulr_sat_s` (saturates `-1 * -1` to `0x7fff`);
//! - `relaxed_dot_i8x16_i7x16_s` (and `_add_s`) treat both operands as signed bytes; the
//!   `i16` pair sums wrap (only reachable when the second operand has its top bit set, where
//!   the proposal leaves the result open).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32X4, F64X2, I8X16, I16X8, I32X4, I64X2};
use cranelift_codegen::ir::{
    ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value, types,
};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

use super::FuncTranslator;
use crate::CompileError;

/// Flags of the bitcasts between vector shapes: lanes are numbered in little-endian order
/// on every target, as Wasm numbers them.
fn lane_order() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// Bitcasts vector `v` to shape `ty` (nothing when it already has it).
pub(crate) fn cast(b: &mut FunctionBuilder<'_>, v: Value, ty: Type) -> Value {
    if b.func.dfg.value_type(v) == ty {
        v
    } else {
        b.ins().bitcast(ty, lane_order(), v)
    }
}

/// An all-zero vector of shape `ty`.
pub(crate) fn zero_vector(b: &mut FunctionBuilder<'_>, ty: Type) -> Value {
    let c = b
        .func
        .dfg
        .constants
        .insert(ConstantData::from(vec![0u8; 16]));
    b.ins().vconst(ty, c)
}

/// The signed dot product of two `i8x16` as `i16x8`: pairs of lane products added.
fn dot_i8x16_s(b: &mut FunctionBuilder<'_>, x: Value, y: Value) -> Value {
    let xl = b.ins().swiden_low(x);
    let yl = b.ins().swiden_low(y);
    let lo = b.ins().imul(xl, yl);
    let xh = b.ins().swiden_high(x);
    let yh = b.ins().swiden_high(y);
    let hi = b.ins().imul(xh, yh);
    b.ins().iadd_pairwise(lo, hi)
}

/// `relaxed_madd` (`negate = false`) or `relaxed_nmadd`: unfused, see the module docs.
fn madd(b: &mut FunctionBuilder<'_>, x: Value, y: Value, z: Value, negate: bool) -> Value {
    let x = if negate { b.ins().fneg(x) } else { x };
    let p = b.ins().fmul(x, y);
    b.ins().fadd(p, z)
}

impl FuncTranslator<'_, '_> {
    /// Pops a `v128` and bitcasts it to shape `ty`.
    pub(super) fn vpop(&mut self, ty: Type) -> Result<Value, CompileError> {
        let v = self.pop()?;
        Ok(cast(&mut self.builder, v, ty))
    }

    /// Pushes vector `v` as a `v128` (`I8X16`).
    pub(super) fn vpush(&mut self, v: Value) {
        let v = cast(&mut self.builder, v, I8X16);
        self.stack.push(v);
    }

    fn unary(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value,
    ) -> Result<(), CompileError> {
        let a = self.vpop(ty)?;
        let r = f(&mut self.builder, a);
        self.vpush(r);
        Ok(())
    }

    fn binary(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
    ) -> Result<(), CompileError> {
        let b = self.vpop(ty)?;
        let a = self.vpop(ty)?;
        let r = f(&mut self.builder, a, b);
        self.vpush(r);
        Ok(())
    }

    fn ternary(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value, Value) -> Value,
    ) -> Result<(), CompileError> {
        let c = self.vpop(ty)?;
        let b = self.vpop(ty)?;
        let a = self.vpop(ty)?;
        let r = f(&mut self.builder, a, b, c);
        self.vpush(r);
        Ok(())
    }

    fn icmp_v(&mut self, ty: Type, cc: IntCC) -> Result<(), CompileError> {
        self.binary(ty, |b, x, y| b.ins().icmp(cc, x, y))
    }

    fn fcmp_v(&mut self, ty: Type, cc: FloatCC) -> Result<(), CompileError> {
        self.binary(ty, |b, x, y| b.ins().fcmp(cc, x, y))
    }

    /// A lane-wise shift; the `i32` count is taken modulo the lane width.
    fn shift(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
    ) -> Result<(), CompileError> {
        let count = self.pop()?;
        let a = self.vpop(ty)?;
        let mask = i64::from(ty.lane_bits() - 1);
        let count = self.builder.ins().band_imm_u(count, mask);
        let r = f(&mut self.builder, a, count);
        self.vpush(r);
        Ok(())
    }

    /// `all_true` (`all = true`) or `bitmask` of shape `ty`.
    fn reduce(&mut self, ty: Type, all: bool) -> Result<(), CompileError> {
        let a = self.vpop(ty)?;
        let r = if all {
            let t = self.builder.ins().vall_true(a);
            self.builder.ins().uextend(types::I32, t)
        } else {
            self.builder.ins().vhigh_bits(types::I32, a)
        };
        self.stack.push(r);
        Ok(())
    }

    /// `splat` of the scalar on top of the stack; `i8`/`i16` lanes take the low bits of an
    /// `i32`.
    fn splat(&mut self, ty: Type) -> Result<(), CompileError> {
        let x = self.pop()?;
        let lane = ty.lane_type();
        let x = if lane == types::I8 || lane == types::I16 {
            self.builder.ins().ireduce(lane, x)
        } else {
            x
        };
        let r = self.builder.ins().splat(ty, x);
        self.vpush(r);
        Ok(())
    }

    /// `extract_lane`; `signed` says how `i8`/`i16` lanes widen to `i32` (`None` for the
    /// shapes whose lanes are already Wasm values).
    fn extract_lane(
        &mut self,
        ty: Type,
        lane: u8,
        signed: Option<bool>,
    ) -> Result<(), CompileError> {
        let v = self.vpop(ty)?;
        let x = self.builder.ins().extractlane(v, lane);
        let x = match signed {
            Some(true) => self.builder.ins().sextend(types::I32, x),
            Some(false) => self.builder.ins().uextend(types::I32, x),
            None => x,
        };
        self.stack.push(x);
        Ok(())
    }

    fn replace_lane(&mut self, ty: Type, lane: u8) -> Result<(), CompileError> {
        let x = self.pop()?;
        let v = self.vpop(ty)?;
        let lt = ty.lane_type();
        let x = if lt == types::I8 || lt == types::I16 {
            self.builder.ins().ireduce(lt, x)
        } else {
            x
        };
        let r = self.builder.ins().insertlane(v, x, lane);
        self.vpush(r);
        Ok(())
    }

    /// `trunc_sat_f64x2_{s,u}_zero` (and the relaxed forms).
    fn trunc_sat_f64x2_zero(&mut self, signed: bool) -> Result<(), CompileError> {
        let a = self.vpop(F64X2)?;
        let b = &mut self.builder;
        let zero = zero_vector(b, I64X2);
        let r = if signed {
            let c = b.ins().fcvt_to_sint_sat(I64X2, a);
            b.ins().snarrow(c, zero)
        } else {
            let c = b.ins().fcvt_to_uint_sat(I64X2, a);
            b.ins().uunarrow(c, zero)
        };
        self.vpush(r);
        Ok(())
    }

    /// Translates a SIMD operator that does not touch memory; `false` if `op` is not one.
    pub(super) fn translate_simd(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use FloatCC as F;
        use IntCC as I;
        match *op {
            Operator::V128Const { value } => {
                let c = self
                    .builder
                    .func
                    .dfg
                    .constants
                    .insert(ConstantData::from(value.bytes().to_vec()));
                let v = self.builder.ins().vconst(I8X16, c);
                self.stack.push(v);
            }
            Operator::I8x16Shuffle { lanes } => {
                let b = self.vpop(I8X16)?;
                let a = self.vpop(I8X16)?;
                let mask = self
                    .builder
                    .func
                    .dfg
                    .immediates
                    .push(ConstantData::from(lanes.to_vec()));
                let r = self.builder.ins().shuffle(a, b, mask);
                self.vpush(r);
            }
            Operator::I8x16Swizzle | Operator::I8x16RelaxedSwizzle => {
                self.binary(I8X16, |b, x, y| b.ins().swizzle(x, y))?
            }

            Operator::I8x16Splat => self.splat(I8X16)?,
            Operator::I16x8Splat => self.splat(I16X8)?,
            Operator::I32x4Splat => self.splat(I32X4)?,
            Operator::I64x2Splat => self.splat(I64X2)?,
            Operator::F32x4Splat => self.splat(F32X4)?,
            Operator::F64x2Splat => self.splat(F64X2)?,

            Operator::I8x16ExtractLaneS { lane } => self.extract_lane(I8X16, lane, Some(true))?,
            Operator::I8x16ExtractLaneU { lane } => self.extract_lane(I8X16, lane, Some(false))?,
            Operator::I16x8ExtractLaneS { lane } => self.extract_lane(I16X8, lane, Some(true))?,
            Operator::I16x8ExtractLaneU { lane } => self.extract_lane(I16X8, lane, Some(false))?,
            Operator::I32x4ExtractLane { lane } => self.extract_lane(I32X4, lane, None)?,
            Operator::I64x2ExtractLane { lane } => self.extract_lane(I64X2, lane, None)?,
            Operator::F32x4ExtractLane { lane } => self.extract_lane(F32X4, lane, None)?,
            Operator::F64x2ExtractLane { lane } => self.extract_lane(F64X2, lane, None)?,
            Operator::I8x16ReplaceLane { lane } => self.replace_lane(I8X16, lane)?,
            Operator::I16x8ReplaceLane { lane } => self.replace_lane(I16X8, lane)?,
            Operator::I32x4ReplaceLane { lane } => self.replace_lane(I32X4, lane)?,
            Operator::I64x2ReplaceLane { lane } => self.replace_lane(I64X2, lane)?,
            Operator::F32x4ReplaceLane { lane } => self.replace_lane(F32X4, lane)?,
            Operator::F64x2ReplaceLane { lane } => self.replace_lane(F64X2, lane)?,

            // Integer comparisons.
            Operator::I8x16Eq => self.icmp_v(I8X16, I::Equal)?,
            Operator::I8x16Ne => self.icmp_v(I8X16, I::NotEqual)?,
            Operator::I8x16LtS => self.icmp_v(I8X16, I::SignedLessThan)?,
            Operator::I8x16LtU => self.icmp_v(I8X16, I::UnsignedLessThan)?,
            Operator::I8x16GtS => self.icmp_v(I8X16, I::SignedGreaterThan)?,
            Operator::I8x16GtU => self.icmp_v(I8X16, I::UnsignedGreaterThan)?,
            Operator::I8x16LeS => self.icmp_v(I8X16, I::SignedLessThanOrEqual)?,
            Operator::I8x16LeU => self.icmp_v(I8X16, I::UnsignedLessThanOrEqual)?,
            Operator::I8x16GeS => self.icmp_v(I8X16, I::SignedGreaterThanOrEqual)?,
            Operator::I8x16GeU => self.icmp_v(I8X16, I::UnsignedGreaterThanOrEqual)?,
            Operator::I16x8Eq => self.icmp_v(I16X8, I::Equal)?,
            Operator::I16x8Ne => self.icmp_v(I16X8, I::NotEqual)?,
            Operator::I16x8LtS => self.icmp_v(I16X8, I::SignedLessThan)?,
            Operator::I16x8LtU => self.icmp_v(I16X8, I::UnsignedLessThan)?,
            Operator::I16x8GtS => self.icmp_v(I16X8, I::SignedGreaterThan)?,
            Operator::I16x8GtU => self.icmp_v(I16X8, I::UnsignedGreaterThan)?,
            Operator::I16x8LeS => self.icmp_v(I16X8, I::SignedLessThanOrEqual)?,
            Operator::I16x8LeU => self.icmp_v(I16X8, I::UnsignedLessThanOrEqual)?,
            Operator::I16x8GeS => self.icmp_v(I16X8, I::SignedGreaterThanOrEqual)?,
            Operator::I16x8GeU => self.icmp_v(I16X8, I::UnsignedGreaterThanOrEqual)?,
            Operator::I32x4Eq => self.icmp_v(I32X4, I::Equal)?,
            Operator::I32x4Ne => self.icmp_v(I32X4, I::NotEqual)?,
            Operator::I32x4LtS => self.icmp_v(I32X4, I::SignedLessThan)?,
            Operator::I32x4LtU => self.icmp_v(I32X4, I::UnsignedLessThan)?,
            Operator::I32x4GtS => self.icmp_v(I32X4, I::SignedGreaterThan)?,
            Operator::I32x4GtU => self.icmp_v(I32X4, I::UnsignedGreaterThan)?,
            Operator::I32x4LeS => self.icmp_v(I32X4, I::SignedLessThanOrEqual)?,
            Operator::I32x4LeU => self.icmp_v(I32X4, I::UnsignedLessThanOrEqual)?,
            Operator::I32x4GeS => self.icmp_v(I32X4, I::SignedGreaterThanOrEqual)?,
            Operator::I32x4GeU => self.icmp_v(I32X4, I::UnsignedGreaterThanOrEqual)?,
            Operator::I64x2Eq => self.icmp_v(I64X2, I::Equal)?,
            Operator::I64x2Ne => self.icmp_v(I64X2, I::NotEqual)?,
            Operator::I64x2LtS => self.icmp_v(I64X2, I::SignedLessThan)?,
            Operator::I64x2GtS => self.icmp_v(I64X2, I::SignedGreaterThan)?,
            Operator::I64x2LeS => self.icmp_v(I64X2, I::SignedLessThanOrEqual)?,
            Operator::I64x2GeS => self.icmp_v(I64X2, I::SignedGreaterThanOrEqual)?,

            // Float comparisons: all ordered except `ne`, as for scalars.
            Operator::F32x4Eq => self.fcmp_v(F32X4, F::Equal)?,
            Operator::F32x4Ne => self.fcmp_v(F32X4, F::NotEqual)?,
            Operator::F32x4Lt => self.fcmp_v(F32X4, F::LessThan)?,
            Operator::F32x4Gt => self.fcmp_v(F32X4, F::GreaterThan)?,
            Operator::F32x4Le => self.fcmp_v(F32X4, F::LessThanOrEqual)?,
            Operator::F32x4Ge => self.fcmp_v(F32X4, F::GreaterThanOrEqual)?,
            Operator::F64x2Eq => self.fcmp_v(F64X2, F::Equal)?,
            Operator::F64x2Ne => self.fcmp_v(F64X2, F::NotEqual)?,
            Operator::F64x2Lt => self.fcmp_v(F64X2, F::LessThan)?,
            Operator::F64x2Gt => self.fcmp_v(F64X2, F::GreaterThan)?,
            Operator::F64x2Le => self.fcmp_v(F64X2, F::LessThanOrEqual)?,
            Operator::F64x2Ge => self.fcmp_v(F64X2, F::GreaterThanOrEqual)?,

            // Bitwise.
            Operator::V128Not => self.unary(I8X16, |b, x| b.ins().bnot(x))?,
            Operator::V128And => self.binary(I8X16, |b, x, y| b.ins().band(x, y))?,
            Operator::V128AndNot => self.binary(I8X16, |b, x, y| b.ins().band_not(x, y))?,
            Operator::V128Or => self.binary(I8X16, |b, x, y| b.ins().bor(x, y))?,
            Operator::V128Xor => self.binary(I8X16, |b, x, y| b.ins().bxor(x, y))?,
            Operator::V128Bitselect
            | Operator::I8x16RelaxedLaneselect
            | Operator::I16x8RelaxedLaneselect
            | Operator::I32x4RelaxedLaneselect
            | Operator::I64x2RelaxedLaneselect => {
                self.ternary(I8X16, |b, x, y, c| b.ins().bitselect(c, x, y))?
            }
            Operator::V128AnyTrue => {
                let a = self.vpop(I8X16)?;
                let t = self.builder.ins().vany_true(a);
                let r = self.builder.ins().uextend(types::I32, t);
                self.stack.push(r);
            }

            Operator::I8x16AllTrue => self.reduce(I8X16, true)?,
            Operator::I16x8AllTrue => self.reduce(I16X8, true)?,
            Operator::I32x4AllTrue => self.reduce(I32X4, true)?,
            Operator::I64x2AllTrue => self.reduce(I64X2, true)?,
            Operator::I8x16Bitmask => self.reduce(I8X16, false)?,
            Operator::I16x8Bitmask => self.reduce(I16X8, false)?,
            Operator::I32x4Bitmask => self.reduce(I32X4, false)?,
            Operator::I64x2Bitmask => self.reduce(I64X2, false)?,

            // Integer arithmetic.
            Operator::I8x16Abs => self.unary(I8X16, |b, x| b.ins().iabs(x))?,
            Operator::I16x8Abs => self.unary(I16X8, |b, x| b.ins().iabs(x))?,
            Operator::I32x4Abs => self.unary(I32X4, |b, x| b.ins().iabs(x))?,
            Operator::I64x2Abs => self.unary(I64X2, |b, x| b.ins().iabs(x))?,
            Operator::I8x16Neg => self.unary(I8X16, |b, x| b.ins().ineg(x))?,
            Operator::I16x8Neg => self.unary(I16X8, |b, x| b.ins().ineg(x))?,
            Operator::I32x4Neg => self.unary(I32X4, |b, x| b.ins().ineg(x))?,
            Operator::I64x2Neg => self.unary(I64X2, |b, x| b.ins().ineg(x))?,
            Operator::I8x16Popcnt => self.unary(I8X16, |b, x| b.ins().popcnt(x))?,
            Operator::I8x16Add => self.binary(I8X16, |b, x, y| b.ins().iadd(x, y))?,
            Operator::I16x8Add => self.binary(I16X8, |b, x, y| b.ins().iadd(x, y))?,
            Operator::I32x4Add => self.binary(I32X4, |b, x, y| b.ins().iadd(x, y))?,
            Operator::I64x2Add => self.binary(I64X2, |b, x, y| b.ins().iadd(x, y))?,
            Operator::I8x16Sub => self.binary(I8X16, |b, x, y| b.ins().isub(x, y))?,
            Operator::I16x8Sub => self.binary(I16X8, |b, x, y| b.ins().isub(x, y))?,
            Operator::I32x4Sub => self.binary(I32X4, |b, x, y| b.ins().isub(x, y))?,
            Operator::I64x2Sub => self.binary(I64X2, |b, x, y| b.ins().isub(x, y))?,
            Operator::I16x8Mul => self.binary(I16X8, |b, x, y| b.ins().imul(x, y))?,
            Operator::I32x4Mul => self.binary(I32X4, |b, x, y| b.ins().imul(x, y))?,
            Operator::I64x2Mul => self.binary(I64X2, |b, x, y| b.ins().imul(x, y))?,
            Operator::I8x16AddSatS => self.binary(I8X16, |b, x, y| b.ins().sadd_sat(x, y))?,
            Operator::I8x16AddSatU => self.binary(I8X16, |b, x, y| b.ins().uadd_sat(x, y))?,
            Operator::I16x8AddSatS => self.binary(I16X8, |b, x, y| b.ins().sadd_sat(x, y))?,
            Operator::I16x8AddSatU => self.binary(I16X8, |b, x, y| b.ins().uadd_sat(x, y))?,
            Operator::I8x16SubSatS => self.binary(I8X16, |b, x, y| b.ins().ssub_sat(x, y))?,
            Operator::I8x16SubSatU => self.binary(I8X16, |b, x, y| b.ins().usub_sat(x, y))?,
            Operator::I16x8SubSatS => self.binary(I16X8, |b, x, y| b.ins().ssub_sat(x, y))?,
            Operator::I16x8SubSatU => self.binary(I16X8, |b, x, y| b.ins().usub_sat(x, y))?,
            Operator::I8x16MinS => self.binary(I8X16, |b, x, y| b.ins().smin(x, y))?,
            Operator::I8x16MinU => self.binary(I8X16, |b, x, y| b.ins().umin(x, y))?,
            Operator::I8x16MaxS => self.binary(I8X16, |b, x, y| b.ins().smax(x, y))?,
            Operator::I8x16MaxU => self.binary(I8X16, |b, x, y| b.ins().umax(x, y))?,
            Operator::I16x8MinS => self.binary(I16X8, |b, x, y| b.ins().smin(x, y))?,
            Operator::I16x8MinU => self.binary(I16X8, |b, x, y| b.ins().umin(x, y))?,
            Operator::I16x8MaxS => self.binary(I16X8, |b, x, y| b.ins().smax(x, y))?,
            Operator::I16x8MaxU => self.binary(I16X8, |b, x, y| b.ins().umax(x, y))?,
            Operator::I32x4MinS => self.binary(I32X4, |b, x, y| b.ins().smin(x, y))?,
            Operator::I32x4MinU => self.binary(I32X4, |b, x, y| b.ins().umin(x, y))?,
            Operator::I32x4MaxS => self.binary(I32X4, |b, x, y| b.ins().smax(x, y))?,
            Operator::I32x4MaxU => self.binary(I32X4, |b, x, y| b.ins().umax(x, y))?,
            Operator::I8x16AvgrU => self.binary(I8X16, |b, x, y| b.ins().avg_round(x, y))?,
            Operator::I16x8AvgrU => self.binary(I16X8, |b, x, y| b.ins().avg_round(x, y))?,
            Operator::I16x8Q15MulrSatS | Operator::I16x8RelaxedQ15mulrS => {
                self.binary(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y))?
            }

            // Shifts.
            Operator::I8x16Shl => self.shift(I8X16, |b, x, n| b.ins().ishl(x, n))?,
            Operator::I16x8Shl => self.shift(I16X8, |b, x, n| b.ins().ishl(x, n))?,
            Operator::I32x4Shl => self.shift(I32X4, |b, x, n| b.ins().ishl(x, n))?,
            Operator::I64x2Shl => self.shift(I64X2, |b, x, n| b.ins().ishl(x, n))?,
            Operator::I8x16ShrS => self.shift(I8X16, |b, x, n| b.ins().sshr(x, n))?,
            Operator::I16x8ShrS => self.shift(I16X8, |b, x, n| b.ins().sshr(x, n))?,
            Operator::I32x4ShrS => self.shift(I32X4, |b, x, n| b.ins().sshr(x, n))?,
            Operator::I64x2ShrS => self.shift(I64X2, |b, x, n| b.ins().sshr(x, n))?,
            Operator::I8x16ShrU => self.shift(I8X16, |b, x, n| b.ins().ushr(x, n))?,
            Operator::I16x8ShrU => self.shift(I16X8, |b, x, n| b.ins().ushr(x, n))?,
            Operator::I32x4ShrU => self.shift(I32X4, |b, x, n| b.ins().ushr(x, n))?,
            Operator::I64x2ShrU => self.shift(I64X2, |b, x, n| b.ins().ushr(x, n))?,

            // Narrowing and widening.
            Operator::I8x16NarrowI16x8S => self.binary(I16X8, |b, x, y| b.ins().snarrow(x, y))?,
            Operator::I8x16NarrowI16x8U => self.binary(I16X8, |b, x, y| b.ins().unarrow(x, y))?,
            Operator::I16x8NarrowI32x4S => self.binary(I32X4, |b, x, y| b.ins().snarrow(x, y))?,
            Operator::I16x8NarrowI32x4U => self.binary(I32X4, |b, x, y| b.ins().unarrow(x, y))?,
            Operator::I16x8ExtendLowI8x16S => self.unary(I8X16, |b, x| b.ins().swiden_low(x))?,
            Operator::I16x8ExtendHighI8x16S => self.unary(I8X16, |b, x| b.ins().swiden_high(x))?,
            Operator::I16x8ExtendLowI8x16U => self.unary(I8X16, |b, x| b.ins().uwiden_low(x))?,
            Operator::I16x8ExtendHighI8x16U => self.unary(I8X16, |b, x| b.ins().uwiden_high(x))?,
            Operator::I32x4ExtendLowI16x8S => self.unary(I16X8, |b, x| b.ins().swiden_low(x))?,
            Operator::I32x4ExtendHighI16x8S => self.unary(I16X8, |b, x| b.ins().swiden_high(x))?,
            Operator::I32x4ExtendLowI16x8U => self.unary(I16X8, |b, x| b.ins().uwiden_low(x))?,
            Operator::I32x4ExtendHighI16x8U => self.unary(I16X8, |b, x| b.ins().uwiden_high(x))?,
            Operator::I64x2ExtendLowI32x4S => self.unary(I32X4, |b, x| b.ins().swiden_low(x))?,
            Operator::I64x2ExtendHighI32x4S => self.unary(I32X4, |b, x| b.ins().swiden_high(x))?,
            Operator::I64x2ExtendLowI32x4U => self.unary(I32X4, |b, x| b.ins().uwiden_low(x))?,
            Operator::I64x2ExtendHighI32x4U => self.unary(I32X4, |b, x| b.ins().uwiden_high(x))?,

            // Extended multiplication: widen the same half of both operands, then multiply.
            Operator::I16x8ExtMulLowI8x16S
            | Operator::I32x4ExtMulLowI16x8S
            | Operator::I64x2ExtMulLowI32x4S
            | Operator::I16x8ExtMulHighI8x16S
            | Operator::I32x4ExtMulHighI16x8S
            | Operator::I64x2ExtMulHighI32x4S
            | Operator::I16x8ExtMulLowI8x16U
            | Operator::I32x4ExtMulLowI16x8U
            | Operator::I64x2ExtMulLowI32x4U
            | Operator::I16x8ExtMulHighI8x16U
            | Operator::I32x4ExtMulHighI16x8U
            | Operator::I64x2ExtMulHighI32x4U => {
                let ty = narrow_shape(op);
                let widen = extmul_widen(op);
                self.binary(ty, |b, x, y| {
                    let x = widen(b, x);
                    let y = widen(b, y);
                    b.ins().imul(x, y)
                })?
            }
            Operator::I16x8ExtAddPairwiseI8x16S | Operator::I32x4ExtAddPairwiseI16x8S => {
                let ty = narrow_shape(op);
                self.unary(ty, |b, x| {
                    let lo = b.ins().swiden_low(x);
                    let hi = b.ins().swiden_high(x);
                    b.ins().iadd_pairwise(lo, hi)
                })?
            }
            Operator::I16x8ExtAddPairwiseI8x16U | Operator::I32x4ExtAddPairwiseI16x8U => {
                let ty = narrow_shape(op);
                self.unary(ty, |b, x| {
                    let lo = b.ins().uwiden_low(x);
                    let hi = b.ins().uwiden_high(x);
                    b.ins().iadd_pairwise(lo, hi)
                })?
            }
            Operator::I32x4DotI16x8S => self.binary(I16X8, |b, x, y| {
                let xl = b.ins().swiden_low(x);
                let yl = b.ins().swiden_low(y);
                let lo = b.ins().imul(xl, yl);
                let xh = b.ins().swiden_high(x);
                let yh = b.ins().swiden_high(y);
                let hi = b.ins().imul(xh, yh);
                b.ins().iadd_pairwise(lo, hi)
            })?,
            Operator::I16x8RelaxedDotI8x16I7x16S => self.binary(I8X16, dot_i8x16_s)?,
            Operator::I32x4RelaxedDotI8x16I7x16AddS => {
                let acc = self.vpop(I32X4)?;
                let y = self.vpop(I8X16)?;
                let x = self.vpop(I8X16)?;
                let b = &mut self.builder;
                let d16 = dot_i8x16_s(b, x, y);
                let lo = b.ins().swiden_low(d16);
                let hi = b.ins().swiden_high(d16);
                let d32 = b.ins().iadd_pairwise(lo, hi);
                let r = b.ins().iadd(d32, acc);
                self.vpush(r);
            }

            // Float arithmetic.
            Operator::F32x4Ceil => self.unary(F32X4, |b, x| b.ins().ceil(x))?,
            Operator::F64x2Ceil => self.unary(F64X2, |b, x| b.ins().ceil(x))?,
            Operator::F32x4Floor => self.unary(F32X4, |b, x| b.ins().floor(x))?,
            Operator::F64x2Floor => self.unary(F64X2, |b, x| b.ins().floor(x))?,
            Operator::F32x4Trunc => self.unary(F32X4, |b, x| b.ins().trunc(x))?,
            Operator::F64x2Trunc => self.unary(F64X2, |b, x| b.ins().trunc(x))?,
            Operator::F32x4Nearest => self.unary(F32X4, |b, x| b.ins().nearest(x))?,
            Operator::F64x2Nearest => self.unary(F64X2, |b, x| b.ins().nearest(x))?,
            Operator::F32x4Abs => self.unary(F32X4, |b, x| b.ins().fabs(x))?,
            Operator::F64x2Abs => self.unary(F64X2, |b, x| b.ins().fabs(x))?,
            Operator::F32x4Neg => self.unary(F32X4, |b, x| b.ins().fneg(x))?,
            Operator::F64x2Neg => self.unary(F64X2, |b, x| b.ins().fneg(x))?,
            Operator::F32x4Sqrt => self.unary(F32X4, |b, x| b.ins().sqrt(x))?,
            Operator::F64x2Sqrt => self.unary(F64X2, |b, x| b.ins().sqrt(x))?,
            Operator::F32x4Add => self.binary(F32X4, |b, x, y| b.ins().fadd(x, y))?,
            Operator::F64x2Add => self.binary(F64X2, |b, x, y| b.ins().fadd(x, y))?,
            Operator::F32x4Sub => self.binary(F32X4, |b, x, y| b.ins().fsub(x, y))?,
            Operator::F64x2Sub => self.binary(F64X2, |b, x, y| b.ins().fsub(x, y))?,
            Operator::F32x4Mul => self.binary(F32X4, |b, x, y| b.ins().fmul(x, y))?,
            Operator::F64x2Mul => self.binary(F64X2, |b, x, y| b.ins().fmul(x, y))?,
            Operator::F32x4Div => self.binary(F32X4, |b, x, y| b.ins().fdiv(x, y))?,
            Operator::F64x2Div => self.binary(F64X2, |b, x, y| b.ins().fdiv(x, y))?,
            Operator::F32x4Min | Operator::F32x4RelaxedMin => {
                self.binary(F32X4, |b, x, y| b.ins().fmin(x, y))?
            }
            Operator::F64x2Min | Operator::F64x2RelaxedMin => {
                self.binary(F64X2, |b, x, y| b.ins().fmin(x, y))?
            }
            Operator::F32x4Max | Operator::F32x4RelaxedMax => {
                self.binary(F32X4, |b, x, y| b.ins().fmax(x, y))?
            }
            Operator::F64x2Max | Operator::F64x2RelaxedMax => {
                self.binary(F64X2, |b, x, y| b.ins().fmax(x, y))?
            }
            Operator::F32x4PMin | Operator::F64x2PMin => {
                let ty = float_shape(op);
                self.binary(ty, |b, x, y| {
                    let m = b.ins().fcmp(F::LessThan, y, x);
                    let m = cast(b, m, ty);
                    b.ins().bitselect(m, y, x)
                })?
            }
            Operator::F32x4PMax | Operator::F64x2PMax => {
                let ty = float_shape(op);
                self.binary(ty, |b, x, y| {
                    let m = b.ins().fcmp(F::LessThan, x, y);
                    let m = cast(b, m, ty);
                    b.ins().bitselect(m, y, x)
                })?
            }
            Operator::F32x4RelaxedMadd => {
                self.ternary(F32X4, |b, x, y, z| madd(b, x, y, z, false))?
            }
            Operator::F64x2RelaxedMadd => {
                self.ternary(F64X2, |b, x, y, z| madd(b, x, y, z, false))?
            }
            Operator::F32x4RelaxedNmadd => {
                self.ternary(F32X4, |b, x, y, z| madd(b, x, y, z, true))?
            }
            Operator::F64x2RelaxedNmadd => {
                self.ternary(F64X2, |b, x, y, z| madd(b, x, y, z, true))?
            }

            // Conversions.
            Operator::I32x4TruncSatF32x4S | Operator::I32x4RelaxedTruncF32x4S => {
                self.unary(F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x))?
            }
            Operator::I32x4TruncSatF32x4U | Operator::I32x4RelaxedTruncF32x4U => {
                self.unary(F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x))?
            }
            Operator::I32x4TruncSatF64x2SZero | Operator::I32x4RelaxedTruncF64x2SZero => {
                self.trunc_sat_f64x2_zero(true)?
            }
            Operator::I32x4TruncSatF64x2UZero | Operator::I32x4RelaxedTruncF64x2UZero => {
                self.trunc_sat_f64x2_zero(false)?
            }
            Operator::F32x4ConvertI32x4S => {
                self.unary(I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x))?
            }
            Operator::F32x4ConvertI32x4U => {
                self.unary(I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x))?
            }
            Operator::F64x2ConvertLowI32x4S => self.unary(I32X4, |b, x| {
                let w = b.ins().swiden_low(x);
                b.ins().fcvt_from_sint(F64X2, w)
            })?,
            Operator::F64x2ConvertLowI32x4U => self.unary(I32X4, |b, x| {
                let w = b.ins().uwiden_low(x);
                b.ins().fcvt_from_uint(F64X2, w)
            })?,
            Operator::F32x4DemoteF64x2Zero => self.unary(F64X2, |b, x| b.ins().fvdemote(x))?,
            Operator::F64x2PromoteLowF32x4 => self.unary(F32X4, |b, x| b.ins().fvpromote_low(x))?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// The operand shape of an extended multiply or pairwise addition (half the result's lane
/// width).
fn narrow_shape(op: &Operator<'_>) -> Type {
    match op {
        Operator::I16x8ExtMulLowI8x16S
        | Operator::I16x8ExtMulHighI8x16S
        | Operator::I16x8ExtMulLowI8x16U
        | Operator::I16x8ExtMulHighI8x16U
        | Operator::I16x8ExtAddPairwiseI8x16S
        | Operator::I16x8ExtAddPairwiseI8x16U => I8X16,
        Operator::I32x4ExtMulLowI16x8S
        | Operator::I32x4ExtMulHighI16x8S
        | Operator::I32x4ExtMulLowI16x8U
        | Operator::I32x4ExtMulHighI16x8U
        | Operator::I32x4ExtAddPairwiseI16x8S
        | Operator::I32x4ExtAddPairwiseI16x8U => I16X8,
        _ => I32X4,
    }
}

/// How an extended multiply widens its operands: signed or unsigned, low or high half.
fn extmul_widen(op: &Operator<'_>) -> fn(&mut FunctionBuilder<'_>, Value) -> Value {
    match op {
        Operator::I16x8ExtMulLowI8x16S
        | Operator::I32x4ExtMulLowI16x8S
        | Operator::I64x2ExtMulLowI32x4S => |b, x| b.ins().swiden_low(x),
        Operator::I16x8ExtMulHighI8x16S
        | Operator::I32x4ExtMulHighI16x8S
        | Operator::I64x2ExtMulHighI32x4S => |b, x| b.ins().swiden_high(x),
        Operator::I16x8ExtMulLowI8x16U
        | Operator::I32x4ExtMulLowI16x8U
        | Operator::I64x2ExtMulLowI32x4U => |b, x| b.ins().uwiden_low(x),
        _ => |b, x| b.ins().uwiden_high(x),
    }
}

/// `F32X4` or `F64X2`, for the operators that exist in both.
fn float_shape(op: &Operator<'_>) -> Type {
    match op {
        Operator::F64x2PMin | Operator::F64x2PMax => F64X2,
        _ => F32X4,
    }
}
