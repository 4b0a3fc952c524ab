//! Methodologies side by side: several validated methodologies in; their indicators
//! grouped into concepts — the indicators of any methodology whose deprivations read the
//! same harmonized variables — and each indicator's deprivation rule in words out.
//!
//! Two indicators measure one concept when their deprivations read a variable in common
//! (years of schooling in the global MPI and in Colombia's low educational achievement;
//! the floor in the global MPI's housing and in Colombia's floors): concepts are the
//! connected groups of that relation, so one methodology's housing (floor, walls, roof)
//! and another's two indicators of floors and of walls are one concept. Variables that
//! only say who is eligible (an age, read by some eligibility condition) do not link
//! indicators, or every indicator about children would be one concept.

use std::collections::{BTreeMap, BTreeSet};

use super::{Methodology, Source};
use crate::rules::{Aggregate, Comparison, NoEligible, Rule};

/// Indicators of several methodologies that measure one thing.
#[derive(Clone, Debug, PartialEq)]
pub struct Concept {
    /// The variables their deprivations read (those that link them), sorted.
    pub variables: Vec<String>,
    /// (methodology, indicator) pairs, in the methodologies' order.
    pub members: Vec<(usize, usize)>,
}

impl Concept {
    /// The methodologies that measure the concept, each once.
    pub fn methodologies(&self) -> Vec<usize> {
        let mut m: Vec<usize> = self.members.iter().map(|&(m, _)| m).collect();
        m.dedup();
        m
    }
}

/// The variables an indicator's deprivation reads: its column, or its rule's
/// deprivation (not its eligibility).
fn deprivation_variables(source: &Source) -> Vec<String> {
    match source {
        Source::Column(c) | Source::Achievement { column: c, .. } => vec![c.clone()],
        Source::Rule(rule) => rule.deprived.columns.clone(),
    }
}

/// The variables that only say who counts or where: those some eligibility condition
/// reads (an age), and the survey's design and subgroup columns (a rule that differs
/// between urban and rural areas does not measure the area).
fn context_variables(methodologies: &[&Methodology]) -> BTreeSet<String> {
    let mut context = BTreeSet::new();
    for m in methodologies {
        for ind in &m.indicators {
            if let Source::Rule(rule) = &ind.source {
                context.extend(rule.eligible.iter().flat_map(|e| e.columns.iter().cloned()));
            }
        }
        let s = &m.survey;
        context.extend(s.over.iter().cloned());
        let design = [
            &s.weight,
            &s.strata,
            &s.psu,
            &s.round,
            &s.year,
            &s.household,
            &s.household_size,
        ];
        context.extend(design.into_iter().flatten().cloned());
    }
    context
}

/// The concepts of `methodologies`: those most methodologies measure first, then in the
/// order their first indicator comes.
pub fn align(methodologies: &[&Methodology]) -> Vec<Concept> {
    let context = context_variables(methodologies);
    let filters = &context;
    let items: Vec<((usize, usize), Vec<String>)> = (methodologies.iter().enumerate())
        .flat_map(|(m, meth)| {
            meth.indicators.iter().enumerate().map(move |(j, ind)| {
                let all = deprivation_variables(&ind.source);
                let linking: Vec<String> = all
                    .iter()
                    .filter(|v| !filters.contains(*v))
                    .cloned()
                    .collect();
                ((m, j), if linking.is_empty() { all } else { linking })
            })
        })
        .collect();
    // Union-find over the items, joined through each variable's first item.
    let mut parent: Vec<usize> = (0..items.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first_with: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, (_, variables)) in items.iter().enumerate() {
        for v in variables {
            let other = *first_with.entry(v.as_str()).or_insert(i);
            let (a, b) = (root(&mut parent, i), root(&mut parent, other));
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: BTreeMap<usize, Concept> = BTreeMap::new();
    for (i, ((m, j), variables)) in items.iter().enumerate() {
        let concept = groups.entry(root(&mut parent, i)).or_insert(Concept {
            variables: Vec::new(),
            members: Vec::new(),
        });
        concept.members.push((*m, *j));
        concept.variables.extend(variables.iter().cloned());
    }
    let mut concepts: Vec<Concept> = groups.into_values().collect();
    for c in &mut concepts {
        c.variables.sort();
        c.variables.dedup();
    }
    // The groups come in the order of their first item; stable sort by coverage.
    concepts.sort_by_key(|c| std::cmp::Reverse(c.methodologies().len()));
    concepts
}

/// An indicator's deprivation in words: the column or the rule, who is eligible, how
/// members make the household, and what a household without eligible members gets.
pub fn deprivation_rule(source: &Source) -> String {
    match source {
        Source::Column(c) => format!("{c} = 1"),
        Source::Achievement { column, cutoff } => format!("{column} < {cutoff}"),
        Source::Rule(rule) => rule_in_words(rule),
    }
}

fn rule_in_words(rule: &Rule) -> String {
    let deprived = &rule.deprived.text;
    let members = match &rule.eligible {
        Some(e) => format!("members with {}", e.text),
        None => "members".to_string(),
    };
    let how = match rule.aggregate {
        None => return deprived.clone(),
        Some(Aggregate::Any) => format!("any of its {members}: {deprived}"),
        Some(Aggregate::All) => format!("all its {members}: {deprived}"),
        Some(Aggregate::None) => format!("none of its {members}: {deprived}"),
        Some(Aggregate::Share { share, strict }) => {
            let op = if strict { ">" } else { ">=" };
            format!("a share {op} {share} of its {members}: {deprived}")
        }
        Some(Aggregate::Mean { op, value }) => {
            let op = match op {
                Comparison::Lt => "<",
                Comparison::Le => "<=",
                Comparison::Gt => ">",
                Comparison::Ge => ">=",
            };
            format!("the mean of {deprived} over its {members} {op} {value}")
        }
    };
    let without = match rule.no_eligible {
        NoEligible::NotDeprived => "not deprived",
        NoEligible::Deprived => "deprived",
        NoEligible::Missing => "missing",
    };
    format!("household: {how} (without such members: {without})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Words;

    fn methodology(name: &str, indicators: &[(&str, &str, &str)]) -> Methodology {
        let mut text = format!("name = \"{name}\"\ncutoffs = [33]\n[[dimension]]\nname = \"d\"\n");
        for (id, deprived, eligible) in indicators {
            text.push_str(&format!(
                "[[dimension.indicator]]\nname = \"{id}\"\ndeprived = \"{deprived}\"\neligible = \"{eligible}\"\naggregate = \"any\"\n"
            ));
        }
        text.push_str("[survey]\nhousehold = \"hh\"\nover = [\"area\"]\n");
        Methodology::from_toml(&text, &Words).unwrap()
    }

    /// Age says who is eligible and the area where a rule changes: neither makes two
    /// indicators one concept; a variable in common does, across methodologies and
    /// through chains (floor with walls, walls with roof).
    #[test]
    fn concepts_join_shared_variables_but_not_context() {
        let a = methodology(
            "a",
            &[
                ("lag", "years_schooling < age - 8", "age BETWEEN 7 AND 17"),
                ("house", "floor = 11 OR walls = 11", "age >= 0"),
                (
                    "water",
                    "CASE WHEN area = 'urban' THEN water_source > 12 ELSE water_source > 40 END",
                    "age >= 0",
                ),
            ],
        );
        let b = methodology(
            "b",
            &[
                ("pension", "pension_receives = 0 AND age >= 65", "age >= 0"),
                ("roof", "walls = 12 OR roof = 13", "age >= 0"),
                (
                    "toilet",
                    "CASE WHEN area = 'urban' THEN toilet <> 11 ELSE toilet > 12 END",
                    "age >= 0",
                ),
            ],
        );
        let concepts = align(&[&a, &b]);
        let of = |m: usize, j: usize| {
            concepts
                .iter()
                .position(|c| c.members.contains(&(m, j)))
                .unwrap()
        };
        assert_eq!(of(0, 1), of(1, 1), "house and roof share walls");
        assert_eq!(concepts[of(0, 1)].variables, ["floor", "roof", "walls"]);
        assert_ne!(of(0, 0), of(1, 0), "lag and pension share only age");
        assert_ne!(of(0, 2), of(1, 2), "water and toilet share only the area");
        assert_eq!(concepts.len(), 5);
        assert_eq!(
            concepts[0].methodologies(),
            [0, 1],
            "the shared concept first"
        );
    }
}
