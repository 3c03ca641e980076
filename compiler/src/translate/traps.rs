//! The one mapping between Cranelift trap codes and `abi::TrapCode`.
//!
//! Cranelift's built-in codes stand for the traps it raises by itself (stack check, heap
//! access, integer division and overflow, float-to-int conversion); every other wasmc trap
//! is `ir::TrapCode::user(code as u8)`. `abi/src/trap.rs` owns the numbers.

use cranelift_codegen::ir;
use wasmc_abi::TrapCode;

/// The Cranelift trap code that stands for `code`.
pub(crate) fn ir_trap(code: TrapCode) -> ir::TrapCode {
    match code {
        TrapCode::StackOverflow => ir::TrapCode::STACK_OVERFLOW,
        TrapCode::MemoryOutOfBounds => ir::TrapCode::HEAP_OUT_OF_BOUNDS,
        TrapCode::IntegerOverflow => ir::TrapCode::INTEGER_OVERFLOW,
        TrapCode::IntegerDivisionByZero => ir::TrapCode::INTEGER_DIVISION_BY_ZERO,
        TrapCode::BadConversionToInteger => ir::TrapCode::BAD_CONVERSION_TO_INTEGER,
        // Every abi code is a small nonzero byte, well below Cranelift's reserved range
        // (checked by the test below).
        other => ir::TrapCode::unwrap_user(other as u8),
    }
}

/// The wasmc trap code of a Cranelift trap record, or `None` for a code wasmc never emits.
pub(crate) fn abi_trap(code: ir::TrapCode) -> Option<TrapCode> {
    Some(match code {
        ir::TrapCode::STACK_OVERFLOW => TrapCode::StackOverflow,
        ir::TrapCode::HEAP_OUT_OF_BOUNDS => TrapCode::MemoryOutOfBounds,
        ir::TrapCode::INTEGER_OVERFLOW => TrapCode::IntegerOverflow,
        ir::TrapCode::INTEGER_DIVISION_BY_ZERO => TrapCode::IntegerDivisionByZero,
        ir::TrapCode::BAD_CONVERSION_TO_INTEGER => TrapCode::BadConversionToInteger,
        other => {
            let code = TrapCode::from_u8(other.as_raw().get())?;
            // A user code equal to a code Cranelift has a built-in for is never emitted.
            if ir_trap(code) != other {
                return None;
            }
            code
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for code in TrapCode::ALL {
            assert_eq!(abi_trap(ir_trap(code)), Some(code), "{code:?}");
        }
        assert_eq!(abi_trap(ir::TrapCode::unwrap_user(200)), None);
    }
}
