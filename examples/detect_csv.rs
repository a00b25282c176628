//! `detect_csv`: streaming anomaly scores for a CSV time series.
//!
//! ```text
//! cargo run --release --example detect_csv -- [--detector NAME] [FILE]
//! ```
//!
//! Reads CSV with a header and columns `timestamp,value` (found by name, extra columns ignored)
//! from FILE or stdin; writes `timestamp,value,anomaly_score` to stdout, one row per input row in
//! input order, the timestamp and value text echoed as given. The score of a row uses only that
//! row and earlier ones; warm-up rows score 0. A row whose value is empty, `NaN` or infinite is
//! echoed with score 0 and does not touch the detector state. A timestamp that does not parse, a
//! value that is not a number, or a timestamp not later than the previous row's is an error
//! naming the file, line and field (exit code 1).

#[path = "common/crlf.rs"]
mod crlf;

use std::io::{self, Read, Write};
use std::process::ExitCode;

use aiops::anomaly::{
    ChangeDetector, EnsembleDetector, RobustDetector, SeasonalDetector, StreamingDetector,
};
use aiops::core::Timestamp;
use clap::{Parser, ValueEnum};

/// Streaming anomaly scores for a CSV time series (`timestamp,value` in,
/// `timestamp,value,anomaly_score` out, scores in [0, 1]).
#[derive(Parser, Debug)]
#[command(name = "detect_csv")]
struct Args {
    /// Detector: `ensemble` (default, best measured: max of min(robust, seasonal, relative) and
    /// change, where relative compares the recent mean with the long-window mean and spread;
    /// self-calibrated, repeats suppressed; see `EnsembleDetector`),
    /// `robust` (EWMA level/spread z-score), `seasonal` (daily profile), `seasonal-weekly`
    /// (weekly profile), `change` (CUSUM level shift / drift).
    #[arg(long, value_enum, default_value_t = Detector::Ensemble)]
    detector: Detector,
    /// Input CSV file; stdin when absent or `-`.
    file: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Detector {
    Ensemble,
    Robust,
    Seasonal,
    SeasonalWeekly,
    Change,
}

impl Detector {
    fn build(self) -> Box<dyn StreamingDetector> {
        match self {
            Detector::Ensemble => Box::new(EnsembleDetector::default()),
            Detector::Robust => Box::new(RobustDetector::default()),
            Detector::Seasonal => Box::new(SeasonalDetector::daily()),
            Detector::SeasonalWeekly => Box::new(SeasonalDetector::weekly()),
            Detector::Change => Box::new(ChangeDetector::default()),
        }
    }
}

fn run(args: &Args) -> Result<usize, String> {
    let name = match args.file.as_deref() {
        None | Some("-") => "<stdin>".to_owned(),
        Some(f) => f.to_owned(),
    };
    let input: Box<dyn Read> = match args.file.as_deref() {
        None | Some("-") => Box::new(io::stdin().lock()),
        Some(f) => {
            Box::new(std::fs::File::open(f).map_err(|e| format!("{name}: cannot open: {e}"))?)
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(crlf::CrlfAsLf::new(io::BufReader::new(input)));
    let headers = reader
        .headers()
        .map_err(|e| format!("{name}: line 1: cannot read the header: {e}"))?
        .clone();
    let col = |field: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').trim() == field)
            .ok_or_else(|| {
                format!(
                    "{name}: line 1: field `{field}`: missing column (header: {})",
                    headers.iter().collect::<Vec<_>>().join(",")
                )
            })
    };
    let (ti, vi) = (col("timestamp")?, col("value")?);
    let detector = args.detector.build();
    let mut state = detector.new_state();
    let stdout = io::stdout();
    let mut out = csv::Writer::from_writer(io::BufWriter::new(stdout.lock()));
    let io_err = |e: csv::Error| format!("<stdout>: write failed: {e}");
    out.write_record(["timestamp", "value", "anomaly_score"])
        .map_err(io_err)?;
    let mut previous: Option<Timestamp> = None;
    let mut rows = 0usize;
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            format!("{name}: line {line}: {e}")
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, csv::Position::line);
        let t_text = record
            .get(ti)
            .ok_or_else(|| format!("{name}: line {line}: field `timestamp`: missing"))?;
        let v_text = record
            .get(vi)
            .ok_or_else(|| format!("{name}: line {line}: field `value`: missing"))?;
        let t = Timestamp::parse(t_text)
            .map_err(|e| format!("{name}: line {line}: field `timestamp`: {e}"))?;
        if let Some(p) = previous
            && t <= p
        {
            let why = if t == p {
                "is the same millisecond as the previous row's timestamp (timestamps are read to the millisecond, so rows must be at least 1 ms apart)"
            } else {
                "is not later than the previous row's timestamp"
            };
            return Err(format!(
                "{name}: line {line}: field `timestamp`: {t_text:?} {why} ({})",
                p.to_rfc3339()
            ));
        }
        previous = Some(t);
        let v = v_text.trim();
        let value = if v.is_empty() {
            f64::NAN
        } else {
            v.parse::<f64>().map_err(|_| {
                format!("{name}: line {line}: field `value`: {v_text:?} is not a number")
            })?
        };
        let score = detector
            .update(&mut state, t, value)
            .map_err(|e| format!("{name}: line {line}: field `timestamp`: {e}"))?;
        let score = if score.is_finite() {
            score.clamp(0.0, 1.0)
        } else {
            0.0
        };
        out.write_record([t_text, v_text, &format!("{score:.6}")])
            .map_err(io_err)?;
        rows += 1;
    }
    out.flush()
        .map_err(|e| format!("<stdout>: write failed: {e}"))?;
    Ok(rows)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(_) => ExitCode::SUCCESS,
        Err(msg) => {
            let _ = writeln!(io::stderr(), "detect_csv: error: {msg}");
            ExitCode::FAILURE
        }
    }
}
