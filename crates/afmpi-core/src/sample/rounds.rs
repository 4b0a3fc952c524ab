//! Rounds in time order: a round column's codes and the years in, the rounds ordered by
//! year (by label without years) out, with an error when a round has two years or a file
//! without a round column holds several.

use std::path::Path;

use super::codes::number_label;
use super::{Round, MISSING};
use crate::error::{Error, Result};
use crate::methodology::SurveyColumns;

/// The error of a file without a round column whose year column holds several years.
pub fn several_years(file: &Path, name: &str, first: f64, other: f64) -> Error {
    Error::data(file, name, None, format!(
        "holds several years ({} and {}) but no round column is given: set `survey.round` (or --round) to the column that tells the rounds apart",
        number_label(first), number_label(other)))
}

/// The error of a round with two years (at `row`, when known).
pub fn two_years(
    file: &Path,
    name: &str,
    row: Option<usize>,
    label: &str,
    first: Option<f64>,
    other: Option<f64>,
) -> Error {
    let year = |y: Option<f64>| y.map(number_label).unwrap_or_default();
    Error::data(
        file,
        name,
        row,
        format!(
            "round {label} has two years, {} and {}: each round needs one year",
            year(first),
            year(other)
        ),
    )
}

/// A file without a round column: its one year, if it has a year column.
pub fn single_year(ys: &[f64], file: &Path, name: &str) -> Result<Option<f64>> {
    let Some(&first) = ys.first() else {
        return Ok(None);
    };
    if let Some(&other) = ys.iter().find(|&&y| y != first) {
        return Err(several_years(file, name, first, other));
    }
    Ok(Some(first))
}

/// Orders rounds by year (when given) and checks that each round has one year.
pub fn order_rounds(
    codes: Vec<u32>,
    labels: Vec<String>,
    years: Option<Vec<f64>>,
    rows: &[u32],
    file: &Path,
    survey: &SurveyColumns,
) -> Result<(Vec<u32>, Vec<Round>)> {
    let mut year_of: Vec<Option<f64>> = vec![None; labels.len()];
    if let Some(years) = &years {
        let name = survey.year.as_deref().unwrap_or("year");
        for (i, (&c, &y)) in codes.iter().zip(years).enumerate() {
            match year_of[c as usize] {
                None => year_of[c as usize] = Some(y),
                Some(prev) if prev != y => {
                    return Err(two_years(
                        file,
                        name,
                        Some(rows[i] as usize + 1),
                        &labels[c as usize],
                        Some(prev),
                        Some(y),
                    ))
                }
                _ => {}
            }
        }
    }
    // Rounds present after dropping rows, in time order.
    let mut seen = vec![false; labels.len()];
    for &c in &codes {
        seen[c as usize] = true;
    }
    let present: Vec<usize> = (0..labels.len()).filter(|&r| seen[r]).collect();
    let (place, info) = in_time_order(
        &present
            .iter()
            .map(|&r| labels[r].clone())
            .collect::<Vec<_>>(),
        &present.iter().map(|&r| year_of[r]).collect::<Vec<_>>(),
        years.is_some(),
    );
    let mut new_code = vec![MISSING; labels.len()];
    for (&old, &new) in present.iter().zip(&place) {
        new_code[old] = new;
    }
    let codes = if new_code
        .iter()
        .enumerate()
        .all(|(old, &new)| new == old as u32)
    {
        codes // already in time order
    } else {
        codes.into_iter().map(|c| new_code[c as usize]).collect()
    };
    Ok((codes, info))
}

/// Rounds in time order: each round's label and year in (in the labels' order); each
/// round's place in time order and the rounds in that order out. By year when `by_year`,
/// by a stable sort: rounds of one year, or without one, keep the labels' order. The
/// rounds of a file read whole and of one read in batches are ordered here alike.
pub fn in_time_order(
    labels: &[String],
    years: &[Option<f64>],
    by_year: bool,
) -> (Vec<u32>, Vec<Round>) {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    if by_year {
        order.sort_by(|&a, &b| {
            years[a]
                .unwrap_or(f64::NAN)
                .total_cmp(&years[b].unwrap_or(f64::NAN))
        });
    }
    let mut place = vec![0u32; labels.len()];
    for (p, &r) in order.iter().enumerate() {
        place[r] = p as u32;
    }
    let rounds = order
        .iter()
        .map(|&r| Round {
            label: labels[r].clone(),
            year: years[r],
        })
        .collect();
    (place, rounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_follow_their_years_and_keep_the_labels_order_otherwise() {
        let labels: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let (place, rounds) = in_time_order(&labels, &[Some(2019.0), Some(2006.0), None], true);
        assert_eq!(place, [1, 0, 2]);
        let order: Vec<&str> = rounds.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(order, ["b", "a", "c"]);
        let (place, _) = in_time_order(&labels, &[Some(2019.0), Some(2006.0), None], false);
        assert_eq!(place, [0, 1, 2]);
    }

    #[test]
    fn a_round_with_two_years_is_an_error_naming_its_row() {
        let survey = SurveyColumns {
            year: Some("year".into()),
            ..Default::default()
        };
        let labels = vec!["1".to_string(), "2".to_string()];
        let e = order_rounds(
            vec![0, 1, 0],
            labels,
            Some(vec![2006.0, 2017.0, 2007.0]),
            &[0, 1, 2],
            Path::new("s.csv"),
            &survey,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.csv: column `year`, row 3: round 1 has two years, 2006 and 2007: each round needs one year"
        );
    }
}
