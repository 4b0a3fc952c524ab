//! Codes of a column: a design or subgroup column in, dense codes and their labels out,
//! numbered in the order labels are first seen (the engine then renumbers them in the
//! labels' sorted order). Numbers are coded by their bits and labelled as numbers (2,
//! not 2.0); Stata and SPSS value labels come with the column as text.
//!
//! Integer codes within a span not much wider than the rows (PSU ids, strata, region
//! codes: the common case) are numbered by a table indexed by value instead of a hash
//! table, in increasing order, which is the labels' sorted order: no hashing per row,
//! and nothing left for the engine to renumber (the survey shape's PSU and strata
//! columns: BENCHMARKS.md, "Issue 15, fifth step").

use polars::prelude::*;
use rustc_hash::FxHashMap;

use afmpi_core::sample::codes::number_label;
use afmpi_core::sample::MISSING;

/// A column's codes (`MISSING` where a value is missing: null or NaN) and the label of
/// each code.
pub(super) fn factorize(s: &Series) -> (Vec<u32>, Vec<String>) {
    // Over polars' arrays directly: the chunked array's own iterator costs more.
    match s.dtype() {
        DataType::Int32 => {
            let ca = s.i32().expect("i32");
            dense_integers(ca)
                .unwrap_or_else(|| first_seen_numbers(ca, Some, |v: i32| v.to_string()))
        }
        dt if dt.is_integer() => {
            let i = s.cast(&DataType::Int64).expect("integer");
            let ca = i.i64().expect("i64");
            dense_integers(ca)
                .unwrap_or_else(|| first_seen_numbers(ca, Some, |v: i64| v.to_string()))
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

/// Codes of an integer column numbered in increasing order of value, by a table indexed
/// by value, and the label of each code (`None` when the values span more than a few
/// times the rows, or reach beyond 2^53, where labels read as floats no longer sort as
/// the integers do).
fn dense_integers<T>(ca: &ChunkedArray<T>) -> Option<(Vec<u32>, Vec<String>)>
where
    T: PolarsIntegerType,
    T::Native: Into<i64>,
{
    let (min, max) = min_max(ca)?;
    let span = max.checked_sub(min)?.checked_add(1)?;
    let limit = (4 * ca.len() as i64).clamp(1 << 16, 1 << 26);
    if span > limit || min < -(1 << 53) || max > 1 << 53 {
        return None;
    }
    // The values present, then each its rank among them: its code.
    let mut code_of = vec![0u32; span as usize];
    let at = |v: T::Native| (v.into() - min) as usize;
    for array in ca.downcast_iter() {
        match array.validity() {
            None => array.values().iter().for_each(|&v| code_of[at(v)] = 1),
            Some(valid) => array
                .values()
                .iter()
                .enumerate()
                .filter(|&(i, _)| valid.get_bit(i))
                .for_each(|(_, &v)| code_of[at(v)] = 1),
        }
    }
    let mut labels = Vec::new();
    for (offset, code) in code_of.iter_mut().enumerate() {
        if *code == 1 {
            *code = labels.len() as u32;
            labels.push((min + offset as i64).to_string());
        }
    }
    let mut codes = Vec::with_capacity(ca.len());
    for array in ca.downcast_iter() {
        let values = array.values().iter();
        match array.validity() {
            None => codes.extend(values.map(|&v| code_of[at(v)])),
            Some(valid) => codes.extend(values.enumerate().map(|(i, &v)| {
                if valid.get_bit(i) {
                    code_of[at(v)]
                } else {
                    MISSING
                }
            })),
        }
    }
    Some((codes, labels))
}

/// The smallest and largest value not null (`None` when all are null).
fn min_max<T>(ca: &ChunkedArray<T>) -> Option<(i64, i64)>
where
    T: PolarsIntegerType,
    T::Native: Into<i64>,
{
    let mut bounds: Option<(i64, i64)> = None;
    let mut widen = |(lo, hi): (i64, i64)| {
        bounds = Some(bounds.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
    };
    for array in ca.downcast_iter() {
        let values = array.values().iter().map(|&v| v.into());
        match array.validity() {
            None if !array.values().is_empty() => {
                widen(values.fold((i64::MAX, i64::MIN), |(a, b), v| (a.min(v), b.max(v))))
            }
            None => {}
            Some(valid) => values
                .enumerate()
                .filter(|&(i, _)| valid.get_bit(i))
                .for_each(|(_, v)| widen((v, v))),
        }
    }
    bounds
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

#[cfg(test)]
mod tests {
    use super::*;
    use afmpi_core::sample::codes::relabel;

    /// Integer columns numbered by value give the codes and labels that numbering in
    /// order of appearance gives once the engine has sorted the labels, with nulls
    /// missing; already in order, so that the engine has nothing to renumber.
    #[test]
    fn integers_numbered_by_value_are_the_sorted_codes() {
        let columns: Vec<Vec<Option<i64>>> = vec![
            vec![
                Some(30),
                Some(30),
                Some(7),
                None,
                Some(-2),
                Some(7),
                Some(1_000),
            ],
            vec![Some(5)],
            vec![None, Some(1 << 40), Some((1 << 40) + 3)],
            vec![Some(1 << 54), Some(1)], // beyond 2^53: numbered as met
            vec![Some(0), Some(50_000_000)], // a span far wider than the rows
            vec![Some(i64::MIN), Some(i64::MAX)],
            vec![None, None],
        ];
        for values in columns {
            let s = Series::new("c".into(), &values);
            let ca = s.i64().unwrap();
            let dense = factorize(&s);
            let (codes, labels) = first_seen_numbers(ca, Some, |v: i64| v.to_string());
            assert_eq!(
                relabel(dense.0.clone(), dense.1.clone()),
                relabel(codes, labels),
                "{values:?}"
            );
            if let Some((codes, labels)) = dense_integers(ca) {
                assert_eq!(relabel(codes.clone(), labels.clone()), (codes, labels));
            }
            for (c, v) in dense.0.iter().zip(&values) {
                assert_eq!(*c == MISSING, v.is_none());
            }
        }
        let s = Series::new("c".into(), &[3i32, 1, 3, 2]);
        assert_eq!(
            factorize(&s),
            (vec![2, 0, 2, 1], vec!["1".into(), "2".into(), "3".into()])
        );
        assert!(dense_integers(Series::new("c".into(), &[0i64, 1 << 30]).i64().unwrap()).is_none());
    }
}
