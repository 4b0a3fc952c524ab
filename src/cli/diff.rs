//! `afmpi diff M1.toml M2.toml … [-o FILE]`: methodologies side by side, without a
//! survey — their unit, cutoffs and identification, and their indicators aligned by the
//! harmonized variables their deprivations read, with each one's weight and rule.

use std::path::PathBuf;

use afmpi::{diff, output, Error, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Two or more methodology files.
    #[arg(required = true, num_args = 2..)]
    pub methodologies: Vec<PathBuf>,
    /// Also write the table to this file (.csv, .parquet or .json).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    if args.methodologies.len() < 2 {
        return Err(Error::Usage(
            "diff needs two methodology files or more".into(),
        ));
    }
    let ms = args
        .methodologies
        .iter()
        .map(|p| afmpi::methodology::from_file(p))
        .collect::<Result<Vec<_>>>()?;
    let refs: Vec<_> = ms.iter().collect();
    let mut text = diff::summary(&refs);
    if let Some(path) = &args.output {
        let mut frame = diff::frame(&refs);
        output::write_frame(&mut frame, path)?;
        text.push_str(&format!(
            "diff: {} ({} rows)\n",
            path.display(),
            output::count(frame.height())
        ));
    }
    print!("{text}");
    Ok(())
}
