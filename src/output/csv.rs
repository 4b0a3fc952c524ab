//! The results' CSV, written by afmpi byte for byte as polars' `CsvWriter` writes it
//! (a test compares): missing values empty, numbers in their shortest round-trip form
//! (zmij, polars' own float formatter), text quoted only where it must be. Writing the
//! rows straight to bytes, in parallel pieces, saves building the frame first.

use std::io::Write as _;

use super::rows::Row;

/// The start of a CSV line — spec, measure, indicator, k, group — kept while rows share
/// it: consecutive rows differ mostly in their subgroup and round.
#[derive(Default)]
pub(super) struct LineStart<'a> {
    key: Option<StartKey<'a>>,
    text: Vec<u8>,
}

/// The fields a [`LineStart`] renders, but `spec`: measure, indicator, k, group.
type StartKey<'a> = (&'static str, Option<&'a str>, Option<f64>, Option<&'a str>);

impl<'a> Row<'a> {
    /// The row as a line of CSV, written as polars' `CsvWriter` writes it: missing
    /// values empty, numbers in their shortest round-trip form (by zmij, polars' own
    /// float formatter), text quoted only where it must be ([`csv_text`]).
    pub(super) fn write_csv(&self, spec: &str, start: &mut LineStart<'a>, out: &mut Vec<u8>) {
        let key = (self.measure, self.indicator, self.k, self.group);
        if start.key != Some(key) {
            let text = &mut start.text;
            text.clear();
            for field in [Some(spec), Some(self.measure), self.indicator] {
                csv_text(text, field);
                text.push(b',');
            }
            csv_number(text, self.k);
            text.push(b',');
            csv_text(text, self.group);
            start.key = Some(key);
        }
        out.extend_from_slice(&start.text);
        let (yt0, yt1) = match &self.years {
            Some((y0, y1)) => (Some(y0.as_str()), Some(y1.as_str())),
            None => (None, None),
        };
        for field in [
            Some(self.loa),
            Some(self.subg),
            self.t,
            Some(self.ctype),
            yt0,
            yt1,
        ] {
            out.push(b',');
            csv_text(out, field);
        }
        out.push(b',');
        if let Some(ann) = self.ann {
            let _ = write!(out, "{ann}");
        }
        for value in self.values {
            out.push(b',');
            csv_number(out, value);
        }
        out.push(b',');
        csv_text(out, self.note);
        out.push(b'\n');
    }
}

/// The header line of a CSV file with these column names, as polars writes it. polars
/// 0.55 writes its header through a null array whose first use allocates and zeroes an
/// 8 MiB buffer: 5 ms of every run that writes CSV, for one line.
pub(super) fn csv_header<S: AsRef<str>>(names: &[S]) -> String {
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        csv_text(&mut out, Some(name.as_ref()));
    }
    out.push(b'\n');
    String::from_utf8(out).expect("names are text")
}

/// A text field as polars quotes it: missing is empty; an empty text, or one holding the
/// separator, a quote or a line break, goes in quotes, its quotes doubled.
pub(super) fn csv_text(out: &mut Vec<u8>, text: Option<&str>) {
    let Some(text) = text else { return };
    let special = |b: &u8| matches!(b, b',' | b'"' | b'\n' | b'\r');
    if text.is_empty() || text.as_bytes().iter().any(special) {
        out.push(b'"');
        for &byte in text.as_bytes() {
            if byte == b'"' {
                out.push(b'"');
            }
            out.push(byte);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// A number field: missing is empty; else the shortest text that reads back as the same
/// double, by zmij as polars writes it.
pub(super) fn csv_number(out: &mut Vec<u8>, x: Option<f64>) {
    if let Some(x) = x {
        out.extend_from_slice(zmij::Buffer::new().format(x).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::csv_header;
    use polars::prelude::{Column, CsvWriter, DataFrame, SerWriter};

    #[test]
    fn the_csv_header_is_the_one_polars_writes() {
        let names = ["b", "se", "a,b", "say \"hi\"", "two\nlines", "x y", ""];
        let columns: Vec<Column> = names
            .iter()
            .map(|&n| Column::new(n.into(), [1.0f64]))
            .collect();
        let mut frame = DataFrame::new(1, columns).expect("a frame");
        let mut polars_csv = Vec::new();
        CsvWriter::new(&mut polars_csv)
            .finish(&mut frame)
            .expect("written");
        let polars_csv = String::from_utf8(polars_csv).expect("text");
        let ours = csv_header(&frame.get_column_names());
        assert!(
            polars_csv.starts_with(&ours),
            "{ours:?} is not the start of {polars_csv:?}"
        );
        assert_eq!(polars_csv[ours.len()..].lines().count(), 1);
    }
}
