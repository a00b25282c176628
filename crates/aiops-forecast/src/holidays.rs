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

/// A named holiday: the days it falls on (UTC days) and a window of days before and after
/// that it also affects, as Prophet's `holidays` data frame (`lower_window <= 0 <= upper_window`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Holiday {
    name: String,
    dates: Vec<Timestamp>,
    lower_window: i32,
    upper_window: i32,
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
    /// (`lower_window <= 0 <= upper_window`, at most 366 days each way).
    pub fn with_window(mut self, lower_window: i32, upper_window: i32) -> Result<Self> {
        if !(-366..=0).contains(&lower_window) || !(0..=366).contains(&upper_window) {
            return Err(ForecastError::InvalidParameter {
                name: "holiday window",
                reason: format!(
                    "need -366 <= lower_window <= 0 <= upper_window <= 366, got {lower_window}..{upper_window} for {:?}",
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

    /// Prophet features: one per window offset, named as Prophet names them (`name` for the
    /// day itself, `name_delim_+1`, `name_delim_-1` ... for the window), with the day starts
    /// in Unix seconds.
    pub(crate) fn features(&self) -> Vec<(String, Vec<i64>)> {
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
                    .map(|d| d.as_millis() / 1000 + i64::from(offset) * 86_400)
                    .collect();
                (name, days)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(f[0].1[0], day("2026-11-26").as_millis() / 1000);
        assert!(
            Country::parse("fr")
                .unwrap_err()
                .to_string()
                .contains("\"fr\"")
        );
        assert_eq!(Country::parse("cn").unwrap(), Country::Cn);
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
    }
}
