//! Report: an [`Analysis`] in, one self-contained HTML page out — tables, and charts as
//! inline SVG drawn by plotters: no script, no font or image to fetch, so the page opens
//! anywhere and prints as it shows.
//!
//! Everything comes from the analysis (estimates, standard errors, the table); the curve
//! of H and M0 against the cutoff k re-runs the measures and their standard errors on the
//! same sufficient-statistics table with every distinct score as a cutoff, which costs
//! no pass over the data; so do the sections on robustness and dominance
//! ([`sensitivity`]), which compare subgroups and rounds under other cutoffs and weights.

use std::fmt::Write as _;
use std::path::Path;

mod charts;
mod sensitivity;

use crate::error::{Error, Result};
use crate::inference::{self, Precision, Settings};
use crate::measures::{Domain, Measure};
use crate::{output, Analysis};
use charts::{
    association_chart, contributions_chart, cutoff_chart, headcount_chart, levels_chart,
    score_chart, share_chart, subgroup_chart,
};

pub use afmpi_core::curve::{cutoff_curve, CurvePoint};

/// A poverty line: a cutoff's index or a named group's.
type Line = (Option<usize>, Option<usize>);

/// Writes the report to `path` through a temporary file renamed into place.
pub fn write(a: &Analysis, settings: &Settings, path: &Path) -> Result<()> {
    let page = html(a, settings)?;
    output::write_atomically(path, |file| {
        std::io::Write::write_all(file, page.as_bytes())
            .map_err(|e| Error::input(path, format!("cannot write: {e}")))
    })
}

/// The index of a report per survey (`report --surveys`): the table across the surveys,
/// each survey linked to its page (`pages`: id and file name), a failed one with why.
pub fn write_index(
    m: &crate::methodology::Methodology,
    outcomes: &[crate::surveys::Outcome],
    pages: &[(&str, String)],
    path: &Path,
) -> Result<()> {
    let title = if m.title.is_empty() {
        &m.name
    } else {
        &m.title
    };
    let mut s = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1><p class=\"sub\">{n} surveys — afmpi {v}</p><h2>Across the surveys</h2><p>National M0, H and A at the headline identification, first round; each survey's page has the rest.</p><table><tr><th>survey</th><th>country</th><th>year</th><th>M0</th><th>H</th><th>A</th><th>M0 interval</th></tr>",
        t = escape(title),
        n = outcomes.len(),
        v = env!("CARGO_PKG_VERSION")
    );
    for o in outcomes {
        let e = &o.entry;
        let link = pages.iter().find(|(id, _)| *id == e.id).map_or_else(
            || escape(&e.id),
            |(_, file)| format!("<a href=\"{}\">{}</a>", escape(file), escape(&e.id)),
        );
        let year = e
            .year
            .map(afmpi_core::sample::codes::number_label)
            .unwrap_or_default();
        let _ = write!(
            s,
            "<tr><td>{link}</td><td>{}</td><td>{year}</td>",
            escape(e.country.as_deref().unwrap_or(""))
        );
        match &o.analysis {
            Err(err) => {
                let _ = write!(
                    s,
                    "<td colspan=\"4\">failed: {}</td></tr>",
                    escape(&err.to_string())
                );
            }
            Ok(a) => {
                let get = |measure| crate::compare::headline_estimate(a, measure, None, 0);
                let f =
                    |measure| get(measure).map_or("–".to_string(), |(b, _)| format!("{b:.4}"));
                let interval = get(Measure::M0).map_or("–".to_string(), |(_, p)| {
                    format!("[{:.4}, {:.4}]", p.ll, p.ul)
                });
                let _ = write!(s, "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{interval}</td></tr>",
                    f(Measure::M0), f(Measure::H), f(Measure::A));
            }
        }
    }
    s.push_str("</table></body></html>");
    output::write_atomically(path, |file| {
        std::io::Write::write_all(file, s.as_bytes())
            .map_err(|e| Error::input(path, format!("cannot write: {e}")))
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.2}", 100.0 * x)
    } else {
        "–".into()
    }
}

/// An estimate and its precision, if computed.
fn find(
    a: &Analysis,
    measure: Measure,
    indicator: Option<usize>,
    (cutoff, group): Line,
    domain: Domain,
) -> Option<(f64, Precision)> {
    let cutoff = if measure == Measure::Hd { None } else { cutoff };
    let group = if measure == Measure::Hd { None } else { group };
    a.find(measure, indicator, cutoff, group, domain)
        .map(|i| (a.estimates[i].b, a.inference.levels[i]))
}

/// A round's name in the report; a survey without rounds is named by its year.
fn round_name(a: &Analysis, r: u32) -> String {
    a.sample.round_name(r).unwrap_or_else(|| {
        a.sample.round_info[r as usize]
            .year
            .map(afmpi_core::sample::codes::number_label)
            .unwrap_or_else(|| "survey".into())
    })
}

/// The whole page.
pub fn html(a: &Analysis, settings: &Settings) -> Result<String> {
    let m = &a.methodology;
    let last = a.sample.round_info.len() as u32 - 1;
    let national = Domain {
        subgroup: None,
        round: last,
    };
    let head = crate::compare::headline(a);
    let head_label = crate::compare::headline_label(a);
    let mut s = String::new();
    let title = if m.title.is_empty() {
        &m.name
    } else {
        &m.title
    };
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1><p class=\"sub\">{file} — afmpi {v}</p>",
        t = escape(title),
        file = escape(&a.report.file.display().to_string()),
        v = env!("CARGO_PKG_VERSION")
    );

    s.push_str(&headline_table(a, settings));
    s.push_str(&contributions(a, head, &head_label)?);
    // Headcount ratios.
    let _ = write!(s, "<h2>Headcount ratios by indicator</h2><p>Uncensored (deprived) and censored (deprived and poor, {}) headcount ratios, national, {}.</p>", escape(&head_label), escape(&round_name(a, last)));
    s.push_str(&headcount_chart(a, head, national)?);

    // H and M0 against k.
    s.push_str("<h2>Poverty against the cutoff k</h2><p>H and M0 at every distinct deprivation score as the cutoff, national, with confidence bands; the methodology's cutoffs are marked.</p>");
    s.push_str(&cutoff_chart(a, settings, last)?);

    // Subgroups.
    for (g, grouping) in a.sample.groupings.iter().enumerate() {
        let _ = write!(s, "<h2>Subgroups: {}</h2><p>M0 ({}) by {} with confidence intervals, highest first; and each level's share of the population against its contribution to national M0.</p>", escape(&grouping.column), escape(&head_label), escape(&grouping.column));
        s.push_str(&subgroup_chart(a, head, g, last)?);
        s.push_str(&share_chart(a, head, g, last)?);
    }

    s.push_str(&changes_section(a, head)?);
    s.push_str(&sensitivity::robustness_section(a, settings)?);
    s.push_str(&sensitivity::dominance_section(a, settings)?);
    s.push_str(&sensitivity::inequality_section(a)?);
    // Scores.
    let _ = write!(s, "<h2>Distribution of deprivation scores</h2><p>Share of the population at each weighted deprivation score, {}; the cutoffs are marked.</p>", escape(&round_name(a, last)));
    s.push_str(&score_chart(a, last)?);

    // Association between indicators.
    let _ = write!(s, "<h2>Association between indicators</h2><p>Cramér's V between the deprivations of each pair of indicators, everyone, {}, weighted (<code>afmpi assoc</code> gives it among the poor too, and the redundancy R0).</p>", escape(&round_name(a, last)));
    s.push_str(&association_chart(a, last)?);

    // Methodology and data.
    let _ = write!(
        s,
        "<h2>Methodology</h2><pre>{}</pre><h2>Data</h2><pre>{}</pre></body></html>",
        escape(&output::methodology_summary(m)),
        escape(&output::data_summary(&a.report))
    );
    Ok(with_contents(&s))
}

/// The page with a table of contents after its title: each section's heading gets an
/// id (`s1`, `s2`, …) and a link to it.
fn with_contents(page: &str) -> String {
    let mut body = String::with_capacity(page.len() + 2048);
    let mut links = String::new();
    let mut rest = page;
    let mut n = 0;
    while let Some(at) = rest.find("<h2>") {
        let Some(end) = rest[at..].find("</h2>") else {
            break;
        };
        n += 1;
        let title = &rest[at + 4..at + end];
        let _ = write!(links, "<li><a href=\"#s{n}\">{title}</a></li>");
        body.push_str(&rest[..at]);
        let _ = write!(body, "<h2 id=\"s{n}\">");
        rest = &rest[at + 4..];
    }
    body.push_str(rest);
    let contents =
        format!("<nav class=\"toc\"><h2 class=\"toc\">Contents</h2><ol>{links}</ol></nav>");
    match body.find("</p>") {
        // After the subtitle (the file and the version).
        Some(at) => format!("{}{contents}{}", &body[..at + 4], &body[at + 4..]),
        None => body,
    }
}

/// The headline table: H, A and M0 of every round at every cutoff and for every named
/// group, in percent, with their precision.
fn headline_table(a: &Analysis, settings: &Settings) -> String {
    let mut s = String::new();
    let m = &a.methodology;
    let last = a.sample.round_info.len() as u32 - 1;
    let _ = write!(s, "<h2>Headline estimates</h2><p>Percent, with standard errors and {:.0}% confidence intervals ({}).</p><table><tr><th>round</th><th>poverty line</th><th>measure</th><th>estimate</th><th>s.e.</th><th>interval</th></tr>",
        100.0 * settings.level,
        match settings.interval { inference::Interval::Logit => "logit", inference::Interval::Wald => "Wald" });
    for r in 0..=last {
        let domain = Domain {
            subgroup: None,
            round: r,
        };
        let lines: Vec<(String, Line)> = (0..m.cutoffs.len())
            .map(|c| {
                (
                    format!("k = {:.2}%", m.cutoffs[c].percent()),
                    (Some(c), None),
                )
            })
            .chain(
                (0..m.groups.len())
                    .map(|g| (format!("group {}", m.groups[g].name), (None, Some(g)))),
            )
            .collect();
        for (label, line) in lines {
            for measure in [Measure::H, Measure::A, Measure::M0] {
                if let Some((b, p)) = find(a, measure, None, line, domain) {
                    let _ = write!(
                        s,
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">[{}, {}]</td></tr>",
                        escape(&round_name(a, r)),
                        escape(&label),
                        measure.name(),
                        pct(b),
                        pct(p.se),
                        pct(p.ll),
                        pct(p.ul)
                    );
                }
            }
        }
    }
    s.push_str("</table>");

    s
}

/// The indicators' contributions to M0 under the headline, nationally and by subgroup,
/// and each dimension's share of national M0.
fn contributions(a: &Analysis, head: Line, head_label: &str) -> Result<String> {
    let mut s = String::new();
    let m = &a.methodology;
    let last = a.sample.round_info.len() as u32 - 1;
    let national = Domain {
        subgroup: None,
        round: last,
    };
    let _ = write!(
        s,
        "<h2>Contributions of the indicators to M0</h2><p>Percentage contribution of each indicator to M0 ({}), {}, nationally and per subgroup.</p>",
        escape(head_label),
        escape(&round_name(a, last))
    );
    s.push_str(&contributions_chart(a, head, last)?);
    s.push_str("<table><tr><th>dimension</th><th>contribution to national M0 (%)</th></tr>");
    for (d, dim) in m.dimensions.iter().enumerate() {
        let total: f64 = (0..m.indicators.len())
            .filter(|&j| m.indicators[j].dimension == d)
            .filter_map(|j| find(a, Measure::Pctb, Some(j), head, national).map(|x| x.0))
            .sum();
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            escape(&dim.name),
            pct(total)
        );
    }
    s.push_str("</table>");

    Ok(s)
}

/// The national changes of H, A and M0 under the headline, with the chart of the levels.
fn changes_section(a: &Analysis, head: Line) -> Result<String> {
    let mut s = String::new();
    if !a.inference.changes.is_empty() {
        s.push_str("<h2>Changes over time</h2><p>National changes of H, A and M0 between rounds: absolute (percentage points), relative (%), and per year when the rounds have years, with Wald intervals. M0's absolute change comes with its parts: due to the change of H and to the change of A (they add up to it), and, for each subgroup column, due to the changes within its levels and to the shifts of population between them.</p>");
        s.push_str(&levels_chart(a, head)?);
        s.push_str("<table><tr><th>rounds</th><th>measure</th><th>change</th><th>estimate</th><th>s.e.</th><th>interval</th></tr>");
        for c in &a.inference.changes {
            if c.subgroup.is_some() || c.indicator.is_some() || (c.cutoff, c.group) != head {
                continue;
            }
            let (y0, y1) = c.labels(&a.sample);
            let scale = if c.ctype.is_absolute() { 100.0 } else { 1.0 };
            let over = |g: usize| a.sample.groupings[g].column.as_str();
            let kind = format!(
                "{}{}",
                match (c.ctype, c.over) {
                    (inference::ChangeType::Abs, _) => "absolute (pp)".to_string(),
                    (inference::ChangeType::Rel, _) => "relative (%)".to_string(),
                    (inference::ChangeType::AbsDueToH, _) => "absolute (pp), the part due to H".to_string(),
                    (inference::ChangeType::AbsDueToA, _) => "absolute (pp), the part due to A".to_string(),
                    (inference::ChangeType::AbsWithin, Some(g)) =>
                        format!("absolute (pp), the part within the levels of {}", escape(over(g))),
                    (inference::ChangeType::AbsShift, Some(g)) =>
                        format!("absolute (pp), the part due to shifts of population between the levels of {}", escape(over(g))),
                    (_, None) => "absolute (pp), a part".to_string(),
                },
                if c.annualized { " per year" } else { "" }
            );
            let f = |x: f64| {
                if x.is_finite() {
                    format!("{:.2}", scale * x)
                } else {
                    "–".into()
                }
            };
            let _ = write!(s, "<tr><td>{} → {}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">[{}, {}]</td></tr>",
                escape(&y0), escape(&y1), c.measure.name(), kind, f(c.b), f(c.precision.se), f(c.precision.ll), f(c.precision.ul));
        }
        s.push_str("</table>");
        s.push_str(&charts::decomposition_chart(a, head)?);
    }

    Ok(s)
}

const STYLE: &str = "body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}\
h1{margin-bottom:0}.sub{color:#666;margin-top:.2em}h2{border-bottom:1px solid #ccc;margin-top:2em}\
table{border-collapse:collapse;margin:1em 0}td,th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1em 0}svg{max-width:100%;height:auto}\
pre{background:#f6f6f6;padding:1em;white-space:pre-wrap}.legend span{margin-right:1.2em;white-space:nowrap;font-size:.9em}\
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}\
nav.toc{background:#f6f6f6;padding:.5em 1em;margin:1.5em 0}nav.toc h2{border:0;margin:.3em 0;font-size:1.1em}nav.toc ol{columns:2;margin:.3em 0}\
@page{margin:1.5cm}@media print{body{max-width:none;margin:0;font-size:11pt}nav.toc{background:none;padding:0}\
h2{break-before:auto;break-after:avoid}figure,table,tr{break-inside:avoid}pre{white-space:pre-wrap;background:none;border:1px solid #ccc}}";
