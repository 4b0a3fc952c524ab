//! Errors a user can act on: each names the file, the key or column, the row where there
//! is one, and what to do. The command line prints them as one paragraph.

use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A problem in the methodology file, pointing at its key.
    #[error("{}{}{message}", file_prefix(file), key.as_ref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
    Methodology {
        file: Option<PathBuf>,
        key: Option<String>,
        message: String,
    },

    /// A problem in the survey data, pointing at its column (and row).
    #[error("{}column `{column}`{}: {message}", file_prefix(&Some(file.clone())), row.map(|r| format!(", row {r}")).unwrap_or_default())]
    Data {
        file: PathBuf,
        column: String,
        row: Option<usize>,
        message: String,
    },

    /// A file that cannot be read or written.
    #[error("{}{message}", file_prefix(&Some(file.clone())))]
    Input { file: PathBuf, message: String },

    /// A command-line setting that cannot work.
    #[error("{0}")]
    Usage(String),
}

fn file_prefix(file: &Option<PathBuf>) -> String {
    match file {
        Some(f) => format!("{}: ", f.display()),
        None => String::new(),
    }
}

impl Error {
    pub fn input(file: &Path, message: impl Into<String>) -> Error {
        Error::Input {
            file: file.to_path_buf(),
            message: message.into(),
        }
    }

    pub fn data(
        file: &Path,
        column: &str,
        row: Option<usize>,
        message: impl Into<String>,
    ) -> Error {
        Error::Data {
            file: file.to_path_buf(),
            column: column.to_string(),
            row,
            message: message.into(),
        }
    }

    /// Moves a data error's row number past `rows` earlier rows (for a batch that starts
    /// after them).
    pub fn after_rows(self, rows: usize) -> Error {
        match self {
            Error::Data {
                file,
                column,
                row: Some(r),
                message,
            } => Error::Data {
                file,
                column,
                row: Some(r + rows),
                message,
            },
            other => other,
        }
    }

    /// Attaches the methodology file's path to an error raised while validating it.
    pub fn in_file(self, path: &Path) -> Error {
        match self {
            Error::Methodology {
                file: None,
                key,
                message,
            } => Error::Methodology {
                file: Some(path.to_path_buf()),
                key,
                message,
            },
            other => other,
        }
    }
}
