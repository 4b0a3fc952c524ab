//! Validation: the file as written ([`FileSpec`]) in, a [`Methodology`] out, or an error
//! that names the key at fault and says what to write instead.

use std::collections::HashSet;

use num_integer::Integer;
use num_rational::Ratio;

use super::schema::{FileIndicator, FileSpec};
use super::{key_err, Cutoff, Dimension, Group, Headline, Indicator, Methodology, Source};
use crate::error::Result;
use crate::exact::{self, Exact, Number};
use crate::rules::{Aggregate, Expression, NoEligible, Rule, RuleLanguage};

/// How far decimal weights may sum from 1: weights written as rounded decimals
/// (0.333333) are accepted, and used as written.
const DECIMAL_SUM_TOLERANCE: f64 = 1e-6;

/// The steps of validation, in the order their errors are reported.
pub fn validate(file: FileSpec, language: &dyn RuleLanguage) -> Result<Methodology> {
    if file.name.trim().is_empty() {
        return Err(key_err(
            "name",
            "the methodology needs a short id, e.g. name = \"global-mpi\"",
        ));
    }
    // Cutoffs: numbers are percent, strings are fractions of 1.
    if file.cutoffs.is_empty() {
        return Err(key_err(
            "cutoffs",
            "give at least one poverty cutoff, e.g. cutoffs = [33.33] or [\"1/3\"]",
        ));
    }
    let cutoffs = parse_cutoffs(&file.cutoffs, "cutoffs")?;
    if file.dimensions.is_empty() {
        return Err(key_err("dimension", "the methodology has no [[dimension]]: add at least one, each with its [[dimension.indicator]] entries"));
    }
    let weigher = Weigher::default();
    let pending = read_dimensions(&file, &weigher, language)?;
    let dim_weights = dimension_weights(&pending, weigher.any_decimal.get())?;
    let (dimensions, indicators) = weigh_indicators(&file, &pending, &dim_weights)?;
    let notes = weight_notes(&indicators)?;
    for name in file.survey.over.iter() {
        if file.survey.over.iter().filter(|o| *o == name).count() > 1 {
            return Err(key_err(
                "survey.over",
                format!("subgroup column \"{name}\" is listed twice"),
            ));
        }
    }
    let groups = read_groups(&file, language)?;
    let headline = read_headline(&file, &cutoffs, &groups)?;
    let mut m = Methodology {
        name: file.name,
        title: file.title.unwrap_or_default(),
        source: file.source.unwrap_or_default(),
        cutoffs,
        identification: file.identification,
        alphas: read_alphas(&file.alphas)?,
        inequality: file.inequality,
        dimensions,
        indicators,
        groups,
        survey: file.survey.resolved(),
        columns: file.columns,
        headline,
        alternative_weights: Vec::new(),
        notes,
    };
    m.alternative_weights = super::alternatives::read_alternatives(&m, &file.weights)?;
    Ok(m)
}

/// Reads weights as written, remembering whether any was a decimal.
#[derive(Default)]
struct Weigher {
    any_decimal: std::cell::Cell<bool>,
}

impl Weigher {
    fn weight(&self, key: &str, n: &Option<Number>) -> Result<Option<Exact>> {
        let Some(n) = n else { return Ok(None) };
        let w = n.exact().map_err(|m| key_err(key, m))?;
        if w.value < Ratio::from_integer(0) {
            return Err(key_err(
                key,
                format!("weight {w} is negative: weights are shares of 1, zero or more"),
            ));
        }
        if w.decimal {
            self.any_decimal.set(true);
        }
        Ok(Some(w))
    }
}

/// A dimension as the file fixes it: its weight if given, its indicators' weights if
/// given, and their sources.
struct Pending {
    dim_weight: Option<Exact>,
    given: Vec<Option<Exact>>,
    sources: Vec<(String, Source)>,
}

/// First pass: each dimension's name, indicators and the weights the file gives.
fn read_dimensions(
    file: &FileSpec,
    weigher: &Weigher,
    language: &dyn RuleLanguage,
) -> Result<Vec<Pending>> {
    let mut seen_dims = HashSet::new();
    let mut seen_columns = HashSet::new();
    let mut pending = Vec::new();
    for (d, dim) in file.dimensions.iter().enumerate() {
        let key = format!("dimension[{d}]");
        if dim.name.trim().is_empty() {
            return Err(key_err(format!("{key}.name"), "a dimension needs a name"));
        }
        if !seen_dims.insert(dim.name.clone()) {
            return Err(key_err(
                format!("{key}.name"),
                format!("dimension \"{}\" is defined twice", dim.name),
            ));
        }
        if dim.indicators.is_empty() {
            return Err(key_err(
                key,
                format!(
                    "dimension \"{}\" is empty: give it at least one [[dimension.indicator]]",
                    dim.name
                ),
            ));
        }
        let dim_weight = weigher.weight(&format!("{key}.weight"), &dim.weight)?;
        let mut given = Vec::new();
        let mut sources = Vec::new();
        for (j, ind) in dim.indicators.iter().enumerate() {
            let ikey = format!("{key}.indicator[{j}]");
            let (id, source) =
                indicator_source(ind, &ikey, file.survey.household.is_some(), language)?;
            if !seen_columns.insert(id.clone()) {
                return Err(key_err(
                    ikey,
                    format!("indicator \"{id}\" is defined twice: each indicator counts once"),
                ));
            }
            sources.push((id, source));
            given.push(weigher.weight(&format!("{ikey}.weight"), &ind.weight)?);
        }
        check_dimension_sum(&key, &dim.name, dim_weight, &given)?;
        pending.push(Pending {
            dim_weight,
            given,
            sources,
        });
    }
    Ok(pending)
}

/// A dimension's given weight agrees with its indicators' given weights.
fn check_dimension_sum(
    key: &str,
    name: &str,
    dim_weight: Option<Exact>,
    given: &[Option<Exact>],
) -> Result<()> {
    let given_sum =
        exact::sum(given.iter().flatten().map(|w| w.value)).map_err(|e| key_err(key, e))?;
    if let Some(w) = dim_weight {
        if given.iter().all(Option::is_some) {
            let decimal = given.iter().flatten().any(|g| g.decimal) || w.decimal;
            if !weights_equal(w.value, given_sum, decimal) {
                return Err(key_err(format!("{key}.weight"), format!(
                    "dimension \"{}\" has weight {} but its indicators' weights sum to {}: make them agree, or leave one of them out",
                    name, w, show(given_sum, decimal))));
            }
        } else if given_sum > w.value {
            return Err(key_err(format!("{key}.weight"), format!(
                "dimension \"{}\" has weight {} but its indicators' given weights already sum to {}",
                name, w, show(given_sum, true))));
        }
    }
    Ok(())
}

/// Dimensions without a weight, whose indicators all have one, take their sum; the
/// others share what is left equally.
fn dimension_weights(pending: &[Pending], any_decimal: bool) -> Result<Vec<Exact>> {
    let too_fine = |e: String| key_err("dimension", e);
    let mut dim_weights: Vec<Option<Exact>> = Vec::new();
    for p in pending {
        dim_weights.push(match p.dim_weight {
            Some(w) => Some(w),
            None if p.given.iter().all(Option::is_some) => Some(Exact {
                value: exact::sum(p.given.iter().flatten().map(|w| w.value)).map_err(too_fine)?,
                decimal: p.given.iter().flatten().any(|w| w.decimal),
            }),
            None => None,
        });
    }
    let fixed = exact::sum(dim_weights.iter().flatten().map(|w| w.value)).map_err(too_fine)?;
    let open = dim_weights.iter().filter(|w| w.is_none()).count();
    if open > 0 {
        let left = exact::difference(Ratio::from_integer(1), fixed).map_err(too_fine)?;
        if left < Ratio::from_integer(0) {
            return Err(key_err("dimension", format!(
                "the dimensions' given weights sum to {}, more than 1, leaving nothing for the {open} dimension(s) without a weight",
                show(fixed, any_decimal))));
        }
        let share = exact::quotient(left, open as i128).map_err(too_fine)?;
        for w in dim_weights.iter_mut().filter(|w| w.is_none()) {
            *w = Some(Exact {
                value: share,
                decimal: false,
            });
        }
    }
    Ok(dim_weights
        .into_iter()
        .map(|w| w.expect("every dimension has a weight by now"))
        .collect())
}

/// Second pass: indicators without a weight share what their dimension has left.
fn weigh_indicators(
    file: &FileSpec,
    pending: &[Pending],
    dim_weights: &[Exact],
) -> Result<(Vec<Dimension>, Vec<Indicator>)> {
    let zero = Ratio::from_integer(0);
    let mut dimensions = Vec::new();
    let mut indicators = Vec::new();
    for (d, (dim, p)) in file.dimensions.iter().zip(pending).enumerate() {
        let weight = dim_weights[d];
        let too_fine = |e: String| key_err(format!("dimension[{d}]"), e);
        let given_sum = exact::sum(p.given.iter().flatten().map(|w| w.value)).map_err(too_fine)?;
        let open = p.given.iter().filter(|w| w.is_none()).count();
        let share = if open > 0 {
            exact::difference(weight.value, given_sum)
                .and_then(|left| exact::quotient(left, open as i128))
                .map_err(too_fine)?
        } else {
            zero
        };
        for ((ind, given), (id, source)) in dim.indicators.iter().zip(&p.given).zip(&p.sources) {
            let w = given.unwrap_or(Exact {
                value: share,
                decimal: weight.decimal,
            });
            indicators.push(Indicator {
                name: ind.name.clone().unwrap_or_else(|| id.clone()),
                id: id.clone(),
                source: source.clone(),
                dimension: d,
                weight: w,
                optional: ind.optional,
            });
        }
        dimensions.push(Dimension {
            name: dim.name.clone(),
            weight,
        });
    }
    if indicators.len() > 64 {
        return Err(key_err(
            "dimension",
            format!(
                "the methodology has {} indicators; afmpi handles at most 64",
                indicators.len()
            ),
        ));
    }
    Ok((dimensions, indicators))
}

/// The indicator weights sum to 1 (decimals within a tolerance, with a note); weights of
/// zero get a note.
fn weight_notes(indicators: &[Indicator]) -> Result<Vec<String>> {
    let zero = Ratio::from_integer(0);
    let one = Ratio::from_integer(1);
    let sum = exact::sum(indicators.iter().map(|i| i.weight.value))
        .map_err(|e| key_err("dimension", e))?;
    let decimal = indicators.iter().any(|i| i.weight.decimal);
    let mut notes = Vec::new();
    if sum != one {
        if !weights_equal(sum, one, decimal) {
            return Err(key_err("dimension", format!(
                "the indicator weights sum to {}, not 1: fix the weights (write repeating decimals as fractions, e.g. \"1/18\")",
                show(sum, decimal))));
        }
        notes.push(format!(
            "weights written as decimals sum to {} rather than 1; they are used exactly as written (write \"1/3\", \"1/18\" for exact shares)",
            show(sum, true)));
    }
    if indicators.iter().any(|i| i.weight.value == zero) {
        let names: Vec<_> = indicators
            .iter()
            .filter(|i| i.weight.value == zero)
            .map(|i| i.id.as_str())
            .collect();
        notes.push(format!(
            "indicators with weight 0 count for nothing: {}",
            names.join(", ")
        ));
    }
    Ok(notes)
}

/// The named groups: unique names, rules that can be read, at most 31 (the last bit
/// of a person's flags marks a row outside every domain).
fn read_groups(file: &FileSpec, language: &dyn RuleLanguage) -> Result<Vec<Group>> {
    let mut groups: Vec<Group> = Vec::new();
    for (g, group) in file.groups.iter().enumerate() {
        let key = format!("group[{g}]");
        if group.name.trim().is_empty() {
            return Err(key_err(format!("{key}.name"), "a group needs a name"));
        }
        if groups.iter().any(|o| o.name == group.name) {
            return Err(key_err(
                format!("{key}.name"),
                format!("group \"{}\" is defined twice", group.name),
            ));
        }
        let rule = Expression::parse(&group.rule, language)
            .map_err(|m| key_err(format!("{key}.rule"), m))?;
        groups.push(Group {
            name: group.name.clone(),
            rule,
            intensity: group.intensity.unwrap_or(true),
        });
    }
    if groups.len() > 31 {
        return Err(key_err("group", "afmpi handles at most 31 groups"));
    }
    Ok(groups)
}

/// What `compare` reports: a cutoff (the first by default) or a named group.
fn read_headline(file: &FileSpec, cutoffs: &[Cutoff], groups: &[Group]) -> Result<Headline> {
    Ok(match &file.headline {
        None => Headline::Cutoff(0),
        Some(Number::Text(t)) if groups.iter().any(|g| &g.name == t) => {
            Headline::Group(groups.iter().position(|g| &g.name == t).unwrap())
        }
        Some(n) => {
            let k = parse_cutoffs(std::slice::from_ref(n), "headline")?[0];
            match cutoffs.iter().position(|c| c.value.value == k.value.value) {
                Some(c) => Headline::Cutoff(c),
                None => {
                    return Err(key_err(
                        "headline",
                        "the headline must be one of the cutoffs or the name of a group",
                    ))
                }
            }
        }
    })
}

/// An indicator's id and source: a ready column, or a rule with its household options.
/// `alphas`: which of M1 and M2 to compute.
fn read_alphas(alphas: &[i64]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for &a in alphas {
        match a {
            1 | 2 => out.push(a as u8),
            _ => {
                return Err(key_err(
                    "alphas",
                    format!("alpha {a} is not computed: write alphas = [1] (M1, the adjusted poverty gap), [2] (M2, the adjusted squared gap) or [1, 2]; M0 is always computed"),
                ))
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// A cardinal indicator: `achievement` (a column) and its `cutoff` z > 0.
fn achievement_source(ind: &FileIndicator, key: &str, column: &str) -> Result<(String, Source)> {
    if column.trim().is_empty() {
        return Err(key_err(
            format!("{key}.achievement"),
            "a cardinal indicator needs the column of its achievement",
        ));
    }
    let others = [
        ("column", ind.column.is_some()),
        ("deprived", ind.deprived.is_some()),
        ("eligible", ind.eligible.is_some()),
        ("aggregate", ind.aggregate.is_some()),
        ("no_eligible", ind.no_eligible.is_some()),
        ("min_observed", ind.min_observed.is_some()),
    ];
    if let Some((k, _)) = others.iter().find(|(_, set)| *set) {
        return Err(key_err(format!("{key}.{k}"), format!("`{k}` does not go with `achievement`: a cardinal indicator is its achievement and its cutoff")));
    }
    let Some(cutoff) = &ind.cutoff else {
        return Err(key_err(format!("{key}.cutoff"), format!("the cardinal indicator `{column}` needs its deprivation cutoff: cutoff = z (deprived when {column} < z)")));
    };
    let z = cutoff
        .exact()
        .map_err(|m| key_err(format!("{key}.cutoff"), m))?
        .to_f64();
    if !(z.is_finite() && z > 0.0) {
        return Err(key_err(format!("{key}.cutoff"), format!("the deprivation cutoff {z} must be a positive number: the gap (z - x)/z divides by it")));
    }
    let id = ind
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| column.to_string());
    Ok((
        id,
        Source::Achievement {
            column: column.to_string(),
            cutoff: z,
        },
    ))
}

fn indicator_source(
    ind: &FileIndicator,
    key: &str,
    has_household: bool,
    language: &dyn RuleLanguage,
) -> Result<(String, Source)> {
    let rule_only = [
        ("eligible", ind.eligible.is_some()),
        ("aggregate", ind.aggregate.is_some()),
        ("no_eligible", ind.no_eligible.is_some()),
        ("min_observed", ind.min_observed.is_some()),
    ];
    if let Some(column) = &ind.achievement {
        return achievement_source(ind, key, column);
    }
    if ind.cutoff.is_some() {
        return Err(key_err(format!("{key}.cutoff"), "`cutoff` is the deprivation cutoff of a cardinal indicator: give its `achievement` column too"));
    }
    match (&ind.column, &ind.deprived) {
        (Some(_), Some(_)) => Err(key_err(key, "give either `column` (a ready 0/1 column) or `deprived` (a rule), not both")),
        (None, None) => Err(key_err(key, "an indicator needs `column` (a ready 0/1 column) or `deprived` (a rule over the survey's columns)")),
        (Some(column), None) => {
            if column.trim().is_empty() {
                return Err(key_err(format!("{key}.column"), "an indicator needs the name of its 0/1 column"));
            }
            if let Some((k, _)) = rule_only.iter().find(|(_, set)| *set) {
                return Err(key_err(format!("{key}.{k}"), format!("`{k}` goes with a rule: write the indicator as deprived = \"{column} = 1\"")));
            }
            Ok((column.clone(), Source::Column(column.clone())))
        }
        (None, Some(text)) => {
            let id = ind.name.clone().filter(|n| !n.trim().is_empty()).ok_or_else(|| {
                key_err(format!("{key}.name"), "an indicator given by a rule needs a `name`: it names the indicator in the results")
            })?;
            let deprived = Expression::parse(text, language).map_err(|m| key_err(format!("{key}.deprived"), m))?;
            let eligible = match &ind.eligible {
                Some(t) => Some(Expression::parse(t, language).map_err(|m| key_err(format!("{key}.eligible"), m))?),
                None => None,
            };
            let aggregate = match &ind.aggregate {
                Some(t) => Some(Aggregate::parse(t).map_err(|m| key_err(format!("{key}.aggregate"), m))?),
                None => None,
            };
            if aggregate.is_none() {
                if let Some((k, _)) = rule_only.iter().find(|(k, set)| *set && *k != "aggregate") {
                    return Err(key_err(format!("{key}.{k}"), format!("`{k}` applies to a rule aggregated over household members: add aggregate = \"any\" (or all, none, share >= x)")));
                }
            } else if !has_household {
                return Err(key_err(format!("{key}.aggregate"), "aggregating over members needs the household id: set household = \"...\" in [survey]"));
            }
            let no_eligible = match &ind.no_eligible {
                Some(t) => NoEligible::parse(t).map_err(|m| key_err(format!("{key}.no_eligible"), m))?,
                None => NoEligible::NotDeprived,
            };
            let min_observed = match &ind.min_observed {
                Some(n) => {
                    let v = n.exact().map_err(|m| key_err(format!("{key}.min_observed"), m))?.to_f64();
                    if !(0.0..=1.0).contains(&v) {
                        return Err(key_err(format!("{key}.min_observed"), "min_observed is a share of the eligible members, in [0, 1]"));
                    }
                    Some(v)
                }
                None => None,
            };
            Ok((id, Source::Rule(Box::new(Rule { deprived, eligible, aggregate, no_eligible, min_observed }))))
        }
    }
}

/// Cutoffs as written: numbers are percent, strings are fractions of 1 ("1/3").
pub fn parse_cutoffs(written: &[Number], key: &str) -> Result<Vec<Cutoff>> {
    let mut cutoffs: Vec<Cutoff> = Vec::new();
    for (i, c) in written.iter().enumerate() {
        let key = format!("{key}[{i}]");
        let exact = c.exact().map_err(|m| key_err(&key, m))?;
        let (fraction, shown) = match c {
            Number::Text(_) => (exact.value, format!("\"{}\"", exact)),
            _ => (
                exact::quotient(exact.value, 100).map_err(|e| key_err(&key, e))?,
                format!("{exact}"),
            ),
        };
        if fraction <= Ratio::from_integer(0) || fraction > Ratio::from_integer(1) {
            let hint = match c {
                Number::Text(_) => "a string cutoff is a fraction of 1 such as \"1/3\"; write percent as a number (33.33)",
                _ => "numbers are percent: k must lie in (0, 100]",
            };
            return Err(key_err(
                key,
                format!("cutoff {shown} is outside (0, 100] percent: {hint}"),
            ));
        }
        if cutoffs.iter().any(|k| k.value.value == fraction) {
            return Err(key_err(key, format!("cutoff {shown} is given twice")));
        }
        cutoffs.push(Cutoff {
            value: Exact {
                value: fraction,
                decimal: exact.decimal,
            },
        });
    }
    Ok(cutoffs)
}

/// Cutoffs from the command line: "20,33.33,1/3" (a fraction is of 1, a number is percent).
pub fn cutoffs_from_list(text: &str) -> Result<Vec<Cutoff>> {
    cutoffs_from_flag(text, "--cutoffs")
}

/// Cutoffs from the command line flag `flag`, as [`cutoffs_from_list`].
pub fn cutoffs_from_flag(text: &str, flag: &str) -> Result<Vec<Cutoff>> {
    let mut written = Vec::new();
    for t in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        written.push(if t.contains('/') {
            Number::Text(t.to_string())
        } else {
            Number::Float(t.parse().map_err(|_| {
                key_err(
                    flag,
                    format!("\"{t}\" is not a number: write percent (33.33) or a fraction (1/3)"),
                )
            })?)
        });
    }
    if written.is_empty() {
        return Err(key_err(
            flag,
            format!("give at least one cutoff, e.g. {flag} 20,33.33,50"),
        ));
    }
    parse_cutoffs(&written, flag)
}

fn weights_equal(a: Ratio<i128>, b: Ratio<i128>, decimal: bool) -> bool {
    if a == b {
        return true;
    }
    decimal && (ratio_f64(a) - ratio_f64(b)).abs() <= DECIMAL_SUM_TOLERANCE
}

fn ratio_f64(r: Ratio<i128>) -> f64 {
    *r.numer() as f64 / *r.denom() as f64
}

fn show(r: Ratio<i128>, decimal: bool) -> String {
    if decimal || r.denom().is_multiple_of(&10) {
        format!("{}", ratio_f64(r))
    } else {
        format!("{r}")
    }
}
