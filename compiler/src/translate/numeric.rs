//! Numeric operators: constants, integer and float arithmetic, comparisons and conversions
//! (WebAssembly 2.0 without SIMD), lowered to plain Cranelift instructions.
//!
//! Every operator here maps onto one Cranelift instruction (or a short fixed sequence) whose
//! Cranelift semantics already equal the Wasm semantics. The cases that are easy to get wrong,
//! and why each is right:
//!
//! - **Shift and rotate counts** are taken modulo the bit width in Wasm. Cranelift's `ishl`,
//!   `sshr` and `ushr` define the count the same way ("the shift amount is masked to the size
//!   of `x`"), and a rotation by `n` is by definition the rotation by `n mod width`, so no
//!   explicit `band` is emitted (tests cover counts of width, width + k and -k).
//! - **Division and remainder.** `udiv`, `urem`, `sdiv` and `srem` trap with
//!   `TrapCode::INTEGER_DIVISION_BY_ZERO` on a zero divisor, and `sdiv` traps with
//!   `TrapCode::INTEGER_OVERFLOW` on `MIN / -1`: exactly Wasm's two trap reasons. Both backends
//!   we target keep the two reasons apart: x86_64 tests the divisor for zero before `idiv` (whose
//!   own fault is then only the overflow), aarch64 emits explicit checks for both because its
//!   `sdiv` never faults. `srem` of `MIN % -1` is 0 as Wasm requires: its IR definition only
//!   traps on a zero divisor, x86_64 special-cases a `-1` divisor before `idiv`, and aarch64's
//!   `sdiv` + `msub` yields 0 naturally. (Cranelift's interpreter disagrees and traps there; the
//!   tests below say so.)
//! - **Float-to-int conversions that trap**: `fcvt_to_sint`/`fcvt_to_uint` trap with
//!   `BAD_CONVERSION_TO_INTEGER` on NaN and with `INTEGER_OVERFLOW` when the truncated value does
//!   not fit, which are Wasm's "invalid conversion to integer" and "integer overflow". The bounds
//!   are checked on the value *before* truncation with exclusive limits, so `-0.9 -> u32` is 0
//!   while `-1.0 -> u32` traps, and `2147483520.0f32 -> i32` fits while `2147483648.0f32` traps.
//! - **Saturating conversions** are `fcvt_to_{s,u}int_sat`: NaN gives 0, out-of-range values
//!   clamp to the bounds.
//! - **`min`/`max`**: Cranelift's `fmin`/`fmax` are defined with the Wasm rules (NaN in, NaN out;
//!   `-0 < +0`), unlike the x86 `minss`/`maxss` instructions, so they are used as is.
//! - **`nearest`** is round-half-to-even: Cranelift's `nearest`. `ceil`/`floor`/`trunc`/
//!   `nearest` lower to `roundss`/`roundsd` on x86_64 only when SSE4.1 is enabled (otherwise they
//!   would become libcalls); the ISA setup enables it, and the tests check no relocation appears.
//! - **`abs`, `neg`, `copysign`** only touch the sign bit (Cranelift's `fabs`, `fneg`,
//!   `fcopysign` are bit operations), so NaN payloads pass through unchanged, as Wasm requires.
//! - **Constants** keep their exact bits, NaN payloads included: the immediate is rebuilt from
//!   the raw bits, never through a host `f32`/`f64` (which could quiet a signalling NaN). An
//!   `i32` constant is stored zero-extended, the form Cranelift's verifier accepts for `I32`.
//! - **Reinterpretations** are `bitcast` with default memory flags (only the byte order matters
//!   to `bitcast`, and for scalars it changes nothing).
//! - **Comparisons** produce Cranelift's `I8` truth value; Wasm wants an `i32` 0 or 1, hence a
//!   `uextend`. Float `ne` uses `FloatCC::NotEqual`, which is true for unordered operands, while
//!   every other float comparison is ordered (false on NaN).
//! - **Sign extension** (`i32.extend8_s` etc.) is `ireduce` to the narrow type followed by
//!   `sextend` back to the operand's width; `ireduce` costs nothing (it only renames the low
//!   bits), so this is one sign-extending move.
//!
//! The caller guarantees validated Wasm: the operand stack holds enough values of the right
//! types. Running out of operands here is a bug in the translator, not bad input, so it panics.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value, types};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

/// Translates `op` if it is a numeric operator, popping its operands from `stack` and pushing
/// its result. Returns `false`, without touching anything, for any other operator.
pub(crate) fn translate_numeric(
    op: &Operator<'_>,
    builder: &mut FunctionBuilder<'_>,
    stack: &mut Vec<Value>,
) -> bool {
    translate_constant(op, builder, stack)
        || translate_integer(op, builder, stack)
        || translate_float(op, builder, stack)
        || translate_conversion(op, builder, stack)
}

// ---------------------------------------------------------------------------------------------
// Operand stack helpers.

/// Pops one operand. Validation guarantees it exists.
fn pop1(stack: &mut Vec<Value>) -> Value {
    stack
        .pop()
        .expect("validated Wasm: numeric operator is missing its operand")
}

/// Pops two operands, returning them in Wasm order (`lhs` was pushed first).
fn pop2(stack: &mut Vec<Value>) -> (Value, Value) {
    let rhs = pop1(stack);
    let lhs = pop1(stack);
    (lhs, rhs)
}

/// `x -> f(x)`.
fn unary(stack: &mut Vec<Value>, f: impl FnOnce(Value) -> Value) -> bool {
    let x = pop1(stack);
    stack.push(f(x));
    true
}

/// `lhs rhs -> f(lhs, rhs)`.
fn binary(stack: &mut Vec<Value>, f: impl FnOnce(Value, Value) -> Value) -> bool {
    let (lhs, rhs) = pop2(stack);
    stack.push(f(lhs, rhs));
    true
}

/// Widens a Cranelift `I8` truth value (0 or 1) to the `i32` Wasm expects from a comparison.
fn bool_to_i32(builder: &mut FunctionBuilder<'_>, truth: Value) -> Value {
    builder.ins().uextend(types::I32, truth)
}

// ---------------------------------------------------------------------------------------------
// Constants.

fn translate_constant(
    op: &Operator<'_>,
    builder: &mut FunctionBuilder<'_>,
    stack: &mut Vec<Value>,
) -> bool {
    let value = match *op {
        // An `I32` immediate is held zero-extended in the 64-bit field (the verifier rejects
        // stray high bits; the builder would also mask them).
        Operator::I32Const { value } => builder
            .ins()
            .iconst(types::I32, i64::from(value.cast_unsigned())),
        Operator::I64Const { value } => builder.ins().iconst(types::I64, value),
        // From the raw bits so that NaN payloads (including signalling NaNs) survive.
        Operator::F32Const { value } => builder.ins().f32const(Ieee32::with_bits(value.bits())),
        Operator::F64Const { value } => builder.ins().f64const(Ieee64::with_bits(value.bits())),
        _ => return false,
    };
    stack.push(value);
    true
}

// ---------------------------------------------------------------------------------------------
// Integer operators (i32 and i64 share a lowering; the type comes from the operands).

fn translate_integer(
    op: &Operator<'_>,
    builder: &mut FunctionBuilder<'_>,
    stack: &mut Vec<Value>,
) -> bool {
    use Operator as O;
    match *op {
        // Tests and comparisons.
        O::I32Eqz | O::I64Eqz => unary(stack, |x| {
            let truth = builder.ins().icmp_imm_u(IntCC::Equal, x, 0);
            bool_to_i32(builder, truth)
        }),
        O::I32Eq | O::I64Eq => int_compare(builder, stack, IntCC::Equal),
        O::I32Ne | O::I64Ne => int_compare(builder, stack, IntCC::NotEqual),
        O::I32LtS | O::I64LtS => int_compare(builder, stack, IntCC::SignedLessThan),
        O::I32LtU | O::I64LtU => int_compare(builder, stack, IntCC::UnsignedLessThan),
        O::I32GtS | O::I64GtS => int_compare(builder, stack, IntCC::SignedGreaterThan),
        O::I32GtU | O::I64GtU => int_compare(builder, stack, IntCC::UnsignedGreaterThan),
        O::I32LeS | O::I64LeS => int_compare(builder, stack, IntCC::SignedLessThanOrEqual),
        O::I32LeU | O::I64LeU => int_compare(builder, stack, IntCC::UnsignedLessThanOrEqual),
        O::I32GeS | O::I64GeS => int_compare(builder, stack, IntCC::SignedGreaterThanOrEqual),
        O::I32GeU | O::I64GeU => int_compare(builder, stack, IntCC::UnsignedGreaterThanOrEqual),

        // Bit counting.
        O::I32Clz | O::I64Clz => unary(stack, |x| builder.ins().clz(x)),
        O::I32Ctz | O::I64Ctz => unary(stack, |x| builder.ins().ctz(x)),
        O::I32Popcnt | O::I64Popcnt => unary(stack, |x| builder.ins().popcnt(x)),

        // Wrapping arithmetic.
        O::I32Add | O::I64Add => binary(stack, |x, y| builder.ins().iadd(x, y)),
        O::I32Sub | O::I64Sub => binary(stack, |x, y| builder.ins().isub(x, y)),
        O::I32Mul | O::I64Mul => binary(stack, |x, y| builder.ins().imul(x, y)),

        // Division and remainder: the Cranelift instructions trap with exactly Wasm's reasons
        // (see the module docs), so no explicit guards are needed.
        O::I32DivS | O::I64DivS => binary(stack, |x, y| builder.ins().sdiv(x, y)),
        O::I32DivU | O::I64DivU => binary(stack, |x, y| builder.ins().udiv(x, y)),
        O::I32RemS | O::I64RemS => binary(stack, |x, y| builder.ins().srem(x, y)),
        O::I32RemU | O::I64RemU => binary(stack, |x, y| builder.ins().urem(x, y)),

        // Bitwise operators.
        O::I32And | O::I64And => binary(stack, |x, y| builder.ins().band(x, y)),
        O::I32Or | O::I64Or => binary(stack, |x, y| builder.ins().bor(x, y)),
        O::I32Xor | O::I64Xor => binary(stack, |x, y| builder.ins().bxor(x, y)),

        // Shifts and rotates: Cranelift masks the count to the width, as Wasm does.
        O::I32Shl | O::I64Shl => binary(stack, |x, y| builder.ins().ishl(x, y)),
        O::I32ShrS | O::I64ShrS => binary(stack, |x, y| builder.ins().sshr(x, y)),
        O::I32ShrU | O::I64ShrU => binary(stack, |x, y| builder.ins().ushr(x, y)),
        O::I32Rotl | O::I64Rotl => binary(stack, |x, y| builder.ins().rotl(x, y)),
        O::I32Rotr | O::I64Rotr => binary(stack, |x, y| builder.ins().rotr(x, y)),

        _ => false,
    }
}

fn int_compare(builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>, cc: IntCC) -> bool {
    binary(stack, |x, y| {
        let truth = builder.ins().icmp(cc, x, y);
        bool_to_i32(builder, truth)
    })
}

// ---------------------------------------------------------------------------------------------
// Float operators (f32 and f64 share a lowering; the type comes from the operands).

fn translate_float(
    op: &Operator<'_>,
    builder: &mut FunctionBuilder<'_>,
    stack: &mut Vec<Value>,
) -> bool {
    use Operator as O;
    match *op {
        // Comparisons. Only `ne` is true on unordered (NaN) operands.
        O::F32Eq | O::F64Eq => float_compare(builder, stack, FloatCC::Equal),
        O::F32Ne | O::F64Ne => float_compare(builder, stack, FloatCC::NotEqual),
        O::F32Lt | O::F64Lt => float_compare(builder, stack, FloatCC::LessThan),
        O::F32Gt | O::F64Gt => float_compare(builder, stack, FloatCC::GreaterThan),
        O::F32Le | O::F64Le => float_compare(builder, stack, FloatCC::LessThanOrEqual),
        O::F32Ge | O::F64Ge => float_compare(builder, stack, FloatCC::GreaterThanOrEqual),

        // Sign-bit operations: exact on NaNs.
        O::F32Abs | O::F64Abs => unary(stack, |x| builder.ins().fabs(x)),
        O::F32Neg | O::F64Neg => unary(stack, |x| builder.ins().fneg(x)),
        O::F32Copysign | O::F64Copysign => binary(stack, |x, y| builder.ins().fcopysign(x, y)),

        // Rounding to an integral value; `nearest` is ties-to-even.
        O::F32Ceil | O::F64Ceil => unary(stack, |x| builder.ins().ceil(x)),
        O::F32Floor | O::F64Floor => unary(stack, |x| builder.ins().floor(x)),
        O::F32Trunc | O::F64Trunc => unary(stack, |x| builder.ins().trunc(x)),
        O::F32Nearest | O::F64Nearest => unary(stack, |x| builder.ins().nearest(x)),

        // IEEE arithmetic.
        O::F32Sqrt | O::F64Sqrt => unary(stack, |x| builder.ins().sqrt(x)),
        O::F32Add | O::F64Add => binary(stack, |x, y| builder.ins().fadd(x, y)),
        O::F32Sub | O::F64Sub => binary(stack, |x, y| builder.ins().fsub(x, y)),
        O::F32Mul | O::F64Mul => binary(stack, |x, y| builder.ins().fmul(x, y)),
        O::F32Div | O::F64Div => binary(stack, |x, y| builder.ins().fdiv(x, y)),

        // Wasm min/max: NaN-propagating, -0 < +0 (Cranelift defines them that way).
        O::F32Min | O::F64Min => binary(stack, |x, y| builder.ins().fmin(x, y)),
        O::F32Max | O::F64Max => binary(stack, |x, y| builder.ins().fmax(x, y)),

        _ => false,
    }
}

fn float_compare(builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>, cc: FloatCC) -> bool {
    binary(stack, |x, y| {
        let truth = builder.ins().fcmp(cc, x, y);
        bool_to_i32(builder, truth)
    })
}

// ---------------------------------------------------------------------------------------------
// Conversions between types: wrap/extend, float <-> int, demote/promote, reinterpret.

fn translate_conversion(
    op: &Operator<'_>,
    builder: &mut FunctionBuilder<'_>,
    stack: &mut Vec<Value>,
) -> bool {
    use Operator as O;
    use types::{F32, F64, I8, I16, I32, I64};
    match *op {
        // Integer width changes.
        O::I32WrapI64 => unary(stack, |x| builder.ins().ireduce(I32, x)),
        O::I64ExtendI32S => unary(stack, |x| builder.ins().sextend(I64, x)),
        O::I64ExtendI32U => unary(stack, |x| builder.ins().uextend(I64, x)),
        O::I32Extend8S => sign_extend_low(builder, stack, I8, I32),
        O::I32Extend16S => sign_extend_low(builder, stack, I16, I32),
        O::I64Extend8S => sign_extend_low(builder, stack, I8, I64),
        O::I64Extend16S => sign_extend_low(builder, stack, I16, I64),
        O::I64Extend32S => sign_extend_low(builder, stack, I32, I64),

        // Float to int, trapping on NaN (BAD_CONVERSION_TO_INTEGER) and out of range
        // (INTEGER_OVERFLOW).
        O::I32TruncF32S | O::I32TruncF64S => unary(stack, |x| builder.ins().fcvt_to_sint(I32, x)),
        O::I32TruncF32U | O::I32TruncF64U => unary(stack, |x| builder.ins().fcvt_to_uint(I32, x)),
        O::I64TruncF32S | O::I64TruncF64S => unary(stack, |x| builder.ins().fcvt_to_sint(I64, x)),
        O::I64TruncF32U | O::I64TruncF64U => unary(stack, |x| builder.ins().fcvt_to_uint(I64, x)),

        // Float to int, saturating (NaN -> 0).
        O::I32TruncSatF32S | O::I32TruncSatF64S => {
            unary(stack, |x| builder.ins().fcvt_to_sint_sat(I32, x))
        }
        O::I32TruncSatF32U | O::I32TruncSatF64U => {
            unary(stack, |x| builder.ins().fcvt_to_uint_sat(I32, x))
        }
        O::I64TruncSatF32S | O::I64TruncSatF64S => {
            unary(stack, |x| builder.ins().fcvt_to_sint_sat(I64, x))
        }
        O::I64TruncSatF32U | O::I64TruncSatF64U => {
            unary(stack, |x| builder.ins().fcvt_to_uint_sat(I64, x))
        }

        // Int to float, rounding to nearest-even.
        O::F32ConvertI32S | O::F32ConvertI64S => {
            unary(stack, |x| builder.ins().fcvt_from_sint(F32, x))
        }
        O::F32ConvertI32U | O::F32ConvertI64U => {
            unary(stack, |x| builder.ins().fcvt_from_uint(F32, x))
        }
        O::F64ConvertI32S | O::F64ConvertI64S => {
            unary(stack, |x| builder.ins().fcvt_from_sint(F64, x))
        }
        O::F64ConvertI32U | O::F64ConvertI64U => {
            unary(stack, |x| builder.ins().fcvt_from_uint(F64, x))
        }

        // Float precision changes.
        O::F32DemoteF64 => unary(stack, |x| builder.ins().fdemote(F32, x)),
        O::F64PromoteF32 => unary(stack, |x| builder.ins().fpromote(F64, x)),

        // Same bits, other type.
        O::I32ReinterpretF32 => reinterpret(builder, stack, I32),
        O::I64ReinterpretF64 => reinterpret(builder, stack, I64),
        O::F32ReinterpretI32 => reinterpret(builder, stack, F32),
        O::F64ReinterpretI64 => reinterpret(builder, stack, F64),

        _ => false,
    }
}

/// Sign-extends the low `narrow` bits of the operand to `wide` (`iN.extendM_s`).
fn sign_extend_low(
    builder: &mut FunctionBuilder<'_>,
    stack: &mut Vec<Value>,
    narrow: Type,
    wide: Type,
) -> bool {
    unary(stack, |x| {
        let low = builder.ins().ireduce(narrow, x);
        builder.ins().sextend(wide, low)
    })
}

fn reinterpret(builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>, to: Type) -> bool {
    unary(stack, |x| builder.ins().bitcast(to, MemFlagsData::new(), x))
}

#[cfg(test)]
mod tests {
    //! Each case builds a one-operator Cranelift function (`params -> op -> return`), runs it in
    //! Cranelift's interpreter and compares the result bit for bit, then compiles it for x86_64
    //! (with SSE4.1) and aarch64 and checks that lowering succeeds without any libcall and that
    //! a trapping case has a trap site with the expected code. Native execution is left to the
    //! spec-suite runner: this crate forbids the `unsafe` it would take.

    use super::translate_numeric;
    use cranelift_codegen::Context;
    use cranelift_codegen::control::ControlPlane;
    use cranelift_codegen::data_value::DataValue;
    use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
    use cranelift_codegen::ir::{
        AbiParam, Function, InstBuilder, Signature, TrapCode, Type, UserFuncName, types,
    };
    use cranelift_codegen::isa::{self, CallConv, OwnedTargetIsa};
    use cranelift_codegen::settings::{self, Configurable};
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
    use cranelift_interpreter::environment::FunctionStore;
    use cranelift_interpreter::interpreter::{Interpreter, InterpreterState};
    use cranelift_interpreter::step::{ControlFlow, CraneliftTrap};
    use wasmparser::Operator as O;

    /// A Wasm value; floats are kept as raw bits so NaN payloads and `-0` compare exactly.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Val {
        I32(i32),
        I64(i64),
        F32(u32),
        F64(u64),
    }

    impl Val {
        fn ty(self) -> Type {
            match self {
                Val::I32(_) => types::I32,
                Val::I64(_) => types::I64,
                Val::F32(_) => types::F32,
                Val::F64(_) => types::F64,
            }
        }

        fn to_data(self) -> DataValue {
            match self {
                Val::I32(v) => DataValue::I32(v),
                Val::I64(v) => DataValue::I64(v),
                Val::F32(bits) => DataValue::F32(Ieee32::with_bits(bits)),
                Val::F64(bits) => DataValue::F64(Ieee64::with_bits(bits)),
            }
        }

        fn from_data(value: &DataValue) -> Val {
            match value {
                DataValue::I32(v) => Val::I32(*v),
                DataValue::I64(v) => Val::I64(*v),
                DataValue::F32(v) => Val::F32(v.bits()),
                DataValue::F64(v) => Val::F64(v.bits()),
                other => panic!("unexpected interpreter value {other:?}"),
            }
        }
    }

    #[derive(Clone, Copy, Debug)]
    enum Expect {
        /// Exactly this value (floats bit for bit).
        Value(Val),
        /// An arithmetic NaN (quiet bit set, any sign and payload) of this type.
        Nan(Type),
        /// A trap with this code.
        Trap(TrapCode),
    }

    #[derive(Debug)]
    struct Case {
        op: O<'static>,
        args: Vec<Val>,
        expect: Expect,
        /// Why the interpreter is not consulted for this case, when it models the instruction
        /// differently from the native backends (the compile checks still run).
        interpreter_differs: Option<&'static str>,
    }

    fn i32(v: i32) -> Val {
        Val::I32(v)
    }
    fn u32(v: u32) -> Val {
        Val::I32(v.cast_signed())
    }
    fn i64(v: i64) -> Val {
        Val::I64(v)
    }
    fn u64(v: u64) -> Val {
        Val::I64(v.cast_signed())
    }
    fn f32(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
    fn f64(v: f64) -> Val {
        Val::F64(v.to_bits())
    }

    fn ok(op: O<'static>, args: &[Val], result: Val) -> Case {
        Case {
            op,
            args: args.to_vec(),
            expect: Expect::Value(result),
            interpreter_differs: None,
        }
    }
    fn nan(op: O<'static>, args: &[Val], ty: Type) -> Case {
        Case {
            op,
            args: args.to_vec(),
            expect: Expect::Nan(ty),
            interpreter_differs: None,
        }
    }
    fn traps(op: O<'static>, args: &[Val], code: TrapCode) -> Case {
        Case {
            op,
            args: args.to_vec(),
            expect: Expect::Trap(code),
            interpreter_differs: None,
        }
    }

    const DIV0: TrapCode = TrapCode::INTEGER_DIVISION_BY_ZERO;
    const OVERFLOW: TrapCode = TrapCode::INTEGER_OVERFLOW;
    const BAD_CONV: TrapCode = TrapCode::BAD_CONVERSION_TO_INTEGER;

    /// Quiet NaNs with a payload, positive and negative.
    const F32_QNAN: u32 = 0x7fc0_1234;
    const F64_QNAN: u64 = 0x7ff8_0000_0000_1234;
    /// Signalling NaNs (quiet bit clear, non-zero payload), negative.
    const F32_NEG_SNAN: u32 = 0xffa0_0001;
    const F64_NEG_SNAN: u64 = 0xfff4_0000_0000_0001;

    fn f32_const(bits: u32) -> O<'static> {
        O::F32Const {
            value: f32::from_bits(bits).into(),
        }
    }
    fn f64_const(bits: u64) -> O<'static> {
        O::F64Const {
            value: f64::from_bits(bits).into(),
        }
    }

    fn constant_cases() -> Vec<Case> {
        vec![
            ok(O::I32Const { value: -1 }, &[], i32(-1)),
            ok(O::I32Const { value: i32::MIN }, &[], i32(i32::MIN)),
            ok(O::I64Const { value: i64::MIN }, &[], i64(i64::MIN)),
            // A signalling NaN with a payload, and -0: exact bits.
            ok(f32_const(0x7f80_0001), &[], Val::F32(0x7f80_0001)),
            ok(f32_const(0x8000_0000), &[], f32(-0.0)),
            ok(
                f64_const(0xfff0_0000_0000_0001),
                &[],
                Val::F64(0xfff0_0000_0000_0001),
            ),
            ok(f64_const(0.1f64.to_bits()), &[], f64(0.1)),
        ]
    }

    fn integer_cases() -> Vec<Case> {
        let mut cases = vec![
            // Comparisons.
            ok(O::I32Eqz, &[i32(0)], i32(1)),
            ok(O::I32Eqz, &[i32(i32::MIN)], i32(0)),
            ok(O::I64Eqz, &[i64(0)], i32(1)),
            ok(O::I64Eqz, &[i64(1 << 40)], i32(0)),
            ok(O::I32Eq, &[i32(5), i32(5)], i32(1)),
            ok(O::I32Ne, &[i32(5), i32(5)], i32(0)),
            ok(O::I32LtS, &[i32(-1), i32(1)], i32(1)),
            ok(O::I32LtU, &[i32(-1), i32(1)], i32(0)),
            ok(O::I32GtS, &[i32(-1), i32(1)], i32(0)),
            ok(O::I32GtU, &[i32(-1), i32(1)], i32(1)),
            ok(O::I32LeS, &[i32(1), i32(1)], i32(1)),
            ok(O::I32LeU, &[i32(2), i32(1)], i32(0)),
            ok(O::I32GeS, &[i32(i32::MIN), i32(0)], i32(0)),
            ok(O::I32GeU, &[i32(i32::MIN), i32(0)], i32(1)),
            ok(O::I64Eq, &[i64(1 << 33), i64(1)], i32(0)),
            ok(O::I64Ne, &[i64(1 << 33), i64(1)], i32(1)),
            ok(O::I64LtS, &[i64(-1), i64(1)], i32(1)),
            ok(O::I64LtU, &[i64(-1), i64(1)], i32(0)),
            ok(O::I64GtS, &[i64(-1), i64(1)], i32(0)),
            ok(O::I64GtU, &[i64(-1), i64(1)], i32(1)),
            ok(O::I64LeS, &[i64(i64::MIN), i64(i64::MIN)], i32(1)),
            ok(O::I64LeU, &[i64(-1), i64(0)], i32(0)),
            ok(O::I64GeS, &[i64(i64::MIN), i64(0)], i32(0)),
            ok(O::I64GeU, &[i64(i64::MIN), i64(0)], i32(1)),
            // Bit counting, including the all-zero input.
            ok(O::I32Clz, &[i32(0)], i32(32)),
            ok(O::I32Clz, &[i32(1)], i32(31)),
            ok(O::I32Clz, &[i32(i32::MIN)], i32(0)),
            ok(O::I32Ctz, &[i32(0)], i32(32)),
            ok(O::I32Ctz, &[i32(i32::MIN)], i32(31)),
            ok(O::I32Popcnt, &[i32(-1)], i32(32)),
            ok(O::I32Popcnt, &[u32(0x5555_5555)], i32(16)),
            ok(O::I64Clz, &[i64(0)], i64(64)),
            ok(O::I64Clz, &[i64(1 << 32)], i64(31)),
            ok(O::I64Ctz, &[i64(0)], i64(64)),
            ok(O::I64Ctz, &[i64(1 << 32)], i64(32)),
            ok(O::I64Popcnt, &[i64(-1)], i64(64)),
            // Wrapping arithmetic.
            ok(O::I32Add, &[i32(i32::MAX), i32(1)], i32(i32::MIN)),
            ok(O::I32Sub, &[i32(i32::MIN), i32(1)], i32(i32::MAX)),
            ok(O::I32Mul, &[i32(0x10000), i32(0x10000)], i32(0)),
            ok(O::I32Mul, &[i32(-3), i32(7)], i32(-21)),
            ok(O::I64Add, &[i64(i64::MAX), i64(1)], i64(i64::MIN)),
            ok(O::I64Sub, &[i64(0), i64(1)], i64(-1)),
            ok(O::I64Mul, &[i64(1 << 32), i64(1 << 32)], i64(0)),
            // Division: both trap reasons, truncation toward zero.
            ok(O::I32DivS, &[i32(-7), i32(2)], i32(-3)),
            ok(O::I32DivS, &[i32(i32::MIN), i32(1)], i32(i32::MIN)),
            traps(O::I32DivS, &[i32(1), i32(0)], DIV0),
            traps(O::I32DivS, &[i32(i32::MIN), i32(0)], DIV0),
            traps(O::I32DivS, &[i32(i32::MIN), i32(-1)], OVERFLOW),
            ok(O::I32DivU, &[i32(-1), i32(2)], i32(i32::MAX)),
            traps(O::I32DivU, &[i32(1), i32(0)], DIV0),
            ok(O::I64DivS, &[i64(-7), i64(2)], i64(-3)),
            traps(O::I64DivS, &[i64(1), i64(0)], DIV0),
            traps(O::I64DivS, &[i64(i64::MIN), i64(-1)], OVERFLOW),
            ok(O::I64DivU, &[i64(-1), i64(2)], i64(i64::MAX)),
            traps(O::I64DivU, &[i64(1), i64(0)], DIV0),
            // Remainder: sign of the dividend; MIN % -1 is 0, not a trap.
            ok(O::I32RemS, &[i32(-7), i32(2)], i32(-1)),
            ok(O::I32RemS, &[i32(7), i32(-2)], i32(1)),
            traps(O::I32RemS, &[i32(1), i32(0)], DIV0),
            ok(O::I32RemU, &[i32(-1), i32(10)], i32(5)),
            traps(O::I32RemU, &[i32(1), i32(0)], DIV0),
            ok(O::I64RemS, &[i64(-7), i64(2)], i64(-1)),
            traps(O::I64RemS, &[i64(1), i64(0)], DIV0),
            ok(O::I64RemU, &[i64(-1), i64(10)], i64(5)),
            traps(O::I64RemU, &[i64(1), i64(0)], DIV0),
            // Bitwise.
            ok(
                O::I32And,
                &[u32(0xff00_ff00), u32(0x0ff0_0ff0)],
                u32(0x0f00_0f00),
            ),
            ok(
                O::I32Or,
                &[u32(0xff00_ff00), u32(0x0ff0_0ff0)],
                u32(0xfff0_fff0),
            ),
            ok(
                O::I32Xor,
                &[u32(0xff00_ff00), u32(0x0ff0_0ff0)],
                u32(0xf0f0_f0f0),
            ),
            ok(O::I64And, &[i64(-1), i64(1 << 40)], i64(1 << 40)),
            ok(O::I64Or, &[i64(1 << 40), i64(1)], i64((1 << 40) | 1)),
            ok(O::I64Xor, &[i64(-1), i64(1 << 40)], i64(!(1 << 40))),
            // Shifts and rotates: the count is taken modulo the width.
            ok(O::I32Shl, &[i32(1), i32(31)], i32(i32::MIN)),
            ok(O::I32Shl, &[i32(1), i32(32)], i32(1)),
            ok(O::I32Shl, &[i32(1), i32(33)], i32(2)),
            ok(O::I32Shl, &[i32(1), i32(-1)], i32(i32::MIN)),
            ok(O::I32ShrS, &[i32(i32::MIN), i32(31)], i32(-1)),
            ok(O::I32ShrS, &[i32(i32::MIN), i32(32)], i32(i32::MIN)),
            ok(O::I32ShrU, &[i32(i32::MIN), i32(31)], i32(1)),
            ok(O::I32ShrU, &[i32(i32::MIN), i32(63)], i32(1)),
            ok(O::I32Rotl, &[u32(0x8000_0001), i32(1)], i32(3)),
            ok(O::I32Rotl, &[u32(0x1234_5678), i32(36)], u32(0x2345_6781)),
            ok(O::I32Rotr, &[i32(1), i32(1)], i32(i32::MIN)),
            ok(O::I32Rotr, &[u32(0x1234_5678), i32(-4)], u32(0x2345_6781)),
            ok(O::I64Shl, &[i64(1), i64(63)], i64(i64::MIN)),
            ok(O::I64Shl, &[i64(1), i64(64)], i64(1)),
            ok(O::I64Shl, &[i64(1), i64(32)], i64(1 << 32)),
            ok(O::I64ShrS, &[i64(i64::MIN), i64(63)], i64(-1)),
            ok(O::I64ShrS, &[i64(i64::MIN), i64(64)], i64(i64::MIN)),
            ok(O::I64ShrU, &[i64(i64::MIN), i64(63)], i64(1)),
            ok(O::I64ShrU, &[i64(i64::MIN), i64(-1)], i64(1)),
            ok(O::I64Rotl, &[u64(0x8000_0000_0000_0001), i64(1)], i64(3)),
            ok(O::I64Rotl, &[i64(1), i64(65)], i64(2)),
            ok(O::I64Rotr, &[i64(1), i64(1)], i64(i64::MIN)),
            ok(O::I64Rotr, &[i64(1), i64(-1)], i64(2)),
        ];
        // Cranelift's interpreter traps on `srem MIN, -1`; the IR definition (trap only on a
        // zero divisor) and both native backends give 0, which is what Wasm wants.
        for (op, args, zero) in [
            (O::I32RemS, [i32(i32::MIN), i32(-1)], i32(0)),
            (O::I64RemS, [i64(i64::MIN), i64(-1)], i64(0)),
        ] {
            let mut case = ok(op, &args, zero);
            case.interpreter_differs = Some("interpreter traps on srem MIN, -1");
            cases.push(case);
        }
        cases
    }

    fn float_cases() -> Vec<Case> {
        let (qnan32, qnan64) = (Val::F32(F32_QNAN), Val::F64(F64_QNAN));
        vec![
            // Comparisons: ordered except `ne`; -0 == +0.
            ok(O::F32Eq, &[qnan32, qnan32], i32(0)),
            ok(O::F32Eq, &[f32(0.0), f32(-0.0)], i32(1)),
            ok(O::F32Ne, &[qnan32, qnan32], i32(1)),
            ok(O::F32Ne, &[f32(1.0), f32(1.0)], i32(0)),
            ok(O::F32Lt, &[qnan32, f32(1.0)], i32(0)),
            ok(O::F32Lt, &[f32(-0.0), f32(0.0)], i32(0)),
            ok(O::F32Gt, &[f32(2.0), f32(1.0)], i32(1)),
            ok(O::F32Gt, &[f32(1.0), qnan32], i32(0)),
            ok(O::F32Le, &[f32(1.0), f32(1.0)], i32(1)),
            ok(O::F32Le, &[qnan32, f32(1.0)], i32(0)),
            ok(O::F32Ge, &[f32(-0.0), f32(0.0)], i32(1)),
            ok(O::F32Ge, &[qnan32, qnan32], i32(0)),
            ok(O::F64Eq, &[qnan64, qnan64], i32(0)),
            ok(O::F64Eq, &[f64(0.0), f64(-0.0)], i32(1)),
            ok(O::F64Ne, &[qnan64, f64(1.0)], i32(1)),
            ok(O::F64Lt, &[f64(1.0), f64(2.0)], i32(1)),
            ok(O::F64Lt, &[f64(1.0), qnan64], i32(0)),
            ok(O::F64Gt, &[qnan64, f64(1.0)], i32(0)),
            ok(O::F64Le, &[f64(2.0), f64(1.0)], i32(0)),
            ok(O::F64Ge, &[f64(f64::INFINITY), f64(1.0)], i32(1)),
            // Sign-bit operations keep NaN payloads, even signalling ones.
            ok(O::F32Abs, &[Val::F32(F32_NEG_SNAN)], Val::F32(0x7fa0_0001)),
            ok(O::F32Abs, &[f32(-0.0)], f32(0.0)),
            ok(O::F32Neg, &[Val::F32(F32_QNAN)], Val::F32(0xffc0_1234)),
            ok(O::F32Neg, &[f32(0.0)], f32(-0.0)),
            ok(O::F32Copysign, &[f32(1.0), f32(-0.0)], f32(-1.0)),
            ok(
                O::F32Copysign,
                &[Val::F32(F32_NEG_SNAN), f32(1.0)],
                Val::F32(0x7fa0_0001),
            ),
            ok(
                O::F64Abs,
                &[Val::F64(F64_NEG_SNAN)],
                Val::F64(0x7ff4_0000_0000_0001),
            ),
            ok(
                O::F64Neg,
                &[Val::F64(F64_QNAN)],
                Val::F64(0xfff8_0000_0000_1234),
            ),
            ok(O::F64Neg, &[f64(-0.0)], f64(0.0)),
            ok(O::F64Copysign, &[f64(2.0), qnan64], f64(2.0)),
            ok(
                O::F64Copysign,
                &[Val::F64(F64_QNAN), f64(-1.0)],
                Val::F64(0xfff8_0000_0000_1234),
            ),
            // Rounding; `nearest` is ties-to-even and keeps the sign of zero.
            ok(O::F32Ceil, &[f32(-0.5)], f32(-0.0)),
            ok(O::F32Ceil, &[f32(1.1)], f32(2.0)),
            ok(O::F32Floor, &[f32(-0.5)], f32(-1.0)),
            ok(O::F32Floor, &[f32(0.5)], f32(0.0)),
            ok(O::F32Trunc, &[f32(-1.7)], f32(-1.0)),
            ok(O::F32Nearest, &[f32(2.5)], f32(2.0)),
            ok(O::F32Nearest, &[f32(3.5)], f32(4.0)),
            ok(O::F32Nearest, &[f32(-0.5)], f32(-0.0)),
            ok(O::F32Nearest, &[f32(0.499_999_97)], f32(0.0)),
            ok(O::F32Nearest, &[f32(8_388_609.0)], f32(8_388_609.0)),
            nan(O::F32Nearest, &[qnan32], types::F32),
            ok(O::F64Ceil, &[f64(-0.5)], f64(-0.0)),
            ok(O::F64Floor, &[f64(-1.5)], f64(-2.0)),
            ok(O::F64Trunc, &[f64(-0.9)], f64(-0.0)),
            ok(O::F64Nearest, &[f64(-1.5)], f64(-2.0)),
            ok(
                O::F64Nearest,
                &[f64(4_503_599_627_370_497.0)],
                f64(4_503_599_627_370_497.0),
            ),
            ok(O::F64Nearest, &[f64(0.5)], f64(0.0)),
            // IEEE arithmetic.
            ok(O::F32Sqrt, &[f32(4.0)], f32(2.0)),
            ok(O::F32Sqrt, &[f32(-0.0)], f32(-0.0)),
            nan(O::F32Sqrt, &[f32(-1.0)], types::F32),
            ok(O::F32Add, &[f32(1.5), f32(2.25)], f32(3.75)),
            nan(
                O::F32Add,
                &[f32(f32::INFINITY), f32(f32::NEG_INFINITY)],
                types::F32,
            ),
            nan(O::F32Add, &[qnan32, f32(1.0)], types::F32),
            ok(O::F32Sub, &[f32(1.0), f32(1.0)], f32(0.0)),
            ok(O::F32Mul, &[f32(-0.0), f32(5.0)], f32(-0.0)),
            ok(O::F32Div, &[f32(-1.0), f32(0.0)], f32(f32::NEG_INFINITY)),
            nan(O::F32Div, &[f32(0.0), f32(0.0)], types::F32),
            ok(O::F64Sqrt, &[f64(2.25)], f64(1.5)),
            nan(O::F64Sqrt, &[f64(-1.0)], types::F64),
            ok(O::F64Add, &[f64(0.1), f64(0.2)], f64(0.1 + 0.2)),
            ok(O::F64Sub, &[f64(-0.0), f64(0.0)], f64(-0.0)),
            ok(O::F64Mul, &[f64(1e200), f64(1e200)], f64(f64::INFINITY)),
            ok(O::F64Div, &[f64(1.0), f64(3.0)], f64(1.0 / 3.0)),
            nan(O::F64Div, &[qnan64, f64(1.0)], types::F64),
            // min/max: NaN wins from either side, -0 < +0 in either order.
            ok(O::F32Min, &[f32(-0.0), f32(0.0)], f32(-0.0)),
            ok(O::F32Min, &[f32(0.0), f32(-0.0)], f32(-0.0)),
            ok(O::F32Min, &[f32(1.0), f32(2.0)], f32(1.0)),
            nan(O::F32Min, &[qnan32, f32(1.0)], types::F32),
            nan(O::F32Min, &[f32(1.0), qnan32], types::F32),
            ok(O::F32Max, &[f32(-0.0), f32(0.0)], f32(0.0)),
            ok(O::F32Max, &[f32(0.0), f32(-0.0)], f32(0.0)),
            nan(O::F32Max, &[f32(f32::INFINITY), qnan32], types::F32),
            ok(O::F64Min, &[f64(0.0), f64(-0.0)], f64(-0.0)),
            ok(
                O::F64Min,
                &[f64(f64::NEG_INFINITY), f64(1.0)],
                f64(f64::NEG_INFINITY),
            ),
            nan(O::F64Min, &[f64(1.0), qnan64], types::F64),
            ok(O::F64Max, &[f64(-0.0), f64(0.0)], f64(0.0)),
            ok(O::F64Max, &[f64(3.0), f64(-3.0)], f64(3.0)),
            nan(O::F64Max, &[qnan64, f64(f64::INFINITY)], types::F64),
        ]
    }

    fn conversion_cases() -> Vec<Case> {
        let (qnan32, qnan64) = (Val::F32(F32_QNAN), Val::F64(F64_QNAN));
        vec![
            // Integer width changes.
            ok(O::I32WrapI64, &[i64(0x1_0000_0005)], i32(5)),
            ok(O::I32WrapI64, &[i64(-1)], i32(-1)),
            ok(O::I64ExtendI32S, &[i32(-1)], i64(-1)),
            ok(O::I64ExtendI32U, &[i32(-1)], i64(0xffff_ffff)),
            ok(O::I32Extend8S, &[i32(0x80)], i32(-128)),
            ok(O::I32Extend8S, &[u32(0x1234_567f)], i32(0x7f)),
            ok(O::I32Extend16S, &[u32(0x1234_8000)], i32(-32768)),
            ok(O::I64Extend8S, &[u64(0x0123_4567_89ab_cdef)], i64(-17)),
            ok(O::I64Extend16S, &[i64(0x7fff)], i64(0x7fff)),
            ok(O::I64Extend16S, &[i64(0xffff)], i64(-1)),
            ok(O::I64Extend32S, &[i64(0x8000_0000)], i64(-0x8000_0000)),
            ok(O::I64Extend32S, &[i64(0x1_7fff_ffff)], i64(0x7fff_ffff)),
            // Trapping float -> i32, at the exact boundaries.
            ok(O::I32TruncF32S, &[f32(2_147_483_520.0)], i32(2_147_483_520)),
            traps(O::I32TruncF32S, &[f32(2_147_483_648.0)], OVERFLOW),
            ok(O::I32TruncF32S, &[f32(-2_147_483_648.0)], i32(i32::MIN)),
            traps(O::I32TruncF32S, &[f32(-2_147_483_904.0)], OVERFLOW),
            ok(O::I32TruncF32S, &[f32(-1.9)], i32(-1)),
            traps(O::I32TruncF32S, &[qnan32], BAD_CONV),
            traps(O::I32TruncF32S, &[f32(f32::NEG_INFINITY)], OVERFLOW),
            ok(O::I32TruncF32U, &[f32(-0.9)], i32(0)),
            traps(O::I32TruncF32U, &[f32(-1.0)], OVERFLOW),
            ok(O::I32TruncF32U, &[f32(4_294_967_040.0)], u32(4_294_967_040)),
            traps(O::I32TruncF32U, &[f32(4_294_967_296.0)], OVERFLOW),
            traps(O::I32TruncF32U, &[qnan32], BAD_CONV),
            ok(O::I32TruncF64S, &[f64(2_147_483_647.9)], i32(i32::MAX)),
            traps(O::I32TruncF64S, &[f64(2_147_483_648.0)], OVERFLOW),
            ok(O::I32TruncF64S, &[f64(-2_147_483_648.9)], i32(i32::MIN)),
            traps(O::I32TruncF64S, &[f64(-2_147_483_649.0)], OVERFLOW),
            traps(O::I32TruncF64S, &[qnan64], BAD_CONV),
            ok(O::I32TruncF64U, &[f64(4_294_967_295.9)], i32(-1)),
            traps(O::I32TruncF64U, &[f64(4_294_967_296.0)], OVERFLOW),
            ok(O::I32TruncF64U, &[f64(-0.999_999)], i32(0)),
            traps(O::I32TruncF64U, &[f64(-1.0)], OVERFLOW),
            traps(O::I32TruncF64U, &[qnan64], BAD_CONV),
            // Trapping float -> i64.
            ok(
                O::I64TruncF32S,
                &[f32(9_223_371_487_098_961_920.0)],
                i64(9_223_371_487_098_961_920),
            ),
            traps(
                O::I64TruncF32S,
                &[f32(9_223_372_036_854_775_808.0)],
                OVERFLOW,
            ),
            ok(
                O::I64TruncF32S,
                &[f32(-9_223_372_036_854_775_808.0)],
                i64(i64::MIN),
            ),
            traps(O::I64TruncF32S, &[qnan32], BAD_CONV),
            ok(O::I64TruncF32U, &[f32(-0.9)], i64(0)),
            ok(
                O::I64TruncF32U,
                &[f32(18_446_742_974_197_923_840.0)],
                u64(18_446_742_974_197_923_840),
            ),
            traps(
                O::I64TruncF32U,
                &[f32(18_446_744_073_709_551_616.0)],
                OVERFLOW,
            ),
            traps(O::I64TruncF32U, &[f32(-1.0)], OVERFLOW),
            traps(O::I64TruncF32U, &[qnan32], BAD_CONV),
            ok(
                O::I64TruncF64S,
                &[f64(9_223_372_036_854_774_784.0)],
                i64(9_223_372_036_854_774_784),
            ),
            traps(
                O::I64TruncF64S,
                &[f64(9_223_372_036_854_775_808.0)],
                OVERFLOW,
            ),
            ok(
                O::I64TruncF64S,
                &[f64(-9_223_372_036_854_775_808.0)],
                i64(i64::MIN),
            ),
            traps(O::I64TruncF64S, &[f64(f64::INFINITY)], OVERFLOW),
            traps(O::I64TruncF64S, &[qnan64], BAD_CONV),
            ok(
                O::I64TruncF64U,
                &[f64(18_446_744_073_709_549_568.0)],
                u64(18_446_744_073_709_549_568),
            ),
            traps(
                O::I64TruncF64U,
                &[f64(18_446_744_073_709_551_616.0)],
                OVERFLOW,
            ),
            ok(O::I64TruncF64U, &[f64(-0.9)], i64(0)),
            traps(O::I64TruncF64U, &[f64(-1.0)], OVERFLOW),
            traps(O::I64TruncF64U, &[qnan64], BAD_CONV),
            // Saturating float -> int: NaN is 0, out of range clamps.
            ok(O::I32TruncSatF32S, &[qnan32], i32(0)),
            ok(O::I32TruncSatF32S, &[f32(3e9)], i32(i32::MAX)),
            ok(O::I32TruncSatF32S, &[f32(f32::NEG_INFINITY)], i32(i32::MIN)),
            ok(O::I32TruncSatF32S, &[f32(-1.5)], i32(-1)),
            ok(O::I32TruncSatF32U, &[f32(-1.0)], i32(0)),
            ok(O::I32TruncSatF32U, &[f32(5e9)], i32(-1)),
            ok(O::I32TruncSatF32U, &[qnan32], i32(0)),
            ok(O::I32TruncSatF64S, &[f64(-2_147_483_649.0)], i32(i32::MIN)),
            ok(O::I32TruncSatF64S, &[f64(2_147_483_647.9)], i32(i32::MAX)),
            ok(O::I32TruncSatF64S, &[qnan64], i32(0)),
            ok(O::I32TruncSatF64U, &[f64(4_294_967_296.0)], i32(-1)),
            ok(O::I32TruncSatF64U, &[f64(f64::NEG_INFINITY)], i32(0)),
            ok(O::I64TruncSatF32S, &[f32(1e20)], i64(i64::MAX)),
            ok(O::I64TruncSatF32S, &[f32(-1e20)], i64(i64::MIN)),
            ok(O::I64TruncSatF32S, &[qnan32], i64(0)),
            ok(O::I64TruncSatF32U, &[f32(1e20)], i64(-1)),
            ok(O::I64TruncSatF32U, &[f32(-1.0)], i64(0)),
            ok(
                O::I64TruncSatF64S,
                &[f64(9_223_372_036_854_775_808.0)],
                i64(i64::MAX),
            ),
            ok(O::I64TruncSatF64S, &[qnan64], i64(0)),
            ok(
                O::I64TruncSatF64U,
                &[f64(18_446_744_073_709_551_616.0)],
                i64(-1),
            ),
            ok(
                O::I64TruncSatF64U,
                &[f64(18_446_744_073_709_549_568.0)],
                u64(18_446_744_073_709_549_568),
            ),
            ok(O::I64TruncSatF64U, &[f64(-0.5)], i64(0)),
            // Int -> float, rounding to nearest-even (the host's `as` is the oracle). The u64
            // inputs with a low bit set catch double rounding in a halve-and-double sequence.
            ok(O::F32ConvertI32S, &[i32(16_777_217)], f32(16_777_216.0)),
            ok(O::F32ConvertI32S, &[i32(i32::MIN)], f32(-2_147_483_648.0)),
            ok(O::F32ConvertI32U, &[i32(-1)], f32(4_294_967_296.0)),
            ok(O::F32ConvertI32U, &[u32(0x8000_0080)], f32(2_147_483_648.0)),
            ok(
                O::F32ConvertI32U,
                &[u32(0x8000_0081)],
                f32(0x8000_0081u32 as f32),
            ),
            ok(O::F32ConvertI64S, &[i64(i64::MIN)], f32(i64::MIN as f32)),
            ok(
                O::F32ConvertI64S,
                &[i64(0x20_0000_2000_0001)],
                f32(0x20_0000_2000_0001i64 as f32),
            ),
            ok(O::F32ConvertI64U, &[i64(-1)], f32(u64::MAX as f32)),
            ok(
                O::F32ConvertI64U,
                &[u64(0x8000_0080_0000_0001)],
                f32(0x8000_0080_0000_0001u64 as f32),
            ),
            ok(O::F64ConvertI32S, &[i32(i32::MIN)], f64(-2_147_483_648.0)),
            ok(O::F64ConvertI32U, &[i32(-1)], f64(4_294_967_295.0)),
            ok(O::F64ConvertI64S, &[i64(i64::MAX)], f64(i64::MAX as f64)),
            ok(
                O::F64ConvertI64S,
                &[i64(0x20_0000_0000_0001)],
                f64(0x20_0000_0000_0001i64 as f64),
            ),
            ok(O::F64ConvertI64U, &[i64(-1)], f64(u64::MAX as f64)),
            ok(
                O::F64ConvertI64U,
                &[u64(0x8000_0000_0000_0401)],
                f64(0x8000_0000_0000_0401u64 as f64),
            ),
            // Precision changes.
            ok(O::F32DemoteF64, &[f64(1e300)], f32(f32::INFINITY)),
            ok(O::F32DemoteF64, &[f64(-0.0)], f32(-0.0)),
            ok(
                O::F32DemoteF64,
                &[Val::F64(0x3ff0_0000_1000_0000)],
                f32(1.0),
            ),
            ok(O::F32DemoteF64, &[Val::F64(1)], f32(0.0)),
            nan(O::F32DemoteF64, &[qnan64], types::F32),
            ok(O::F64PromoteF32, &[f32(1.5)], f64(1.5)),
            ok(O::F64PromoteF32, &[f32(-0.0)], f64(-0.0)),
            nan(O::F64PromoteF32, &[qnan32], types::F64),
            // Reinterpretations: exact bits, NaN payloads included.
            ok(
                O::I32ReinterpretF32,
                &[Val::F32(F32_NEG_SNAN)],
                u32(F32_NEG_SNAN),
            ),
            ok(
                O::F32ReinterpretI32,
                &[u32(F32_NEG_SNAN)],
                Val::F32(F32_NEG_SNAN),
            ),
            ok(
                O::I64ReinterpretF64,
                &[Val::F64(F64_NEG_SNAN)],
                u64(F64_NEG_SNAN),
            ),
            ok(
                O::F64ReinterpretI64,
                &[u64(F64_NEG_SNAN)],
                Val::F64(F64_NEG_SNAN),
            ),
        ]
    }

    fn all_cases() -> Vec<Case> {
        let mut cases = constant_cases();
        cases.extend(integer_cases());
        cases.extend(float_cases());
        cases.extend(conversion_cases());
        cases
    }

    /// Builds `fn(args...) -> result { return op(args...) }`, checking on the way that the
    /// operator pops exactly its operands and pushes one value.
    fn build(op: &O<'static>, args: &[Val]) -> Function {
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params
            .extend(args.iter().map(|arg| AbiParam::new(arg.ty())));
        let mut func = Function::with_name_signature(UserFuncName::testcase("test"), sig);
        let mut fn_ctx = FunctionBuilderContext::new();
        let mut builder = FunctionBuilder::new(&mut func, &mut fn_ctx);
        let entry = builder.create_block();
        builder.append_block_params_for_function_params(entry);
        builder.switch_to_block(entry);
        builder.seal_block(entry);

        // A value below the operands must survive untouched.
        let below = builder.ins().iconst(types::I64, 7);
        let mut stack = vec![below];
        stack.extend_from_slice(builder.block_params(entry));
        assert!(
            translate_numeric(op, &mut builder, &mut stack),
            "{op:?} was not translated"
        );
        assert_eq!(stack.len(), 2, "{op:?} left a wrong stack: {stack:?}");
        assert_eq!(
            stack[0], below,
            "{op:?} disturbed the stack below its operands"
        );
        let result = stack[1];
        let result_ty = builder.func.dfg.value_type(result);
        builder
            .func
            .signature
            .returns
            .push(AbiParam::new(result_ty));
        builder.ins().return_(&[result]);
        builder.finalize(target_isa("x86_64").frontend_config());

        let flags = settings::Flags::new(settings::builder());
        if let Err(errors) = cranelift_codegen::verify_function(&func, &flags) {
            panic!("{op:?}: invalid IR:\n{errors}\n{}", func.display());
        }
        func
    }

    enum Outcome {
        Value(Val),
        Trap(TrapCode),
    }

    fn interpret(func: &Function, args: &[Val]) -> Outcome {
        let mut store = FunctionStore::default();
        store.add(func.name.to_string(), func);
        let state = InterpreterState::default().with_function_store(store);
        let args: Vec<DataValue> = args.iter().map(|arg| arg.to_data()).collect();
        match Interpreter::new(state).call_by_name(&func.name.to_string(), &args) {
            Ok(ControlFlow::Return(results)) => {
                assert_eq!(results.len(), 1);
                Outcome::Value(Val::from_data(&results[0]))
            }
            Ok(ControlFlow::Trap(CraneliftTrap::User(code))) => Outcome::Trap(code),
            other => panic!("interpreter failed: {other:?}"),
        }
    }

    fn is_arithmetic_nan(value: Val, ty: Type) -> bool {
        match value {
            Val::F32(bits) if ty == types::F32 => {
                f32::from_bits(bits).is_nan() && bits & 0x0040_0000 != 0
            }
            Val::F64(bits) if ty == types::F64 => {
                f64::from_bits(bits).is_nan() && bits & 0x0008_0000_0000_0000 != 0
            }
            _ => false,
        }
    }

    fn check_in_interpreter(cases: &[Case]) {
        let mut failures = Vec::new();
        for case in cases
            .iter()
            .filter(|case| case.interpreter_differs.is_none())
        {
            let func = build(&case.op, &case.args);
            let outcome = interpret(&func, &case.args);
            let good = match (case.expect, &outcome) {
                (Expect::Value(want), Outcome::Value(got)) => want == *got,
                (Expect::Nan(ty), Outcome::Value(got)) => is_arithmetic_nan(*got, ty),
                (Expect::Trap(want), Outcome::Trap(got)) => want == *got,
                _ => false,
            };
            if !good {
                let got = match outcome {
                    Outcome::Value(v) => format!("{v:x?}"),
                    Outcome::Trap(code) => format!("trap {code}"),
                };
                failures.push(format!(
                    "{:?}{:x?}: expected {:x?}, got {got}",
                    case.op, case.args, case.expect
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn constants() {
        check_in_interpreter(&constant_cases());
    }

    #[test]
    fn integer_operators() {
        check_in_interpreter(&integer_cases());
    }

    #[test]
    fn float_operators() {
        check_in_interpreter(&float_cases());
    }

    #[test]
    fn conversions() {
        check_in_interpreter(&conversion_cases());
    }

    fn target_isa(name: &str) -> OwnedTargetIsa {
        let mut flags = settings::builder();
        flags.set("opt_level", "speed").unwrap();
        let mut isa = isa::lookup_by_name(name).unwrap();
        if name == "x86_64" {
            // What the compiler's ISA setup guarantees; without it the rounding operators
            // would become libcalls.
            isa.enable("has_sse41").unwrap();
        }
        isa.finish(settings::Flags::new(flags)).unwrap()
    }

    #[test]
    fn lowers_natively_on_x86_64_and_aarch64() {
        let mut failures = Vec::new();
        for isa in [target_isa("x86_64"), target_isa("aarch64")] {
            for case in all_cases() {
                let func = build(&case.op, &case.args);
                let mut ctx = Context::for_function(func);
                let what = format!("{} {:?}{:x?}", isa.name(), case.op, case.args);
                let compiled = match ctx.compile(&*isa, &mut ControlPlane::default()) {
                    Ok(compiled) => compiled,
                    Err(err) => {
                        failures.push(format!("{what}: does not compile: {:?}", err.inner));
                        continue;
                    }
                };
                if !compiled.buffer.relocs().is_empty() {
                    failures.push(format!("{what}: needs a libcall or relocation"));
                }
                if let Expect::Trap(code) = case.expect {
                    let traps = compiled.buffer.traps();
                    if !traps.iter().any(|trap| trap.code == code) {
                        failures.push(format!("{what}: no `{code}` trap site in {traps:?}"));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Decodes every numeric opcode of Wasm 2.0 (MVP 0x41..=0xc4, plus the 0xfc 0..=7
    /// saturating conversions) and checks that each is translated and has a test case.
    #[test]
    fn every_numeric_opcode_is_translated_and_tested() {
        let mut encodings: Vec<Vec<u8>> = vec![
            vec![0x41, 0x00],
            vec![0x42, 0x00],
            vec![0x43, 0, 0, 0, 0],
            vec![0x44, 0, 0, 0, 0, 0, 0, 0, 0],
        ];
        encodings.extend((0x45..=0xc4).map(|opcode| vec![opcode]));
        encodings.extend((0..=7).map(|sub| vec![0xfc, sub]));
        assert_eq!(encodings.len(), 140);

        let cases = all_cases();
        let mut missing = Vec::new();
        for bytes in &encodings {
            let mut reader =
                wasmparser::OperatorsReader::new(wasmparser::BinaryReader::new(bytes, 0));
            let op = reader.read().expect("numeric opcode decodes");
            let tested = cases
                .iter()
                .any(|case| std::mem::discriminant(&case.op) == std::mem::discriminant(&op));
            if !tested {
                missing.push(format!("{op:?}"));
            }
        }
        assert!(
            missing.is_empty(),
            "no test case for: {}",
            missing.join(", ")
        );
    }

    #[test]
    fn other_operators_are_left_alone() {
        let mut func = Function::new();
        let mut fn_ctx = FunctionBuilderContext::new();
        let mut builder = FunctionBuilder::new(&mut func, &mut fn_ctx);
        let entry = builder.create_block();
        builder.switch_to_block(entry);
        let value = builder.ins().iconst(types::I32, 1);
        let insts_before = builder.func.dfg.num_insts();
        let mut stack = vec![value, value];
        for op in [
            O::Nop,
            O::Drop,
            O::Select,
            O::LocalGet { local_index: 0 },
            O::GlobalGet { global_index: 0 },
            O::Br { relative_depth: 0 },
            O::RefIsNull,
            O::MemorySize { mem: 0 },
        ] {
            assert!(!translate_numeric(&op, &mut builder, &mut stack), "{op:?}");
        }
        assert_eq!(stack, [value, value]);
        assert_eq!(builder.func.dfg.num_insts(), insts_before);
        assert_eq!(builder.current_block(), Some(entry));
    }
}
