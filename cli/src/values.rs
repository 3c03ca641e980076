//! Command-line values for `wasmc run --invoke`: parsing an argument by its parameter type and
//! printing a result the way `wasmtime run --invoke` does (one per line, floats as Rust prints
//! them, e.g. `1.5`, `inf`, `NaN`).

use wasmc_abi::ValType;
use wasmc_loader::Val;

/// Parses one `--invoke` argument as a value of type `ty`.
///
/// Integers are decimal or `0x` hex, optionally negative; an i32 may also be written as its
/// unsigned value (`4294967295` is `-1`), likewise an i64. Floats are decimal and accept
/// `inf`, `-inf` and `nan`.
pub fn parse_arg(text: &str, ty: ValType) -> Result<Val, String> {
    let bad = |what: &str| format!("invalid {ty} argument `{text}`: {what}");
    Ok(match ty {
        ValType::I32 => {
            let v = parse_int(text).map_err(|e| bad(&e))?;
            let v = i32::try_from(v)
                .or_else(|_| u32::try_from(v).map(|u| u as i32))
                .map_err(|_| bad("out of range for i32"))?;
            Val::I32(v)
        }
        ValType::I64 => {
            let v = parse_int(text).map_err(|e| bad(&e))?;
            let v = i64::try_from(v)
                .or_else(|_| u64::try_from(v).map(|u| u as i64))
                .map_err(|_| bad("out of range for i64"))?;
            Val::I64(v)
        }
        ValType::F32 => Val::F32(
            text.parse::<f32>()
                .map_err(|_| bad("not a decimal number, `inf` or `nan`"))?
                .to_bits(),
        ),
        ValType::F64 => Val::F64(
            text.parse::<f64>()
                .map_err(|_| bad("not a decimal number, `inf` or `nan`"))?
                .to_bits(),
        ),
        ValType::V128 => {
            let v = parse_int(text).map_err(|e| bad(&e))?;
            Val::V128(u128::try_from(v).map_err(|_| bad("a v128 must be non-negative"))?)
        }
        ValType::FuncRef | ValType::ExternRef => {
            if text == "null" {
                if ty == ValType::FuncRef {
                    Val::FuncRef(None)
                } else {
                    Val::ExternRef(None)
                }
            } else {
                return Err(bad("only `null` can be passed for a reference"));
            }
        }
    })
}

/// Parses a decimal or `0x` hexadecimal integer with an optional sign, wide enough for any
/// i64/u64 (and v128 up to `i128::MAX`).
fn parse_int(text: &str) -> Result<i128, String> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let digits = digits.replace('_', "");
    let (radix, digits) = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => (16, hex),
        None => (10, digits.as_str()),
    };
    // `from_str_radix` would accept a second sign (`--1`, `0x-1`).
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return Err("not an integer".to_owned());
    }
    let magnitude =
        i128::from_str_radix(digits, radix).map_err(|e| format!("not an integer ({e})"))?;
    Ok(if neg { -magnitude } else { magnitude })
}

/// Formats a result for printing.
pub fn format_val(val: &Val) -> String {
    match val {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        Val::V128(v) => format!("{v:#034x}"),
        Val::FuncRef(None) | Val::ExternRef(None) => "null".to_owned(),
        Val::FuncRef(Some(_)) => "<funcref>".to_owned(),
        Val::ExternRef(Some(_)) => "<externref>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i32_of(text: &str) -> Result<i32, String> {
        match parse_arg(text, ValType::I32)? {
            Val::I32(v) => Ok(v),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn integers_in_decimal_and_hex() {
        assert_eq!(i32_of("20"), Ok(20));
        assert_eq!(i32_of("-7"), Ok(-7));
        assert_eq!(i32_of("0x10"), Ok(16));
        assert_eq!(i32_of("-0x10"), Ok(-16));
        assert_eq!(i32_of("4294967295"), Ok(-1));
        assert_eq!(i32_of("1_000"), Ok(1000));
        assert!(i32_of("4294967296").unwrap_err().contains("out of range"));
        assert!(i32_of("twelve").unwrap_err().contains("`twelve`"));
        assert!(i32_of("").is_err());
        assert!(i32_of("--1").is_err());
        assert!(matches!(
            parse_arg("0xffffffffffffffff", ValType::I64),
            Ok(Val::I64(-1))
        ));
        assert!(matches!(
            parse_arg("-9223372036854775808", ValType::I64),
            Ok(Val::I64(i64::MIN))
        ));
    }

    #[test]
    fn floats_with_specials() {
        assert!(matches!(parse_arg("1.5", ValType::F32), Ok(Val::F32(b)) if b == 1.5f32.to_bits()));
        assert!(
            matches!(parse_arg("-inf", ValType::F64), Ok(Val::F64(b)) if b == f64::NEG_INFINITY.to_bits())
        );
        assert!(
            matches!(parse_arg("nan", ValType::F64), Ok(Val::F64(b)) if f64::from_bits(b).is_nan())
        );
        assert!(parse_arg("1.5.2", ValType::F32).is_err());
    }

    #[test]
    fn references_only_null() {
        assert!(matches!(
            parse_arg("null", ValType::ExternRef),
            Ok(Val::ExternRef(None))
        ));
        assert!(parse_arg("3", ValType::FuncRef).is_err());
    }

    #[test]
    fn results_print_like_wasmtime() {
        assert_eq!(format_val(&Val::I32(-3)), "-3");
        assert_eq!(format_val(&Val::F32(1.5f32.to_bits())), "1.5");
        assert_eq!(format_val(&Val::F64(2.0f64.to_bits())), "2");
        assert_eq!(format_val(&Val::F64(f64::INFINITY.to_bits())), "inf");
        assert_eq!(format_val(&Val::FuncRef(None)), "null");
    }
}
