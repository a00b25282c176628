//! `rca_case`: rank every service of a fault-injection case by how likely it is the root cause.
//!
//! ```text
//! cargo run --release --example rca_case -- CASE_DIR
//! ```
//!
//! `CASE_DIR` holds `data.csv` (column `time`, then one column per metric named
//! `<service>_<metric>`, split at the first `_`; columns without `_` are ignored, a repeated
//! `time` column silently (the first one counts); empty or `NaN` cells are missing values,
//! infinite ones too, with a warning; rows may come in any order, and rows with the same time
//! are one row in which a column's last non-missing value counts, with a note on stderr),
//! `inject_time.txt` (when the fault began) and optionally
//! `services.json` (the services config: `[{"name", "type", "criticality", "dependencies":
//! [name or {"name", "weight"}]}]`, dependencies being the services this one calls or uses;
//! names it depends on but does not define are added). Times are Unix seconds (integer or
//! fractional), RFC 3339, or `YYYY-MM-DD[ HH:MM:SS]` (UTC).
//!
//! Output: `{"ranking": [{"service", "score"}, ..]}`, best first (ties by name), covering
//! every service named in data.csv or services.json; scores in [0, 1]. The ranker is
//! aiops-rca's default `CombinedRanker`: robust before/after change scores per metric
//! (median/IQR, upward for latency/errors/saturation), discounted by onset delay, plus a random
//! walk upstream on the dependency graph when services.json is given. Errors name the file,
//! line and field (exit 1). A leading UTF-8 byte-order mark in any file is skipped.
//!
//! Input that yields a ranking without evidence still gives the output above (every score 0
//! when nothing can be measured), with a one-line warning on stderr: metric columns not named
//! `<service>_<metric>` (ignored), no data rows, or an inject time outside the data's time
//! range `(first, last]` (no rows on one side of it to compare: the baseline is the rows
//! strictly before it).

#[path = "common/crlf.rs"]
mod crlf;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use aiops::core::{ServicesConfig, TimeSeries, Timestamp};
use aiops::rca::{CombinedRanker, GraphOptions, MetricSeries, RankInput, Ranker, ServiceGraph};
use clap::Parser;
use serde_json::json;

/// Rank every service of a fault-injection case (`data.csv`, `inject_time.txt`, optional
/// `services.json`) by how likely it is the root cause.
#[derive(Parser, Debug)]
#[command(name = "rca_case")]
struct Args {
    /// The case directory.
    case_dir: String,
}

/// The file's text, without a leading UTF-8 byte-order mark (some Windows tools write one).
fn read(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// Per column: (service, metric, rows of (time, value)).
type Columns = Vec<(String, String, Vec<(Timestamp, Option<f64>)>)>;

/// The metric columns of data.csv and the first and last time of its rows (`None` without rows).
struct Data {
    cols: Columns,
    range: Option<(Timestamp, Timestamp)>,
}

/// Prints a one-line warning on stderr: the output is still the contract's, but the input
/// gave the ranker less than it looks like.
fn warn(message: &str) {
    eprintln!("rca_case: warning: {message}");
}

fn load_csv(path: &Path) -> Result<Data, String> {
    let file = path.display().to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(crlf::CrlfAsLf::new(std::io::BufReader::new(
            std::fs::File::open(path).map_err(|e| format!("{file}: cannot read: {e}"))?,
        )));
    let headers = rdr
        .headers()
        .map_err(|e| format!("{file}: line 1: {e}"))?
        .clone();
    let time_col = headers
        .iter()
        .position(|h| h.trim() == "time")
        .ok_or_else(|| format!("{file}: line 1: no column named \"time\""))?;
    let mut cols: Columns = Vec::new();
    let mut index = Vec::new();
    let mut ignored = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        // A repeated `time` column (exports written from pandas often carry one) adds nothing.
        if i == time_col || h.trim() == "time" {
            continue;
        }
        if let Some((svc, metric)) = h.trim().split_once('_')
            && !svc.is_empty()
            && !metric.is_empty()
        {
            index.push((i, cols.len()));
            cols.push((svc.to_owned(), metric.to_owned(), Vec::new()));
        } else {
            ignored.push(format!("{:?}", h.trim()));
        }
    }
    if !ignored.is_empty() {
        let left = if cols.is_empty() {
            "no metric column is left, so no service has data"
        } else {
            "the other columns are used"
        };
        let shown = if ignored.len() > 5 {
            format!("{} and {} more", ignored[..5].join(", "), ignored.len() - 5)
        } else {
            ignored.join(", ")
        };
        warn(&format!(
            "{file}: line 1: column(s) {shown} not named <service>_<metric>, ignored; {left}"
        ));
    }
    let mut rows: Vec<(Timestamp, Vec<Option<f64>>)> = Vec::new();
    let mut infinite = 0usize;
    for (row, rec) in rdr.records().enumerate() {
        // The line the record starts on (a quoted cell may span lines).
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(row + 2, |p| p.line() as usize);
            format!("{file}: line {line}: {e}")
        })?;
        let line = rec.position().map_or(row + 2, |p| p.line() as usize);
        let t_text = rec.get(time_col).unwrap_or("").trim();
        let t = Timestamp::parse(t_text)
            .map_err(|e| format!("{file}: line {line}, field \"time\": {e}"))?;
        let mut values = Vec::with_capacity(index.len());
        for &(i, _) in &index {
            let text = rec.get(i).unwrap_or("").trim();
            let v = if text.is_empty() || text.eq_ignore_ascii_case("nan") {
                None
            } else {
                let x: f64 = text.parse().map_err(|_| {
                    format!(
                        "{file}: line {line}, field {:?}: {text:?} is not a number",
                        &headers[i]
                    )
                })?;
                infinite += usize::from(x.is_infinite());
                x.is_finite().then_some(x)
            };
            values.push(v);
        }
        rows.push((t, values));
    }
    if infinite > 0 {
        warn(&format!(
            "{file}: {infinite} infinite value(s) (inf, or beyond f64 like 1e400) treated as missing"
        ));
    }
    // Exports are not always clean: rows in time order (stable), equal times merged.
    rows.sort_by_key(|r| r.0);
    let range = rows.first().zip(rows.last()).map(|(a, b)| (a.0, b.0));
    let mut merged = 0;
    for (t, values) in rows {
        let dup = cols
            .first()
            .is_some_and(|c| c.2.last().is_some_and(|l| l.0 == t));
        for (&(_, c), v) in index.iter().zip(values) {
            let col = &mut cols[c].2;
            match col.last_mut() {
                Some(last) if dup => {
                    if v.is_some() {
                        last.1 = v;
                    }
                }
                _ => col.push((t, v)),
            }
        }
        merged += usize::from(dup);
    }
    if merged > 0 {
        eprintln!(
            "rca_case: {file}: {merged} row(s) repeat an earlier time; merged (per column the last value)"
        );
    }
    Ok(Data { cols, range })
}

fn run(args: &Args) -> Result<String, String> {
    let dir = Path::new(&args.case_dir);
    let data = dir.join("data.csv");
    let Data { cols, range } = load_csv(&data)?;
    let inject_path = dir.join("inject_time.txt");
    let inject_text = read(&inject_path)?;
    let start = Timestamp::parse(inject_text.trim())
        .map_err(|e| format!("{}: line 1: {e}", inject_path.display()))?;
    match range {
        None => warn(&format!(
            "{}: no data rows; every service scores 0",
            data.display()
        )),
        // The baseline is the rows strictly before the inject time: at the first row there is
        // none, and every score is 0 as well.
        Some((first, last)) if start <= first || start > last => warn(&format!(
            "{}: inject time {} is outside the time range ({}, {}] of {}; \
             no rows on one side of it to compare",
            inject_path.display(),
            start.as_secs_f64(),
            first.as_secs_f64(),
            last.as_secs_f64(),
            data.display()
        )),
        Some(_) => {}
    }
    let services_path = dir.join("services.json");
    let graph = if services_path.exists() {
        let text = read(&services_path)?;
        let config = ServicesConfig::from_json(&text)
            .map_err(|e| format!("{}: {e}", services_path.display()))?;
        Some(
            ServiceGraph::with_options(
                config.specs(),
                GraphOptions::default().add_unknown_dependencies(true),
            )
            .map_err(|e| format!("{}: {e}", services_path.display()))?,
        )
    } else {
        None
    };
    let mut all: BTreeSet<String> = BTreeSet::new();
    let mut metrics = Vec::new();
    for (svc, metric, rows) in cols {
        all.insert(svc.clone());
        let series = TimeSeries::from_optional(rows)
            .map_err(|e| format!("{}: column {svc}_{metric}: {e}", data.display()))?;
        if series.is_empty() {
            continue;
        }
        metrics.push(MetricSeries::try_new(svc, metric, series).map_err(|e| e.to_string())?);
    }
    if let Some(g) = &graph {
        all.extend(g.names().iter().cloned());
    }
    let mut input = RankInput::new().metrics(&metrics, start);
    if let Some(g) = &graph {
        input = input.graph(g);
    }
    let ranked = if metrics.is_empty() && graph.is_none() {
        Vec::new()
    } else {
        CombinedRanker::default()
            .rank(&input)
            .map_err(|e| e.to_string())?
    };
    let mut scores: BTreeMap<String, f64> = all.iter().map(|s| (s.clone(), 0.0)).collect();
    for c in &ranked {
        scores.insert(c.service().to_owned(), c.score());
    }
    let mut rows: Vec<(String, f64)> = scores.into_iter().collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let ranking: Vec<_> = rows
        .iter()
        .map(|(s, x)| json!({"service": s, "score": x}))
        .collect();
    serde_json::to_string(&json!({"ranking": ranking})).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rca_case: {e}");
            ExitCode::FAILURE
        }
    }
}
