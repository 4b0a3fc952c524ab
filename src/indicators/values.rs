//! Values: a column of any type in, its values as the analysis needs them out — 0/1
//! deprivations (integers, floats, booleans, "true"/"false") and numbers (weights,
//! years, sizes) — or an error that names the column, the value and its first row.

use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};

/// The error for an indicator value that is not 0 or 1 (`row` 0-based).
fn not_zero_one(file: &Path, name: &str, row: usize, value: String) -> Error {
    Error::data(file, name, Some(row + 1), format!(
        "the value {value} is not 0 or 1: indicators are 0/1 deprivation columns (1 = deprived, empty = missing); recode the column or build it with a rule{}",
        decimal_comma_hint(value.trim_matches('"'))))
}

/// A boolean or text 0/1 column as present/absent deprivations; any other value is an
/// error. (Numeric columns take [`zero_one_numeric`].)
pub(super) fn zero_one(s: &Series, file: &Path, name: &str) -> Result<Vec<Option<bool>>> {
    match s.dtype() {
        DataType::Boolean => Ok(s.bool().expect("boolean").iter().collect()),
        DataType::String => {
            let ca = s.str().expect("string");
            let mut out = Vec::with_capacity(s.len());
            for (i, v) in ca.iter().enumerate() {
                out.push(match v.map(str::trim) {
                    None => None,
                    Some(t) => match t.to_ascii_lowercase().as_str() {
                        "0" | "0.0" | "false" => Some(false),
                        "1" | "1.0" | "true" => Some(true),
                        _ => return Err(not_zero_one(file, name, i, format!("\"{t}\""))),
                    },
                });
            }
            Ok(out)
        }
        other => Err(Error::data(
            file,
            name,
            None,
            format!("has type {other}; an indicator must hold 0/1 numbers or booleans"),
        )),
    }
}

/// Calls `f(row, value)` for every value of a numeric column as a float, NaN where the
/// value is missing, reading polars' arrays in place: no cast copy of the column for the
/// common types, and one pass.
pub(super) fn each_number(s: &Series, mut f: impl FnMut(usize, f64) -> Result<()>) -> Result<()> {
    macro_rules! each {
        ($ca:expr) => {{
            let mut row = 0;
            for array in $ca.downcast_iter() {
                let values = array.values();
                match array.validity() {
                    None => {
                        for (i, &v) in values.iter().enumerate() {
                            f(row + i, v as f64)?;
                        }
                    }
                    Some(valid) => {
                        for (i, &v) in values.iter().enumerate() {
                            f(row + i, if valid.get_bit(i) { v as f64 } else { f64::NAN })?;
                        }
                    }
                }
                row += array.len();
            }
            Ok(())
        }};
    }
    match s.dtype() {
        DataType::Float64 => each!(s.f64().expect("f64")),
        DataType::Float32 => each!(s.f32().expect("f32")),
        DataType::Int64 => each!(s.i64().expect("i64")),
        DataType::Int32 => each!(s.i32().expect("i32")),
        DataType::UInt32 => each!(s.u32().expect("u32")),
        DataType::UInt64 => each!(s.u64().expect("u64")),
        _ => {
            let f64s = s
                .cast(&DataType::Float64)
                .map_err(|e| Error::input(Path::new(""), e.to_string()))?;
            each!(f64s.f64().expect("f64"))
        }
    }
}

/// A numeric 0/1 column into bit `j` of the profiles; a missing value (null or NaN)
/// clears `keep`. Returns the number of rows missing it; any value but 0 and 1 is an error.
pub(super) fn zero_one_numeric(
    s: &Series,
    file: &Path,
    name: &str,
    j: usize,
    profiles: &mut [u64],
    missing_bits: &mut [u64],
) -> Result<usize> {
    let mut missing = 0;
    let mut bad = false;
    // Without branches, so that the compiler can use vector instructions: the bit is set
    // where the value is 1, NaN marks the row missing, anything else but 0 is noted and
    // looked for again below (to name its row). Values under nulls are arbitrary: the
    // null marks the row missing, and its bit does not matter.
    macro_rules! floats {
        ($ca:expr) => {{
            let mut row = 0;
            for array in $ca.downcast_iter() {
                let values = array.values();
                let end = row + values.len();
                let (p, k) = (&mut profiles[row..end], &mut missing_bits[row..end]);
                for ((p, k), &v) in p.iter_mut().zip(k.iter_mut()).zip(values.iter()) {
                    let x = v as f64;
                    let nan = x.is_nan();
                    bad |= !(x == 0.0 || x == 1.0 || nan);
                    *p |= u64::from(x == 1.0) << j;
                    *k |= u64::from(nan) << j;
                    missing += usize::from(nan);
                }
                missing += nulls(array.validity(), k, j);
                row = end;
            }
        }};
    }
    // Integers have no NaN: only the bit, and a value that is neither 0 nor 1 (as
    // unsigned, more than 1).
    macro_rules! integers {
        ($ca:expr) => {{
            let mut row = 0;
            for array in $ca.downcast_iter() {
                let values = array.values();
                let end = row + values.len();
                for (p, &v) in profiles[row..end].iter_mut().zip(values.iter()) {
                    let x = v as i64;
                    bad |= x as u64 > 1;
                    *p |= u64::from(x == 1) << j;
                }
                missing += nulls(array.validity(), &mut missing_bits[row..end], j);
                row = end;
            }
        }};
    }
    match s.dtype() {
        DataType::Float64 => floats!(s.f64().expect("f64")),
        DataType::Int64 => integers!(s.i64().expect("i64")),
        DataType::Int32 => integers!(s.i32().expect("i32")),
        DataType::Int8
        | DataType::Int16
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => {
            let i = s.cast(&DataType::Int64).expect("a small integer is an i64");
            integers!(i.i64().expect("i64"))
        }
        _ => {
            let f = s
                .cast(&DataType::Float64)
                .map_err(|e| Error::data(file, name, None, e.to_string()))?;
            floats!(f.f64().expect("f64"))
        }
    }
    if bad {
        each_number(s, |i, x| {
            if x.is_nan() || x == 0.0 || x == 1.0 {
                Ok(())
            } else {
                Err(not_zero_one(file, name, i, format!("{x}")))
            }
        })?;
    }
    Ok(missing)
}

/// Marks bit `j` missing in the rows that are null; returns how many there are.
fn nulls(
    validity: Option<&polars_arrow::bitmap::Bitmap>,
    missing_bits: &mut [u64],
    j: usize,
) -> usize {
    // A column without nulls may still come with a validity bitmap (all set): its
    // count of unset bits, kept by the bitmap, spares the pass over every bit.
    let Some(valid) = validity.filter(|v| v.unset_bits() > 0) else {
        return 0;
    };
    let mut count = 0;
    for (k, ok) in missing_bits.iter_mut().zip(valid.iter()) {
        if !ok {
            // (A null over a NaN is counted once, as the NaN was.)
            count += usize::from(*k >> j & 1 == 0);
            *k |= 1 << j;
        }
    }
    count
}

/// A numeric column (weight, year) as floats, NaN where a value is missing; text that is
/// not a number is an error.
pub(super) fn numbers(s: &Series, file: &Path, name: &str) -> Result<Vec<f64>> {
    match s.dtype() {
        DataType::String => {
            let ca = s.str().expect("string");
            let mut out = Vec::with_capacity(s.len());
            for (i, v) in ca.iter().enumerate() {
                out.push(match v.map(str::trim) {
                    None => f64::NAN,
                    Some(t) => t.parse::<f64>().map_err(|_| {
                        Error::data(
                            file,
                            name,
                            Some(i + 1),
                            format!("the value \"{t}\" is not a number{}", decimal_comma_hint(t)),
                        )
                    })?,
                });
            }
            Ok(out)
        }
        dt if dt.is_primitive_numeric() || dt.is_bool() => {
            let mut out = vec![0.0; s.len()];
            each_number(s, |i, x| {
                out[i] = x;
                Ok(())
            })
            .map_err(|e| Error::data(file, name, None, e.to_string()))?;
            Ok(out)
        }
        other => Err(Error::data(
            file,
            name,
            None,
            format!("has type {other}; expected numbers"),
        )),
    }
}

/// A hint for a number written with a decimal comma (`1,5`) in a file read with points.
pub(super) fn decimal_comma_hint(text: &str) -> &'static str {
    if crate::read::dialect::decimal_mark(text.trim().as_bytes()) == Some(b',') {
        ": it is written with a decimal comma; read the file with --decimal-comma (or `decimal_comma = true` in [survey])"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every numeric type: 1 sets the bit, 0 does not, a null (or NaN) marks the row
    /// missing and is counted once; any other value is an error naming its row.
    #[test]
    fn numeric_zero_one_columns_into_bits() {
        let file = Path::new("f.csv");
        let values = [Some(0.0), Some(1.0), None, Some(1.0), Some(f64::NAN)];
        let floats = Series::new("x".into(), &values);
        let ints = Series::new("x".into(), &[Some(0i64), Some(1), None, Some(1), None]);
        let columns = [
            floats,
            ints.clone(),
            ints.cast(&DataType::Int32).unwrap(),
            ints.cast(&DataType::Int8).unwrap(),
            ints.cast(&DataType::UInt8).unwrap(),
            ints.cast(&DataType::UInt32).unwrap(),
        ];
        for s in &columns {
            let (mut profiles, mut missing) = (vec![0b1000u64; 5], vec![0u64; 5]);
            let n = zero_one_numeric(s, file, "x", 1, &mut profiles, &mut missing).unwrap();
            assert_eq!(n, 2, "{}", s.dtype());
            assert_eq!(profiles[..2], [0b1000, 0b1010], "{}", s.dtype());
            assert_eq!(profiles[3], 0b1010, "{}", s.dtype());
            assert_eq!(missing, [0, 0, 0b10, 0, 0b10], "{}", s.dtype());
        }
        for bad in [2i64, -1] {
            let s = Series::new("x".into(), &[Some(0i64), None, Some(bad)]);
            for s in [
                s.clone(),
                s.cast(&DataType::Int32).unwrap(),
                s.cast(&DataType::Float64).unwrap(),
            ] {
                let (mut profiles, mut missing) = (vec![0u64; 3], vec![0u64; 3]);
                let e = zero_one_numeric(&s, file, "x", 0, &mut profiles, &mut missing)
                    .unwrap_err()
                    .to_string();
                assert!(
                    e.contains("column `x`, row 3") && e.contains(&format!("{bad} is not 0 or 1")),
                    "{e}"
                );
            }
        }
    }
}
