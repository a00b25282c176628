//! Remediation actions.

use std::fmt;
use std::str::FromStr;

use crate::error::{HealError, Result};

/// A remediation action: the article's five, or a custom named one.
///
/// Names are `snake_case`; parsing a known name gives the built-in variant and any other
/// non-empty name a [`ActionType::Custom`] action, so `"restart_service"` can never hide behind
/// a custom action of the same name.
///
/// ```
/// use aiops_heal::ActionType;
/// assert_eq!("rollback".parse::<ActionType>()?, ActionType::Rollback);
/// let flush = ActionType::custom("flush_dns")?;
/// assert_eq!(flush.as_str(), "flush_dns");
/// assert_eq!(ActionType::custom("scale_out")?, ActionType::ScaleOut);
/// assert!(ActionType::custom("  ").is_err());
/// # Ok::<(), aiops_heal::HealError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ActionType {
    /// `restart_service`.
    RestartService,
    /// `scale_out`.
    ScaleOut,
    /// `clear_cache`.
    ClearCache,
    /// `rollback`.
    Rollback,
    /// `drain_traffic`.
    DrainTraffic,
    /// Any other named action (build it with [`ActionType::custom`]).
    Custom(CustomAction),
}

/// The name of a custom action: non-empty, trimmed, not one of the built-in names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CustomAction(String);

impl CustomAction {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ActionType {
    /// The five built-in actions, in the article's order.
    pub const BUILT_IN: [ActionType; 5] = [
        ActionType::RestartService,
        ActionType::ScaleOut,
        ActionType::ClearCache,
        ActionType::Rollback,
        ActionType::DrainTraffic,
    ];

    /// An action by name: a built-in one when the name is one, else a custom action.
    /// White space around the name is ignored; an empty name is an error.
    pub fn custom(name: impl AsRef<str>) -> Result<Self> {
        let raw = name.as_ref();
        let name = raw.trim();
        if name.is_empty() {
            return Err(HealError::EmptyActionName(raw.to_owned()));
        }
        Ok(match name {
            "restart_service" => ActionType::RestartService,
            "scale_out" => ActionType::ScaleOut,
            "clear_cache" => ActionType::ClearCache,
            "rollback" => ActionType::Rollback,
            "drain_traffic" => ActionType::DrainTraffic,
            other => ActionType::Custom(CustomAction(other.to_owned())),
        })
    }

    /// The action's name.
    pub fn as_str(&self) -> &str {
        match self {
            ActionType::RestartService => "restart_service",
            ActionType::ScaleOut => "scale_out",
            ActionType::ClearCache => "clear_cache",
            ActionType::Rollback => "rollback",
            ActionType::DrainTraffic => "drain_traffic",
            ActionType::Custom(c) => c.as_str(),
        }
    }
}

impl fmt::Display for ActionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActionType {
    type Err = HealError;
    fn from_str(s: &str) -> Result<Self> {
        ActionType::custom(s)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for ActionType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for ActionType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in ActionType::BUILT_IN {
            assert_eq!(a.as_str().parse::<ActionType>().unwrap(), a);
        }
        let c = ActionType::custom(" page_oncall ").unwrap();
        assert_eq!(c.to_string(), "page_oncall");
        assert!(matches!(c, ActionType::Custom(_)));
        assert_eq!(
            ActionType::custom("").unwrap_err(),
            HealError::EmptyActionName(String::new())
        );
    }
}
