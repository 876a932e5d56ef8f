//! The library's one error type: a kind of failure plus *where* it happened.
//!
//! Every error a user can cause names its place: the file with line and column for
//! CSV, the series for forecasting, the query and HTTP status for Prometheus. The
//! `Display` form is a single line fit for a terminal or a status bar, e.g.
//! `web.csv:1048:2: "abc" is not a number`.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in the input an error was found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The file, when the input came from one.
    pub file: Option<PathBuf>,
    /// 1-based line in the file.
    pub line: Option<u64>,
    /// 1-based column (field number for CSV).
    pub column: Option<u64>,
}

impl Location {
    /// A location in `file` with no line yet.
    pub fn file(file: &Path) -> Self {
        Location { file: Some(file.to_path_buf()), line: None, column: None }
    }

    /// The same file at `line` (1-based) and optional `column` (1-based).
    pub fn at(&self, line: u64, column: Option<u64>) -> Self {
        Location { file: self.file.clone(), line: Some(line), column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self
            .file
            .as_deref()
            .map(|p| p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "<input>".to_string());
        write!(f, "{name}")?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The input could not be parsed: a CSV cell, a timestamp, a JSON body.
    #[error("{location}: {message}")]
    Parse {
        /// Where the problem is.
        location: Location,
        /// What is wrong, in the user's terms.
        message: String,
    },
    /// A series cannot be used for what was asked (too short, all missing, …).
    #[error("series \"{series}\": {message}")]
    Series {
        /// The series' display name.
        series: String,
        /// What is wrong.
        message: String,
    },
    /// A setting given by the user is invalid (a horizon of "2x", a level of 120, …).
    #[error("{setting}: {message}")]
    Setting {
        /// The setting's name as the user typed it (`--horizon`, `policy.target`).
        setting: String,
        /// What is wrong.
        message: String,
    },
    /// An HTTP API (Prometheus and compatibles) failed: the endpoint, the query when
    /// there was one, the HTTP status when one came back, and what went wrong. Never
    /// carries a secret: credentials travel in headers, which are not part of it.
    #[error("{}", http_message(endpoint, query.as_deref(), *status, message))]
    Http {
        /// The endpoint (base URL and path), e.g. `http://prom:9090/api/v1/query_range`.
        endpoint: String,
        /// The PromQL query, when the request had one.
        query: Option<String>,
        /// The HTTP status, when the server answered.
        status: Option<u16>,
        /// What went wrong, in the user's terms.
        message: String,
    },
    /// The work was cancelled by the user.
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// A parse error at `location`.
    pub fn parse(location: Location, message: impl Into<String>) -> Self {
        Error::Parse { location, message: message.into() }
    }

    /// A problem with one series.
    pub fn series(series: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Series { series: series.into(), message: message.into() }
    }

    /// An invalid user setting.
    pub fn setting(setting: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Setting { setting: setting.into(), message: message.into() }
    }

    /// An I/O failure on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), source }
    }

    /// True for parse errors (bad input data rather than a bad environment).
    pub fn is_parse(&self) -> bool {
        matches!(self, Error::Parse { .. })
    }

    /// True when the user cancelled the work.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Cancelled)
    }

    /// The HTTP status of an API error, if the server answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => *status,
            _ => None,
        }
    }

    /// The location of a parse error, if this is one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::Parse { location, .. } => Some(location),
            _ => None,
        }
    }
}

fn http_message(endpoint: &str, query: Option<&str>, status: Option<u16>, message: &str) -> String {
    let mut s = endpoint.to_string();
    if let Some(code) = status {
        s.push_str(&format!(" (HTTP {code})"));
    }
    s.push_str(": ");
    s.push_str(message);
    if let Some(q) = query {
        s.push_str(&format!(" [query: {q}]"));
    }
    s
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
