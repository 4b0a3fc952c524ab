//! `afmpi init [--from NAME]`: a commented methodology file to start from, written to
//! standard output (`afmpi init > my.toml`). The templates are the files shipped in
//! data/, built into the program so that `init` works anywhere.

use afmpi::{Error, Result};

/// The templates: name, what it is, the file's text.
pub const TEMPLATES: [(&str, &str, &str); 8] = [
    (
        "global-mpi",
        "the global MPI on ready 0/1 deprivation columns (d_*)",
        include_str!("../../data/global-mpi.toml"),
    ),
    (
        "global-mpi-2018",
        "the global MPI (2018) from raw survey variables, with vulnerable and severe bands",
        include_str!("../../data/methodologies/global-mpi-2018.toml"),
    ),
    (
        "global-mpi-2010",
        "the original global MPI (2010) from raw survey variables",
        include_str!("../../data/methodologies/global-mpi-2010.toml"),
    ),
    (
        "colombia",
        "Colombia's IPM (DNP/DANE), households",
        include_str!("../../data/methodologies/colombia-ipm.toml"),
    ),
    (
        "chile",
        "Chile's multidimensional poverty (2015, with networks and cohesion)",
        include_str!("../../data/methodologies/chile-2015.toml"),
    ),
    (
        "mexico",
        "Mexico's CONEVAL measure: social rights with income lines, five groups",
        include_str!("../../data/methodologies/mexico-coneval.toml"),
    ),
    (
        "ecuador",
        "Ecuador's IPM (INEC)",
        include_str!("../../data/methodologies/ecuador-ipm.toml"),
    ),
    (
        "el-salvador",
        "El Salvador's IPM (STPP/MINEC-DIGESTYC)",
        include_str!("../../data/methodologies/el-salvador-ipm.toml"),
    ),
];

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The methodology to start from (see --list); default: global-mpi.
    #[arg(long, default_value = "global-mpi")]
    pub from: String,
    /// List the templates instead.
    #[arg(long)]
    pub list: bool,
}

pub fn run(args: Args) -> Result<()> {
    if args.list {
        for (name, about, _) in TEMPLATES {
            println!("{name:<16} {about}");
        }
        return Ok(());
    }
    match TEMPLATES.iter().find(|(name, _, _)| *name == args.from) {
        Some((_, _, text)) => {
            print!("{text}");
            Ok(())
        }
        None => Err(Error::Usage(format!(
            "no template named `{}`: choose one of {} (afmpi init --list says what each is)",
            args.from,
            TEMPLATES
                .iter()
                .map(|(n, _, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}
