//! `forecast_csv`: forecasts with intervals for every series of a CSV, plus an optional
//! capacity check.
//!
//! ```text
//! cargo run --release --example forecast_csv -- --horizon N [--model auto|prophet|linear|seasonal_naive|lag_regression]
//!     [--threshold X [--floor]] [--json] [--seed S] [--countries CN,US|none] [FILE]
//! ```
//!
//! Input (FILE or stdin): CSV with a header and columns `series_id,timestamp,value` (found by
//! name, extra columns ignored), the rows of each series in time order. Timestamps: Unix
//! seconds, RFC 3339, `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (UTC). A row whose value is empty or
//! `NaN` is a missing value and is skipped. Each series' step is the median gap between its
//! timestamps; gaps are allowed.
//!
//! Output CSV `series_id,step,timestamp,yhat,yhat_lower,yhat_upper` (timestamp in Unix seconds)
//! for steps 1..=N after each series' last timestamp, series in order of first appearance,
//! 95% intervals for every model. With `--threshold X` the capacity check runs with `now` = the
//! series' last timestamp and `current_value` = its last value (breach above X, or below X with
//! `--floor`); in CSV mode its result goes to stderr, one line per series. With `--json` the
//! whole output is one JSON object `{"series": [{"series_id", "model", "forecast": [{"step",
//! "timestamp", "yhat", "yhat_lower", "yhat_upper"}], "risk": {...} or null}]}`.
//!
//! Errors name the file, line and field (exit code 1); the same input and seed give the same
//! output byte for byte. Each series is written as soon as it is forecast (memory holds one
//! series' rows), so after an error the output holds the series before the one that failed.

#[path = "common/crlf.rs"]
mod crlf;

use std::io::{self, Read, Write};
use std::process::ExitCode;

use aiops::core::Timestamp;
use aiops::forecast::{
    CapacityPredictor, Country, ForecastConfig, ForecastRow, ModelKind, RiskAssessment, Threshold,
};
use clap::Parser;
use serde_json::{Value, json};

/// Forecasts for every series of a CSV (`series_id,timestamp,value` in,
/// `series_id,step,timestamp,yhat,yhat_lower,yhat_upper` out), with 95% intervals and an
/// optional capacity check.
#[derive(Parser, Debug)]
#[command(name = "forecast_csv")]
struct Args {
    /// Number of steps to forecast after each series' last timestamp (its step is the median
    /// gap between its timestamps).
    #[arg(long)]
    horizon: usize,
    /// Model: `auto` (default: lag regression on the deseasonalised series combined with
    /// seasonal naive plus its median seasonal drift, or seasonal naive / robust linear trend
    /// for short series), `prophet`
    /// (the article's: yearly, weekly, daily seasonality and country holidays; falls back to
    /// the auto rule when too short), `linear` (robust trend, like `predict_linear`),
    /// `seasonal_naive`, `lag_regression`.
    #[arg(long, default_value = "auto")]
    model: String,
    /// Capacity threshold: report when the forecast's upper bound exceeds it (with `--floor`:
    /// when the lower bound falls below it).
    #[arg(long, allow_negative_numbers = true)]
    threshold: Option<f64>,
    /// The threshold is a floor (free space, remaining quota).
    #[arg(long, requires = "threshold")]
    floor: bool,
    /// Write one JSON object instead of CSV.
    #[arg(long)]
    json: bool,
    /// Seed of Prophet's uncertainty sampling.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Holiday calendars for Prophet, comma-separated (`CN`, `US`), or `none`.
    #[arg(long, default_value = "CN")]
    countries: String,
    /// Input CSV file; stdin when absent or `-`.
    file: Option<String>,
}

struct Series {
    id: String,
    first_line: u64,
    timestamps: Vec<Timestamp>,
    values: Vec<f64>,
    /// Timestamp of the last row, even one with a missing value (for ordering checks).
    last_seen: Option<(Timestamp, u64)>,
}

fn read_series(name: &str, input: Box<dyn Read>) -> Result<Vec<Series>, String> {
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
            .position(|h| h.trim() == field)
            .ok_or_else(|| {
                format!(
                    "{name}: line 1: field `{field}`: missing column (header: {})",
                    headers.iter().collect::<Vec<_>>().join(",")
                )
            })
    };
    let (si, ti, vi) = (col("series_id")?, col("timestamp")?, col("value")?);
    let mut all: Vec<Series> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
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
        let field = |i: usize, f: &str| {
            record
                .get(i)
                .ok_or_else(|| format!("{name}: line {line}: field `{f}`: missing"))
        };
        let id = field(si, "series_id")?;
        let t_text = field(ti, "timestamp")?;
        let v_text = field(vi, "value")?;
        let t = Timestamp::parse(t_text)
            .map_err(|e| format!("{name}: line {line}: field `timestamp`: {e}"))?;
        let v = v_text.trim();
        let value = if v.is_empty() {
            None
        } else {
            let x = v.parse::<f64>().map_err(|_| {
                format!("{name}: line {line}: field `value`: {v_text:?} is not a number")
            })?;
            if x.is_nan() {
                None
            } else if x.is_infinite() {
                return Err(format!(
                    "{name}: line {line}: field `value`: {v_text:?} is not finite"
                ));
            } else {
                Some(x)
            }
        };
        // By name, not by scanning `all` (a scan per row was quadratic in the number of
        // series: 8,000 series of 200 points took 26 s).
        let pos = if let Some(&p) = index.get(id) {
            p
        } else {
            index.insert(id.to_owned(), all.len());
            all.push(Series {
                id: id.to_owned(),
                first_line: line,
                timestamps: Vec::new(),
                values: Vec::new(),
                last_seen: None,
            });
            all.len() - 1
        };
        let s = &mut all[pos];
        if let Some((prev, prev_line)) = s.last_seen
            && t <= prev
        {
            let why = if t == prev {
                "is the same millisecond as the previous timestamp (timestamps are read to the millisecond, so rows must be at least 1 ms apart)"
            } else {
                "is not later than the previous timestamp"
            };
            return Err(format!(
                "{name}: line {line}: field `timestamp`: {t_text:?} {why} of series {id:?} ({} on line {prev_line})",
                prev.to_rfc3339()
            ));
        }
        s.last_seen = Some((t, line));
        if let Some(x) = value {
            s.timestamps.push(t);
            s.values.push(x);
        }
    }
    Ok(all)
}

fn secs_text(t: Timestamp) -> String {
    let ms = t.as_millis();
    if ms % 1000 == 0 {
        format!("{}", ms / 1000)
    } else {
        format!("{:.3}", ms as f64 / 1000.0)
    }
}

fn secs_json(t: Timestamp) -> Value {
    let ms = t.as_millis();
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

fn risk_json(r: &RiskAssessment) -> Value {
    match r {
        RiskAssessment::AtRisk(r) => json!({
            "risk_level": r.level.as_str(),
            "days_until_risk": r.days_until_risk,
            "predicted_date": r.predicted_date.date_string(),
            "predicted_timestamp": secs_json(r.predicted_date),
            "predicted_value": r.predicted_value,
            "confidence_interval": [r.interval.0, r.interval.1],
            "recommendation": r.recommendation,
            "days_until_limit": r.days_until_limit,
        }),
        RiskAssessment::NoRisk {
            horizon_end,
            message,
            ..
        } => json!({
            "risk_level": "none",
            "message": message,
            "horizon_end": secs_json(*horizon_end),
        }),
        _ => Value::Null,
    }
}

fn risk_line(id: &str, r: &RiskAssessment) -> String {
    match r {
        RiskAssessment::AtRisk(r) => format!(
            "{id}: risk {} in {} days on {} (yhat {:.4}, interval {:.4}..{:.4}): {}",
            r.level.as_str(),
            r.days_until_risk,
            r.predicted_date.date_string(),
            r.predicted_value,
            r.interval.0,
            r.interval.1,
            r.recommendation
        ),
        RiskAssessment::NoRisk { message, .. } => format!("{id}: {message}"),
        _ => format!("{id}: unknown"),
    }
}

struct Output {
    id: String,
    model: ModelKind,
    rows: Vec<ForecastRow>,
    risk: Option<RiskAssessment>,
}

/// The forecast (and capacity check) of one series.
fn forecast_series(
    args: &Args,
    name: &str,
    config: &ForecastConfig,
    s: &Series,
) -> Result<Output, String> {
    let at = |e: &dyn std::fmt::Display| {
        format!("{name}: line {}: series {:?}: {e}", s.first_line, s.id)
    };
    let mut predictor = CapacityPredictor::new(config.clone());
    let used = predictor
        .train_points(&s.id, &s.timestamps, &s.values)
        .map_err(|e| at(&e))?;
    let step = predictor
        .model(&s.id)
        .map_or(1000, aiops::forecast::FittedModel::step_millis);
    let rows = predictor
        .predict_steps(&s.id, args.horizon, step)
        .map_err(|e| at(&e))?;
    let risk = match args.threshold {
        Some(x) => {
            let threshold = if args.floor {
                Threshold::Below(x)
            } else {
                Threshold::Above(x)
            };
            let (now, current) = match (s.timestamps.last(), s.values.last()) {
                (Some(t), Some(v)) => (*t, *v),
                _ => return Err(at(&"no values")),
            };
            Some(
                predictor
                    .check_capacity_risk(&s.id, threshold, current, now)
                    .map_err(|e| at(&e))?,
            )
        }
        None => None,
    };
    Ok(Output {
        id: s.id.clone(),
        model: used,
        rows,
        risk,
    })
}

fn run(args: &Args) -> Result<(), String> {
    let name = match args.file.as_deref() {
        None | Some("-") => "<stdin>".to_owned(),
        Some(f) => f.to_owned(),
    };
    if args.horizon == 0 {
        return Err("--horizon: must be at least 1".into());
    }
    let model = ModelKind::parse(&args.model).map_err(|e| format!("--model: {e}"))?;
    let countries = if args.countries.eq_ignore_ascii_case("none") || args.countries.is_empty() {
        Vec::new()
    } else {
        args.countries
            .split(',')
            .map(|c| Country::parse(c.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("--countries: {e}"))?
    };
    if let Some(x) = args.threshold
        && !x.is_finite()
    {
        return Err(format!("--threshold: must be finite, got {x}"));
    }
    let config = ForecastConfig::default()
        .with_model(model)
        .with_seed(args.seed)
        .with_countries(countries);
    let input: Box<dyn Read> = match args.file.as_deref() {
        None | Some("-") => Box::new(io::stdin().lock()),
        Some(f) => {
            Box::new(std::fs::File::open(f).map_err(|e| format!("{name}: cannot open: {e}"))?)
        }
    };
    let all = read_series(&name, input)?;
    // Each series is written as soon as it is forecast, so memory holds one series' rows
    // (keeping every series' rows for the end took 3.3 GB for 100 series of 1,000,000 steps).
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    let werr = |e: io::Error| format!("<stdout>: write failed: {e}");
    let jerr = |e: serde_json::Error| format!("<stdout>: {e}");
    let cerr = |e: csv::Error| format!("<stdout>: write failed: {e}");
    if args.json {
        w.write_all(b"{\"series\":[").map_err(werr)?;
    } else {
        let mut out = csv::Writer::from_writer(&mut w);
        out.write_record([
            "series_id",
            "step",
            "timestamp",
            "yhat",
            "yhat_lower",
            "yhat_upper",
        ])
        .map_err(cerr)?;
        out.flush().map_err(werr)?;
    }
    for (n, s) in all.iter().enumerate() {
        let o = forecast_series(args, &name, &config, s)?;
        if args.json {
            // Keys in the order the whole document had as one `serde_json::Value` (sorted).
            if n > 0 {
                w.write_all(b",").map_err(werr)?;
            }
            w.write_all(b"{\"forecast\":[").map_err(werr)?;
            for (k, r) in o.rows.iter().enumerate() {
                if k > 0 {
                    w.write_all(b",").map_err(werr)?;
                }
                let row = json!({"step": k + 1, "timestamp": secs_json(r.timestamp),
                                 "yhat": r.yhat, "yhat_lower": r.lower, "yhat_upper": r.upper});
                serde_json::to_writer(&mut w, &row).map_err(jerr)?;
            }
            w.write_all(b"],\"model\":").map_err(werr)?;
            serde_json::to_writer(&mut w, o.model.name()).map_err(jerr)?;
            w.write_all(b",\"risk\":").map_err(werr)?;
            let risk = o.risk.as_ref().map_or(Value::Null, risk_json);
            serde_json::to_writer(&mut w, &risk).map_err(jerr)?;
            w.write_all(b",\"series_id\":").map_err(werr)?;
            serde_json::to_writer(&mut w, &o.id).map_err(jerr)?;
            w.write_all(b"}").map_err(werr)?;
        } else {
            let mut out = csv::Writer::from_writer(&mut w);
            for (k, r) in o.rows.iter().enumerate() {
                out.write_record([
                    o.id.clone(),
                    (k + 1).to_string(),
                    secs_text(r.timestamp),
                    r.yhat.to_string(),
                    r.lower.to_string(),
                    r.upper.to_string(),
                ])
                .map_err(cerr)?;
            }
            out.flush().map_err(werr)?;
            drop(out);
            if let Some(r) = &o.risk {
                w.flush().map_err(werr)?;
                let _ = writeln!(io::stderr().lock(), "{}", risk_line(&o.id, r));
            }
        }
    }
    if args.json {
        w.write_all(b"]}\n").map_err(werr)?;
    }
    w.flush().map_err(werr)?;
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            let _ = writeln!(io::stderr(), "forecast_csv: error: {msg}");
            ExitCode::FAILURE
        }
    }
}
