//! Results files: a frame (or frames of one schema) in, a CSV, Parquet or JSON file out,
//! by extension. Every file goes through a temporary file beside the target, synced and
//! renamed into place ([`write_atomically`], or [`FrameSink`] for a file written a frame
//! at a time), so a run that fails never leaves a half-written file behind.

use std::io::Write as _;
use std::path::Path;

use polars::io::parquet::write::{
    get_encodings, BatchedWriter, ParquetCompression, StatisticsOptions,
};
use polars::prelude::*;
use polars_parquet::write::{array_to_columns, compress, CompressedPage, Version, WriteOptions};
use rayon::prelude::*;

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
/// takes a single frame), through a temporary file renamed into place, so that a file
/// too large for memory can be written piece by piece. Returns the rows written.
pub fn write_frames(path: &Path, frames: &mut dyn Iterator<Item = DataFrame>) -> Result<usize> {
    let format = OutputFormat::of(path)?;
    if format == OutputFormat::Json {
        let Some(mut first) = frames.next() else {
            return Err(cannot_write(path, &"nothing to write"));
        };
        if frames.next().is_some() {
            return Err(cannot_write(
                path,
                &"JSON takes one frame: write .csv or .parquet",
            ));
        }
        let rows = first.height();
        write_atomically(path, |file| {
            JsonWriter::new(file)
                .with_json_format(JsonFormat::Json)
                .finish(&mut first)
                .map_err(|e| cannot_write(path, &e))
        })?;
        return Ok(rows);
    }
    let mut sink = FrameSink::new(path)?;
    for frame in frames {
        sink.write(&frame)?;
    }
    sink.finish()
}

/// The formats of a results file, by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OutputFormat {
    Csv,
    Parquet,
    Json,
    /// Stata: written through a Parquet staging file ([`super::dta`]).
    Dta,
}

impl OutputFormat {
    fn of(path: &Path) -> Result<OutputFormat> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Ok(OutputFormat::Csv),
            "parquet" => Ok(OutputFormat::Parquet),
            "json" => Ok(OutputFormat::Json),
            "dta" => Ok(OutputFormat::Dta),
            _ => Err(Error::input(path, format!(
                "cannot tell the output format from the extension \"{ext}\": use .csv, .parquet, .json or .dta (or .xlsx for the workbook of run and compare)"))),
        }
    }
}

fn cannot_write(path: &Path, e: &dyn std::fmt::Display) -> Error {
    Error::input(path, format!("cannot write the results: {e}"))
}

/// The most rows a row group of a Parquet file we write holds (as the writers of
/// Python's polars and pyarrow cut theirs by default: 2^18 and 2^20). A reader that takes the file in batches
/// then decodes each row group once (the survey shape as one row group of 2.8 million
/// rows, read in slices of 524,288: 0-13 % slower in runs taking turns, and 100 against
/// 25 ms a slice when the machine was slow; BENCHMARKS.md, "Issue 15, seventh step").
pub const ROW_GROUP_ROWS: usize = 1 << 18;

/// The compression of the Parquet files we write (polars' default).
const PARQUET_COMPRESSION: ParquetCompression = ParquetCompression::Zstd(None);

/// How we write Parquet: polars' defaults (zstd, statistics, format version 1), named
/// here once for the writer and for the pages [`write_row_groups`] makes.
fn parquet_options() -> WriteOptions {
    WriteOptions {
        statistics: StatisticsOptions::default(),
        compression: PARQUET_COMPRESSION.into(),
        version: Version::V1,
        data_page_size: None,
    }
}

/// polars' Parquet writer with [`parquet_options`].
fn parquet_writer(file: std::fs::File) -> ParquetWriter<std::fs::File> {
    let options = parquet_options();
    ParquetWriter::new(file)
        .with_compression(PARQUET_COMPRESSION)
        .with_statistics(options.statistics)
        .with_data_page_size(options.data_page_size)
}

/// A frame as row groups of at most [`ROW_GROUP_ROWS`] rows (polars' batched writer
/// makes one of each chunk of the frame, whatever its size), each column of a group
/// encoded and compressed on a thread of its own. polars' `write_batch` encodes the
/// columns in parallel but compresses their pages one column after another as it writes
/// them; the survey shape's 17 columns of results take 22 ms of CPU, now 12.5 ms on two
/// threads (BENCHMARKS.md, "Issue 15, eighth step"). The same encoder, compressor and
/// options make the same bytes (a test compares the two files).
fn write_row_groups(w: &mut BatchedWriter<std::fs::File>, frame: &DataFrame) -> PolarsResult<()> {
    let options = parquet_options();
    let encodings = get_encodings(&frame.schema().to_arrow(CompatLevel::newest()));
    let fields = w.parquet_schema().fields().to_vec();
    for offset in (0..frame.height()).step_by(ROW_GROUP_ROWS) {
        let mut group = frame.slice(offset as i64, ROW_GROUP_ROWS);
        // Parquet's row groups want the columns cut into the same chunks.
        group.align_chunks();
        for batch in group.iter_chunks(CompatLevel::newest(), false) {
            if batch.is_empty() {
                continue;
            }
            let columns = (batch.columns().par_iter())
                .zip(&fields)
                .zip(encodings.as_ref());
            let pages: Vec<Vec<Vec<CompressedPage>>> = columns
                .map(|((array, field), encoding)| {
                    array_to_columns(array, field.clone(), options, encoding)?
                        .into_iter()
                        .map(|pages| {
                            pages
                                .map(|page| Ok(compress(page?, Vec::new(), options.compression)?))
                                .collect::<PolarsResult<Vec<_>>>()
                        })
                        .collect()
                })
                .collect::<PolarsResult<_>>()?;
            let pages: Vec<Vec<CompressedPage>> = pages.into_iter().flatten().collect();
            w.write_row_group(batch.len() as u64, &pages)?;
        }
    }
    Ok(())
}

/// A CSV, Parquet or Stata file written a frame at a time (frames of one schema), into a
/// temporary file beside the target that [`FrameSink::finish`] renames into place:
/// dropped unfinished (a run that fails), it leaves nothing behind. A Stata file is
/// staged as Parquet and converted at the end ([`super::dta`]).
pub struct FrameSink {
    path: std::path::PathBuf,
    format: OutputFormat,
    tmp: tempfile::NamedTempFile,
    /// Under Stata: the Parquet file the frames go to first.
    staging: Option<tempfile::NamedTempFile>,
    writer: Option<BatchedFrameWriter>,
    rows: usize,
}

enum BatchedFrameWriter {
    Csv(polars::io::csv::write::BatchedWriter<std::fs::File>),
    Parquet(Box<BatchedWriter<std::fs::File>>),
}

impl FrameSink {
    /// A sink for `path` (.csv or .parquet).
    pub fn new(path: &Path) -> Result<FrameSink> {
        let format = OutputFormat::of(path)?;
        if format == OutputFormat::Json {
            return Err(cannot_write(
                path,
                &"a file written piece by piece is .csv, .parquet or .dta",
            ));
        }
        Ok(FrameSink {
            path: path.to_path_buf(),
            format,
            tmp: temporary_beside(path)?,
            staging: match format {
                OutputFormat::Dta => Some(temporary_beside(path)?),
                _ => None,
            },
            writer: None,
            rows: 0,
        })
    }

    /// Appends a frame (the first fixes the schema).
    pub fn write(&mut self, frame: &DataFrame) -> Result<()> {
        let path = &self.path;
        let fail = |e: &dyn std::fmt::Display| cannot_write(path, e);
        if self.writer.is_none() {
            let into = self.staging.as_ref().unwrap_or(&self.tmp);
            let mut file = into.as_file().try_clone().map_err(|e| fail(&e))?;
            self.writer = Some(match self.format {
                OutputFormat::Csv => {
                    file.write_all(csv_header(&frame.get_column_names()).as_bytes())
                        .map_err(|e| fail(&e))?;
                    BatchedFrameWriter::Csv(
                        CsvWriter::new(file)
                            .include_header(false)
                            .batched(frame.schema())
                            .map_err(|e| fail(&e))?,
                    )
                }
                _ => BatchedFrameWriter::Parquet(Box::new(
                    parquet_writer(file)
                        .batched(frame.schema())
                        .map_err(|e| fail(&e))?,
                )),
            });
        }
        match self.writer.as_mut().expect("made above") {
            BatchedFrameWriter::Csv(w) => w.write_batch(frame),
            BatchedFrameWriter::Parquet(w) => write_row_groups(w, frame),
        }
        .map_err(|e| fail(&e))?;
        self.rows += frame.height();
        Ok(())
    }

    /// Finishes the file and renames it into place; the rows written.
    pub fn finish(mut self) -> Result<usize> {
        let path = self.path.clone();
        let fail = |e: &dyn std::fmt::Display| cannot_write(&path, e);
        match self.writer.take() {
            None => return Err(fail(&"nothing to write")),
            Some(BatchedFrameWriter::Csv(w)) => drop(w),
            Some(BatchedFrameWriter::Parquet(w)) => {
                w.finish().map_err(|e| fail(&e))?;
            }
        }
        if let Some(staging) = self.staging.take() {
            let out = self.tmp.as_file().try_clone().map_err(|e| fail(&e))?;
            super::dta::parquet_to_dta(
                staging.path(),
                std::io::BufWriter::new(out),
                &path,
                "afmpi",
            )?;
        }
        persist(self.tmp, &path)?;
        Ok(self.rows)
    }
}

/// Writes `path` through a temporary file in the same folder, synced and renamed into
/// place: a failed write never leaves a half-written file behind.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<()>,
) -> Result<()> {
    let mut tmp = temporary_beside(path)?;
    write(tmp.as_file_mut())?;
    persist(tmp, path)
}

/// A temporary file in the folder of `path` (which must exist).
fn temporary_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
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
    tempfile::Builder::new()
        .prefix(".afmpi-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::input(path, format!("cannot write: {e}")))
}

/// The temporary file synced and renamed to `path`.
fn persist(mut tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| Error::input(path, format!("cannot write: {e}"));
    tmp.as_file_mut().sync_all().map_err(|e| fail(&e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row_groups(path: &Path) -> Vec<usize> {
        let mut reader = ParquetReader::new(std::fs::File::open(path).unwrap());
        let meta = reader.get_metadata().unwrap();
        meta.row_groups.iter().map(|g| g.num_rows()).collect()
    }

    /// The pages compressed in parallel make the file polars' batched writer makes.
    #[test]
    fn parquet_pages_made_in_parallel_are_those_of_polars_writer() {
        let dir = tempfile::tempdir().unwrap();
        let n = 5000;
        let texts: Vec<Option<String>> = (0..n)
            .map(|i| (i % 7 != 0).then(|| format!("level {}", i % 13)))
            .collect();
        let mut frame = df!(
            "x" => (0..n).map(|i| i as f64 / 3.0).collect::<Vec<_>>(),
            "k" => (0..n).map(|i| i % 3).collect::<Vec<i32>>(),
            "text" => &texts,
            "long" => (0..n).map(|i| format!("a text longer than twelve bytes, {}", i % 5)).collect::<Vec<_>>(),
        )
        .unwrap();
        let ours = dir.path().join("ours.parquet");
        write_frame(&mut frame, &ours).unwrap();
        let theirs = dir.path().join("theirs.parquet");
        let file = std::fs::File::create(&theirs).unwrap();
        let mut writer = parquet_writer(file).batched(frame.schema()).unwrap();
        writer.write_batch(&frame).unwrap();
        writer.finish().unwrap();
        assert_eq!(
            std::fs::read(&ours).unwrap(),
            std::fs::read(&theirs).unwrap()
        );
    }

    #[test]
    fn parquet_files_are_written_in_row_groups_of_at_most_row_group_rows() {
        let dir = tempfile::tempdir().unwrap();
        let n = 2 * ROW_GROUP_ROWS + 5;
        let values: Vec<i32> = (0..n as i32).collect();
        let mut frame = df!("x" => &values).unwrap();
        let path = dir.path().join("one-chunk.parquet");
        write_frame(&mut frame, &path).unwrap();
        assert_eq!(row_groups(&path), [ROW_GROUP_ROWS, ROW_GROUP_ROWS, 5]);
        let back = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert!(back.equals(&frame));
        // Frames of several chunks, and frames written one after the other.
        let mut two_chunks = df!("x" => &values[..10]).unwrap();
        two_chunks
            .vstack_mut(&df!("x" => &values[10..]).unwrap())
            .unwrap();
        let path = dir.path().join("frames.parquet");
        let rows = write_frames(&path, &mut [two_chunks, frame.clone()].into_iter()).unwrap();
        assert_eq!(rows, 2 * n);
        let groups = row_groups(&path);
        assert!(groups.iter().all(|&g| g <= ROW_GROUP_ROWS), "{groups:?}");
        assert_eq!(groups.iter().sum::<usize>(), 2 * n);
    }
}
