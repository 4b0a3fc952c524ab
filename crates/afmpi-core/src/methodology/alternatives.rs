//! Alternative weight vectors, for the robustness of comparisons: the `[[weights]]`
//! tables of a methodology file in (each a name and the weights of every dimension, or
//! of every indicator), exact per-indicator weight vectors out ([`WeightVector`]); and
//! the vectors OPHI's robustness tables use, generated ([`Methodology::doubled_dimensions`]).
//!
//! Dimension weights are shared among a dimension's indicators in the proportions of
//! the methodology's own weights (equally when the dimension weighs 0 there), so that an
//! alternative changes the balance between dimensions and nothing else. Every vector
//! sums to 1 exactly (decimals within the tolerance of the methodology's own weights).

use std::collections::BTreeMap;

use num_rational::Ratio;
use num_traits::{CheckedDiv, CheckedMul};
use serde::Deserialize;

use super::{key_err, Methodology};
use crate::error::Result;
use crate::exact::{self, Exact, Number};

/// A `[[weights]]` table as written.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileWeights {
    pub name: String,
    /// Each dimension's weight, by the dimension's name.
    #[serde(default)]
    pub dimensions: BTreeMap<String, Number>,
    /// Each indicator's weight, by its id.
    #[serde(default)]
    pub indicators: BTreeMap<String, Number>,
}

/// A named weight vector: one exact weight per indicator, in the methodology's order.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightVector {
    pub name: String,
    pub weights: Vec<Ratio<i128>>,
}

type Weights = Vec<Ratio<i128>>;

fn too_fine(key: &str) -> impl Fn(String) -> crate::Error + '_ {
    move |e| key_err(key, e)
}

/// Reads and checks the `[[weights]]` tables against the methodology's dimensions and
/// indicators.
pub(super) fn read_alternatives(
    m: &Methodology,
    file: &[FileWeights],
) -> Result<Vec<WeightVector>> {
    let mut out: Vec<WeightVector> = Vec::new();
    for (i, w) in file.iter().enumerate() {
        let key = format!("weights[{i}]");
        if w.name.trim().is_empty() || out.iter().any(|o| o.name == w.name) {
            return Err(key_err(
                format!("{key}.name"),
                format!(
                    "each [[weights]] needs a name of its own (\"{}\" is empty or used twice)",
                    w.name
                ),
            ));
        }
        let weights = match (w.dimensions.is_empty(), w.indicators.is_empty()) {
            (false, true) => by_dimension(m, &w.dimensions, &format!("{key}.dimensions"))?,
            (true, false) => by_indicator(m, &w.indicators, &format!("{key}.indicators"))?,
            _ => {
                return Err(key_err(
                    key,
                    "give either `dimensions = { name = weight, … }` or `indicators = { id = weight, … }`, one of the two",
                ))
            }
        };
        out.push(WeightVector {
            name: w.name.clone(),
            weights,
        });
    }
    Ok(out)
}

/// Each name of `given` one of `names`, every name given once; the values exact, not
/// negative, summing to 1.
fn complete(
    given: &BTreeMap<String, Number>,
    names: &[String],
    what: &str,
    key: &str,
) -> Result<Weights> {
    if let Some(unknown) = given.keys().find(|k| !names.contains(k)) {
        return Err(key_err(
            format!("{key}.{unknown}"),
            format!(
                "no {what} is called \"{unknown}\": the {what}s are {}",
                names.join(", ")
            ),
        ));
    }
    let mut weights = Vec::with_capacity(names.len());
    let mut decimal = false;
    for name in names {
        let Some(n) = given.get(name) else {
            return Err(key_err(
                key,
                format!("{what} \"{name}\" has no weight: give every {what} one"),
            ));
        };
        let w: Exact = n.exact().map_err(|e| key_err(format!("{key}.{name}"), e))?;
        if w.value < Ratio::from_integer(0) {
            return Err(key_err(
                format!("{key}.{name}"),
                format!("weight {w} is negative"),
            ));
        }
        decimal |= w.decimal;
        weights.push(w.value);
    }
    let sum = exact::sum(weights.iter().copied()).map_err(too_fine(key))?;
    let off = (*sum.numer() as f64 / *sum.denom() as f64 - 1.0).abs();
    if sum != Ratio::from_integer(1) && !(decimal && off <= 1e-6) {
        return Err(key_err(
            key,
            format!(
                "the weights sum to {}, not 1",
                *sum.numer() as f64 / *sum.denom() as f64
            ),
        ));
    }
    Ok(weights)
}

fn by_indicator(m: &Methodology, given: &BTreeMap<String, Number>, key: &str) -> Result<Weights> {
    let ids: Vec<String> = m.indicators.iter().map(|i| i.id.clone()).collect();
    complete(given, &ids, "indicator", key)
}

fn by_dimension(m: &Methodology, given: &BTreeMap<String, Number>, key: &str) -> Result<Weights> {
    let names: Vec<String> = m.dimensions.iter().map(|d| d.name.clone()).collect();
    let dimension_weights = complete(given, &names, "dimension", key)?;
    m.spread(&dimension_weights).map_err(too_fine(key))
}

impl Methodology {
    /// Per-indicator weights from one weight per dimension, each shared among the
    /// dimension's indicators as the methodology's own weights share it.
    fn spread(&self, dimension_weights: &[Ratio<i128>]) -> std::result::Result<Weights, String> {
        let zero = Ratio::from_integer(0);
        let mut out = Vec::with_capacity(self.indicators.len());
        for ind in &self.indicators {
            let d = ind.dimension;
            let own = self.dimensions[d].weight.value;
            let members = self.indicators.iter().filter(|i| i.dimension == d).count() as i128;
            let share = if own == zero {
                Ratio::new(1, members.max(1))
            } else {
                ind.weight.value.checked_div(&own).ok_or(exact::TOO_FINE)?
            };
            out.push(
                dimension_weights[d]
                    .checked_mul(&share)
                    .ok_or(exact::TOO_FINE)?,
            );
        }
        Ok(out)
    }

    /// OPHI's alternatives: each dimension in turn given twice its weight, all weights
    /// then rescaled to sum to 1 (with three equal dimensions, 50 % and 25 % each: the
    /// global MPI's robustness tables). None for a single dimension.
    pub fn doubled_dimensions(&self) -> Result<Vec<WeightVector>> {
        if self.dimensions.len() < 2 {
            return Ok(Vec::new());
        }
        let one = Ratio::from_integer(1);
        let mut out = Vec::new();
        for (d, dim) in self.dimensions.iter().enumerate() {
            let total = one + dim.weight.value;
            let scaled: Option<Weights> = self
                .dimensions
                .iter()
                .enumerate()
                .map(|(e, other)| {
                    let times = Ratio::from_integer(if e == d { 2 } else { 1 });
                    other.weight.value.checked_mul(&times)?.checked_div(&total)
                })
                .collect();
            let scaled = scaled.ok_or_else(|| key_err("dimension", exact::TOO_FINE))?;
            out.push(WeightVector {
                name: format!("{} ×2", dim.name),
                weights: self.spread(&scaled).map_err(too_fine("dimension"))?,
            });
        }
        Ok(out)
    }

    /// The methodology with these indicator weights (its dimensions' weights their
    /// sums) and these cutoffs; its named groups left out, its headline the first cutoff.
    pub fn reweighted(
        &self,
        weights: &[Ratio<i128>],
        cutoffs: Vec<super::Cutoff>,
    ) -> Result<Methodology> {
        let mut m = self.clone();
        for (ind, &w) in m.indicators.iter_mut().zip(weights) {
            ind.weight = Exact {
                value: w,
                decimal: false,
            };
        }
        for (d, dim) in m.dimensions.iter_mut().enumerate() {
            let own = (self.indicators.iter().zip(weights))
                .filter(|(i, _)| i.dimension == d)
                .map(|(_, &w)| w);
            dim.weight.value = exact::sum(own).map_err(too_fine("weights"))?;
        }
        m.cutoffs = cutoffs;
        m.groups.clear();
        m.headline = super::Headline::Cutoff(0);
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::BASE;
    use super::*;
    use crate::rules::Words;

    fn with(weights: &str) -> Result<Methodology> {
        Methodology::from_toml(&format!("{BASE}\n{weights}"), &Words)
    }

    #[test]
    fn dimension_weights_are_shared_as_the_methodology_shares_them() {
        // health (a, b: 1/4 each of its 1/2) and living (c: 1/2).
        let m = with("[[weights]]\nname = \"health heavy\"\ndimensions = { health = \"3/4\", living = 0.25 }\n").unwrap();
        let w = &m.alternative_weights[0];
        assert_eq!(w.name, "health heavy");
        assert_eq!(
            w.weights,
            vec![Ratio::new(3, 8), Ratio::new(3, 8), Ratio::new(1, 4)]
        );
        let m = with("[[weights]]\nname = \"flat\"\nindicators = { a = \"1/3\", b = \"1/3\", c = \"1/3\" }\n").unwrap();
        assert_eq!(m.alternative_weights[0].weights, vec![Ratio::new(1, 3); 3]);
    }

    #[test]
    fn doubling_three_equal_dimensions_gives_half_and_quarters() {
        let text = BASE.replace("name = \"living\"", "name = \"work\"\n[[dimension.indicator]]\ncolumn = \"d\"\n[[dimension]]\nname = \"living\"");
        let m = Methodology::from_toml(&text, &Words).unwrap();
        let doubled = m.doubled_dimensions().unwrap();
        assert_eq!(doubled.len(), 3);
        // health (a, b), work (d), living (c): health doubled is 1/2, shared by a and b.
        assert_eq!(doubled[0].name, "health ×2");
        assert_eq!(
            doubled[0].weights,
            vec![
                Ratio::new(1, 4),
                Ratio::new(1, 4),
                Ratio::new(1, 4),
                Ratio::new(1, 4)
            ]
        );
        assert_eq!(
            doubled[2].weights,
            vec![
                Ratio::new(1, 8),
                Ratio::new(1, 8),
                Ratio::new(1, 4),
                Ratio::new(1, 2)
            ]
        );
        for d in &doubled {
            assert_eq!(
                d.weights.iter().sum::<Ratio<i128>>(),
                Ratio::from_integer(1)
            );
        }
    }

    #[test]
    fn bad_alternatives_name_their_key() {
        let cases = [
            (
                "dimensions = { health = 0.5, work = 0.5 }",
                "weights[0].dimensions.work",
            ),
            ("dimensions = { health = 1 }", "\"living\" has no weight"),
            ("dimensions = { health = 0.5, living = 0.6 }", "sum to 1.1"),
            ("indicators = { a = 0.5, b = 0.5, c = -0.0001 }", "negative"),
            (
                "dimensions = { health = 1, living = 0 }\nindicators = { a = 1, b = 0, c = 0 }",
                "one of the two",
            ),
        ];
        for (body, wanted) in cases {
            let e = with(&format!("[[weights]]\nname = \"x\"\n{body}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(wanted), "{body}: {e}");
        }
        let twice = "[[weights]]\nname = \"x\"\ndimensions = { health = 1, living = 0 }\n";
        let e = with(&format!("{twice}{twice}")).unwrap_err().to_string();
        assert!(e.contains("weights[1].name"), "{e}");
    }

    #[test]
    fn an_absent_optional_indicator_is_shared_out_of_the_alternatives_too() {
        let m = with(
            "[[weights]]\nname = \"h\"\ndimensions = { health = \"3/4\", living = \"1/4\" }\n",
        )
        .unwrap();
        // Without b, a carries health's 3/4 in the alternative, as it carries 1/2 in the
        // methodology.
        let m = m.without(&[1]).unwrap();
        assert_eq!(
            m.alternative_weights[0].weights,
            vec![Ratio::new(3, 4), Ratio::new(1, 4)]
        );
        assert_eq!(m.indicators[0].weight.value, Ratio::new(1, 2));
    }
}
