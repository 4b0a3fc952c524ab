//! Results files: a frame (or frames of one schema) in, a CSV, Parquet or JSON file out,
//! by extension. Every file goes through [`write_atomically`]: written to a temporary
//! file beside the target, synced and renamed into place, so a run that fails never
//! leaves a half-written file behind.

use std::io::Write as _;
use std::path::Path;

use polars::prelude::*;

use super::csv::csv_header;
use crate::error::{Error, Result};

/// Writes a frame to `path`, format by extension (.csv, .parquet, .json), through a
/// temporary file renamed into place. `-` writes CSV to standard output.
pub fn write_frame(frame: &mut DataFrame, path: &Path) -> Result<()> {
    if path.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        lock.write_all(csv_header(&frame.get_column_names()).as_bytes())
            .map_err(|e| Error::input(path, e.to_string()))?;
        CsvWriter::new(&mut lock)
            .include_header(false)
            .finish(frame)
            .map_err(|e| Error::input(path, e.to_string()))?;
        return lock.flush().map_err(|e| Error::input(path, e.to_string()));
    }
    write_frames(path, &mut std::iter::once(frame.clone())).map(|_| ())
}

/// Writes frames of one schema one after the other into one CSV or Parquet file (JSON
/// takes a single frame), through [`write_atomically`], so that a file too large for
/// memory can be written piece by piece. Returns the rows written.
pub fn write_frames(path: &Path, frames: &mut dyn Iterator<Item = DataFrame>) -> Result<usize> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !matches!(ext.as_str(), "csv" | "parquet" | "json") {
        return Err(Error::input(path, format!(
            "cannot tell the output format from the extension \"{ext}\": use .csv, .parquet or .json (or .xlsx for the workbook of run and compare)")));
    }
    let fail =
        |e: &dyn std::fmt::Display| Error::input(path, format!("cannot write the results: {e}"));
    let mut rows = 0;
    write_atomically(path, |file| {
        let Some(mut first) = frames.next() else {
            return Err(fail(&"nothing to write"));
        };
        rows += first.height();
        if ext == "json" {
            if frames.next().is_some() {
                return Err(fail(&"JSON takes one frame: write .csv or .parquet"));
            }
            return JsonWriter::new(file)
                .with_json_format(JsonFormat::Json)
                .finish(&mut first)
                .map_err(|e| fail(&e));
        }
        // The rest one after the other, through the format's batched writer.
        let mut write_all = |write: &mut dyn FnMut(&DataFrame) -> PolarsResult<()>| {
            write(&first)?;
            for frame in &mut *frames {
                rows += frame.height();
                write(&frame)?;
            }
            Ok::<_, PolarsError>(())
        };
        if ext == "csv" {
            file.write_all(csv_header(&first.get_column_names()).as_bytes())
                .map_err(|e| fail(&e))?;
            let mut w = CsvWriter::new(file)
                .include_header(false)
                .batched(first.schema())
                .map_err(|e| fail(&e))?;
            write_all(&mut |df| w.write_batch(df)).map_err(|e| fail(&e))
        } else {
            let mut w = ParquetWriter::new(file)
                .batched(first.schema())
                .map_err(|e| fail(&e))?;
            write_all(&mut |df| w.write_batch(df)).map_err(|e| fail(&e))?;
            w.finish().map(|_| ()).map_err(|e| fail(&e))
        }
    })?;
    Ok(rows)
}

/// Writes `path` through a temporary file in the same folder, synced and renamed into
/// place: a failed write never leaves a half-written file behind.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::input(
            path,
            format!(
                "the folder {} does not exist: create it first",
                dir.display()
            ),
        ));
    }
    let fail = |e: &dyn std::fmt::Display| Error::input(path, format!("cannot write: {e}"));
    let mut tmp = tempfile::Builder::new()
        .prefix(".afmpi-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| fail(&e))?;
    write(tmp.as_file_mut())?;
    tmp.as_file_mut().sync_all().map_err(|e| fail(&e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
}
