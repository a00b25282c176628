//! Holidays: the caller's own list and built-in country calendars.
//!
//! The built-in calendars (CN and US, 2015-2035) are a table generated from the Python
//! `holidays` package (version 0.109) by `scripts/forecast_holidays.py`, the same source Python
//! Prophet's `add_country_holidays` reads, so holiday names and days match Prophet's.

use aiops_core::Timestamp;

use crate::error::{ForecastError, Result};

const TABLE: &str = include_str!("holidays_table.csv");
const DAY_MS: i64 = 86_400_000;

/// A country with a built-in holiday calendar for 2015-2035.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Country {
    /// China (the article's choice): statutory holidays, observed and substituted days off.
    Cn,
    /// The United States: federal holidays and their observed days.
    Us,
}

impl Country {
    /// The ISO 3166 alpha-2 code, as Prophet's `add_country_holidays` takes it.
    pub const fn code(self) -> &'static str {
        match self {
            Country::Cn => "CN",
            Country::Us => "US",
        }
    }

    /// Parses an ISO code, case-insensitively.
    pub fn parse(code: &str) -> Result<Self> {
        match code.to_ascii_uppercase().as_str() {
            "CN" => Ok(Country::Cn),
            "US" => Ok(Country::Us),
            _ => Err(ForecastError::InvalidParameter {
                name: "country",
                reason: format!("no built-in holiday calendar for {code:?} (have CN, US)"),
            }),
        }
    }

    /// The country's holidays in the built-in table (2015-2035), one [`Holiday`] per name with
    /// every day it falls on, names as the Python `holidays` package spells them.
    ///
    /// ```
    /// use aiops_forecast::{Country, Holiday};
    /// use aiops_core::Timestamp;
    /// let us = Country::Us.holidays();
    /// let thanksgiving = us.iter().find(|h| h.name() == "Thanksgiving Day").unwrap();
    /// // Fourth Thursday of November 2026.
    /// assert!(thanksgiving.dates().contains(&Timestamp::parse("2026-11-26").unwrap()));
    /// ```
    pub fn holidays(self) -> Vec<Holiday> {
        let mut out: Vec<Holiday> = Vec::new();
        for line in TABLE.lines().filter(|l| !l.starts_with('#')) {
            let mut parts = line.splitn(3, ',');
            let (Some(code), Some(date), Some(name)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if code != self.code() {
                continue;
            }
            let Some(day) = parse_day(date) else {
                continue;
            };
            match out.iter_mut().find(|h| h.name == name) {
                Some(h) => h.dates.push(day),
                None => out.push(Holiday {
                    name: name.to_string(),
                    dates: vec![day],
                    lower_window: 0,
                    upper_window: 0,
                }),
            }
        }
        out
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_day(s: &str) -> Option<Timestamp> {
    let mut it = s.split('-');
    let y = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let d = it.next()?.parse().ok()?;
    Some(Timestamp::from_millis(days_from_civil(y, m, d) * DAY_MS))
}

/// Most days a holiday's window reaches before or after each date.
const MAX_WINDOW_DAYS: i32 = 366;

/// A named holiday: the days it falls on (UTC days) and a window of days before and after
/// that it also affects, as Prophet's `holidays` data frame (`lower_window <= 0 <= upper_window`,
/// at most 366 days each way).
///
/// With the `serde` feature it deserialises through [`Holiday::try_new`] and
/// [`Holiday::with_window`], so a deserialised holiday is as valid as a built one.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "UncheckedHoliday"))]
pub struct Holiday {
    name: String,
    dates: Vec<Timestamp>,
    lower_window: i32,
    upper_window: i32,
}

/// A deserialised [`Holiday`] before validation (the same fields).
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct UncheckedHoliday {
    name: String,
    dates: Vec<Timestamp>,
    lower_window: i32,
    upper_window: i32,
}

#[cfg(feature = "serde")]
impl TryFrom<UncheckedHoliday> for Holiday {
    type Error = ForecastError;
    fn try_from(u: UncheckedHoliday) -> Result<Self> {
        Holiday::try_new(u.name, u.dates)?.with_window(u.lower_window, u.upper_window)
    }
}

impl Holiday {
    /// A holiday on the given days (any time within a day stands for that UTC day).
    ///
    /// Errors: [`ForecastError::InvalidParameter`] for an empty name, no dates, or a date whose
    /// UTC day starts before the smallest `i64` millisecond (the first day of that range).
    pub fn try_new(name: impl Into<String>, dates: Vec<Timestamp>) -> Result<Self> {
        let name = name.into();
        if name.trim().is_empty() {
            return Err(ForecastError::InvalidParameter {
                name: "holiday name",
                reason: "must not be empty".into(),
            });
        }
        if dates.is_empty() {
            return Err(ForecastError::InvalidParameter {
                name: "holiday dates",
                reason: format!("holiday {name:?} has no dates"),
            });
        }
        let dates = dates
            .into_iter()
            .map(|t| {
                t.as_millis()
                    .div_euclid(DAY_MS)
                    .checked_mul(DAY_MS)
                    .map(Timestamp::from_millis)
                    .ok_or_else(|| ForecastError::InvalidParameter {
                        name: "holiday dates",
                        reason: format!(
                            "holiday {name:?}: the UTC day of {t} ({} ms) starts before the \
                             smallest representable timestamp",
                            t.as_millis()
                        ),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Holiday {
            name,
            dates,
            lower_window: 0,
            upper_window: 0,
        })
    }

    /// Also affects `-lower_window` days before and `upper_window` days after each date
    /// (`lower_window <= 0 <= upper_window`, at most 366 days each way: Prophet adds one
    /// feature per day of the window, so a year on either side is the most that still says
    /// something about the day itself).
    pub fn with_window(mut self, lower_window: i32, upper_window: i32) -> Result<Self> {
        if !(-MAX_WINDOW_DAYS..=0).contains(&lower_window)
            || !(0..=MAX_WINDOW_DAYS).contains(&upper_window)
        {
            return Err(ForecastError::InvalidParameter {
                name: "holiday window",
                reason: format!(
                    "need -{MAX_WINDOW_DAYS} <= lower_window <= 0 <= upper_window <= \
                     {MAX_WINDOW_DAYS}, got {lower_window}..{upper_window} for {:?}",
                    self.name
                ),
            });
        }
        self.lower_window = lower_window;
        self.upper_window = upper_window;
        Ok(self)
    }

    /// The holiday's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The days it falls on (midnight UTC).
    pub fn dates(&self) -> &[Timestamp] {
        &self.dates
    }

    /// `(lower_window, upper_window)` in days.
    pub fn window(&self) -> (i32, i32) {
        (self.lower_window, self.upper_window)
    }

    /// Checks what [`Holiday::try_new`] and [`Holiday::with_window`] check, for
    /// [`crate::ForecastConfig::check`].
    pub(crate) fn check(&self) -> Result<()> {
        Holiday::try_new(self.name.clone(), self.dates.clone())?
            .with_window(self.lower_window, self.upper_window)
            .map(|_| ())
    }

    /// Prophet features: one per window offset, named as Prophet names them (`name` for the
    /// day itself, `name_delim_+1`, `name_delim_-1` ... for the window), with each shifted
    /// day as a `[start, end)` range of Unix milliseconds. A day partly outside the `i64`
    /// range is cut at its end; one wholly outside it is left out (no timestamp is in it).
    pub(crate) fn features(&self) -> Vec<(String, Vec<(i64, i64)>)> {
        let clamp = |v: i128| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX });
        (self.lower_window..=self.upper_window)
            .map(|offset| {
                let name = if offset == 0 {
                    self.name.clone()
                } else {
                    format!("{}_delim_{offset:+}", self.name)
                };
                let days = self
                    .dates
                    .iter()
                    .filter_map(|d| {
                        let start =
                            i128::from(d.as_millis()) + i128::from(offset) * i128::from(DAY_MS);
                        let (s, e) = (clamp(start), clamp(start + i128::from(DAY_MS)));
                        (s < e).then_some((s, e))
                    })
                    .collect();
                (name, days)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ForecastConfig;

    fn day(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn civil_days_match_hand_values() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(parse_day("2026-11-27"), Some(day("2026-11-27")));
    }

    #[test]
    fn cn_calendar_has_known_lunar_and_fixed_holidays() {
        let cn = Country::Cn.holidays();
        let find = |n: &str| cn.iter().find(|h| h.name() == n).unwrap();
        // Spring Festival: 2015-02-19, 2020-01-25, 2026-02-17, 2035-02-08 (lunar new year).
        let sf = find("Chinese New Year (Spring Festival)");
        for d in ["2015-02-19", "2020-01-25", "2026-02-17", "2035-02-08"] {
            assert!(sf.dates().contains(&day(d)), "{d}");
        }
        // Mid-Autumn 2025-10-06 (15th day of the 8th lunar month).
        assert!(
            find("Mid-Autumn Festival")
                .dates()
                .contains(&day("2025-10-06"))
        );
        let national = find("National Day");
        assert!(national.dates().contains(&day("2030-10-01")));
        assert!(
            national
                .dates()
                .iter()
                .all(|d| d.date_string().contains("-10-0"))
        );
    }

    #[test]
    fn us_calendar_covers_2015_to_2035() {
        let us = Country::Us.holidays();
        let christmas = us.iter().find(|h| h.name() == "Christmas Day").unwrap();
        assert_eq!(christmas.dates().len(), 21);
        assert_eq!(christmas.dates()[0], day("2015-12-25"));
        // Juneteenth became a federal holiday in 2021.
        let j = us
            .iter()
            .find(|h| h.name() == "Juneteenth National Independence Day")
            .unwrap();
        assert_eq!(j.dates()[0], day("2021-06-19"));
        // Memorial Day 2024: last Monday of May.
        let mem = us.iter().find(|h| h.name() == "Memorial Day").unwrap();
        assert!(mem.dates().contains(&day("2024-05-27")));
    }

    #[test]
    fn user_holiday_validates_and_expands_windows() {
        assert!(Holiday::try_new("", vec![day("2026-01-01")]).is_err());
        assert!(Holiday::try_new("x", vec![]).is_err());
        let h = Holiday::try_new(
            "sale",
            vec![Timestamp::parse("2026-11-27T15:00:00Z").unwrap()],
        )
        .unwrap();
        assert_eq!(h.dates(), &[day("2026-11-27")]);
        assert!(h.clone().with_window(1, 0).is_err());
        let f = h.with_window(-1, 2).unwrap().features();
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["sale_delim_-1", "sale", "sale_delim_+1", "sale_delim_+2"]
        );
        let start = day("2026-11-26").as_millis();
        assert_eq!(f[0].1[0], (start, start + DAY_MS));
        assert!(
            Country::parse("fr")
                .unwrap_err()
                .to_string()
                .contains("\"fr\"")
        );
        assert_eq!(Country::parse("cn").unwrap(), Country::Cn);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn a_deserialised_holiday_is_validated() {
        let bad = serde_json::json!({
            "name": "", "dates": [], "lower_window": 5, "upper_window": -5
        });
        let e = serde_json::from_value::<Holiday>(bad).unwrap_err();
        assert!(e.to_string().contains("holiday name"), "{e}");
        let wide = serde_json::json!({
            "name": "x", "dates": [0], "lower_window": -100_000, "upper_window": 100_000
        });
        let e = serde_json::from_value::<Holiday>(wide.clone()).unwrap_err();
        assert!(
            e.to_string().contains("holiday window") && e.to_string().contains("100000"),
            "{e}"
        );
        // Inside a configuration too.
        let mut cfg = serde_json::to_value(ForecastConfig::default()).unwrap();
        cfg["holidays"] = serde_json::json!([wide]);
        let e = serde_json::from_value::<ForecastConfig>(cfg).unwrap_err();
        assert!(e.to_string().contains("holiday window"), "{e}");
        // A valid holiday round-trips, its dates the day starts.
        let h = Holiday::try_new("sale", vec![day("2026-11-27")])
            .unwrap()
            .with_window(-1, 2)
            .unwrap();
        let back: Holiday = serde_json::from_value(serde_json::to_value(&h).unwrap()).unwrap();
        assert_eq!(back, h);
        let odd = serde_json::json!({
            "name": "x", "dates": [format!("{}ms", day("2026-11-27").as_millis() + 5)],
            "lower_window": 0,
            "upper_window": 0
        });
        let back: Holiday = serde_json::from_value(odd).unwrap();
        assert_eq!(back.dates(), &[day("2026-11-27")]);
    }

    #[test]
    fn check_validates_every_holiday() {
        // Built field by field, as nothing public can: check() still refuses it.
        let bad = Holiday {
            name: "x".into(),
            dates: vec![day("2026-01-01")],
            lower_window: -100_000,
            upper_window: 100_000,
        };
        let cfg = ForecastConfig::default().with_holidays(vec![bad]);
        let e = cfg.check().unwrap_err();
        assert!(e.to_string().contains("holiday window"), "{e}");
        let empty = Holiday {
            name: " ".into(),
            dates: vec![],
            lower_window: 0,
            upper_window: 0,
        };
        let e = ForecastConfig::default()
            .with_holidays(vec![empty])
            .check()
            .unwrap_err();
        assert!(e.to_string().contains("holiday name"), "{e}");
    }

    #[test]
    fn a_date_whose_day_starts_before_i64_min_is_an_error() {
        let e = Holiday::try_new("x", vec![Timestamp::from_millis(i64::MIN)]).unwrap_err();
        assert!(
            matches!(
                e,
                ForecastError::InvalidParameter {
                    name: "holiday dates",
                    ..
                }
            ),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("\"x\"") && msg.contains(&i64::MIN.to_string()),
            "{msg}"
        );
        // One day later the day start fits: by hand, floor((2^63 - 86_400_000) / 86_400_000)
        // = 106_751_991_167 days before the epoch.
        let h = Holiday::try_new("x", vec![Timestamp::from_millis(i64::MIN + DAY_MS)]).unwrap();
        assert_eq!(
            h.dates(),
            &[Timestamp::from_millis(-106_751_991_167 * DAY_MS)]
        );
        // Its window's days before i64::MIN are cut there (the day before partly, since it
        // ends after i64::MIN) and days past i64::MAX left out: no overflow.
        let first = -106_751_991_167 * DAY_MS;
        let f = h.with_window(-2, 0).unwrap().features();
        assert_eq!(f[0].1, []);
        assert_eq!(f[1].1, [(i64::MIN, first)]);
        assert_eq!(f[2].1, [(first, first + DAY_MS)]);
        let last = Holiday::try_new("y", vec![Timestamp::from_millis(i64::MAX)])
            .unwrap()
            .with_window(0, 1)
            .unwrap()
            .features();
        assert_eq!(last[1].1, []);
        assert_eq!(last[0].1[0].1, i64::MAX);
    }
}
