//! Association between indicators, for `afmpi assoc`: an analysis in, the engine's
//! matrices ([`afmpi_core::association`]) out as one long table — a row per population
//! (everyone, the poor at each cutoff), round, pair of indicators and measure (`cramers_v`,
//! `r0`) — and the uncensored Cramér's V as a matrix for the terminal.

use std::fmt::Write as _;

use polars::prelude::{Column, DataFrame};

use afmpi_core::association::{associations, Association, Population};
use afmpi_core::identification::IntegerWeights;

use crate::error::{Error, Result};
use crate::Analysis;

/// The association matrices of a finished analysis.
pub fn of(a: &Analysis) -> Result<Vec<Association>> {
    let weights = IntegerWeights::new(&a.methodology)?;
    Ok(associations(
        &a.table,
        &weights,
        a.methodology.indicators.len(),
        a.sample.round_info.len(),
    ))
}

/// The matrices as a long table: `spec population k t indicator_1 indicator_2 measure b`,
/// and the population's weight. The lower triangle and the diagonal are left out (both
/// measures are symmetric).
pub fn frame(a: &Analysis, matrices: &[Association]) -> Result<DataFrame> {
    let m = &a.methodology;
    let mut population = Vec::new();
    let mut k: Vec<Option<f64>> = Vec::new();
    let mut t: Vec<Option<String>> = Vec::new();
    let (mut first, mut second, mut measure) = (Vec::new(), Vec::new(), Vec::new());
    let mut b: Vec<Option<f64>> = Vec::new();
    let mut weight = Vec::new();
    for assoc in matrices {
        let n = assoc.cramers_v.nrows();
        for j in 0..n {
            for l in j + 1..n {
                for (name, matrix) in [("cramers_v", &assoc.cramers_v), ("r0", &assoc.redundancy)] {
                    population.push(match assoc.population {
                        Population::All => "all",
                        Population::Poor(_) => "poor",
                    });
                    k.push(match assoc.population {
                        Population::All => None,
                        Population::Poor(c) => Some(m.cutoffs[c].percent()),
                    });
                    t.push(a.sample.round_t(assoc.round).map(str::to_string));
                    first.push(m.indicators[j].id.clone());
                    second.push(m.indicators[l].id.clone());
                    measure.push(name);
                    let x = matrix[[j, l]];
                    b.push(x.is_finite().then_some(x));
                    weight.push(assoc.weight);
                }
            }
        }
    }
    let rows = population.len();
    DataFrame::new(
        rows,
        vec![
            Column::new("spec".into(), vec![m.name.as_str(); rows]),
            Column::new("population".into(), population),
            Column::new("k".into(), k),
            Column::new("t".into(), t),
            Column::new("indicator_1".into(), first),
            Column::new("indicator_2".into(), second),
            Column::new("measure".into(), measure),
            Column::new("b".into(), b),
            Column::new("weight".into(), weight),
        ],
    )
    .map_err(|e| Error::Usage(format!("cannot build the association table: {e}")))
}

/// The uncensored Cramér's V of each round as a matrix, indicators by their ids.
pub fn summary(a: &Analysis, matrices: &[Association]) -> String {
    let ids: Vec<&str> = a
        .methodology
        .indicators
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    let width = ids.iter().map(|s| s.len()).max().unwrap_or(4).max(6);
    let mut s = String::new();
    for assoc in matrices.iter().filter(|x| x.population == Population::All) {
        let round = a
            .sample
            .round_t(assoc.round)
            .map(|t| format!(", round {t}"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "Cramér's V between indicators (everyone{round}; R0 and the poor in the file)"
        );
        let _ = write!(s, "{:width$}", "");
        for (j, _) in ids.iter().enumerate() {
            let _ = write!(s, " {:>6}", j + 1);
        }
        let _ = writeln!(s);
        for (j, id) in ids.iter().enumerate() {
            let _ = write!(s, "{id:width$}");
            for l in 0..ids.len() {
                let x = assoc.cramers_v[[j, l]];
                if x.is_finite() {
                    let _ = write!(s, " {x:>6.3}");
                } else {
                    let _ = write!(s, " {:>6}", "-");
                }
            }
            let _ = writeln!(s, "  ({})", j + 1);
        }
    }
    s
}
