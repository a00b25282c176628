//! Alert and incident severity.

use std::fmt;
use std::str::FromStr;

use crate::error::CoreError;

/// How bad something is, ordered `Info < Low < Medium < High < Critical`.
///
/// Parsing is lenient about the spellings alerting rules use in practice (case-insensitive):
///
/// | severity   | accepted spellings                                              |
/// |------------|-----------------------------------------------------------------|
/// | `Info`     | info, informational, information, none, debug, ok, notice       |
/// | `Low`      | low, minor, p4, p5                                              |
/// | `Medium`   | medium, warning, warn, moderate, average, p3                    |
/// | `High`     | high, major, error, err, severe, p2                             |
/// | `Critical` | critical, crit, page, fatal, emergency, emerg, alert, disaster, p1, sev1 |
///
/// ```
/// use aiops_core::Severity;
/// assert_eq!("warning".parse::<Severity>()?, Severity::Medium);
/// assert_eq!("PAGE".parse::<Severity>()?, Severity::Critical);
/// assert!(Severity::High > Severity::Medium);
/// assert!("purple".parse::<Severity>().is_err());
/// # Ok::<(), aiops_core::CoreError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum Severity {
    /// Informational; nothing to act on.
    Info,
    /// Low.
    Low,
    /// Medium, the default when an alert states none (Prometheus' `warning`).
    #[default]
    Medium,
    /// High.
    High,
    /// Critical: page someone.
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The canonical lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        // Case-insensitive without allocating: this runs once per alert on hot paths.
        const SPELLINGS: [(&str, Severity); 33] = [
            ("info", Severity::Info),
            ("informational", Severity::Info),
            ("information", Severity::Info),
            ("none", Severity::Info),
            ("debug", Severity::Info),
            ("ok", Severity::Info),
            ("notice", Severity::Info),
            ("low", Severity::Low),
            ("minor", Severity::Low),
            ("p4", Severity::Low),
            ("p5", Severity::Low),
            ("medium", Severity::Medium),
            ("warning", Severity::Medium),
            ("warn", Severity::Medium),
            ("moderate", Severity::Medium),
            ("average", Severity::Medium),
            ("p3", Severity::Medium),
            ("high", Severity::High),
            ("major", Severity::High),
            ("error", Severity::High),
            ("err", Severity::High),
            ("severe", Severity::High),
            ("p2", Severity::High),
            ("critical", Severity::Critical),
            ("crit", Severity::Critical),
            ("page", Severity::Critical),
            ("fatal", Severity::Critical),
            ("emergency", Severity::Critical),
            ("emerg", Severity::Critical),
            ("alert", Severity::Critical),
            ("disaster", Severity::Critical),
            ("p1", Severity::Critical),
            ("sev1", Severity::Critical),
        ];
        let t = s.trim();
        SPELLINGS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(t))
            .map(|&(_, sev)| sev)
            .ok_or_else(|| CoreError::UnknownSeverity(s.to_owned()))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Severity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Severity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_spellings() {
        assert!(Severity::Info < Severity::Low && Severity::Low < Severity::Medium);
        assert!(Severity::Medium < Severity::High && Severity::High < Severity::Critical);
        for (s, want) in [
            ("warn", Severity::Medium),
            ("Crit", Severity::Critical),
            (" error ", Severity::High),
            ("info", Severity::Info),
            ("minor", Severity::Low),
        ] {
            assert_eq!(s.parse::<Severity>().unwrap(), want);
        }
        for sev in Severity::ALL {
            assert_eq!(sev.as_str().parse::<Severity>().unwrap(), sev);
        }
        let err = "sev9".parse::<Severity>().unwrap_err();
        assert!(err.to_string().contains("sev9"));
    }
}
