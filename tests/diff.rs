//! `afmpi diff`: the shipped global MPI (2018) and Colombia's IPM side by side, their
//! indicators grouped by the harmonized variables their deprivations read, worked out
//! here from the files' rules; and the command's errors.

mod common;

use std::path::Path;

use afmpi::methodology::alignment::align;
use afmpi::methodology::Methodology;

fn load(name: &str) -> Methodology {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/methodologies")
        .join(name);
    afmpi::methodology::from_file(&path).unwrap()
}

/// The (methodology, indicator name) pairs of the concept holding `indicator` of
/// methodology `m`.
fn concept_of(ms: &[&Methodology], m: usize, indicator: &str) -> Vec<(usize, String)> {
    let concepts = align(ms);
    let c = concepts
        .iter()
        .find(|c| {
            c.members
                .iter()
                .any(|&(i, j)| i == m && ms[i].indicators[j].name == indicator)
        })
        .unwrap_or_else(|| panic!("{indicator} in no concept"));
    c.members
        .iter()
        .map(|&(i, j)| (i, ms[i].indicators[j].name.clone()))
        .collect()
}

#[test]
fn the_global_mpi_and_colombia_aligned_by_concept() {
    let (g, c) = (load("global-mpi-2018.toml"), load("colombia-ipm.toml"));
    let ms = [&g, &c];
    let concepts = align(&ms);
    // Every indicator in exactly one concept.
    let members: usize = concepts.iter().map(|k| k.members.len()).sum();
    assert_eq!(members, g.indicators.len() + c.indicators.len());
    // Years of schooling: the global MPI's, and Colombia's low achievement and school lag
    // (both read years_schooling; age only says who is eligible, or its lag).
    let schooling = concept_of(&ms, 0, "d_educ");
    for name in ["bajo_logro_educativo", "rezago_escolar"] {
        assert!(schooling.contains(&(1, name.to_string())), "{schooling:?}");
    }
    // Housing: floor, roof and walls in one global indicator, floors and walls in two of
    // Colombia's.
    let housing = concept_of(&ms, 0, "d_hsg");
    for name in ["pisos_inadecuados", "paredes_inadecuadas"] {
        assert!(housing.contains(&(1, name.to_string())), "{housing:?}");
    }
    // Colombia's water, sanitation and overcrowding rules all differ between urban and
    // rural areas: the area (a subgroup column) does not make them one concept.
    let water = concept_of(&ms, 1, "sin_fuente_agua_mejorada");
    assert!(water.contains(&(0, "d_wtr".to_string())));
    assert!(!water
        .iter()
        .any(|(_, n)| n == "inadecuada_eliminacion_excretas" || n == "hacinamiento_critico"));
    // Overcrowding and literacy are Colombia's alone; cooking fuel the global MPI's.
    for (m, name) in [
        (1, "hacinamiento_critico"),
        (1, "analfabetismo"),
        (0, "d_ckfl"),
    ] {
        assert_eq!(
            concept_of(&ms, m, name).iter().filter(|x| x.0 != m).count(),
            0,
            "{name}"
        );
    }
    // Concepts measured by both come first.
    let both = concepts
        .iter()
        .take_while(|k| k.methodologies().len() == 2)
        .count();
    assert_eq!(
        both,
        concepts
            .iter()
            .filter(|k| k.methodologies().len() == 2)
            .count()
    );
    assert!(both >= 5);
}

#[test]
fn diff_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("diff.csv");
    let o = common::afmpi(&[
        "diff",
        "data/methodologies/global-mpi-2018.toml",
        "data/methodologies/colombia-ipm.toml",
        "data/methodologies/mexico-coneval.toml",
        "-o",
        out.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for shown in [
        "k = 1/3",
        "k = 33/100",
        "weight 1/18 (5.56%)",
        "measured by one methodology only",
        "mexico-coneval:",
    ] {
        assert!(text.contains(shown), "{shown}: {text}");
    }
    // The weights in the file are the methodologies' exact weights: they add up to 1.
    let df = common::read_csv(&out);
    let (table, spec, weight) = (
        common::texts(&df, "table"),
        common::texts(&df, "spec"),
        common::texts(&df, "weight"),
    );
    for name in ["global-mpi-2018", "colombia-ipm", "mexico-coneval"] {
        let sum: num_rational::Ratio<i128> = (0..df.height())
            .filter(|&i| table[i] == "indicator" && spec[i] == name)
            .map(|i| weight[i].parse::<num_rational::Ratio<i128>>().unwrap())
            .sum();
        assert_eq!(sum, num_rational::Ratio::from_integer(1), "{name}");
    }
    for (args, wanted) in [
        (
            vec!["diff", "data/methodologies/colombia-ipm.toml"],
            "required",
        ),
        (
            vec![
                "diff",
                "data/methodologies/colombia-ipm.toml",
                "nowhere.toml",
            ],
            "nowhere.toml",
        ),
    ] {
        let o = common::afmpi(&args);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(wanted), "{args:?}: {err}");
    }
}
