//! Codes of a column: a design or subgroup column in, dense codes and their labels out,
//! numbered in the order labels are first seen (the engine then renumbers them in the
//! labels' sorted order). Numbers are coded by their bits and labelled as numbers (2,
//! not 2.0); Stata and SPSS value labels come with the column as text.

use polars::prelude::*;
use rustc_hash::FxHashMap;

use afmpi_core::sample::codes::number_label;
use afmpi_core::sample::MISSING;

/// Clears `keep` where a value is missing (NaN); returns how many are.
pub(super) fn factorize(s: &Series) -> (Vec<u32>, Vec<String>) {
    // Over polars' arrays directly: the chunked array's own iterator costs more.
    match s.dtype() {
        DataType::Int32 => first_seen_numbers(s.i32().expect("i32"), Some, |v: i32| v.to_string()),
        dt if dt.is_integer() => {
            let i = s.cast(&DataType::Int64).expect("integer");
            first_seen_numbers(i.i64().expect("i64"), Some, |v: i64| v.to_string())
        }
        dt if dt.is_float() => {
            let f = s.cast(&DataType::Float64).expect("float");
            first_seen_numbers(
                f.f64().expect("float"),
                |x: f64| (!x.is_nan()).then_some(x.to_bits()),
                |b: u64| number_label(f64::from_bits(b)),
            )
        }
        _ => {
            let t = s.cast(&DataType::String).unwrap_or_else(|_| {
                Series::full_null(s.name().clone(), s.len(), &DataType::String)
            });
            first_seen_strings(t.str().expect("string"))
        }
    }
}

/// Codes of the values of a numeric column in order of first appearance, and the label of
/// each code. `key` gives the value's key, `None` for a missing one (NaN).
fn first_seen_numbers<T, K>(
    ca: &ChunkedArray<T>,
    key: impl Fn(T::Native) -> Option<K>,
    label: impl Fn(K) -> String,
) -> (Vec<u32>, Vec<String>)
where
    T: PolarsNumericType,
    K: std::hash::Hash + Eq + Copy,
{
    let mut index: FxHashMap<K, u32> = FxHashMap::default();
    let mut labels = Vec::new();
    let mut codes = Vec::with_capacity(ca.len());
    // Survey files come household by household, cluster by cluster: a value mostly
    // repeats the row before's, and then needs no look-up.
    let mut last: Option<(K, u32)> = None;
    for array in ca.downcast_iter() {
        let valid = array.validity();
        for (i, &v) in array.values().iter().enumerate() {
            let k = match valid {
                Some(bits) if !bits.get_bit(i) => None,
                _ => key(v),
            };
            codes.push(match k {
                None => MISSING,
                Some(k) => match last {
                    Some((l, code)) if l == k => code,
                    _ => {
                        let code = *index.entry(k).or_insert_with(|| {
                            labels.push(label(k));
                            labels.len() as u32 - 1
                        });
                        last = Some((k, code));
                        code
                    }
                },
            });
        }
    }
    (codes, labels)
}

/// As [`first_seen_numbers`] for text. A row whose 16-byte view (length, prefix and
/// place of the text in polars' buffers) equals the row before's holds the same text, so
/// the repeats of a household or cluster cost one comparison of two integers, and the
/// text itself is looked at only when the view changes.
fn first_seen_strings(ca: &StringChunked) -> (Vec<u32>, Vec<String>) {
    use polars_arrow::array::Array as _; // validity()
    let mut index: FxHashMap<&str, u32> = FxHashMap::default();
    let mut labels = Vec::new();
    let mut codes = Vec::with_capacity(ca.len());
    for array in ca.downcast_iter() {
        let valid = array.validity();
        // Views point into this array's buffers: a run does not cross arrays.
        let mut last: Option<(u128, u32)> = None;
        for (i, view) in array.views().iter().enumerate() {
            if valid.is_some_and(|bits| !bits.get_bit(i)) {
                codes.push(MISSING);
                continue;
            }
            let view = view.as_u128();
            let code = match last {
                Some((v, code)) if v == view => code,
                _ => {
                    let text = array.value(i);
                    let code = *index.entry(text).or_insert_with(|| {
                        labels.push(text.to_string());
                        labels.len() as u32 - 1
                    });
                    last = Some((view, code));
                    code
                }
            };
            codes.push(code);
        }
    }
    (codes, labels)
}
