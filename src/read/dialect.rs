//! CSV files as statistics offices write them: a file and the user's settings (separator,
//! decimal mark, encoding — each given, or found in the file) in; a [`CsvFile`] out — the
//! [`Dialect`] used and a path polars can read (the file itself, or a UTF-8 copy of a
//! file written in another encoding).
//!
//! Polars reads CSV fast but lets two kinds of damage through: a row with a field too
//! many is cut, one with fields too few is filled with missing values. So one pass with
//! the `csv` crate checks every row against the header (the error names the row and both
//! counts), checks that the text is valid UTF-8 (the error names the row, the column and
//! the byte, and suggests `--encoding`), notes the columns that hold a missing token and
//! counts the decimal marks of a semicolon-separated file. It runs on its own thread
//! while polars reads (a semicolon file's decimal mark excepted, which polars must know
//! first), and its answer is awaited before polars' data are used ([`CsvFile::checked`]). Text in another encoding is decoded by
//! encoding_rs into a temporary UTF-8 copy that lives as long as the [`CsvFile`].

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;

use encoding_rs::{CoderResult, Encoding, UTF_8};

use crate::error::{Error, Result};

/// What the user said about a CSV file; `None` is "find it in the file".
#[derive(Clone, Debug, Default)]
pub struct CsvSettings {
    pub delimiter: Option<u8>,
    pub decimal_comma: Option<bool>,
    pub encoding: Option<&'static Encoding>,
}

/// How a CSV file is written, and whether each part was given or found.
#[derive(Clone, Debug)]
pub struct Dialect {
    pub separator: u8,
    pub separator_given: bool,
    pub decimal_comma: bool,
    pub decimal_given: bool,
    pub encoding: &'static Encoding,
    pub encoding_given: bool,
    /// The file opens with a UTF-8 byte-order mark.
    pub bom: bool,
    /// Lines end in CR LF.
    pub crlf: bool,
    /// Numbers with a decimal comma and numbers with a decimal point both occur (in a
    /// semicolon-separated file without a given decimal mark): read with points.
    pub decimal_ambiguous: bool,
}

/// What the check of every row found.
#[derive(Clone, Debug)]
pub struct RowCheck {
    /// Data rows (the header not counted).
    pub rows: usize,
    /// The columns in which a missing token occurs.
    pub columns_with_tokens: Vec<String>,
    comma_decimals: usize,
    point_decimals: usize,
}

/// The separators looked for in a header, most usual first.
const SEPARATORS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// A separator as a user would name it.
pub fn separator_name(sep: u8) -> String {
    match sep {
        b'\t' => "tab".to_string(),
        b',' => "comma (,)".to_string(),
        b';' => "semicolon (;)".to_string(),
        b'|' => "pipe (|)".to_string(),
        other => format!("`{}`", other as char),
    }
}

/// The separator a user names: the character itself or its name.
pub fn parse_separator(text: &str) -> Result<u8> {
    match text {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        "comma" => Ok(b','),
        "semicolon" => Ok(b';'),
        "pipe" => Ok(b'|'),
        t if t.len() == 1 && t.is_ascii() && t != "\"" && t != "\n" && t != "\r" => {
            Ok(t.as_bytes()[0])
        }
        t => Err(Error::Usage(format!(
            "delimiter \"{t}\": give one character (, ; | or tab)"
        ))),
    }
}

/// The encoding a user names (any WHATWG label: utf-8, latin1, windows-1252, iso-8859-15…).
pub fn parse_encoding(text: &str) -> Result<&'static Encoding> {
    Encoding::for_label(text.trim().as_bytes()).ok_or_else(|| {
        Error::Usage(format!(
            "encoding \"{text}\" is not known: give utf-8, latin1 (windows-1252) or another WHATWG label such as iso-8859-15"
        ))
    })
}

impl Dialect {
    /// The dialect in words, for the run's summary and `describe`.
    pub fn describe(&self, check: &RowCheck) -> String {
        let how = |given: bool| if given { "given" } else { "detected" };
        let encoding = if self.bom {
            "UTF-8 with byte-order mark".to_string()
        } else {
            self.encoding.name().to_string()
        };
        let decimal_how = if self.decimal_ambiguous {
            "both marks occur in numbers: give --decimal-comma if commas are decimal marks"
        } else {
            how(self.decimal_given)
        };
        format!(
            "separator {} ({}), decimal mark {} ({}), encoding {} ({}), {} line ends, {} rows",
            separator_name(self.separator),
            how(self.separator_given),
            if self.decimal_comma { "comma" } else { "point" },
            decimal_how,
            encoding,
            if self.encoding_given {
                "given"
            } else {
                "the default, checked on every row"
            },
            if self.crlf { "CR LF" } else { "LF" },
            crate::output::count(check.rows),
        )
    }
}

/// A CSV file whose dialect is known, ready for polars, and the check of its rows —
/// done, or running on a thread beside polars' read ([`CsvFile::checked`] waits for it).
#[derive(Debug)]
pub struct CsvFile {
    pub dialect: Dialect,
    readable: PathBuf,
    _copy: Option<std::sync::Arc<tempfile::TempPath>>,
    check: OnceLock<RowCheck>,
    running: Mutex<Option<JoinHandle<Result<RowCheck>>>>,
    path: PathBuf,
}

impl CsvFile {
    /// The path polars reads: the file, or its UTF-8 copy.
    pub fn readable(&self) -> &Path {
        &self.readable
    }

    /// The check of every row, waiting for it if it is still running: its error (a row
    /// of the wrong width, invalid UTF-8) is the file's error, before any of polars'.
    pub fn checked(&self) -> Result<&RowCheck> {
        if let Some(check) = self.check.get() {
            return Ok(check);
        }
        let stopped = || {
            Error::input(
                &self.path,
                "the check of the file's rows stopped: read the file again",
            )
        };
        let mut running = self.running.lock().map_err(|_| stopped())?;
        if let Some(check) = self.check.get() {
            return Ok(check);
        }
        let handle = running.take().ok_or_else(stopped)?;
        let check = handle.join().map_err(|_| stopped())??;
        Ok(self.check.get_or_init(|| check))
    }
}

/// The first bytes of a file, where the header and the dialect are looked for.
const HEAD_BYTES: usize = 256 * 1024;

/// Checks a CSV file and finds how it is written.
/// `missing_tokens` are the text tokens that mean missing in numeric columns: the check
/// notes the columns where one occurs, so that a text column holding one (Namibia's
/// `NA`) is read without them.
pub fn open(path: &Path, settings: &CsvSettings, missing_tokens: &[String]) -> Result<CsvFile> {
    let head = read_head(path)?;
    check_not_utf16(path, &head)?;
    let bom = head.starts_with(&[0xEF, 0xBB, 0xBF]);
    let encoding = settings.encoding.unwrap_or(UTF_8);
    let (readable, copy) = if encoding == UTF_8 {
        (path.to_path_buf(), None)
    } else {
        let copy = to_utf8(path, encoding)?;
        (copy.to_path_buf(), Some(copy))
    };
    let head = if copy.is_some() {
        read_head(&readable)?
    } else {
        head
    };
    if !head.contains(&b'\n') && head.contains(&b'\r') {
        return Err(Error::input(
            path,
            "the lines end in CR alone (as old Mac files do): convert the file to LF or CR LF line ends, e.g. with `tr '\\r' '\\n'`",
        ));
    }
    let header = header_line(&head);
    if header.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::input(
            path,
            "the file is empty or its first line is blank: a CSV file opens with a header row naming the columns",
        ));
    }
    let separator = match settings.delimiter {
        Some(s) => s,
        None => detect_separator(path, &head, header)?,
    };
    if settings.decimal_comma == Some(true) && separator == b',' {
        return Err(Error::input(
            path,
            "decimal commas cannot be read in a comma-separated file: give the file's separator with --delimiter (often ;)",
        ));
    }
    check_header(path, &head, separator, encoding == UTF_8 && copy.is_none())?;
    let copy = copy.map(std::sync::Arc::new);
    let job = RowJob {
        path: path.to_path_buf(),
        readable: readable.clone(),
        separator,
        check_utf8: encoding == UTF_8 && copy.is_none(),
        tokens: missing_tokens.to_vec(),
        _copy: copy.clone(),
    };
    // The decimal mark of a semicolon file is read off every row, before polars reads;
    // otherwise the rows are checked on a thread while polars reads them.
    let (decimal_comma, decimal_given, decimal_ambiguous, check, running) =
        match settings.decimal_comma {
            None if separator == b';' => {
                let check = job.run()?;
                let (c, p) = (check.comma_decimals, check.point_decimals);
                (
                    c > 0 && p == 0,
                    false,
                    c > 0 && p > 0,
                    OnceLock::from(check),
                    None,
                )
            }
            given => {
                let running = std::thread::Builder::new()
                    .name("afmpi-row-check".into())
                    .spawn(move || job.run())
                    .map_err(|e| Error::input(path, format!("cannot start the row check: {e}")))?;
                (
                    given.unwrap_or(false),
                    given.is_some(),
                    false,
                    OnceLock::new(),
                    Some(running),
                )
            }
        };
    Ok(CsvFile {
        dialect: Dialect {
            separator,
            separator_given: settings.delimiter.is_some(),
            decimal_comma,
            decimal_given,
            encoding,
            encoding_given: settings.encoding.is_some(),
            bom,
            crlf: header.ends_with(b"\r"),
            decimal_ambiguous,
        },
        readable,
        _copy: copy,
        check,
        running: Mutex::new(running),
        path: path.to_path_buf(),
    })
}

/// The header's own checks, before anything else reads the file: valid UTF-8, and no
/// column named twice (polars would rename one in silence).
fn check_header(path: &Path, head: &[u8], sep: u8, check_utf8: bool) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sep)
        .has_headers(false)
        .flexible(true)
        .from_reader(head);
    let mut record = csv::ByteRecord::new();
    if !matches!(reader.read_byte_record(&mut record), Ok(true)) {
        return Ok(()); // the pass over the rows says what is wrong
    }
    if check_utf8 {
        check_utf8_record(path, &record, 0, 1, &[])?;
    }
    Tally::new(&[], false).header(path, &record)
}

/// The check of every row, as a job for a thread: it owns what it reads (and keeps a
/// decoded copy alive while it reads it).
struct RowJob {
    path: PathBuf,
    readable: PathBuf,
    separator: u8,
    check_utf8: bool,
    tokens: Vec<String>,
    _copy: Option<std::sync::Arc<tempfile::TempPath>>,
}

impl RowJob {
    fn run(self) -> Result<RowCheck> {
        check_rows(
            &self.path,
            &self.readable,
            self.separator,
            self.check_utf8,
            &self.tokens,
        )
    }
}

fn read_head(path: &Path) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|e| Error::input(path, format!("cannot open: {e}")))?;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    file.take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    Ok(head)
}

fn check_not_utf16(path: &Path, head: &[u8]) -> Result<()> {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(Error::input(
            path,
            "the file is UTF-16 (it opens with a UTF-16 byte-order mark): save it as UTF-8, or convert it with `iconv -f UTF-16 -t UTF-8`",
        ));
    }
    Ok(())
}

/// The header line, without its byte-order mark and line end (the `\r` of CR LF kept, to
/// tell the line ends).
fn header_line(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    match head.iter().position(|&b| b == b'\n') {
        Some(end) => &head[..end],
        None => head,
    }
}

/// How often `sep` occurs in a line outside quotes.
fn count_outside_quotes(line: &[u8], sep: u8) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if b == sep && !quoted {
            n += 1;
        }
    }
    n
}

/// The separator of a header: the only candidate in it, or, when several are, the one
/// that splits the first rows into as many fields as the header.
fn detect_separator(path: &Path, head: &[u8], header: &[u8]) -> Result<u8> {
    let present: Vec<(u8, usize)> = SEPARATORS
        .iter()
        .map(|&s| (s, count_outside_quotes(header, s)))
        .filter(|&(_, n)| n > 0)
        .collect();
    match present.as_slice() {
        [] => Ok(b','),
        [(s, _)] => Ok(*s),
        _ => {
            let consistent: Vec<(u8, usize)> = present
                .iter()
                .copied()
                .filter(|&(s, n)| splits_evenly(head, s, n + 1))
                .collect();
            let best = consistent.iter().map(|&(_, n)| n).max();
            let winners: Vec<u8> = consistent
                .iter()
                .filter(|&&(_, n)| Some(n) == best)
                .map(|&(s, _)| s)
                .collect();
            match winners.as_slice() {
                [s] => Ok(*s),
                _ => Err(Error::input(
                    path,
                    format!(
                        "cannot tell the separator: the header holds {}; give it with --delimiter (or `delimiter` in [survey])",
                        present
                            .iter()
                            .map(|&(s, n)| format!("{} {n} times", separator_name(s)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            }
        }
    }
}

/// Whether every complete row of the head has `fields` fields under `sep`.
fn splits_evenly(head: &[u8], sep: u8, fields: usize) -> bool {
    let complete = match head.iter().rposition(|&b| b == b'\n') {
        Some(end) => &head[..=end],
        None => head,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sep)
        .has_headers(false)
        .flexible(true)
        .from_reader(complete);
    let mut record = csv::ByteRecord::new();
    let mut seen = 0;
    while seen < 200 {
        match reader.read_byte_record(&mut record) {
            Ok(true) if record.len() == fields || (record.len() == 1 && record[0].is_empty()) => {
                seen += 1
            }
            Ok(true) | Err(_) => return false,
            Ok(false) => break,
        }
    }
    true
}

/// What the pass keeps while it reads: the header, and per column whether a missing
/// token was seen.
struct Tally<'t> {
    pass: RowCheck,
    header: Vec<String>,
    has_token: Vec<bool>,
    tokens: &'t [String],
    longest_token: usize,
    count_decimals: bool,
}

impl<'t> Tally<'t> {
    fn new(tokens: &'t [String], count_decimals: bool) -> Tally<'t> {
        Tally {
            pass: RowCheck {
                rows: 0,
                columns_with_tokens: Vec::new(),
                comma_decimals: 0,
                point_decimals: 0,
            },
            header: Vec::new(),
            has_token: Vec::new(),
            tokens,
            longest_token: tokens.iter().map(|t| t.len()).max().unwrap_or(0),
            count_decimals,
        }
    }

    /// The header's names; a name given twice is an error (polars would rename one).
    fn header(&mut self, path: &Path, record: &csv::ByteRecord) -> Result<()> {
        self.header = record
            .iter()
            .map(|f| {
                String::from_utf8_lossy(f)
                    .trim_start_matches('\u{feff}')
                    .to_string()
            })
            .collect();
        for (i, name) in self.header.iter().enumerate() {
            if let Some(j) = self.header[..i].iter().position(|n| n == name) {
                return Err(Error::input(path, format!(
                    "the header names column `{name}` twice (fields {} and {}): rename one, so that each column has its own name",
                    j + 1, i + 1)));
            }
        }
        self.has_token = vec![false; self.header.len()];
        Ok(())
    }

    /// A data row of the header's width: its missing tokens and decimal marks.
    fn row(&mut self, record: &csv::ByteRecord) {
        self.pass.rows += 1;
        for (f, field) in record.iter().enumerate() {
            if !field.is_empty()
                && field.len() <= self.longest_token
                && self.tokens.iter().any(|t| t.as_bytes() == field)
            {
                self.has_token[f] = true;
            }
            if self.count_decimals {
                match decimal_mark(field) {
                    Some(b',') => self.pass.comma_decimals += 1,
                    Some(_) => self.pass.point_decimals += 1,
                    None => {}
                }
            }
        }
    }

    fn finish(mut self) -> RowCheck {
        self.pass.columns_with_tokens = self
            .header
            .into_iter()
            .zip(self.has_token)
            .filter(|(_, t)| *t)
            .map(|(c, _)| c)
            .collect();
        self.pass
    }
}

/// One pass over the file: every row has the header's number of fields and valid UTF-8;
/// the columns holding a missing token are noted, and the decimal marks of numbers
/// counted when the separator is a semicolon.
fn check_rows(
    path: &Path,
    readable: &Path,
    sep: u8,
    check_utf8: bool,
    tokens: &[String],
) -> Result<RowCheck> {
    let file = File::open(readable).map_err(|e| Error::input(path, format!("cannot open: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sep)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(file);
    let mut record = csv::ByteRecord::new();
    let mut tally = Tally::new(tokens, sep == b';');
    let mut row = 0usize; // 0 is the header
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(Error::input(
                    path,
                    format!("row {row}: cannot be read: {e}"),
                ))
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if check_utf8 {
            check_utf8_record(path, &record, row, line, &tally.header)?;
        }
        let width = tally.header.len();
        if row == 0 {
            tally.header(path, &record)?;
        } else if record.len() == width {
            tally.row(&record);
        } else if !(record.len() == 1 && record[0].is_empty()) {
            // (A blank line, one empty field, holds nothing: polars skips it.)
            return Err(field_count_error(path, row, line, record.len(), width, sep));
        }
        row += 1;
    }
    Ok(tally.finish())
}

fn field_count_error(
    path: &Path,
    row: usize,
    line: u64,
    found: usize,
    header: usize,
    sep: u8,
) -> Error {
    let why = if found > header {
        "a value holding the separator needs quotes, or the row has a field too many"
    } else {
        "the row is cut short or a field is missing"
    };
    Error::input(
        path,
        format!(
            "row {row} (line {line}) has {found} fields where the header has {header} (separator {}): {why}; fix the file (afmpi never reads a malformed row as missing data)",
            separator_name(sep)
        ),
    )
}

/// The invalid UTF-8 of a record, named by row, column and byte.
fn check_utf8_record(
    path: &Path,
    record: &csv::ByteRecord,
    row: usize,
    line: u64,
    header: &[String],
) -> Result<()> {
    if std::str::from_utf8(record.as_slice()).is_ok() {
        return Ok(());
    }
    for (f, field) in record.iter().enumerate() {
        if let Err(e) = std::str::from_utf8(field) {
            let at = e.valid_up_to();
            let column = header
                .get(f)
                .map(|c| format!("column `{c}`"))
                .unwrap_or_else(|| format!("field {}", f + 1));
            let place = if row == 0 {
                "the header".to_string()
            } else {
                format!("row {row}")
            };
            return Err(Error::input(
                path,
                format!(
                    "{place} (line {line}), {column}: byte 0x{:02X} at position {} of the value \"{}\" is not UTF-8; the file is likely Latin-1 or Windows-1252: read it with --encoding latin1 (or `encoding = \"latin1\"` in [survey])",
                    field[at],
                    at + 1,
                    String::from_utf8_lossy(field)
                ),
            ));
        }
    }
    Ok(())
}

/// `,` for a number written with a decimal comma (`12,5`), `.` for one with a point
/// (`12.5`), `None` for anything else.
pub(crate) fn decimal_mark(field: &[u8]) -> Option<u8> {
    let digits = field.strip_prefix(b"-").unwrap_or(field);
    let mark = digits.iter().position(|&b| b == b',' || b == b'.')?;
    let (int, frac) = (&digits[..mark], &digits[mark + 1..]);
    let all_digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    (all_digits(frac) && (int.is_empty() || all_digits(int))).then_some(digits[mark])
}

/// A UTF-8 copy of a file in another encoding, decoded with encoding_rs.
fn to_utf8(path: &Path, encoding: &'static Encoding) -> Result<tempfile::TempPath> {
    let fail = |e: std::io::Error| {
        Error::input(
            path,
            format!("cannot decode the file as {}: {e}", encoding.name()),
        )
    };
    let copy = tempfile::Builder::new()
        .prefix("afmpi-utf8-")
        .suffix(".csv")
        .tempfile()
        .map_err(fail)?;
    let (file, copy_path) = copy.into_parts();
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut input = BufReader::with_capacity(1 << 20, File::open(path).map_err(fail)?);
    let mut decoder = encoding.new_decoder_with_bom_removal();
    let mut src = vec![0u8; 1 << 20];
    let mut dst = vec![0u8; (1 << 20) * 3 + 16];
    loop {
        let n = input.read(&mut src).map_err(fail)?;
        let last = n == 0;
        let mut consumed = 0;
        loop {
            let (result, read, written, _) =
                decoder.decode_to_utf8(&src[consumed..n], &mut dst, last);
            out.write_all(&dst[..written]).map_err(fail)?;
            consumed += read;
            if result == CoderResult::InputEmpty {
                break;
            }
        }
        if last {
            break;
        }
    }
    out.flush().map_err(fail)?;
    Ok(copy_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_marks() {
        assert_eq!(decimal_mark(b"12,5"), Some(b','));
        assert_eq!(decimal_mark(b"-0.25"), Some(b'.'));
        assert_eq!(decimal_mark(b",5"), Some(b','));
        assert_eq!(decimal_mark(b"12"), None);
        assert_eq!(decimal_mark(b"1,2,3"), None);
        assert_eq!(decimal_mark(b"a,b"), None);
        assert_eq!(decimal_mark(b"12,"), None);
    }

    #[test]
    fn separators_outside_quotes() {
        assert_eq!(count_outside_quotes(b"a;\"b;c\";d", b';'), 2);
        assert_eq!(count_outside_quotes(b"a,b", b';'), 0);
    }

    #[test]
    fn the_separator_that_splits_every_row_evenly() {
        let p = Path::new("x.csv");
        // The header holds commas and semicolons; only ; splits the rows evenly.
        let head = b"a;b,c;d\n1;2,5;3\n4;5;6\n";
        assert_eq!(detect_separator(p, head, header_line(head)).unwrap(), b';');
        let head = b"a|b|c\n1|2|3\n";
        assert_eq!(detect_separator(p, head, header_line(head)).unwrap(), b'|');
        let head = b"only\n1\n";
        assert_eq!(detect_separator(p, head, header_line(head)).unwrap(), b',');
        // One comma and one semicolon, and no row to decide by.
        let head = b"a,b;c";
        assert!(detect_separator(p, head, header_line(head)).is_err());
    }

    #[test]
    fn separators_by_name() {
        assert_eq!(parse_separator("tab").unwrap(), b'\t');
        assert_eq!(parse_separator(";").unwrap(), b';');
        assert!(parse_separator(";;").is_err());
        assert_eq!(parse_encoding("latin1").unwrap().name(), "windows-1252");
        assert!(parse_encoding("klingon").is_err());
    }
}
