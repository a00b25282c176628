//! Rules: a pattern over incident fields, the actions to run, a confidence threshold.

use aiops_core::{Incident, Severity};

use crate::action::ActionType;
use crate::error::{HealError, Result};

/// What a pattern key expects.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
#[non_exhaustive]
pub enum Matcher {
    /// The field must equal this value: scores 1.0.
    Exact(String),
    /// The field must be one of these values: scores 0.8 (the article's membership weight,
    /// even for a one-element list).
    AnyOf(Vec<String>),
}

/// Score of an exact match, as in the article.
pub const EXACT_SCORE: f64 = 1.0;
/// Score of an any-of (list membership) match, as in the article.
pub const ANY_OF_SCORE: f64 = 0.8;
/// A rule matches only when its score is strictly above this, as in the article.
pub const MIN_MATCH_SCORE: f64 = 0.5;

/// The incident fields a pattern can test: `service` (the incident's primary service),
/// `severity` (its maximum severity, canonical name) and any other key, read from the labels
/// common to all of the incident's alerts.
///
/// Keys keep insertion order; setting a key twice keeps the last matcher (at the key's first
/// position), as a Python dict does. Deserialising (`serde` feature) merges a key repeated in
/// the input the same way, so it gives the pattern the builder would.
///
/// ```
/// use aiops_heal::Pattern;
/// let p = Pattern::new().exact("service", "api").any_of("severity", ["critical", "warning"]);
/// assert_eq!(p.len(), 2);
/// let p = p.exact("service", "db"); // replaces the first matcher
/// assert_eq!(p.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(from = "PatternKeys"))]
pub struct Pattern {
    /// No key twice: [`Pattern::with`] replaces, and deserialising merges. (A derived
    /// `Deserialize` kept both matchers of a repeated key, so such a rule never matched.)
    keys: Vec<(String, Matcher)>,
}

/// The serialised form of a [`Pattern`], merged as [`Pattern::with`] does when read.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct PatternKeys {
    keys: Vec<(String, Matcher)>,
}

#[cfg(feature = "serde")]
impl From<PatternKeys> for Pattern {
    fn from(p: PatternKeys) -> Self {
        // `with` per key, indexed so a long input is not quadratic.
        let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut keys: Vec<(String, Matcher)> = Vec::with_capacity(p.keys.len());
        for (k, m) in p.keys {
            if let Some(&i) = at.get(&k) {
                keys[i].1 = m;
            } else {
                at.insert(k.clone(), keys.len());
                keys.push((k, m));
            }
        }
        Pattern { keys }
    }
}

impl Pattern {
    /// An empty pattern (add keys before using it in a rule).
    pub fn new() -> Self {
        Pattern::default()
    }

    /// Adds (or replaces) a key that must equal `value`.
    #[must_use]
    pub fn exact(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.with(key, Matcher::Exact(value.into()))
    }

    /// Adds (or replaces) a key that must be one of `values`.
    #[must_use]
    pub fn any_of<V: Into<String>>(
        self,
        key: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        self.with(
            key,
            Matcher::AnyOf(values.into_iter().map(Into::into).collect()),
        )
    }

    /// Adds (or replaces) a key with any matcher.
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, matcher: Matcher) -> Self {
        let key = key.into();
        if let Some(slot) = self.keys.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = matcher;
        } else {
            self.keys.push((key, matcher));
        }
        self
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the pattern has no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys and matchers, in insertion order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Matcher)> + '_ {
        self.keys.iter().map(|(k, m)| (k.as_str(), m))
    }

    /// The article's match score of `incident`: each key scores 1.0 on an exact match, 0.8 on
    /// membership of an any-of list, else 0; the score is their mean (0 for an empty pattern).
    ///
    /// ```
    /// use aiops_core::{Incident, Labels, Severity, Timestamp};
    /// use aiops_heal::Pattern;
    /// let inc = Incident::from_summary("i", "api", Severity::High, Labels::new(), Timestamp::EPOCH);
    /// let p = Pattern::new().exact("service", "api").any_of("severity", ["high", "critical"]);
    /// assert!((p.score(&inc) - 0.9).abs() < 1e-12); // (1.0 + 0.8) / 2
    /// ```
    pub fn score(&self, incident: &Incident) -> f64 {
        if self.keys.is_empty() {
            return 0.0;
        }
        let mut total = 0.0;
        for (key, m) in &self.keys {
            let value = field_value(incident, key);
            total += match (m, value) {
                (Matcher::Exact(want), Some(v)) if normalise(key, want) == v => EXACT_SCORE,
                (Matcher::AnyOf(list), Some(v)) if list.iter().any(|w| normalise(key, w) == v) => {
                    ANY_OF_SCORE
                }
                _ => 0.0,
            };
        }
        total / self.keys.len() as f64
    }

    /// Checks keys and values; `severity` values must parse as a severity (`warning` reads as
    /// `medium`) and are replaced by their canonical name.
    pub(crate) fn validated(self, rule: &str) -> Result<Self> {
        if self.keys.is_empty() {
            return Err(HealError::EmptyPattern {
                rule: rule.to_owned(),
            });
        }
        let mut keys = Vec::with_capacity(self.keys.len());
        for (key, m) in self.keys {
            if key.trim().is_empty() {
                return Err(HealError::EmptyPatternKey);
            }
            let canon = |v: String| -> Result<String> {
                if key == "severity" {
                    v.parse::<Severity>()
                        .map(|s| s.as_str().to_owned())
                        .map_err(|_| HealError::UnknownSeverity { value: v })
                } else {
                    Ok(v)
                }
            };
            let m = match m {
                Matcher::Exact(v) => Matcher::Exact(canon(v)?),
                Matcher::AnyOf(list) => {
                    if list.is_empty() {
                        return Err(HealError::EmptyAnyOf { key });
                    }
                    Matcher::AnyOf(list.into_iter().map(canon).collect::<Result<_>>()?)
                }
            };
            keys.push((key, m));
        }
        Ok(Pattern { keys })
    }
}

/// `severity` values compare by canonical name; the rest as written.
fn normalise<'a>(key: &str, value: &'a str) -> std::borrow::Cow<'a, str> {
    if key == "severity"
        && let Ok(s) = value.parse::<Severity>()
    {
        return std::borrow::Cow::Borrowed(s.as_str());
    }
    std::borrow::Cow::Borrowed(value)
}

/// The value of a pattern field for an incident: `service`, `severity`, else a common label.
pub(crate) fn field_value<'a>(incident: &'a Incident, key: &str) -> Option<&'a str> {
    match key {
        "service" => incident.primary_service(),
        "severity" => Some(incident.severity().as_str()),
        label => incident.common_labels().get(label),
    }
}

/// The article's default confidence threshold.
pub const DEFAULT_CONFIDENCE_THRESHOLD: f64 = 0.8;

/// A healing rule: id, pattern, actions in order, confidence threshold and an optional
/// compensating action run when a later step fails.
///
/// ```
/// use aiops_heal::{ActionType, Pattern, Rule};
/// let rule = Rule::new("db-restart", Pattern::new().exact("service", "db"), [ActionType::RestartService])?
///     .with_threshold(0.6)?
///     .with_compensation(ActionType::Rollback);
/// assert_eq!(rule.threshold(), 0.6);
/// # Ok::<(), aiops_heal::HealError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Rule {
    id: String,
    pattern: Pattern,
    actions: Vec<ActionType>,
    threshold: f64,
    compensation: Option<ActionType>,
}

impl Rule {
    /// A rule with the article's default threshold 0.8. The id must be non-empty, the pattern
    /// and the action list non-empty, and `severity` values real severities.
    pub fn new(
        id: impl Into<String>,
        pattern: Pattern,
        actions: impl IntoIterator<Item = ActionType>,
    ) -> Result<Self> {
        let id = id.into();
        if id.trim().is_empty() {
            return Err(HealError::EmptyRuleId);
        }
        let pattern = pattern.validated(&id)?;
        let actions: Vec<ActionType> = actions.into_iter().collect();
        if actions.is_empty() {
            return Err(HealError::EmptyActions { rule: id });
        }
        Ok(Rule {
            id,
            pattern,
            actions,
            threshold: DEFAULT_CONFIDENCE_THRESHOLD,
            compensation: None,
        })
    }

    /// Sets the confidence threshold (in `[0, 1]`): below it the engine refuses to act.
    pub fn with_threshold(mut self, threshold: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(HealError::OutOfUnitRange {
                what: "confidence threshold",
                value: threshold,
            });
        }
        self.threshold = threshold;
        Ok(self)
    }

    /// Sets the compensating action, run once when a step fails after an earlier one succeeded.
    #[must_use]
    pub fn with_compensation(mut self, action: ActionType) -> Self {
        self.compensation = Some(action);
        self
    }

    /// The id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The pattern.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }
    /// The actions, in order.
    pub fn actions(&self) -> &[ActionType] {
        &self.actions
    }
    /// The confidence threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }
    /// The compensating action, if any.
    pub fn compensation(&self) -> Option<&ActionType> {
        self.compensation.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aiops_core::{Labels, Timestamp};

    fn inc(service: &str, sev: Severity, labels: &[(&str, &str)]) -> Incident {
        Incident::from_summary(
            "i",
            service,
            sev,
            Labels::from_pairs(labels.iter().copied()),
            Timestamp::EPOCH,
        )
    }

    #[test]
    fn article_scores_by_hand() {
        let i = inc(
            "api",
            Severity::Critical,
            &[("team", "web"), ("env", "prod")],
        );
        // exact + exact + miss = 2 / 3
        let p = Pattern::new()
            .exact("service", "api")
            .exact("team", "web")
            .exact("env", "staging");
        assert!((p.score(&i) - 2.0 / 3.0).abs() < 1e-12);
        // any-of single element still 0.8 (the article tests equality with the list first)
        let p = Pattern::new().any_of("service", ["api"]);
        assert!((p.score(&i) - 0.8).abs() < 1e-12);
        // missing label scores 0
        let p = Pattern::new().exact("region", "eu").exact("service", "api");
        assert!((p.score(&i) - 0.5).abs() < 1e-12);
        // severity spellings: "crit" in the pattern matches a critical incident
        let p = Pattern::new().exact("severity", "crit");
        assert_eq!(p.score(&i), 1.0);
        assert_eq!(Pattern::new().score(&i), 0.0);
    }

    #[test]
    fn bad_rules_are_errors() {
        let p = || Pattern::new().exact("service", "a");
        assert_eq!(
            Rule::new("", p(), [ActionType::ScaleOut]).unwrap_err(),
            HealError::EmptyRuleId
        );
        assert!(matches!(
            Rule::new("r", Pattern::new(), [ActionType::ScaleOut]).unwrap_err(),
            HealError::EmptyPattern { .. }
        ));
        assert!(matches!(
            Rule::new("r", p(), []).unwrap_err(),
            HealError::EmptyActions { .. }
        ));
        let e = Rule::new(
            "r",
            Pattern::new().exact("severity", "purple"),
            [ActionType::ScaleOut],
        )
        .unwrap_err();
        assert!(e.to_string().contains("purple"));
        assert!(matches!(
            Rule::new(
                "r",
                Pattern::new().any_of("x", Vec::<String>::new()),
                [ActionType::ScaleOut]
            ),
            Err(HealError::EmptyAnyOf { .. })
        ));
        let r = Rule::new("r", p(), [ActionType::ScaleOut]).unwrap();
        assert!(r.clone().with_threshold(f64::NAN).is_err());
        assert!(
            r.with_threshold(1.5)
                .unwrap_err()
                .to_string()
                .contains("1.5")
        );
        let w = Rule::new(
            "w",
            Pattern::new().exact("severity", "warning"),
            [ActionType::ScaleOut],
        )
        .unwrap();
        assert_eq!(
            w.pattern().iter().next().unwrap().1,
            &Matcher::Exact("medium".into())
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn deserialised_pattern_merges_a_repeated_key_as_the_builder_does() {
        // The derived `Deserialize` kept both matchers of "service": an incident on db scored
        // (0 + 1) / 2 = 0.5 and the rule never matched.
        let json = r#"{"keys":[["service","api"],["severity",["high"]],["service","db"]]}"#;
        let read: Pattern = serde_json::from_str(json).unwrap();
        let built = Pattern::new()
            .exact("service", "api")
            .any_of("severity", ["high"])
            .exact("service", "db");
        assert_eq!(read, built);
        assert_eq!(read.len(), 2);
        assert_eq!(
            read.iter().next(),
            Some(("service", &Matcher::Exact("db".into())))
        );
        let db = inc("db", Severity::High, &[]);
        assert!((read.score(&db) - 0.9).abs() < 1e-12); // (1.0 + 0.8) / 2
        let rule = Rule::new("r", read.clone(), [ActionType::ScaleOut]).unwrap();
        assert_eq!(rule.pattern(), &built);
        // Serialising and reading back is the identity.
        let again: Pattern = serde_json::from_str(&serde_json::to_string(&read).unwrap()).unwrap();
        assert_eq!(again, read);
    }
}
