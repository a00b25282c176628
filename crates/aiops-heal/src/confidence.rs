//! Confidence models: how sure the engine is that a rule's plan will work.

use aiops_core::Severity;

use crate::error::{HealError, Result};

/// Severity factors: the article's for critical/high/medium/low, and 0.5 for info (the article
/// has no info level and would fall back to 0.7, ranking info above low).
pub fn severity_factor(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 0.9,
        Severity::High => 0.8,
        Severity::Low => 0.6,
        Severity::Info => 0.5,
        // Medium, and any level added to core later, as the article's `.get(.., 0.7)` default.
        _ => 0.7,
    }
}

/// How a rule's confidence is computed from its history and the incident's severity.
///
/// - [`ConfidenceModel::Article`]: the article's formula exactly,
///   `min((0.5 + success_rate * 0.3) * severity_factor, 1)` (success rate 0 without history).
///   **Hazard:** it never exceeds `0.8 * 0.9 = 0.72`, so the article's default threshold 0.8
///   never heals, and a rule with no history sits at `0.5 * factor` (0.45 for critical).
/// - [`ConfidenceModel::BetaLowerBound`] (the default): the lower bound of the Beta posterior
///   of the rule's success probability, `mean - z * sd` of `Beta(a + successes, b + failures)`
///   (normal approximation, clamped to `[0, 1]`), optionally multiplied by the severity factor.
///   It approaches 1 with a clean history, falls with failures, and is low while evidence is
///   thin. The default prior is uniform (`a = b = 1`), `z = 1.645` (one-sided 95 %), no severity
///   weighting: with no history the confidence is [`COLD_START_CONFIDENCE`] (0.0251), and a
///   clean record needs 11 successes to pass 0.8 (see the tests).
///
/// ```
/// use aiops_core::Severity;
/// use aiops_heal::ConfidenceModel;
/// let article = ConfidenceModel::Article;
/// assert!((article.confidence(1000, 0, Severity::Critical) - 0.72).abs() < 1e-12);
/// let learned = ConfidenceModel::default();
/// assert!(learned.confidence(30, 0, Severity::Critical) > 0.9);
/// assert!(learned.confidence(0, 0, Severity::Critical) < 0.03);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "model", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ConfidenceModel {
    /// The article's formula (see the type's docs).
    Article,
    /// Lower bound of the Beta posterior of the success probability.
    BetaLowerBound {
        /// Prior pseudo-successes `a` (> 0).
        prior_successes: f64,
        /// Prior pseudo-failures `b` (> 0).
        prior_failures: f64,
        /// Standard deviations below the posterior mean (>= 0).
        z: f64,
        /// Multiply by [`severity_factor`] as the article does.
        severity_weighted: bool,
    },
}

/// The default model's confidence for a rule with no history:
/// `0.5 - 1.645 * sqrt(1 / 12)` (mean and standard deviation of the uniform prior).
pub const COLD_START_CONFIDENCE: f64 = 0.025_129_403_591_532_817;

impl Default for ConfidenceModel {
    fn default() -> Self {
        ConfidenceModel::BetaLowerBound {
            prior_successes: 1.0,
            prior_failures: 1.0,
            z: 1.645,
            severity_weighted: false,
        }
    }
}

impl ConfidenceModel {
    /// A Beta lower-bound model; the prior counts must be finite and positive with a finite
    /// sum, `z` finite and non-negative (see [`ConfidenceModel::check`]).
    pub fn beta_lower_bound(
        prior_successes: f64,
        prior_failures: f64,
        z: f64,
        severity_weighted: bool,
    ) -> Result<Self> {
        let model = ConfidenceModel::BetaLowerBound {
            prior_successes,
            prior_failures,
            z,
            severity_weighted,
        };
        model.check()?;
        Ok(model)
    }

    /// Checks the model's settings: for [`ConfidenceModel::BetaLowerBound`] the prior counts
    /// must be finite and positive, their sum finite (`1e308 + 1e308` overflows, and the
    /// posterior's mean and spread with it), and `z` finite and non-negative. The variant's fields are
    /// public, so a model written as a literal can skip [`ConfidenceModel::beta_lower_bound`];
    /// [`crate::PolicyBuilder::build`] runs this check, and [`ConfidenceModel::confidence`] of
    /// a model that fails it is 0.
    ///
    /// ```
    /// use aiops_heal::ConfidenceModel;
    /// let bad = ConfidenceModel::BetaLowerBound {
    ///     prior_successes: f64::NAN,
    ///     prior_failures: 1.0,
    ///     z: 1.645,
    ///     severity_weighted: false,
    /// };
    /// assert!(bad.check().unwrap_err().to_string().contains("prior_successes"));
    /// assert!(ConfidenceModel::default().check().is_ok());
    /// ```
    pub fn check(&self) -> Result<()> {
        let ConfidenceModel::BetaLowerBound {
            prior_successes,
            prior_failures,
            z,
            ..
        } = *self
        else {
            return Ok(());
        };
        let bad = |field, v: f64| HealError::InvalidSetting {
            field,
            reason: format!("must be finite and positive, got {v}"),
        };
        if !(prior_successes.is_finite() && prior_successes > 0.0) {
            return Err(bad("prior_successes", prior_successes));
        }
        if !(prior_failures.is_finite() && prior_failures > 0.0) {
            return Err(bad("prior_failures", prior_failures));
        }
        if !(prior_successes + prior_failures).is_finite() {
            return Err(HealError::InvalidSetting {
                field: "prior_successes + prior_failures",
                reason: format!(
                    "must be finite, got {prior_successes:e} + {prior_failures:e} = {}",
                    prior_successes + prior_failures
                ),
            });
        }
        if !(z.is_finite() && z >= 0.0) {
            return Err(HealError::InvalidSetting {
                field: "z",
                reason: format!("must be finite and >= 0, got {z}"),
            });
        }
        Ok(())
    }

    /// Confidence in `[0, 1]` for a rule with these counts, on an incident of this severity:
    /// always a finite number in that range.
    ///
    /// A model that fails [`ConfidenceModel::check`] (only a literal can build one) gives 0, so
    /// it never passes a threshold.
    pub fn confidence(&self, successes: u64, failures: u64, severity: Severity) -> f64 {
        if self.check().is_err() {
            return 0.0;
        }
        match *self {
            ConfidenceModel::Article => {
                // u128: the sum of two u64 counts cannot overflow it.
                let total = u128::from(successes) + u128::from(failures);
                let mut base = 0.5;
                if total > 0 {
                    base += successes as f64 / total as f64 * 0.3;
                }
                (base * severity_factor(severity)).min(1.0)
            }
            ConfidenceModel::BetaLowerBound {
                prior_successes,
                prior_failures,
                z,
                severity_weighted,
            } => {
                let a = prior_successes + successes as f64;
                let b = prior_failures + failures as f64;
                // Finite and positive: the check bounds the priors' sum, and counts below 2^64
                // each cannot carry it past f64::MAX (they are below half an ulp there).
                let n = a + b;
                let (mean, rest) = (a / n, b / n);
                // Var Beta(a, b) = ab / (n^2 (n + 1)) = mean (1 - mean) / (n + 1): written so,
                // nothing overflows (a * b did at a = b = 1e308) or underflows to 0 / 0 (at
                // a = b = 1e-320), either of which made the confidence NaN.
                let sd = (mean * rest / (n + 1.0)).sqrt();
                // Finite: mean and rest in [0, 1], sd in [0, 1/2], z finite (a property test).
                let lb = (mean - z * sd).clamp(0.0, 1.0);
                if severity_weighted {
                    lb * severity_factor(severity)
                } else {
                    lb
                }
            }
        }
    }

    /// Whether the severity factor enters the confidence.
    pub fn uses_severity(&self) -> bool {
        match *self {
            ConfidenceModel::Article => true,
            ConfidenceModel::BetaLowerBound {
                severity_weighted, ..
            } => severity_weighted,
        }
    }

    /// A short name: `article` or `beta_lower_bound`.
    pub fn name(&self) -> &'static str {
        match self {
            ConfidenceModel::Article => "article",
            ConfidenceModel::BetaLowerBound { .. } => "beta_lower_bound",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_formula_by_hand() {
        let m = ConfidenceModel::Article;
        // no history: 0.5 * factor
        assert!((m.confidence(0, 0, Severity::Critical) - 0.45).abs() < 1e-12);
        assert!((m.confidence(0, 0, Severity::Low) - 0.30).abs() < 1e-12);
        assert!((m.confidence(0, 0, Severity::Info) - 0.25).abs() < 1e-12);
        // 3 of 4: (0.5 + 0.75 * 0.3) * 0.8 = 0.58
        assert!((m.confidence(3, 1, Severity::High) - 0.58).abs() < 1e-12);
        // medium: (0.5 + 0.5 * 0.3) * 0.7 = 0.455
        assert!((m.confidence(1, 1, Severity::Medium) - 0.455).abs() < 1e-12);
    }

    #[test]
    fn hazard_article_confidence_never_reaches_its_default_threshold() {
        let m = ConfidenceModel::Article;
        let best = Severity::ALL
            .iter()
            .map(|&s| m.confidence(1_000_000, 0, s))
            .fold(0.0, f64::max);
        assert!((best - 0.72).abs() < 1e-12);
        assert!(best < crate::rule::DEFAULT_CONFIDENCE_THRESHOLD);
    }

    #[test]
    fn default_model_learns_past_the_threshold() {
        let m = ConfidenceModel::default();
        // Cold start is a documented number: 0.5 - 1.645 * sqrt(1/12).
        let cold = 0.5 - 1.645 * (1.0f64 / 12.0).sqrt();
        assert!((cold - COLD_START_CONFIDENCE).abs() < 1e-15);
        for s in Severity::ALL {
            assert!((m.confidence(0, 0, s) - COLD_START_CONFIDENCE).abs() < 1e-15);
        }
        // 10 clean successes: Beta(11, 1): mean 11/12, sd sqrt(11 / (144 * 13)) -> 0.7906 < 0.8
        let ten = 11.0 / 12.0 - 1.645 * (11.0f64 / (144.0 * 13.0)).sqrt();
        assert!((m.confidence(10, 0, Severity::High) - ten).abs() < 1e-12);
        assert!(ten < 0.8);
        // 11 clean successes: Beta(12, 1) -> 0.8059 >= 0.8
        assert!(m.confidence(11, 0, Severity::High) >= 0.8);
        // failures lower it
        assert!(m.confidence(11, 3, Severity::High) < m.confidence(11, 0, Severity::High));
        // monotone in successes
        let mut prev = 0.0;
        for s in 0..50 {
            let c = m.confidence(s, 2, Severity::Medium);
            assert!(c >= prev);
            prev = c;
        }
    }

    #[test]
    fn model_validation() {
        assert!(ConfidenceModel::beta_lower_bound(0.0, 1.0, 1.0, false).is_err());
        assert!(ConfidenceModel::beta_lower_bound(1.0, f64::NAN, 1.0, false).is_err());
        let e = ConfidenceModel::beta_lower_bound(1.0, 1.0, -2.0, false).unwrap_err();
        assert!(e.to_string().contains("-2"));
        let w = ConfidenceModel::beta_lower_bound(1.0, 1.0, 0.0, true).unwrap();
        assert!((w.confidence(0, 0, Severity::Info) - 0.25).abs() < 1e-12);
        assert!(w.uses_severity());
    }

    #[test]
    fn article_confidence_with_saturated_counts_does_not_overflow() {
        let m = ConfidenceModel::Article;
        // success rate (2^64 - 1) / 2^64 rounds to 1: (0.5 + 0.3) * 0.9 = 0.72
        assert!((m.confidence(u64::MAX, 1, Severity::Critical) - 0.72).abs() < 1e-12);
        // success rate 1 / 2^64 rounds to 0: 0.5 * 0.9 = 0.45
        assert!((m.confidence(1, u64::MAX, Severity::Critical) - 0.45).abs() < 1e-12);
        // equal saturated counts: rate 1/2, (0.5 + 0.15) * 0.8 = 0.52
        assert!((m.confidence(u64::MAX, u64::MAX, Severity::High) - 0.52).abs() < 1e-12);
    }

    #[test]
    fn literal_model_with_bad_fields_is_rejected_and_never_confident() {
        let literal = |a: f64, b: f64, z: f64| ConfidenceModel::BetaLowerBound {
            prior_successes: a,
            prior_failures: b,
            z,
            severity_weighted: false,
        };
        for (m, field) in [
            (literal(f64::NAN, 1.0, 1.645), "prior_successes"),
            (literal(1.0, f64::INFINITY, 1.645), "prior_failures"),
            (literal(1.0, 1.0, -100.0), "z"),
            (literal(1.0, 1.0, f64::NAN), "z"),
        ] {
            let e = m.check().unwrap_err();
            assert!(
                matches!(e, HealError::InvalidSetting { field: f, .. } if f == field),
                "{e}"
            );
            // Unchecked, z = -100 would give 1.0 and NaN priors NaN.
            for (s, f) in [(0, 0), (1000, 0), (0, 1000)] {
                assert_eq!(m.confidence(s, f, Severity::Critical), 0.0);
            }
        }
        assert!(ConfidenceModel::Article.check().is_ok());
        assert!(ConfidenceModel::default().check().is_ok());
    }

    #[test]
    fn huge_and_tiny_priors_never_give_nan() {
        // a * b and n * n * (n + 1) overflowed at a = b = 1e308 (inf / inf = NaN, and
        // NaN.clamp(0, 1) is NaN); the sum itself overflows, so the model is refused.
        let e = ConfidenceModel::beta_lower_bound(1e308, 1e308, 1.645, false).unwrap_err();
        assert!(
            matches!(
                e,
                HealError::InvalidSetting {
                    field: "prior_successes + prior_failures",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("1e308 + 1e308 = inf"), "{e}");
        let literal = ConfidenceModel::BetaLowerBound {
            prior_successes: 1e308,
            prior_failures: 1e308,
            z: 1.645,
            severity_weighted: false,
        };
        assert_eq!(literal.confidence(0, 0, Severity::High), 0.0);
        // A large finite sum is fine: Beta(1e308, 1e307) has mean 10/11 and sd ~ 0.
        let big = ConfidenceModel::beta_lower_bound(1e308, 1e307, 1.645, false).unwrap();
        assert!((big.confidence(0, 0, Severity::High) - 10.0 / 11.0).abs() < 1e-12);
        // a * b and n^3 underflowed to 0 / 0 at a = b = 1e-320: Beta(1e-320, 1e-320) has
        // mean 1/2 and sd sqrt(1/4 / (1 + 2e-320)) = 1/2, so z = 0.5 gives 1/2 - 1/4.
        let tiny = ConfidenceModel::beta_lower_bound(1e-320, 1e-320, 0.5, false).unwrap();
        assert_eq!(tiny.confidence(0, 0, Severity::High), 0.25);
    }

    fn any_prior() -> impl proptest::strategy::Strategy<Value = f64> {
        use proptest::prelude::*;
        prop_oneof![
            proptest::num::f64::ANY,
            proptest::num::f64::POSITIVE | proptest::num::f64::SUBNORMAL,
            Just(f64::MAX),
            Just(f64::MAX / 2.0),
            Just(1e308),
            Just(f64::MIN_POSITIVE),
            Just(5e-324),
            0.0f64..10.0,
        ]
    }

    proptest::proptest! {
        /// Whatever the settings, a model the constructor accepts gives a finite confidence
        /// in [0, 1] for every history and severity.
        #[test]
        fn confidence_is_finite_in_unit_range_for_every_accepted_model(
            a in any_prior(),
            b in any_prior(),
            z in proptest::prop_oneof![proptest::num::f64::ANY, 0.0f64..5.0, proptest::strategy::Just(f64::MAX)],
            weighted in proptest::bool::ANY,
            s in proptest::prop_oneof![proptest::num::u64::ANY, 0u64..100, proptest::strategy::Just(u64::MAX)],
            f in proptest::prop_oneof![proptest::num::u64::ANY, 0u64..100, proptest::strategy::Just(u64::MAX)],
            sev in 0usize..Severity::ALL.len(),
        ) {
            if let Ok(m) = ConfidenceModel::beta_lower_bound(a, b, z, weighted) {
                let c = m.confidence(s, f, Severity::ALL[sev]);
                proptest::prop_assert!((0.0..=1.0).contains(&c), "{m:?} ({s}, {f}): {c}");
            }
            let c = ConfidenceModel::Article.confidence(s, f, Severity::ALL[sev]);
            proptest::prop_assert!((0.0..=1.0).contains(&c));
        }
    }
}
