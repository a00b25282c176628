//! Timestamps: Unix milliseconds, and the one timestamp grammar every data tool accepts.

use std::fmt;
use std::str::FromStr;

use crate::error::{CoreError, Result};

/// An instant as whole milliseconds since the Unix epoch (UTC).
///
/// Milliseconds are the resolution of Prometheus samples and of most alerting systems; an `i64`
/// of them covers every date the RFC 3339 grammar can write (years 0000..=9999).
/// [`Timestamp::parse`] accepts 0000-01-01T00:00:00Z to 9999-12-30T21:59:59.999Z (the end of
/// the range of jiff, which reads and prints the text forms).
///
/// `Display` writes that range as RFC 3339 and every other `i64` as `<n>ms` (whole
/// milliseconds, e.g. `9223372036854775807ms`). With the `serde` feature a timestamp serialises
/// as that text and deserialises from it, so every `Timestamp` round-trips through serde.
///
/// ```
/// use aiops_core::Timestamp;
///
/// let t = Timestamp::parse("2024-03-01T12:00:00Z")?;
/// assert_eq!(t.as_secs(), 1_709_294_400);
/// assert_eq!(t, Timestamp::from_secs(1_709_294_400));
/// assert_eq!(t.to_string(), "2024-03-01T12:00:00Z");
/// assert_eq!(Timestamp::parse("1709294400.5")?.as_millis(), 1_709_294_400_500);
/// # Ok::<(), aiops_core::CoreError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

/// Smallest and largest millisecond values parsed: 0000-01-01T00:00:00Z, the first instant
/// RFC 3339 can write (earlier years print in ISO 8601's extended form, `-000001-...`, which
/// the data tools' RFC 3339 output must not use; before jiff's smallest timestamp,
/// -009999-01-02, they printed as `<n>ms`), and 9999-12-30T21:59:59.999Z, jiff's largest.
const MIN_MILLIS: i64 = -62_167_219_200_000;
const MAX_MILLIS: i64 = 253_402_207_200_000 - 1;

impl Timestamp {
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// 9999-12-30T21:59:59.999Z: the latest time [`Timestamp::parse`] accepts, so the latest a
    /// data tool can write and read back (RFC 3339 as jiff prints it). Later times (and times
    /// before year 0000) print as `<n>ms`, and [`Timestamp::date_string`] clamps them to the
    /// range.
    pub const LATEST: Timestamp = Timestamp(MAX_MILLIS);

    /// From whole milliseconds since the epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    /// From whole seconds since the epoch (saturating at the `i64` range).
    pub const fn from_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(1000))
    }

    /// From fractional seconds since the epoch, rounded to the nearest millisecond.
    ///
    /// Rejects NaN, infinities and values outside years 0000..=9999.
    pub fn try_from_secs_f64(secs: f64) -> Result<Self> {
        let millis = secs * 1000.0;
        if !millis.is_finite()
            || millis.round() < MIN_MILLIS as f64
            || millis.round() > MAX_MILLIS as f64
        {
            return Err(CoreError::TimestampOutOfRange {
                value: secs,
                unit: "seconds",
            });
        }
        Ok(Timestamp(millis.round() as i64))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch, rounded towards negative infinity.
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Seconds since the epoch as a float (exact to the millisecond for any plausible date).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Signed difference `self - earlier` in milliseconds (saturating).
    pub const fn millis_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// Signed difference `self - earlier` in seconds.
    pub fn secs_since(self, earlier: Timestamp) -> f64 {
        self.millis_since(earlier) as f64 / 1000.0
    }

    /// This instant shifted by `millis` (saturating).
    #[must_use]
    pub const fn add_millis(self, millis: i64) -> Self {
        Timestamp(self.0.saturating_add(millis))
    }

    /// This instant shifted by `secs` seconds (saturating).
    #[must_use]
    pub const fn add_secs(self, secs: i64) -> Self {
        self.add_millis(secs.saturating_mul(1000))
    }

    /// Parses the grammar shared by every data tool (see `DATA_TOOLS.md`):
    ///
    /// - Unix seconds, integer or fractional (`1709294400`, `1709294400.25`, `-5`);
    /// - RFC 3339 with `Z` or an offset (`2024-03-01T12:00:00Z`, `2024-03-01T14:00:00+02:00`,
    ///   fractional seconds allowed; a space may stand for the `T`);
    /// - `YYYY-MM-DD` and `YYYY-MM-DD HH:MM:SS` (also with `T`), both read as UTC.
    ///
    /// Surrounding white space is ignored; every form is rounded to the nearest millisecond.
    /// An offset is `+HH:MM`, `+HHMM` or `+HH` (or `-`), hours 00-23 and minutes 00-59, as
    /// RFC 3339 allows (`+24:00` or an offset with seconds is an error, not a shift of a day).
    /// Times outside 0000-01-01T00:00:00Z..=9999-12-30T21:59:59.999Z, and anything else, are
    /// [`CoreError::InvalidTimestamp`] naming the text.
    pub fn parse(input: &str) -> Result<Self> {
        let t = Self::parse_any_year(input)?;
        let reason = if t.0 < MIN_MILLIS {
            "before year 0000, which RFC 3339 cannot write"
        } else if t.0 > MAX_MILLIS {
            "after 9999-12-30T21:59:59.999Z, the last time it can be printed as"
        } else {
            return Ok(t);
        };
        Err(CoreError::InvalidTimestamp {
            input: input.to_owned(),
            reason: reason.to_owned(),
        })
    }

    fn parse_any_year(input: &str) -> Result<Self> {
        let s = input.trim();
        let invalid = |reason: &str| CoreError::InvalidTimestamp {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        if s.is_empty() {
            return Err(invalid("empty"));
        }
        if looks_numeric(s) {
            let secs: f64 = s
                .parse()
                .map_err(|_| invalid("not a number of Unix seconds"))?;
            return Self::try_from_secs_f64(secs).map_err(|_| invalid("Unix seconds out of range"));
        }
        let b = s.as_bytes();
        // A date alone: `YYYY-MM-DD`.
        if b.len() == 10 {
            let date: jiff::civil::Date = s
                .parse()
                .map_err(|e: jiff::Error| invalid(&format!("not a date: {e}")))?;
            return Self::from_civil(date.to_datetime(jiff::civil::Time::midnight()), input);
        }
        // Any sign or bracket after the date is a zone: `+01:00`, and also `+0100`, `+01` or
        // `[Europe/Paris]`, which jiff reads with their offset (a civil read dropped them).
        let after_date = s.get(10..).unwrap_or("");
        let has_zone = s.ends_with('Z')
            || s.ends_with('z')
            || has_offset_suffix(s)
            || after_date.contains(['+', '-', '[']);
        if has_zone {
            if let Some(bad) = offset_problem(s) {
                return Err(invalid(bad));
            }
            let ts: jiff::Timestamp = s
                .parse()
                .map_err(|e: jiff::Error| invalid(&format!("not RFC 3339: {e}")))?;
            return Ok(Timestamp::nearest_millis(ts));
        }
        // A civil date-time without zone: read as UTC.
        let dt: jiff::civil::DateTime = s
            .parse()
            .map_err(|e: jiff::Error| invalid(&format!("not a date-time: {e}")))?;
        Self::from_civil(dt, input)
    }

    fn from_civil(dt: jiff::civil::DateTime, input: &str) -> Result<Self> {
        let z = dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map_err(|e| CoreError::InvalidTimestamp {
                input: input.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Timestamp::nearest_millis(z.timestamp()))
    }

    /// `ts` rounded to the nearest millisecond, half away from zero, as Unix seconds are
    /// (jiff's `as_millisecond` truncates towards zero, which moved times before 1970 later).
    fn nearest_millis(ts: jiff::Timestamp) -> Self {
        let ns = ts.as_nanosecond();
        let half = if ns < 0 { -500_000 } else { 500_000 };
        // Within i64: jiff's range is about +-2.5e17 ms.
        Timestamp(((ns + half) / 1_000_000) as i64)
    }

    /// RFC 3339 text in UTC with `Z`, with milliseconds only when they are not zero; the same
    /// text as `Display`. Times outside the range [`Timestamp::parse`] accepts (before year
    /// 0000, after [`Timestamp::LATEST`]) have no RFC 3339 form that reads back, and print as
    /// `<n>ms`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }

    /// The calendar date (UTC) of this instant as `YYYY-MM-DD`.
    pub fn date_string(self) -> String {
        let ts = jiff::Timestamp::from_millisecond(self.0.clamp(MIN_MILLIS, MAX_MILLIS))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        ts.to_zoned(jiff::tz::TimeZone::UTC).date().to_string()
    }
}

fn looks_numeric(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    !body.is_empty()
        && body
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+'))
        && body.as_bytes()[0].is_ascii_digit()
        && !body.contains("--")
        && body.bytes().filter(|&c| c == b'-').count() <= 1
}

/// What is wrong with the numeric offset at the end of `s` (before a `[zone]` annotation), if
/// anything: RFC 3339 allows hours 00-23 and minutes 00-59; jiff would also take `+24:00` to
/// `+25:59` and seconds, shifting the time by up to a day.
fn offset_problem(s: &str) -> Option<&'static str> {
    let s = match s.find('[') {
        Some(i) => &s[..i],
        None => s,
    };
    if s.ends_with(['Z', 'z']) {
        return None;
    }
    // The offset follows the time: its sign is the last one after the `T` (or space) that
    // ends the date (the date has dashes, and a signed year too).
    let time = s.find(['T', 't', ' '])?;
    let at = s[time..].rfind(['+', '-'])? + time;
    let digits: String = s[at + 1..].chars().filter(|&c| c != ':').collect();
    let colons = s[at + 1..].matches(':').count();
    let ok_shape = digits.bytes().all(|b| b.is_ascii_digit())
        && match digits.len() {
            2 => colons == 0,
            4 => colons <= 1,
            _ => false,
        };
    if !ok_shape {
        return Some("the offset is not +HH:MM, +HHMM or +HH");
    }
    let hours: u32 = digits[..2].parse().ok()?;
    let minutes: u32 = digits.get(2..).map_or(Some(0), |m| m.parse().ok())?;
    (hours > 23 || minutes > 59)
        .then_some("the offset is out of range (hours 00-23, minutes 00-59)")
}

fn has_offset_suffix(s: &str) -> bool {
    // `...+HH:MM` / `...-HH:MM` after a time part.
    let b = s.as_bytes();
    b.len() > 6
        && matches!(b[b.len() - 6], b'+' | b'-')
        && b[b.len() - 3] == b':'
        && s[..b.len() - 6].contains(':')
}

impl fmt::Display for Timestamp {
    /// RFC 3339 within the range [`Timestamp::parse`] reads back, `<n>ms` outside it (jiff
    /// also prints years before 0000 in ISO 8601's extended form and 9999-12-30T22:00:00Z,
    /// neither of which `parse` accepts).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::Timestamp::from_millisecond(self.0) {
            Ok(ts) if (MIN_MILLIS..=MAX_MILLIS).contains(&self.0) => write!(f, "{ts}"),
            _ => write!(f, "{}ms", self.0),
        }
    }
}

/// The milliseconds of the `<n>ms` form `Display` writes outside the range of
/// [`Timestamp::parse`]: an optional `-` and decimal digits, then `ms`. `None` when `s` is not
/// of that form; an `Err` naming the text when its number does not fit an `i64`.
#[cfg(feature = "serde")]
fn parse_millis_form(s: &str) -> Option<Result<Timestamp>> {
    let body = s.trim().strip_suffix("ms")?;
    let digits = body.strip_prefix('-').unwrap_or(body);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        body.parse::<i64>()
            .map(Timestamp)
            .map_err(|_| CoreError::InvalidTimestamp {
                input: s.to_owned(),
                reason: "milliseconds out of the i64 range".to_owned(),
            }),
    )
}

impl FromStr for Timestamp {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self> {
        Timestamp::parse(s)
    }
}

impl From<jiff::Timestamp> for Timestamp {
    /// Rounded to the nearest millisecond.
    fn from(ts: jiff::Timestamp) -> Self {
        Timestamp::nearest_millis(ts)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// Reads the grammar of [`Timestamp::parse`] or the `<n>ms` form of `Display` from a string, or
/// Unix seconds from a number.
///
/// Shared by every field that holds a time (`startsAt`, `endsAt`, ...), so they all accept the
/// same forms.
#[cfg(feature = "serde")]
pub(crate) struct TimestampVisitor;

#[cfg(feature = "serde")]
impl serde::de::Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp, Unix seconds or whole milliseconds as `<n>ms`")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Timestamp, E> {
        parse_millis_form(v)
            .unwrap_or_else(|| Timestamp::parse(v))
            .map_err(E::custom)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Timestamp, E> {
        Timestamp::try_from_secs_f64(v as f64).map_err(E::custom)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Timestamp, E> {
        Timestamp::try_from_secs_f64(v as f64).map_err(E::custom)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Timestamp, E> {
        Timestamp::try_from_secs_f64(v).map_err(E::custom)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Timestamp {
    /// Accepts every form of [`Timestamp::parse`] and the `<n>ms` form `Display` writes outside
    /// its range, as a string, or a number of Unix seconds; so every timestamp reads back what
    /// `Serialize` wrote.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(TimestampVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_as_json_numbers_read_as_their_text() {
        // The data tools read times as JSON numbers or as text: both must give the same
        // millisecond (the workspace turns on serde_json's `float_roundtrip` for it).
        for text in ["1700171547.5084999", "1709294400.0005", "0.0015", "-1.0005"] {
            let n: f64 = serde_json::from_str(text).unwrap();
            assert_eq!(n, text.parse::<f64>().unwrap(), "{text}");
            assert_eq!(
                Timestamp::try_from_secs_f64(n).unwrap(),
                Timestamp::parse(text).unwrap(),
                "{text}"
            );
        }
    }

    #[test]
    fn parses_every_documented_form() {
        let want = Timestamp::from_secs(1_709_294_400); // 2024-03-01T12:00:00Z by `date -d`.
        for s in [
            "1709294400",
            "1709294400.0",
            " 1709294400 ",
            "2024-03-01T12:00:00Z",
            "2024-03-01T12:00:00.000Z",
            "2024-03-01T14:00:00+02:00",
            "2024-03-01T07:00:00-05:00",
            "2024-03-01 12:00:00",
            "2024-03-01T12:00:00",
            "2024-03-01 12:00:00Z",
        ] {
            assert_eq!(Timestamp::parse(s).unwrap(), want, "{s}");
        }
        assert_eq!(
            Timestamp::parse("2024-03-01").unwrap(),
            Timestamp::from_secs(1_709_251_200)
        );
        assert_eq!(Timestamp::parse("1.5").unwrap().as_millis(), 1500);
        assert_eq!(Timestamp::parse("-1.5").unwrap().as_millis(), -1500);
        assert_eq!(Timestamp::parse("1e3").unwrap().as_millis(), 1_000_000);
    }

    #[test]
    fn offsets_in_other_forms_are_applied_not_dropped() {
        // 2023-12-31T23:00:00Z; read as civil times these were an hour off.
        let want = Timestamp::from_secs(1_704_063_600);
        for s in [
            "2024-01-01T00:00:00+0100",
            "2024-01-01T00:00:00+01",
            "2024-01-01T00:00:00+01:00[Europe/Paris]",
            "2023-12-31T18:30:00-0430",
        ] {
            assert_eq!(Timestamp::parse(s).unwrap(), want, "{s}");
        }
    }

    #[test]
    fn offsets_outside_rfc_3339_are_errors() {
        // jiff takes offsets up to +25:59:59: a typo shifted the time by up to a day.
        for s in [
            "2024-03-01T12:00:00+24:00",
            "2024-03-01T12:00:00+25:59",
            "2024-03-01T12:00:00-2400",
            "2024-03-01T12:00:00+01:60",
            "2024-03-01T12:00:00+01:00:30",
            "2024-03-01T12:00:00+1",
        ] {
            let err = Timestamp::parse(s).unwrap_err();
            assert!(err.to_string().contains("offset"), "{s}: {err}");
        }
        let want = Timestamp::from_secs(1_709_294_400);
        for s in [
            "2024-03-01T12:00:00-00:00",
            "2024-03-02T11:59:00+23:59",
            // A signed (extended) year: its dashes are no offset.
            "+002024-03-01T12:00:00Z",
            "+002024-03-01T13:00:00+01:00",
        ] {
            assert_eq!(Timestamp::parse(s).unwrap(), want, "{s}");
        }
    }

    #[test]
    fn every_form_rounds_to_the_nearest_millisecond() {
        // RFC 3339 and civil times truncated towards zero while Unix seconds rounded.
        for (text, secs, ms) in [
            (
                "2024-03-01T12:00:00.0005Z",
                "1709294400.0005",
                1_709_294_400_001,
            ),
            (
                "2024-03-01T12:00:00.0004Z",
                "1709294400.0004",
                1_709_294_400_000,
            ),
            ("1970-01-01T00:00:00.0009Z", "0.0009", 1),
            ("1969-12-31T23:59:59.9991Z", "-0.0009", -1),
        ] {
            assert_eq!(Timestamp::parse(text).unwrap().as_millis(), ms, "{text}");
            assert_eq!(Timestamp::parse(secs).unwrap().as_millis(), ms, "{secs}");
        }
        assert_eq!(
            Timestamp::parse("2024-03-01 12:00:00.0006")
                .unwrap()
                .as_millis(),
            1_709_294_400_001
        );
    }

    #[test]
    fn every_parsed_time_prints_as_rfc_3339() {
        // The smallest parsed time used to print as `-377705116800000ms`, and years before 0
        // in ISO 8601's extended form (`-009999-01-02T01:59:59Z`), which RFC 3339 lacks.
        for secs in ["-62167219200", "253402207199", "0"] {
            let t = Timestamp::parse(secs).unwrap();
            let text = t.to_string();
            assert!(text.len() >= 20 && text.as_bytes()[4] == b'-', "{text}");
            assert_eq!(Timestamp::parse(&text).unwrap(), t);
        }
        assert_eq!(
            Timestamp::parse("-62167219200").unwrap().to_string(),
            "0000-01-01T00:00:00Z"
        );
        let err = Timestamp::parse("-000001-06-01T00:00:00Z").unwrap_err();
        assert!(err.to_string().contains("before year 0000"), "{err}");
        for s in [
            "-62167219201",
            "-377705116800",
            "-000001-06-01T00:00:00Z",
            "-000001-06-01",
            // Past the last printable time: jiff reads these, but printed they were `<n>ms`.
            "9999-12-30T22:00:00.5Z",
            "9999-12-30T21:59:59.9996Z",
            "9999-12-31",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s}");
        }
        let last = Timestamp::parse("9999-12-30T21:59:59.999Z").unwrap();
        assert_eq!(last.as_millis(), MAX_MILLIS);
        assert_eq!(Timestamp::parse(&last.to_string()).unwrap(), last);
    }

    #[test]
    fn rejects_garbage_with_the_input_named() {
        for s in [
            "",
            "abc",
            "2024-13-01",
            "2024-02-30",
            "12:00",
            "nan",
            "inf",
            "1e400",
            "2024-03-01T25:00:00Z",
            "--1",
        ] {
            let err = Timestamp::parse(s).unwrap_err();
            assert!(
                matches!(err, CoreError::InvalidTimestamp { .. }),
                "{s}: {err}"
            );
            assert!(err.to_string().contains(&format!("{s:?}")), "{err}");
        }
    }

    #[test]
    fn display_round_trips() {
        for ms in [0, 1, 999, 1_709_294_400_123, -1_000] {
            let t = Timestamp::from_millis(ms);
            assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        }
        assert_eq!(
            Timestamp::from_millis(1_500).to_string(),
            "1970-01-01T00:00:01.5Z"
        );
        assert_eq!(
            Timestamp::from_secs(86_400 * 365).date_string(),
            "1971-01-01"
        );
    }

    #[test]
    fn arithmetic() {
        let t = Timestamp::from_secs(100);
        assert_eq!(t.add_secs(5).secs_since(t), 5.0);
        assert_eq!(Timestamp::from_millis(-1).as_secs(), -1);
        assert!(Timestamp::try_from_secs_f64(f64::NAN).is_err());
    }

    /// `Display` printed `i64::MAX` as `9223372036854775807ms`, times before year 0000 as
    /// `-000001-12-31T23:59:59.999Z` and 9999-12-30T22:00:00Z as such: serde wrote all three and
    /// read none of them back.
    #[cfg(feature = "serde")]
    #[test]
    fn times_outside_the_parsed_range_round_trip_through_serde() {
        for (ms, text) in [
            (i64::MAX, "9223372036854775807ms"),
            (i64::MIN, "-9223372036854775808ms"),
            (MIN_MILLIS - 1, "-62167219200001ms"),
            (MAX_MILLIS + 1, "253402207200000ms"),
            // jiff's smallest millisecond, which it prints as `-009999-01-02T01:59:59Z`.
            (-377_705_023_201_000, "-377705023201000ms"),
            (MIN_MILLIS, "0000-01-01T00:00:00Z"),
            (MAX_MILLIS, "9999-12-30T21:59:59.999Z"),
        ] {
            let t = Timestamp::from_millis(ms);
            assert_eq!(t.to_string(), text, "{ms}");
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(
                serde_json::from_str::<Timestamp>(&json).unwrap(),
                t,
                "{json}"
            );
        }
        // The `<n>ms` form is whole milliseconds in the i64 range, nothing else.
        let e = serde_json::from_str::<Timestamp>("\"9223372036854775808ms\"").unwrap_err();
        assert!(e.to_string().contains("9223372036854775808ms"), "{e}");
        for bad in ["\"ms\"", "\"-ms\"", "\"1.5ms\"", "\"1e3ms\"", "\"--1ms\""] {
            assert!(serde_json::from_str::<Timestamp>(bad).is_err(), "{bad}");
        }
        assert_eq!(
            serde_json::from_str::<Timestamp>("\" -5ms \"").unwrap(),
            Timestamp::from_millis(-5)
        );
    }

    proptest::proptest! {
        /// Every constructible timestamp reads back what serde wrote (the range of `parse` as
        /// RFC 3339, the rest as `<n>ms`).
        #[cfg(feature = "serde")]
        #[test]
        fn every_timestamp_round_trips_through_serde(
            ms in proptest::prop_oneof![
                proptest::num::i64::ANY,
                MIN_MILLIS - 2_000..MIN_MILLIS + 2_000,
                MAX_MILLIS - 2_000..MAX_MILLIS + 2_000,
                MIN_MILLIS..MAX_MILLIS,
            ],
        ) {
            let t = Timestamp::from_millis(ms);
            let json = serde_json::to_string(&t).unwrap();
            proptest::prop_assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        }

        #[test]
        fn parse_never_panics(s in ".*") {
            let _ = Timestamp::parse(&s);
        }

        #[test]
        fn millis_round_trip_through_text(ms in MIN_MILLIS..MAX_MILLIS) {
            let t = Timestamp::from_millis(ms);
            proptest::prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        }
    }
}
