//! The report's sections on how sure its comparisons are: an analysis in; the
//! robustness of its comparisons to other cutoffs and weights (the engine's
//! [`robustness`], with the methodology's other cutoffs, its `[[weights]]` and each
//! dimension doubled: a table of the shares of robust comparisons and a chart of each
//! subgroup column's ranking under every specification) and dominance (H against k for
//! the rounds and for the poorest and least poor levels of the first column, with bands
//! and the ranges of k where they differ significantly shaded), and inequality among the
//! poor (its split within and between the levels of each column, the levels ranked by
//! it) out, as HTML.

use std::fmt::Write as _;

use plotters::prelude::*;

use super::charts::{
    against_k, at_position, colour, err, html_legend, legend, svg, xy_chart, WIDTH,
};
use super::{escape, round_name};
use crate::error::Result;
use crate::inference::Settings;
use crate::measures::{Domain, Measure};
use crate::robustness::dominance::{self, Dominance};
use crate::robustness::{self, Pair, Robustness};
use crate::Analysis;

/// Columns with more levels than this are left out of the ranking chart.
const MAX_RANKED: usize = 24;

/// The robustness section; empty when there is nothing to compare or no alternative.
pub(super) fn robustness_section(a: &Analysis, settings: &Settings) -> Result<String> {
    let m = &a.methodology;
    if a.sample.groupings.is_empty() && a.sample.round_info.len() < 2 {
        return Ok(String::new());
    }
    let cutoffs: Vec<_> = m.cutoffs.iter().map(|c| c.value).collect();
    let mut weights = m.alternative_weights.clone();
    weights.extend(m.doubled_dimensions()?);
    let specs = robustness::specifications(a, &cutoffs, &weights);
    if specs.len() < 2 {
        return Ok(String::new());
    }
    let r = robustness::robustness(a, specs, settings)?;
    let names: Vec<String> = r.specifications.iter().map(|s| s.name.clone()).collect();
    let mut s = format!(
        "<h2>Robustness of the comparisons</h2><p>Every two levels of each subgroup column and every two rounds, compared at the baseline ({}) and under {} alternatives: {}. A comparison is robust when it is significant at the baseline ({:.0}% Wald interval of the difference, from the joint covariance of the two estimates) and significant in the same direction under every alternative (<code>afmpi robustness</code> gives every difference).</p>",
        escape(&names[0]),
        names.len() - 1,
        escape(&names[1..].join(", ")),
        100.0 * settings.level
    );
    s.push_str("<table><tr><th>measure</th><th>compared</th><th>pairs</th><th>significant at the baseline</th><th>robust</th><th>share robust</th></tr>");
    for sh in &r.shares {
        let compared = sh.column.map_or("rounds".to_string(), |g| {
            a.sample.groupings[g].column.clone()
        });
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}%</td></tr>",
            sh.measure.name(),
            escape(&compared),
            sh.pairs,
            sh.significant,
            sh.robust,
            100.0 * sh.robust as f64 / sh.pairs.max(1) as f64
        );
    }
    s.push_str("</table>");
    let last = a.sample.round_info.len() as u32 - 1;
    for (g, grouping) in a.sample.groupings.iter().enumerate() {
        if (2..=MAX_RANKED).contains(&grouping.levels.len()) {
            let _ = write!(
                s,
                "<p>The ranking of {} by M0 (1 = the poorest), {}, under each specification.</p>",
                escape(&grouping.column),
                escape(&round_name(a, last))
            );
            s.push_str(&ranking_chart(a, &r, g, last)?);
        }
    }
    Ok(s)
}

/// Each level's rank by M0 under each specification, a line per level.
fn ranking_chart(a: &Analysis, r: &Robustness, g: usize, round: u32) -> Result<String> {
    let levels = a.sample.groupings[g].levels.len();
    let n_specs = r.specifications.len();
    // ranks[level][spec], 1 the highest M0.
    let mut ranks = vec![vec![None; n_specs]; levels];
    #[allow(clippy::needless_range_loop)] // each specification fills a column of ranks
    for spec in 0..n_specs {
        let mut values: Vec<(u32, f64)> = (r.values.iter())
            .filter(|v| v.spec == spec && v.measure == Measure::M0 && v.domain.round == round)
            .filter_map(|v| match v.domain.subgroup {
                Some((c, l)) if c == g && v.b.is_finite() => Some((l, v.b)),
                _ => None,
            })
            .collect();
        values.sort_by(|x, y| y.1.total_cmp(&x.1));
        for (rank, (l, _)) in values.iter().enumerate() {
            ranks[*l as usize][spec] = Some(rank + 1);
        }
    }
    let names: Vec<String> = r.specifications.iter().map(|s| s.name.clone()).collect();
    let chart = svg(|buf| {
        let root =
            SVGBackend::with_string(buf, (WIDTH, 120 + 26 * levels as u32)).into_drawing_area();
        let top = levels as f64 + 0.5;
        let mut chart = xy_chart(&root, -0.3..(n_specs as f64 - 0.7), 0.5..top, 50)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .disable_x_mesh()
            .x_labels(n_specs)
            .x_label_formatter(&|x| at_position(*x, n_specs, |i| names[i].clone()))
            .y_labels(levels)
            .y_label_formatter(&|y| format!("{}", (top + 0.5 - y).round()))
            .y_desc("rank by M0")
            .draw()
            .map_err(err)?;
        // Rank 1 at the top.
        let y = |rank: usize| top + 0.5 - rank as f64;
        for (l, row) in ranks.iter().enumerate() {
            let points: Vec<(f64, f64)> = (row.iter().enumerate())
                .filter_map(|(s, rank)| rank.map(|k| (s as f64, y(k))))
                .collect();
            let c = colour(l);
            chart
                .draw_series(LineSeries::new(points.clone(), c.stroke_width(2)))
                .map_err(err)?;
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled())))
                .map_err(err)?;
        }
        root.present().map_err(err)
    })?;
    let grouping = &a.sample.groupings[g];
    let keys = html_legend((0..levels).map(|l| (colour(l), grouping.levels[l].as_str())));
    Ok(format!("{chart}<p class=\"legend\">{keys}</p>"))
}

/// The dominance section: the national rounds (first against last) and the poorest
/// against the least poor level of the first column in the last round.
pub(super) fn dominance_section(a: &Analysis, settings: &Settings) -> Result<String> {
    let n_rounds = a.sample.round_info.len() as u32;
    let mut pairs = Vec::new();
    if n_rounds > 1 {
        pairs.push(Pair::Rounds {
            subgroup: None,
            later: n_rounds - 1,
            earlier: 0,
        });
    }
    if let Some(pair) = extreme_levels(a, n_rounds - 1) {
        pairs.push(pair);
    }
    if pairs.is_empty() {
        return Ok(String::new());
    }
    let d = dominance::dominance(a, settings, None, None)?;
    let mut s = format!("<h2>Dominance</h2><p>H at every attainable cutoff k for two populations, with {:.0}% bands; shaded where their difference is significant (<code>afmpi dominance</code> compares every pair). When one curve is at or above the other at every k, its scores first-order dominate: it is poorer under any cutoff, in H and in M0.</p>", 100.0 * settings.level);
    s.push_str("<table><tr><th>compared</th><th>measure</th><th>significantly higher at k</th><th>lower at k</th><th>poorer at every k</th></tr>");
    for &pair in &pairs {
        for measure in [Measure::H, Measure::M0] {
            let Some(v) = d
                .verdicts
                .iter()
                .find(|v| v.pair == pair && v.measure == measure)
            else {
                continue;
            };
            let (first, second) = names(a, pair);
            let poorer = match (v.dominates, v.significantly != 0) {
                (1, sig) => format!(
                    "{first}{}",
                    if sig { ", significantly at each" } else { "" }
                ),
                (-1, sig) => format!(
                    "{second}{}",
                    if sig { ", significantly at each" } else { "" }
                ),
                _ => "neither: the curves cross".into(),
            };
            let none = |r: String| if r.is_empty() { "none".to_string() } else { r };
            let _ = write!(
                s,
                "<tr><td>{} against {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&first),
                escape(&second),
                measure.name(),
                none(crate::robustness::ranges(&v.above)),
                none(crate::robustness::ranges(&v.below)),
                escape(&poorer)
            );
        }
    }
    s.push_str("</table>");
    for pair in pairs {
        s.push_str(&dominance_chart(a, &d, pair, settings.level)?);
    }
    Ok(s)
}

/// The levels of the first subgroup column with the highest and the lowest headline M0
/// in `round`.
fn extreme_levels(a: &Analysis, round: u32) -> Option<Pair> {
    let grouping = a.sample.groupings.first()?;
    let head = crate::compare::headline(a);
    let m0 = |l: u32| {
        let d = Domain {
            subgroup: Some((0, l)),
            round,
        };
        a.find(Measure::M0, None, head.0, head.1, d)
            .map(|i| a.estimates[i].b)
            .filter(|b| b.is_finite())
    };
    let mut levels: Vec<(u32, f64)> = (0..grouping.levels.len() as u32)
        .filter_map(|l| m0(l).map(|b| (l, b)))
        .collect();
    levels.sort_by(|x, y| y.1.total_cmp(&x.1));
    let (first, second) = (levels.first()?.0, levels.last()?.0);
    (first != second).then_some(Pair::Levels {
        column: 0,
        round,
        first,
        second,
    })
}

fn names(a: &Analysis, pair: Pair) -> (String, String) {
    let (d0, d1) = pair.domains();
    let name = |d: Domain| match (pair, d.subgroup) {
        (Pair::Rounds { .. }, _) => round_name(a, d.round),
        (_, Some((g, l))) => format!(
            "{} {}",
            a.sample.groupings[g].column, a.sample.groupings[g].levels[l as usize]
        ),
        (_, None) => "national".into(),
    };
    (name(d0), name(d1))
}

/// H against k of the pair's two populations with bands, the ranges of k where they
/// differ significantly shaded.
fn dominance_chart(a: &Analysis, d: &Dominance, pair: Pair, level: f64) -> Result<String> {
    let z = statrs::distribution::ContinuousCDF::inverse_cdf(
        &statrs::distribution::Normal::standard(),
        1.0 - (1.0 - level) / 2.0,
    );
    let (d0, d1) = pair.domains();
    let curve = |dom: Domain| -> Vec<(f64, f64, f64, f64)> {
        (d.values.iter())
            .filter(|v| v.measure == Measure::H && v.domain == dom && v.b.is_finite())
            .map(|v| {
                let k = d.cutoffs[v.spec].percent();
                (
                    k,
                    100.0 * v.b,
                    100.0 * (v.b - z * v.se),
                    100.0 * (v.b + z * v.se),
                )
            })
            .collect()
    };
    let curves = [curve(d0), curve(d1)];
    let verdict = d
        .verdicts
        .iter()
        .find(|v| v.pair == pair && v.measure == Measure::H);
    let ks: Vec<f64> = d.cutoffs.iter().map(|c| c.percent()).collect();
    let (first, second) = names(a, pair);
    let chart = svg(|buf| {
        let root = SVGBackend::with_string(buf, (WIDTH, 420)).into_drawing_area();
        let mut chart = against_k(&root, "H (%)")?;
        if let Some(v) = verdict {
            for (ranges, shade) in [(&v.above, colour(0)), (&v.below, colour(1))] {
                for &(from, to) in ranges {
                    let (x0, x1) = around(&ks, from, to);
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x0, 0.0), (x1, 100.0)],
                            shade.mix(0.12).filled(),
                        )))
                        .map_err(err)?;
                }
            }
        }
        for (i, (points, name)) in curves.iter().zip([&first, &second]).enumerate() {
            let c = colour(i);
            let band: Vec<(f64, f64)> = (points.iter().map(|p| (p.0, p.3)))
                .chain(points.iter().rev().map(|p| (p.0, p.2.max(0.0))))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(band, c.mix(0.2).filled())))
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|p| (p.0, p.1)),
                    c.stroke_width(2),
                ))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(err)
    })?;
    Ok(format!("<p>{} against {}: shaded in the colour of the population whose H is significantly higher.</p>{chart}", escape(&first), escape(&second)))
}

/// The stretch of the k axis a range of cutoffs covers: halfway to the cutoffs beside it.
fn around(ks: &[f64], from: f64, to: f64) -> (f64, f64) {
    let i = ks.iter().position(|&k| k == from).unwrap_or(0);
    let j = ks
        .iter()
        .position(|&k| k == to)
        .unwrap_or(ks.len().saturating_sub(1));
    let left = if i == 0 {
        ks[0]
    } else {
        (ks[i - 1] + ks[i]) / 2.0
    };
    let right = if j + 1 >= ks.len() {
        ks[j]
    } else {
        (ks[j] + ks[j + 1]) / 2.0
    };
    (left, right)
}

/// The inequality section (under `inequality`): the whole sample's inequality among the
/// poor in each round at the headline cutoff, its parts within and between the levels of
/// each column, and each column's levels ranked by it in the last round.
pub(super) fn inequality_section(a: &Analysis) -> Result<String> {
    let head = crate::compare::headline(a);
    let Some(cutoff) = head.0.filter(|_| a.methodology.inequality) else {
        return Ok(String::new());
    };
    let mut s = String::from("<h2>Inequality among the poor</h2><p>The variance of the deprivation scores among the poor (Seth and Alkire 2014): 0 when every poor person is equally deprived. Nationally it is the part within the levels of a subgroup column (their own inequality, weighted by their shares of the poor) plus the part between them (how far their intensities A differ).</p>");
    s.push_str(&inequality_table(a, cutoff));
    let last = a.sample.round_info.len() as u32 - 1;
    for (g, grouping) in a.sample.groupings.iter().enumerate() {
        let _ = write!(
            s,
            "<p>Inequality among the poor by {}, {}, with confidence intervals, highest first.</p>",
            escape(&grouping.column),
            escape(&round_name(a, last))
        );
        s.push_str(&super::charts::levels_by(
            a,
            (
                Measure::Ineq,
                1.0,
                "inequality among the poor (variance of the scores)",
            ),
            head,
            g,
            last,
        )?);
    }
    Ok(s)
}

/// Per round: the national inequality among the poor at `cutoff`, and its parts within
/// and between the levels of each column.
fn inequality_table(a: &Analysis, cutoff: usize) -> String {
    let mut s = String::from("<table><tr><th>round</th><th>inequality</th><th>s.e.</th><th>split over</th><th>within</th><th>between</th><th>between (% of it)</th></tr>");
    let f = |x: f64| {
        if x.is_finite() {
            format!("{x:.4}")
        } else {
            "–".into()
        }
    };
    for round in 0..a.sample.round_info.len() as u32 {
        let national = Domain {
            subgroup: None,
            round,
        };
        let Some(i) = a.find(Measure::Ineq, None, Some(cutoff), None, national) else {
            continue;
        };
        let (v, se) = (a.estimates[i].b, a.inference.levels[i].se);
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            escape(&round_name(a, round)),
            f(v),
            f(se)
        );
        let splits = (a.inference.splits.iter()).filter(|x| x.round == round && x.cutoff == cutoff);
        let mut any = false;
        for (n, x) in splits.enumerate() {
            if n > 0 {
                s.push_str("<tr><td></td><td></td><td></td>");
            }
            let _ = write!(s, "<td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}</td></tr>",
                escape(&a.sample.groupings[x.column].column), f(x.within.0), f(x.between.0), 100.0 * x.between.0 / v);
            any = true;
        }
        if !any {
            s.push_str("<td></td><td></td><td></td><td></td></tr>");
        }
    }
    s.push_str("</table>");
    s
}
