//! The report's charts: an analysis in, each chart as inline SVG out (plotters' SVG
//! backend): contributions, headcount ratios, H and M0 against k, subgroups, population
//! shares against contributions, levels over rounds, the parts of the changes of M0, the
//! distribution of scores.

use plotters::prelude::*;

use super::{escape, find, round_name, Line};
use crate::error::{Error, Result};
use crate::inference::Settings;
use crate::measures::{Domain, Measure};
use crate::methodology::{Cutoff, IntegerWeights};
use crate::Analysis;
use afmpi_core::curve::cutoff_curve;

/// An estimate and its interval, in percent.
type Interval3 = (f64, f64, f64);

/// Chart size in pixels.
pub(super) const WIDTH: u32 = 900;

pub(super) fn svg(
    draw: impl FnOnce(&mut String) -> std::result::Result<(), String>,
) -> Result<String> {
    let mut buf = String::new();
    draw(&mut buf).map_err(|e| Error::Usage(format!("cannot draw a chart: {e}")))?;
    Ok(format!("<figure>{buf}</figure>"))
}

pub(super) fn colour(i: usize) -> RGBColor {
    const COLOURS: [RGBColor; 12] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
        RGBColor(57, 59, 121),
        RGBColor(173, 73, 74),
    ];
    COLOURS[i % COLOURS.len()]
}

/// The label of the bar centred at `y` (bars listed top first), none between bars.
fn row_label(y: f64, n: usize, label: impl Fn(usize) -> String) -> String {
    at_position(y, n, |r| label(n - 1 - r))
}

/// The label of position `x` of `n` (0, 1, …), none between positions.
pub(super) fn at_position(x: f64, n: usize, label: impl Fn(usize) -> String) -> String {
    let r = x.round();
    if (x - r).abs() < 1e-6 && r >= 0.0 && (r as usize) < n {
        label(r as usize)
    } else {
        String::new()
    }
}

pub(super) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A chart with numbers on both axes, drawn on an SVG string.
pub(super) type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The y of row `i` of `n`: rows are listed top first.
fn row_y(i: usize, n: usize) -> f64 {
    (n - 1 - i) as f64
}

/// A chart of x in `x` and y in `y` on a white area, with the margins every chart of the
/// report has and `y_labels` pixels for the labels of the y axis.
pub(super) fn xy_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    y_labels: u32,
) -> std::result::Result<Chart<'a, 'b>, String> {
    root.fill(&WHITE).map_err(err)?;
    ChartBuilder::on(root)
        .margin(10)
        .margin_right(30)
        .x_label_area_size(40)
        .y_label_area_size(y_labels)
        .build_cartesian_2d(x, y)
        .map_err(err)
}

/// A chart whose rows are `labels` (top first, row i centred at [`row_y`]), x from 0 to
/// `x_max`, with its axes drawn.
fn row_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    x_max: f64,
    labels: &[String],
    x_desc: &str,
) -> std::result::Result<Chart<'a, 'b>, String> {
    rows_over(root, 0.0..x_max, labels, x_desc, 200)
}

/// As [`row_chart`], over `x`, with `y_labels` pixels for the rows' labels.
fn rows_over<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    x: std::ops::Range<f64>,
    labels: &[String],
    x_desc: &str,
    y_labels: u32,
) -> std::result::Result<Chart<'a, 'b>, String> {
    let n = labels.len();
    let mut chart = xy_chart(root, x, -0.5..(n.max(1) as f64 - 0.5), y_labels)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| row_label(*y, n, |i| labels[i].clone()))
        .x_desc(x_desc)
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// A legend in HTML below a chart: a coloured square and a name per key.
pub(super) fn html_legend<'k>(keys: impl Iterator<Item = (RGBColor, &'k str)>) -> String {
    keys.map(|(RGBColor(r, g, b), name)| {
        format!(
            "<span><i style=\"background:#{r:02x}{g:02x}{b:02x}\"></i>{}</span>",
            escape(name)
        )
    })
    .collect()
}

/// The legend of the labelled series, boxed, at `position`.
pub(super) fn legend<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    position: SeriesLabelPosition,
) -> std::result::Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

/// Two bars per row — `values` (first, second) — named and coloured by `series`.
fn paired_bars(
    labels: &[String],
    values: &[(f64, f64)],
    series: [(&str, RGBColor); 2],
    x_max: f64,
    x_desc: &str,
    position: SeriesLabelPosition,
) -> Result<String> {
    let n = labels.len();
    svg(|buf| {
        let root = SVGBackend::with_string(buf, (WIDTH, 150 + 32 * n as u32)).into_drawing_area();
        let mut chart = row_chart(&root, x_max, labels, x_desc)?;
        for (k, (name, c)) in series.into_iter().enumerate() {
            let rects = values.iter().enumerate().map(|(i, v)| {
                let x = if k == 0 { v.0 } else { v.1 };
                let y = row_y(i, n) + if k == 0 { 0.02 } else { -0.4 };
                Rectangle::new([(0.0, y), (x.max(0.0), y + 0.38)], c.filled())
            });
            chart
                .draw_series(rects)
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
        }
        legend(&mut chart, position)?;
        root.present().map_err(err)
    })
}

/// Stacked horizontal bars: each domain's M0 split by indicator (percent).
pub(super) fn contributions_chart(a: &Analysis, head: Line, round: u32) -> Result<String> {
    let m = &a.methodology;
    let mut bars: Vec<(String, Vec<f64>)> = Vec::new();
    let mut domains = vec![(
        "national".to_string(),
        Domain {
            subgroup: None,
            round,
        },
    )];
    for (g, grouping) in a.sample.groupings.iter().enumerate() {
        for (l, level) in grouping.levels.iter().enumerate() {
            domains.push((
                format!("{}: {}", grouping.column, level),
                Domain {
                    subgroup: Some((g, l as u32)),
                    round,
                },
            ));
        }
    }
    for (label, domain) in domains {
        let shares: Vec<f64> = (0..m.indicators.len())
            .map(|j| {
                find(a, Measure::Pctb, Some(j), head, domain)
                    .map_or(0.0, |x| x.0)
                    .max(0.0)
                    * 100.0
            })
            .collect();
        if shares.iter().sum::<f64>() > 0.0 {
            bars.push((label, shares));
        }
    }
    let labels: Vec<String> = bars.iter().map(|(label, _)| label.clone()).collect();
    let n = bars.len();
    svg(|buf| {
        let root = SVGBackend::with_string(buf, (WIDTH, 80 + 26 * n as u32)).into_drawing_area();
        let mut chart = row_chart(&root, 100.0, &labels, "percentage contribution to M0 (%)")?;
        for j in 0..m.indicators.len() {
            let rects = bars.iter().enumerate().map(|(i, (_, shares))| {
                let start: f64 = shares[..j].iter().sum();
                let y = row_y(i, n);
                Rectangle::new(
                    [(start, y - 0.35), (start + shares[j], y + 0.35)],
                    colour(j).filled(),
                )
            });
            chart.draw_series(rects).map_err(err)?;
        }
        root.present().map_err(err)
    })
    .map(|chart| {
        // The legend below the bars, which fill the plot from 0 to 100%.
        let keys = html_legend(
            (m.indicators.iter().enumerate()).map(|(j, ind)| (colour(j), ind.name.as_str())),
        );
        format!("{chart}<p class=\"legend\">{keys}</p>")
    })
}

/// Grouped bars: uncensored and censored headcount ratio per indicator.
pub(super) fn headcount_chart(a: &Analysis, head: Line, domain: Domain) -> Result<String> {
    let m = &a.methodology;
    let values: Vec<(f64, f64)> = (0..m.indicators.len())
        .map(|j| {
            let hd = find(a, Measure::Hd, Some(j), head, domain).map_or(0.0, |x| x.0);
            let hdk = find(a, Measure::Hdk, Some(j), head, domain).map_or(0.0, |x| x.0);
            (100.0 * hd, 100.0 * hdk)
        })
        .collect();
    let labels: Vec<String> = m.indicators.iter().map(|i| i.name.clone()).collect();
    paired_bars(
        &labels,
        &values,
        [
            ("uncensored (deprived)", colour(0)),
            ("censored (deprived and poor)", colour(1)),
        ],
        100.0,
        "share of the population (%)",
        SeriesLabelPosition::LowerRight,
    )
}

pub(super) fn cutoff_chart(a: &Analysis, settings: &Settings, round: u32) -> Result<String> {
    let curve = cutoff_curve(a, settings, round)?;
    let cutoffs: Vec<f64> = a.methodology.cutoffs.iter().map(Cutoff::percent).collect();
    svg(|buf| {
        let root = SVGBackend::with_string(buf, (WIDTH, 460)).into_drawing_area();
        let mut chart = against_k(&root, "percent")?;
        for (i, (name, pick)) in [
            ("H (headcount ratio)", 0usize),
            ("M0 (adjusted headcount ratio)", 1),
        ]
        .into_iter()
        .enumerate()
        {
            let c = colour(i);
            let points: Vec<(f64, (f64, f64, f64))> = curve
                .iter()
                .map(|(k, h, m0)| (*k, if pick == 0 { *h } else { *m0 }))
                .filter(|(_, v)| v.0.is_finite())
                .collect();
            let band: Vec<(f64, f64)> = points
                .iter()
                .map(|(k, v)| (*k, v.2))
                .chain(points.iter().rev().map(|(k, v)| (*k, v.1)))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(band, c.mix(0.2).filled())))
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|(k, v)| (*k, v.0)),
                    c.stroke_width(2),
                ))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                });
        }
        for k in cutoffs {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(k, 0.0), (k, 100.0)],
                    BLACK.mix(0.5).stroke_width(1),
                )))
                .map_err(err)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(err)
    })
}

/// A chart of percentages against the cutoff k (both from 0 to 100), its axes drawn.
pub(super) fn against_k<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    y_desc: &str,
) -> std::result::Result<Chart<'a, 'b>, String> {
    let mut chart = xy_chart(root, 0.0..100.0, 0.0..100.0, 60)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .x_desc("poverty cutoff k (% of weighted deprivations)")
        .y_desc(y_desc)
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// Subgroup levels ranked by M0, with interval whiskers.
pub(super) fn subgroup_chart(a: &Analysis, head: Line, g: usize, round: u32) -> Result<String> {
    levels_by(a, (Measure::M0, 100.0, "M0 (%)"), head, g, round)
}

/// Subgroup levels ranked by `measure` (times `scale`, on an axis so described), with
/// interval whiskers.
pub(super) fn levels_by(
    a: &Analysis,
    (measure, scale, x_desc): (Measure, f64, &str),
    head: Line,
    g: usize,
    round: u32,
) -> Result<String> {
    let grouping = &a.sample.groupings[g];
    let mut rows: Vec<(String, f64, f64, f64)> = (0..grouping.levels.len())
        .filter_map(|l| {
            let d = Domain {
                subgroup: Some((g, l as u32)),
                round,
            };
            find(a, measure, None, head, d)
                .filter(|(b, _)| b.is_finite())
                .map(|(b, p)| {
                    (
                        grouping.levels[l].clone(),
                        scale * b,
                        scale * p.ll,
                        scale * p.ul,
                    )
                })
        })
        .collect();
    rows.sort_by(|x, y| y.1.total_cmp(&x.1));
    let top = rows
        .iter()
        .map(|r| r.3)
        .filter(|x| x.is_finite())
        // At least 1 % of the scale (M0: 1 percentage point).
        .fold(0.01 * scale, f64::max);
    let n = rows.len();
    let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    svg(|buf| {
        let root = SVGBackend::with_string(buf, (WIDTH, 100 + 28 * n as u32)).into_drawing_area();
        let mut chart = row_chart(&root, top * 1.1, &labels, x_desc)?;
        chart
            .draw_series(
                rows.iter()
                    .enumerate()
                    .filter(|(_, r)| r.2.is_finite())
                    .map(|(i, r)| {
                        let y = row_y(i, n);
                        PathElement::new(vec![(r.2, y), (r.3, y)], colour(0).stroke_width(2))
                    }),
            )
            .map_err(err)?;
        chart
            .draw_series(
                rows.iter()
                    .enumerate()
                    .map(|(i, r)| Circle::new((r.1, row_y(i, n)), 4, colour(0).filled())),
            )
            .map_err(err)?;
        root.present().map_err(err)
    })
}

/// Each level's population share against its contribution to national M0.
pub(super) fn share_chart(a: &Analysis, head: Line, g: usize, round: u32) -> Result<String> {
    let grouping = &a.sample.groupings[g];
    let national = find(
        a,
        Measure::M0,
        None,
        head,
        Domain {
            subgroup: None,
            round,
        },
    )
    .map_or(f64::NAN, |x| x.0);
    let mut population = vec![0.0; grouping.levels.len()];
    let mut total = 0.0;
    for cell in a.table.cells.iter().filter(|c| c.round == round) {
        total += cell.weight;
        if let Some(l) = a.table.level(cell, g) {
            population[l as usize] += cell.weight;
        }
    }
    let rows: Vec<(String, f64, f64)> = (0..grouping.levels.len())
        .map(|l| {
            let share = population[l] / total;
            let m0 = find(
                a,
                Measure::M0,
                None,
                head,
                Domain {
                    subgroup: Some((g, l as u32)),
                    round,
                },
            )
            .map_or(0.0, |x| x.0);
            (
                grouping.levels[l].clone(),
                100.0 * share,
                100.0 * share * m0 / national,
            )
        })
        .collect();
    let top = rows
        .iter()
        .flat_map(|r| [r.1, r.2])
        .filter(|x| x.is_finite())
        .fold(1.0_f64, f64::max);
    let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let values: Vec<(f64, f64)> = rows.iter().map(|r| (r.1, r.2)).collect();
    paired_bars(
        &labels,
        &values,
        [
            ("population share", colour(7)),
            ("contribution to national M0", colour(3)),
        ],
        top * 1.45,
        "percent",
        SeriesLabelPosition::UpperRight,
    )
}

/// National H, A and M0 per round with intervals.
pub(super) fn levels_chart(a: &Analysis, head: Line) -> Result<String> {
    let rounds = a.sample.round_info.len();
    let series: Vec<(Measure, Vec<Interval3>)> = [Measure::H, Measure::A, Measure::M0]
        .into_iter()
        .map(|measure| {
            let values = (0..rounds as u32)
                .map(|r| {
                    find(
                        a,
                        measure,
                        None,
                        head,
                        Domain {
                            subgroup: None,
                            round: r,
                        },
                    )
                    .map_or((f64::NAN, f64::NAN, f64::NAN), |(b, p)| {
                        (100.0 * b, 100.0 * p.ll, 100.0 * p.ul)
                    })
                })
                .collect();
            (measure, values)
        })
        .collect();
    let labels: Vec<String> = (0..rounds as u32).map(|r| round_name(a, r)).collect();
    svg(|buf| {
        let root = SVGBackend::with_string(buf, (WIDTH, 420)).into_drawing_area();
        let mut chart = xy_chart(&root, -0.5..(rounds as f64 - 0.5), 0.0..100.0, 60)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 16))
            .x_labels(rounds)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                    labels[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_desc("percent")
            .x_desc("round")
            .draw()
            .map_err(err)?;
        for (i, (measure, values)) in series.iter().enumerate() {
            let c = colour(i);
            let offset = (i as f64 - 1.0) * 0.06;
            chart
                .draw_series(LineSeries::new(
                    values
                        .iter()
                        .enumerate()
                        .map(|(r, v)| (r as f64 + offset, v.0)),
                    c.stroke_width(2),
                ))
                .map_err(err)?
                .label(measure.name())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                });
            chart
                .draw_series(values.iter().enumerate().map(|(r, v)| {
                    ErrorBar::new_vertical(r as f64 + offset, v.1, v.0, v.2, c.filled(), 8)
                }))
                .map_err(err)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(err)
    })
}

/// The population share at each deprivation score.
pub(super) fn score_chart(a: &Analysis, round: u32) -> Result<String> {
    let weights = IntegerWeights::new(&a.methodology)?;
    let mut by_score: std::collections::BTreeMap<i128, f64> = Default::default();
    let mut total = 0.0;
    for cell in a.table.cells.iter().filter(|c| c.round == round) {
        *by_score.entry(weights.score(cell.profile)).or_default() += cell.weight;
        total += cell.weight;
    }
    let bars: Vec<(f64, f64)> = by_score
        .into_iter()
        .map(|(s, w)| {
            (
                100.0 * s as f64 / weights.denominator as f64,
                100.0 * w / total,
            )
        })
        .collect();
    let top = bars.iter().map(|b| b.1).fold(1.0_f64, f64::max);
    let cutoffs: Vec<f64> = a.methodology.cutoffs.iter().map(Cutoff::percent).collect();
    svg(|buf| {
        let root = SVGBackend::with_string(buf, (WIDTH, 420)).into_drawing_area();
        let mut chart = xy_chart(&root, -1.0..101.0, 0.0..(top * 1.1), 60)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 16))
            .x_desc("deprivation score (% of weighted deprivations)")
            .y_desc("share of the population (%)")
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                bars.iter().map(|(x, y)| {
                    Rectangle::new([(x - 0.6, 0.0), (x + 0.6, *y)], colour(0).filled())
                }),
            )
            .map_err(err)?;
        for k in cutoffs {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(k, 0.0), (k, top * 1.1)],
                    colour(3).stroke_width(1),
                )))
                .map_err(err)?;
        }
        root.present().map_err(err)
    })
}

/// A Cramér's V as a colour: white at 0, towards red for positive association and towards
/// blue for negative; grey where it is undefined.
fn heat(v: f64) -> RGBColor {
    if !v.is_finite() {
        return RGBColor(220, 220, 220);
    }
    let t = v.clamp(-1.0, 1.0);
    let (end, t) = if t >= 0.0 {
        (RGBColor(214, 39, 40), t)
    } else {
        (RGBColor(31, 119, 180), -t)
    };
    let mix = |a: u8| (255.0 + (f64::from(a) - 255.0) * t).round() as u8;
    RGBColor(mix(end.0), mix(end.1), mix(end.2))
}

/// The uncensored Cramér's V of every pair of indicators in a round, as a heatmap with
/// the values written in the cells (rows and columns in the methodology's order).
pub(super) fn association_chart(a: &Analysis, round: u32) -> Result<String> {
    use afmpi_core::association::Population;
    let matrices = crate::assoc::of(a)?;
    let Some(assoc) = matrices
        .iter()
        .find(|m| m.population == Population::All && m.round == round)
    else {
        return Ok(String::new());
    };
    let ids: Vec<&str> = a
        .methodology
        .indicators
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    let n = ids.len() as i32;
    let cell = (600 / n.max(1)).clamp(22, 64);
    let (left, top) = (190, 30);
    let height = (top + cell * n + 40) as u32;
    svg(|buf| {
        let root = SVGBackend::with_string(buf, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let font = ("sans-serif", 12).into_font();
        for j in 0..n {
            let y = top + j * cell;
            root.draw(&Text::new(
                format!("{} {}", j + 1, ids[j as usize]),
                (4, y + cell / 2 - 7),
                font.clone(),
            ))
            .map_err(err)?;
            root.draw(&Text::new(
                format!("{}", j + 1),
                (left + j * cell + cell / 2 - 5, top - 18),
                font.clone(),
            ))
            .map_err(err)?;
            for k in 0..n {
                let x = left + k * cell;
                let v = assoc.cramers_v[[j as usize, k as usize]];
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell - 1, y + cell - 1)],
                    heat(v).filled(),
                ))
                .map_err(err)?;
                let text = if v.is_finite() {
                    format!("{v:.2}")
                } else {
                    "-".into()
                };
                root.draw(&Text::new(
                    text,
                    (x + 3, y + cell / 2 - 7),
                    ("sans-serif", 10).into_font(),
                ))
                .map_err(err)?;
            }
        }
        root.draw(&Text::new(
            "Cramér's V: white 0, red positive, blue negative, grey undefined",
            (left, top + n * cell + 12),
            font,
        ))
        .map_err(err)?;
        root.present().map_err(err)
    })
}

/// A bar of parts of a change: its label, its parts (legend key, percentage points)
/// and the change they add up to.
type PartsBar = (String, Vec<(usize, f64)>, f64);

/// The legend keys of the parts: H, A, within, shift, then the indicators.
fn part_keys(a: &Analysis) -> Vec<String> {
    let mut keys: Vec<String> = [
        "due to H",
        "due to A",
        "within levels",
        "shifts between levels",
    ]
    .map(String::from)
    .to_vec();
    keys.extend(a.methodology.indicators.iter().map(|i| i.name.clone()));
    keys
}

/// The bars of [`decomposition_chart`]: per pair of rounds, M0's change by H and A, by
/// indicator and by each subgroup column.
fn decomposition_bars(a: &Analysis, head: Line) -> Vec<PartsBar> {
    use crate::inference::ChangeType;
    let national = |c: &&crate::inference::Change| {
        c.subgroup.is_none() && !c.annualized && (c.cutoff, c.group) == head
    };
    let changes: Vec<_> = a.inference.changes.iter().filter(national).collect();
    let mut bars: Vec<PartsBar> = Vec::new();
    let mut pairs: Vec<(u32, u32)> = changes.iter().map(|c| (c.t0, c.t1)).collect();
    pairs.dedup();
    for (t0, t1) in pairs {
        let of = |c: &&&crate::inference::Change| (c.t0, c.t1) == (t0, t1);
        let rounds = format!("{} → {}", round_name(a, t0), round_name(a, t1));
        let part = |ctype, over| {
            (changes.iter().filter(of))
                .find(|c| c.measure == Measure::M0 && c.ctype == ctype && c.over == over)
                .map(|c| 100.0 * c.b)
        };
        let Some(total) = part(ChangeType::Abs, None) else {
            continue;
        };
        if let (Some(h), Some(x)) = (
            part(ChangeType::AbsDueToH, None),
            part(ChangeType::AbsDueToA, None),
        ) {
            bars.push((format!("{rounds}: by H and A"), vec![(0, h), (1, x)], total));
        }
        let indicators: Vec<(usize, f64)> = (changes.iter().filter(of))
            .filter(|c| c.measure == Measure::Actb && c.ctype == ChangeType::Abs)
            .filter_map(|c| Some((4 + c.indicator?, 100.0 * c.b)))
            .collect();
        if !indicators.is_empty() {
            bars.push((format!("{rounds}: by indicator"), indicators, total));
        }
        for (g, grouping) in a.sample.groupings.iter().enumerate() {
            let (within, shift) = (
                part(ChangeType::AbsWithin, Some(g)),
                part(ChangeType::AbsShift, Some(g)),
            );
            if let (Some(w), Some(s)) = (within, shift) {
                bars.push((
                    format!("{rounds}: by {}", grouping.column),
                    vec![(2, w), (3, s)],
                    total,
                ));
            }
        }
    }
    bars
}

/// Stacked bars of what each national change of M0 (headline, not annualized) is made
/// of, in percentage points: its parts due to H and to A, each indicator's part (its
/// actb's change), and per subgroup column the parts within and between the levels.
/// Negative parts stack left of zero, positive ones right; a black tick marks the change.
pub(super) fn decomposition_chart(a: &Analysis, head: Line) -> Result<String> {
    let (keys, bars) = (part_keys(a), decomposition_bars(a, head));
    if bars.is_empty() {
        return Ok(String::new());
    }
    let side = |positive: bool| -> f64 {
        (bars.iter())
            .map(|(_, parts, _)| {
                parts
                    .iter()
                    .map(|p| p.1)
                    .filter(|&v| (v > 0.0) == positive)
                    .sum::<f64>()
            })
            .fold(0.0, |m: f64, v| if positive { m.max(v) } else { m.min(v) })
    };
    let (lo, hi) = (side(false) * 1.1 - 0.1, side(true) * 1.1 + 0.1);
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    let n = bars.len();
    let chart = svg(|buf| {
        let root = SVGBackend::with_string(buf, (WIDTH, 80 + 30 * n as u32)).into_drawing_area();
        let x_desc = "parts of the change of M0 (percentage points)";
        let mut chart = rows_over(&root, lo..hi, &labels, x_desc, 240)?;
        for (i, (_, parts, total)) in bars.iter().enumerate() {
            let y = row_y(i, n);
            let (mut left, mut right) = (0.0, 0.0);
            let rects = parts.iter().map(|&(key, v)| {
                let start = if v < 0.0 { &mut left } else { &mut right };
                let from = *start;
                *start += v;
                Rectangle::new(
                    [(from, y - 0.35), (*start, y + 0.35)],
                    part_colour(key).filled(),
                )
            });
            chart.draw_series(rects.collect::<Vec<_>>()).map_err(err)?;
            let tick = PathElement::new(
                vec![(*total, y - 0.45), (*total, y + 0.45)],
                BLACK.stroke_width(3),
            );
            chart.draw_series(std::iter::once(tick)).map_err(err)?;
        }
        root.present().map_err(err)
    })?;
    let used: std::collections::BTreeSet<usize> =
        bars.iter().flat_map(|b| b.1.iter().map(|p| p.0)).collect();
    let legend = html_legend(used.into_iter().map(|k| (part_colour(k), keys[k].as_str())));
    Ok(format!(
        "{chart}<p class=\"legend\">{legend}<span>▮ black tick: the change</span></p>"
    ))
}

/// The colour of a part of a change: H, A, within, shift in colours of their own, then
/// each indicator in its colour of the contributions chart.
fn part_colour(key: usize) -> RGBColor {
    const OWN: [RGBColor; 4] = [
        RGBColor(55, 71, 79),
        RGBColor(176, 190, 197),
        RGBColor(0, 105, 92),
        RGBColor(255, 202, 40),
    ];
    OWN.get(key)
        .copied()
        .unwrap_or_else(|| colour(key - OWN.len()))
}
