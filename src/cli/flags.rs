//! Flags shared by the subcommands that run methodologies: the survey's columns and the
//! settings of the inference.

use afmpi::inference::{self, Settings};
use afmpi::methodology::{cutoffs_from_list, Methodology, SurveyColumns};
use afmpi::{Error, Result};

/// Survey columns; each overrides the methodology's `[survey]` key.
#[derive(clap::Args, Debug, Clone)]
pub struct SurveyFlags {
    /// Sampling weight column (overrides survey.weight).
    #[arg(long)]
    pub weight: Option<String>,
    /// Stratum column (overrides survey.strata).
    #[arg(long)]
    pub strata: Option<String>,
    /// Primary sampling unit column (overrides survey.psu); `household` makes the
    /// households (the --household column) the sampling units.
    #[arg(long)]
    pub psu: Option<String>,
    /// Subgroup columns, comma-separated (overrides survey.over).
    #[arg(long, value_delimiter = ',')]
    pub over: Option<Vec<String>>,
    /// Survey round column (overrides survey.round).
    #[arg(long)]
    pub round: Option<String>,
    /// Year column (overrides survey.year).
    #[arg(long)]
    pub year: Option<String>,
    /// Household id column, for rules aggregated over members (overrides survey.household).
    #[arg(long)]
    pub household: Option<String>,
    /// A TOML file with a [columns] table naming this survey's own columns
    /// (harmonized = "survey"); it adds to and overrides the methodology's [columns].
    #[arg(long)]
    pub columns: Option<std::path::PathBuf>,
    /// PSU ids seen in several rounds: panel (one PSU followed across rounds, the
    /// default, as mpitb and mpitbR) or distinct (a different PSU in each round);
    /// overrides survey.psu_across_rounds.
    #[arg(long, value_enum)]
    pub psu_across_rounds: Option<PsuAcrossRounds>,
    /// The unit of analysis: person (the default) or household (each household once,
    /// with its weight, its rows found by --household); overrides survey.unit.
    #[arg(long, value_enum)]
    pub unit: Option<Unit>,
    /// Rows that miss an indicator: drop (out of the design, the default, as mpitb) or
    /// domain (kept in the design outside every domain, as R's survey package); overrides
    /// survey.missing_rows.
    #[arg(long, value_enum)]
    pub missing_rows: Option<MissingRows>,
    #[command(flatten)]
    pub file: FileFlags,
}

/// How the survey files are written; each overrides a `[survey]` key.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FileFlags {
    /// CSV separator: , ; | or tab (overrides survey.delimiter; found in the header by default).
    #[arg(long)]
    pub delimiter: Option<String>,
    /// CSV numbers have decimal commas (12,5); found in a semicolon-separated file by default.
    #[arg(long)]
    pub decimal_comma: bool,
    /// CSV text encoding: utf-8 (the default), latin1 (windows-1252) or another label.
    #[arg(long)]
    pub encoding: Option<String>,
    /// Missing-value codes of numeric columns, comma-separated: text as written (., NA)
    /// and numbers (-99, 998); overrides survey.missing (default: . and NA).
    #[arg(long, value_delimiter = ',')]
    pub missing: Option<Vec<String>>,
}

impl FileFlags {
    /// The flags written into the survey settings.
    pub fn apply(&self, survey: &mut SurveyColumns) {
        if let Some(d) = &self.delimiter {
            survey.delimiter = Some(d.clone());
        }
        if self.decimal_comma {
            survey.decimal_comma = Some(true);
        }
        if let Some(e) = &self.encoding {
            survey.encoding = Some(e.clone());
        }
        if let Some(codes) = &self.missing {
            survey.missing = Some(
                codes
                    .iter()
                    .map(|c| afmpi::methodology::MissingCode::Text(c.clone()))
                    .collect(),
            );
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnsFile {
    columns: std::collections::BTreeMap<String, String>,
}

impl SurveyFlags {
    /// The methodology's survey columns with the flags applied; and the column mapping
    /// of a `--columns` file merged into the methodology.
    pub fn apply(&self, m: &mut Methodology) -> Result<SurveyColumns> {
        if let Some(path) = &self.columns {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::input(path, format!("cannot read the columns file: {e}")))?;
            let file: ColumnsFile = toml::from_str(&text).map_err(|e| {
                Error::input(path, format!("{}: the file holds one [columns] table of harmonized = \"survey name\" pairs", e.to_string().trim_end()))
            })?;
            m.columns.extend(file.columns);
        }
        let mut survey = m.survey.clone();
        let set = |slot: &mut Option<String>, flag: &Option<String>| {
            if let Some(v) = flag {
                *slot = Some(v.clone());
            }
        };
        set(&mut survey.weight, &self.weight);
        set(&mut survey.strata, &self.strata);
        set(&mut survey.psu, &self.psu);
        set(&mut survey.round, &self.round);
        set(&mut survey.year, &self.year);
        set(&mut survey.household, &self.household);
        if let Some(p) = self.psu_across_rounds {
            survey.psu_across_rounds = Some(p.into());
        }
        if let Some(u) = self.unit {
            survey.unit = Some(u.into());
        }
        if let Some(r) = self.missing_rows {
            survey.missing_rows = Some(r.into());
        }
        self.file.apply(&mut survey);
        if let Some(over) = &self.over {
            survey.over = over
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        // `--psu household`: the households (the --household column) are the PSUs.
        Ok(survey.resolved())
    }
}

/// A methodology file run on a survey file with the flags applied: what `report` and
/// `assoc` start from.
pub fn analysis_of(
    methodology: &std::path::Path,
    data: &std::path::Path,
    survey: &SurveyFlags,
    inference: &InferenceFlags,
) -> Result<(afmpi::Analysis, Settings)> {
    let mut m = afmpi::methodology::from_file(methodology)?;
    let settings = inference.apply(&mut m)?;
    let survey = survey.apply(&mut m)?;
    let analysis = afmpi::analyse_files(&m, &survey, &settings, data, None)?;
    Ok((analysis, settings))
}

/// Settings of the standard errors, intervals and changes.
#[derive(clap::Args, Debug, Clone)]
pub struct InferenceFlags {
    /// Poverty cutoffs: percent (20,33.33) or fractions of 1 (1/3); overrides `cutoffs`.
    #[arg(long)]
    pub cutoffs: Option<String>,
    /// Confidence level of the intervals.
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Intervals for levels: logit (as mpitbR, inside [0, 1]) or wald (symmetric).
    #[arg(long, value_enum, default_value_t = Interval::Logit)]
    pub ci: Interval,
    /// Strata with a single PSU: fail, remove, adjust or average (the survey package's options).
    #[arg(long, value_enum, default_value_t = LonelyPsu::Fail)]
    pub lonely_psu: LonelyPsu,
    /// Changes between rounds: total (first to last) or insequence (each to the next).
    #[arg(long, value_enum, default_value_t = ChangePairs::Total)]
    pub changes: ChangePairs,
}

impl InferenceFlags {
    /// The settings, and the cutoffs applied to the methodology.
    pub fn apply(&self, m: &mut Methodology) -> Result<Settings> {
        if let Some(list) = &self.cutoffs {
            m.cutoffs = cutoffs_from_list(list)?;
            m.headline = afmpi::methodology::Headline::Cutoff(0);
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(Error::Usage(format!(
                "--level {} is not a confidence level: give a number between 0 and 1, such as 0.95",
                self.level
            )));
        }
        Ok(Settings {
            level: self.level,
            interval: self.ci.into(),
            lonely_psu: self.lonely_psu.into(),
            changes: self.changes.into(),
        })
    }
}

/// The engine's settings as command-line values: each flag's values with their help,
/// turned into the engine's types (the engine knows nothing of clap).
macro_rules! value_enum {
    ($(#[$doc:meta])* $name:ident => $engine:path { $($(#[$vdoc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl From<$name> for $engine {
            fn from(v: $name) -> $engine {
                match v {
                    $($name::$variant => <$engine>::$variant),+
                }
            }
        }
    };
}

value_enum! {
    /// What to do with a stratum that has a single PSU (the survey package's options).
    LonelyPsu => inference::LonelyPsu {
        /// Stop with an error naming the stratum (the default).
        Fail,
        /// The stratum contributes nothing to the variance.
        Remove,
        /// The stratum's PSU is centred on the grand mean of all PSU totals instead of its
        /// stratum's mean.
        Adjust,
        /// The stratum gets the average variance contribution of the other strata.
        Average,
    }
}

value_enum! {
    /// The kind of confidence interval for levels.
    Interval => inference::Interval {
        /// On the logit scale with the t quantile (mpitbR, svyciprop): stays inside [0, 1].
        Logit,
        /// Symmetric: estimate ± t quantile × standard error.
        Wald,
    }
}

value_enum! {
    /// Which pairs of rounds changes compare.
    ChangePairs => inference::ChangePairs {
        /// First round to last.
        Total,
        /// Each round to the next.
        Insequence,
    }
}

value_enum! {
    /// How PSU ids seen in several rounds are read.
    PsuAcrossRounds => afmpi::methodology::PsuAcrossRounds {
        /// The same PSU followed across rounds (the default).
        Panel,
        /// A different PSU in each round.
        Distinct,
    }
}

value_enum! {
    /// The unit of analysis.
    Unit => afmpi::methodology::Unit {
        /// Each person once.
        Person,
        /// Each household once.
        Household,
    }
}

value_enum! {
    /// What becomes of the rows that miss an indicator.
    MissingRows => afmpi::methodology::MissingRows {
        /// Out of the design (the default, as mpitb and mpitbR).
        Drop,
        /// In the design, outside every domain (as R's survey package).
        Domain,
    }
}
