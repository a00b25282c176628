//! The article's `AnomalyDetector`: an Isolation Forest over value, `ma_5`, `ma_15`, `std_5`.
//!
//! Faithful to the article: contamination 0.1, seed 42, `train` on history, `detect` by the
//! forest's `predict`, and `alert_if_anomaly` alerting when the point is predicted anomalous and
//! its score exceeds an alert threshold.
//!
//! Two deliberate differences. The article's default threshold, 0.8 on `|score_samples|`, is
//! almost never reached by a four-feature forest: a point whose value is ten times the training
//! range scores about 0.63, because only the splits on the features it is extreme in isolate it.
//! So the default threshold is the forest's own contamination cut (every point `predict` flags
//! alerts); [`AnomalyDetector::with_threshold`]`(0.8)` restores the article's rule. And the article's
//! `alert_if_anomaly` computes its confidence with `score_samples([[value]])`, a one-feature vector
//! against a four-feature model (scikit-learn raises an error on that). Here the new point is
//! scored with its full feature vector, built from the caller's per-metric [`FeatureWindow`].

use aiops_core::{Alert, Labels, Severity, Timestamp};

use crate::error::{AnomalyError, Result};
use crate::features::{FEATURE_NAMES, FeatureConfig, FeatureWindow};
use crate::iforest::{FittedIsolationForest, IsolationForest};

/// The article's detector. Train it, then `detect` batches or call `alert_if_anomaly` per point.
///
/// ```
/// use aiops_anomaly::AnomalyDetector;
/// use aiops_core::Timestamp;
/// let history: Vec<f64> = (0..500).map(|i| 50.0 + (f64::from(i) * 0.3).sin()).collect();
/// let mut detector = AnomalyDetector::new();
/// detector.train(&history)?;
/// let mut window = detector.window();
/// for &v in &history[480..] {
///     detector.alert_if_anomaly(&mut window, "cpu", Timestamp::from_secs(0), v)?;
/// }
/// let alert = detector.alert_if_anomaly(&mut window, "cpu", Timestamp::from_secs(60), 95.0)?;
/// let alert = alert.expect("a jump from 50 to 95 alerts");
/// assert!(alert.confidence() > 0.0 && alert.confidence() <= 1.0);
/// assert!(alert.drivers().iter().any(|d| d.name == "value"));
/// let core = alert.into_alert("checkout");
/// assert_eq!(core.labels().get("metric_type"), Some("cpu"));
/// # Ok::<(), aiops_anomaly::AnomalyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AnomalyDetector {
    params: IsolationForest,
    features: FeatureConfig,
    threshold: Option<f64>,
    trained: Option<Trained>,
}

#[derive(Debug, Clone)]
struct Trained {
    model: FittedIsolationForest,
    mean: [f64; 4],
    sd: [f64; 4],
    /// Per feature, the centre and scale the forest sees it in: `(x - centre) / scale` (see
    /// [`forest_row`]).
    centre: [f64; 4],
    scale: [f64; 4],
}

impl Trained {
    /// The median of each column of `rows` and its median absolute deviation from it; where
    /// that is 0 (more than half the values equal), the smallest non-zero deviation, and 1 for
    /// a constant column. Robust, so one huge value in the history does not set the scale (a
    /// range would: a spike of 1e20 among values near 10 mapped them all to one number).
    fn centres_and_scales(rows: &[[f64; 4]]) -> ([f64; 4], [f64; 4]) {
        let mut centre = [0.0; 4];
        let mut scale = [1.0; 4];
        let mut col = Vec::with_capacity(rows.len());
        for k in 0..4 {
            col.clear();
            col.extend(rows.iter().map(|r| r[k]));
            let Some((med, mad)) = aiops_core::stats::median_mad(&mut col) else {
                continue;
            };
            centre[k] = med;
            let sc = if mad > 0.0 {
                mad
            } else {
                col.iter()
                    .map(|x| (x - med).abs())
                    .filter(|&d| d > 0.0)
                    .fold(f64::INFINITY, f64::min)
            };
            // No spread at all (1), or one beyond f64 (values of both signs near f64::MAX).
            scale[k] = if sc == f64::INFINITY && mad == 0.0 {
                1.0
            } else {
                sc.min(f64::MAX)
            };
        }
        (centre, scale)
    }

    /// A feature row as the forest sees it (see [`forest_row`]).
    fn forest_row(&self, row: &[f64; 4]) -> [f64; 4] {
        forest_row(row, &self.centre, &self.scale)
    }
}

/// `(x - centre) / scale` per feature, the training rows centred on their medians in units of
/// their spread. The forest compares values at `f32` precision and does not split a node whose
/// values span less than 1e-7 (as scikit-learn), so raw features at 1e9 varying by 10, at 1e-9
/// at all, or beyond `f32::MAX` all looked alike, and a spike 20 times the usual swing was not
/// flagged. An affine map per column leaves the Isolation Forest's splits (uniform between a
/// node's minimum and maximum) as they are. Saturated at `±f64::MAX` (a value far outside the
/// training data), which the forest compares as `±f32::MAX` anyway.
fn forest_row(row: &[f64; 4], centre: &[f64; 4], scale: &[f64; 4]) -> [f64; 4] {
    std::array::from_fn(|k| ((row[k] - centre[k]) / scale[k]).clamp(-f64::MAX, f64::MAX))
}

impl Default for AnomalyDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl AnomalyDetector {
    /// The article's settings: `IsolationForest(contamination=0.1, random_state=42)` and features
    /// with windows 5/15/5; alerts on every point the forest flags (see the module docs for why
    /// not the article's 0.8).
    pub fn new() -> Self {
        Self {
            params: IsolationForest::new(),
            features: FeatureConfig::default(),
            threshold: None,
            trained: None,
        }
    }
    /// Replaces the forest parameters (checked at `train`).
    #[must_use]
    pub fn with_forest(mut self, params: IsolationForest) -> Self {
        self.params = params;
        self
    }
    /// Replaces the feature windows. Other windows than a trained detector's make it untrained
    /// ([`AnomalyError::NotTrained`] until [`train`](Self::train) runs again): its forest
    /// learned the features of the old windows (it used to score the new windows' features
    /// with it).
    #[must_use]
    pub fn with_features(mut self, features: FeatureConfig) -> Self {
        if features != self.features {
            self.trained = None;
        }
        self.features = features;
        self
    }
    /// The score (in `[0, 1]`) a predicted anomaly must also exceed to alert (the article used
    /// 0.8). Without it, every predicted anomaly alerts.
    ///
    /// Checked where it is used: [`train`](Self::train) and
    /// [`alert_if_anomaly`](Self::alert_if_anomaly) return [`AnomalyError::InvalidParam`] for a
    /// threshold outside `[0, 1]` (NaN included), also when it was set after training.
    /// [`detect`](Self::detect) and [`scores`](Self::scores) do not use it.
    #[must_use]
    pub fn with_threshold(mut self, threshold: f64) -> Self {
        self.threshold = Some(threshold);
        self
    }
    /// Whether `train` has succeeded.
    pub fn is_trained(&self) -> bool {
        self.trained.is_some()
    }
    /// The fitted forest, once trained. It is fitted on the feature rows centred on their
    /// training medians in units of their spread (so that the forest's `f32` comparisons
    /// resolve a series of any magnitude and offset): score through [`scores`](Self::scores)
    /// and [`detect`](Self::detect), not by passing raw feature rows to it. Its
    /// [`threshold`](FittedIsolationForest::threshold) and
    /// [`offset`](FittedIsolationForest::offset) apply to the detector's scores.
    pub fn model(&self) -> Option<&FittedIsolationForest> {
        self.trained.as_ref().map(|t| &t.model)
    }

    /// Fits the forest on the features of `history` (non-finite values skipped).
    ///
    /// Errors when the parameters are invalid, the threshold is outside `[0, 1]`, or the history
    /// yields fewer than 2 feature rows ([`AnomalyError::NotEnoughData`]: `warmup() + 1` finite
    /// points needed, against the finite values of `history`).
    pub fn train(&mut self, history: &[f64]) -> Result<()> {
        self.check_threshold()?;
        let rows: Vec<[f64; 4]> = self
            .finite_features(history)?
            .into_iter()
            .flatten()
            .collect();
        if rows.len() < 2 {
            return Err(AnomalyError::NotEnoughData {
                // saturating: windows longer than any data are allowed
                needed: self.features.warmup().saturating_add(1),
                // The usable points: non-finite values are skipped, so counting them made the
                // message contradict itself ("need at least 16, got 20").
                got: history.iter().filter(|v| v.is_finite()).count(),
            });
        }
        let (centre, scale) = Trained::centres_and_scales(&rows);
        let flat: Vec<f64> = rows
            .iter()
            .flat_map(|r| forest_row(r, &centre, &scale))
            .collect();
        let model = self.params.fit(&flat, 4)?;
        let mut mean = [0.0; 4];
        let mut sd = [0.0; 4];
        for k in 0..4 {
            let mut s = aiops_core::stats::RunningStats::new();
            for r in &rows {
                s.push(r[k]);
            }
            mean[k] = s.mean().unwrap_or(0.0);
            sd[k] = s.std_dev().unwrap_or(0.0);
        }
        self.trained = Some(Trained {
            model,
            mean,
            sd,
            centre,
            scale,
        });
        Ok(())
    }

    /// Anomaly flags for every point of `values`, aligned with the input: `None` for warm-up
    /// points without a full feature window and for non-finite values, else `Some(is_anomaly)` by
    /// the forest's contamination threshold (sklearn's `predict == -1`).
    pub fn detect(&self, values: &[f64]) -> Result<Vec<Option<bool>>> {
        let t = self.trained.as_ref().ok_or(AnomalyError::NotTrained)?;
        let off = t.model.offset();
        Ok(self
            .scores_with(t, values)?
            .into_iter()
            .map(|s| s.map(|s| -s < off))
            .collect())
    }

    /// Scores in `[0, 1]` for every point of `values`, aligned like [`detect`](Self::detect).
    pub fn scores(&self, values: &[f64]) -> Result<Vec<Option<f64>>> {
        let t = self.trained.as_ref().ok_or(AnomalyError::NotTrained)?;
        self.scores_with(t, values)
    }

    /// [`AnomalyError::InvalidParam`] unless the alert threshold (if set) is in `[0, 1]`.
    fn check_threshold(&self) -> Result<()> {
        match self.threshold {
            Some(th) if !(0.0..=1.0).contains(&th) => {
                Err(crate::error::invalid("threshold", th, "must be in [0, 1]"))
            }
            _ => Ok(()),
        }
    }

    /// The feature rows of `values`, or [`AnomalyError::FeatureOverflow`] naming the input
    /// point whose features overflow `f64` (finite values near `f64::MAX` can: their spread
    /// cannot be represented).
    fn finite_features(&self, values: &[f64]) -> Result<Vec<Option<[f64; 4]>>> {
        let feats = self.features.extract(values);
        for (index, f) in feats.iter().enumerate() {
            if let Some((k, &value)) = f.iter().flatten().enumerate().find(|(_, x)| !x.is_finite())
            {
                return Err(AnomalyError::FeatureOverflow {
                    index,
                    feature: crate::FEATURE_NAMES[k],
                    value,
                });
            }
        }
        Ok(feats)
    }

    fn scores_with(&self, t: &Trained, values: &[f64]) -> Result<Vec<Option<f64>>> {
        let feats = self.finite_features(values)?;
        let flat: Vec<f64> = feats
            .iter()
            .flatten()
            .flat_map(|r| t.forest_row(r))
            .collect();
        let mut scores = t.model.score(&flat)?.into_iter();
        Ok(feats
            .iter()
            .map(|f| f.and_then(|_| scores.next()))
            .collect())
    }

    /// A fresh per-metric window for [`alert_if_anomaly`](Self::alert_if_anomaly); the caller
    /// keeps one per metric.
    pub fn window(&self) -> FeatureWindow {
        self.features.window()
    }

    /// The streaming form of the article's `alert_if_anomaly`: adds `value` to the metric's
    /// window and returns an alert when the full feature vector is predicted anomalous and its
    /// score exceeds the threshold. `Ok(None)` during warm-up, for non-finite values (skipped,
    /// window untouched) and for normal points.
    ///
    /// Errors: [`AnomalyError::NotTrained`], and [`AnomalyError::InvalidParam`] for a threshold
    /// outside `[0, 1]` or a `window` whose [`FeatureConfig`] is not the detector's (window
    /// untouched), and, as [`detect`](Self::detect),
    /// [`AnomalyError::FeatureOverflow`] when the features of a finite `value` overflow `f64`
    /// (values near `f64::MAX`), naming the feature, its value and the point's `index`: its
    /// position among the finite values this window has accepted. That value stays in the
    /// window, as it stays in the windows of the batch features, so the window recovers once
    /// such values have left it (after at most `warmup()` points) and later points see the same
    /// windows as `detect` on the whole series.
    pub fn alert_if_anomaly(
        &self,
        window: &mut FeatureWindow,
        metric: &str,
        at: Timestamp,
        value: f64,
    ) -> Result<Option<AnomalyAlert>> {
        let t = self.trained.as_ref().ok_or(AnomalyError::NotTrained)?;
        // Here too: set after `train`, it was never checked (2.0 silently never alerted).
        self.check_threshold()?;
        // A window of other lengths gives other features than the forest learned: a default
        // window against a detector trained on windows 3/4/2 alerted on nearly every point.
        if window.config() != self.features {
            return Err(crate::error::invalid(
                "window",
                format!("{:?}", window.config()),
                "has other feature windows than the detector's: use `AnomalyDetector::window`",
            ));
        }
        let Some(features) = window.push(value) else {
            return Ok(None);
        };
        // Non-finite features reached the forest, which named a feature row and a NaN that are
        // not the caller's input (`NonFinite { row: 0, column: 1 }`).
        if let Some((k, &v)) = features.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(AnomalyError::FeatureOverflow {
                index: usize::try_from(window.accepted() - 1).unwrap_or(usize::MAX),
                feature: FEATURE_NAMES[k],
                value: v,
            });
        }
        let score = t.model.score_one(&t.forest_row(&features))?;
        let cut = t.model.threshold();
        let floor = cut.max(self.threshold.unwrap_or(0.0));
        if score <= cut || score <= floor {
            return Ok(None);
        }
        // How far the score is from the alerting cut towards 1.
        let confidence = if floor >= 1.0 {
            1.0
        } else {
            ((score - floor) / (1.0 - floor)).clamp(0.0, 1.0)
        };
        let severity = match confidence {
            c if c >= 0.75 => Severity::Critical,
            c if c >= 0.5 => Severity::High,
            c if c >= 0.25 => Severity::Medium,
            _ => Severity::Low,
        };
        let mut drivers: Vec<Driver> = (0..4)
            .map(|k| Driver {
                name: FEATURE_NAMES[k],
                value: features[k],
                z: if t.sd[k] > 0.0 {
                    (features[k] - t.mean[k]) / t.sd[k]
                } else {
                    0.0
                },
            })
            .collect();
        drivers.sort_by(|a, b| b.z.abs().total_cmp(&a.z.abs()));
        let keep = drivers.iter().filter(|d| d.z.abs() >= 2.0).count().max(1);
        drivers.truncate(keep);
        let message = format!(
            "{metric} anomaly: value={value}, score={score:.2}, confidence={confidence:.2}, driven by {}",
            drivers
                .iter()
                .map(|d| format!("{} (z={:.1})", d.name, d.z))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(Some(AnomalyAlert {
            metric: metric.to_owned(),
            at,
            value,
            features,
            score,
            confidence,
            severity,
            message,
            drivers,
        }))
    }
}

/// One feature's contribution to an alert: its value and z-score against the training rows.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Driver {
    /// Feature name (`value`, `ma_5`, `ma_15`, `std_5`).
    pub name: &'static str,
    /// The feature's value at the alert.
    pub value: f64,
    /// `(value - training mean) / training sd`.
    pub z: f64,
}

/// An alert from [`AnomalyDetector::alert_if_anomaly`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyAlert {
    metric: String,
    at: Timestamp,
    value: f64,
    features: [f64; 4],
    score: f64,
    confidence: f64,
    severity: Severity,
    message: String,
    drivers: Vec<Driver>,
}

impl AnomalyAlert {
    /// The metric name.
    pub fn metric(&self) -> &str {
        &self.metric
    }
    /// When the anomalous point was observed.
    pub fn at(&self) -> Timestamp {
        self.at
    }
    /// The observed value.
    pub fn value(&self) -> f64 {
        self.value
    }
    /// The full feature vector that was scored.
    pub fn features(&self) -> [f64; 4] {
        self.features
    }
    /// The Isolation Forest score in `[0, 1]`.
    pub fn score(&self) -> f64 {
        self.score
    }
    /// Confidence in `[0, 1]`: `(score - cut) / (1 - cut)`, `cut` being the larger of the
    /// forest's contamination threshold and the alert threshold.
    pub fn confidence(&self) -> f64 {
        self.confidence
    }
    /// Severity from confidence: >= 0.75 critical, >= 0.5 high, >= 0.25 medium, else low.
    pub fn severity(&self) -> Severity {
        self.severity
    }
    /// A readable message naming the metric, value, score and drivers.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Features with |z| >= 2 against the training data, largest first (at least one).
    pub fn drivers(&self) -> &[Driver] {
        &self.drivers
    }
    /// An Alertmanager-shaped alert with labels `alertname="MetricAnomaly"`, `service`,
    /// `metric_type` and `severity`, and the message as the `summary` annotation.
    pub fn into_alert(self, service: &str) -> Alert {
        let labels = Labels::from_pairs([
            ("alertname", "MetricAnomaly"),
            ("service", service),
            ("metric_type", self.metric.as_str()),
            ("severity", self.severity.as_str()),
        ]);
        let annotations = Labels::from_pairs([
            ("summary", self.message.clone()),
            ("score", format!("{:.4}", self.score)),
            ("confidence", format!("{:.4}", self.confidence)),
        ]);
        Alert::new(labels, self.at).with_annotations(annotations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> Vec<f64> {
        (0..2000)
            .map(|i| 100.0 + 10.0 * (f64::from(i) * 0.05).sin() + f64::from(i % 7) * 0.3)
            .collect()
    }

    #[test]
    fn features_overflowing_f64_name_the_input_point() {
        // One finite value near f64::MAX: its spread in `std_5` is not representable. The error
        // named the feature row (14 fewer than the input's) and a value not in the input.
        let mut d = AnomalyDetector::new();
        d.train(&history()).unwrap();
        let mut v = history()[..100].to_vec();
        v[50] = 1e308;
        let e = d.detect(&v).unwrap_err();
        assert_eq!(
            e,
            AnomalyError::FeatureOverflow {
                index: 50,
                feature: "std_5",
                value: f64::INFINITY
            }
        );
        assert!(e.to_string().contains("point 50"), "{e}");
        let e = AnomalyDetector::new().train(&v).unwrap_err();
        assert!(
            matches!(e, AnomalyError::FeatureOverflow { index: 50, .. }),
            "{e}"
        );
    }

    #[test]
    fn detect_is_aligned_and_flags_about_contamination() {
        let mut d = AnomalyDetector::new();
        assert_eq!(d.detect(&[1.0]), Err(AnomalyError::NotTrained));
        let h = history();
        d.train(&h).unwrap();
        let flags = d.detect(&h).unwrap();
        assert_eq!(flags.len(), h.len());
        assert!(flags[..14].iter().all(Option::is_none));
        let n = flags.iter().flatten().filter(|&&b| b).count();
        // Strictly below the 10th percentile: at most 10% of the 1986 feature rows.
        assert!(n <= 199 && n > 100, "{n}");
        let mut test = h[..300].to_vec();
        test[200] = 400.0;
        assert_eq!(d.detect(&test).unwrap()[200], Some(true));
    }

    #[test]
    fn train_with_windows_longer_than_the_history_is_an_error() {
        let huge = FeatureConfig::try_new(usize::MAX, 1, 2).unwrap();
        let mut d = AnomalyDetector::new().with_features(huge);
        // used to panic twice: with_capacity(usize::MAX), then warmup() + 1
        assert_eq!(
            d.train(&history()),
            Err(AnomalyError::NotEnoughData {
                needed: usize::MAX,
                got: 2000
            })
        );
        assert!(!d.is_trained());
        let mut w = d.window();
        assert_eq!(
            d.alert_if_anomaly(&mut w, "m", Timestamp::EPOCH, 1.0),
            Err(AnomalyError::NotTrained)
        );
    }

    #[test]
    fn streaming_scores_equal_batch_scores() {
        let mut d = AnomalyDetector::new().with_threshold(0.0);
        let h = history();
        d.train(&h).unwrap();
        let batch = d.scores(&h[..100]).unwrap();
        let mut w = d.window();
        for (i, &v) in h[..100].iter().enumerate() {
            let a = d
                .alert_if_anomaly(&mut w, "m", Timestamp::from_secs(i as i64), v)
                .unwrap();
            if let Some(a) = a {
                assert_eq!(Some(a.score()), batch[i]);
            }
        }
    }

    #[test]
    fn alert_has_labels_and_bounded_confidence() {
        let mut d = AnomalyDetector::new();
        d.train(&history()).unwrap();
        let mut w = d.window();
        for &v in &history()[..20] {
            assert!(
                d.alert_if_anomaly(&mut w, "cpu", Timestamp::EPOCH, v)
                    .unwrap()
                    .is_none()
            );
        }
        assert!(
            d.alert_if_anomaly(&mut w, "cpu", Timestamp::EPOCH, f64::NAN)
                .unwrap()
                .is_none()
        );
        let a = d
            .alert_if_anomaly(&mut w, "cpu", Timestamp::from_secs(5), 1000.0)
            .unwrap()
            .unwrap();
        assert!((0.0..=1.0).contains(&a.confidence()));
        assert!(a.message().contains("cpu anomaly"));
        let alert = a.clone().into_alert("api");
        assert_eq!(alert.labels().get("alertname"), Some("MetricAnomaly"));
        assert_eq!(alert.labels().get("service"), Some("api"));
        assert_eq!(alert.labels().get("severity"), Some(a.severity().as_str()));
        assert_eq!(alert.starts_at(), Timestamp::from_secs(5));
    }

    #[test]
    fn not_enough_data_counts_the_finite_points() {
        // 20 points, 5 of them NaN: 15 usable, one short of the 16 needed. The error said
        // "need at least 16, got 20".
        let mut h: Vec<f64> = (0..20).map(f64::from).collect();
        for i in [2, 7, 8, 13, 19] {
            h[i] = f64::NAN;
        }
        let e = AnomalyDetector::new().train(&h).unwrap_err();
        assert_eq!(
            e,
            AnomalyError::NotEnoughData {
                needed: 16,
                got: 15
            }
        );
        assert_eq!(e.to_string(), "not enough data: need at least 16, got 15");
        // Infinities are not usable either; 16 finite points are enough.
        h[2] = f64::INFINITY;
        assert_eq!(
            AnomalyDetector::new().train(&h),
            Err(AnomalyError::NotEnoughData {
                needed: 16,
                got: 15
            })
        );
        h.push(20.0);
        assert!(AnomalyDetector::new().train(&h).is_ok());
    }

    #[test]
    fn an_invalid_threshold_is_an_error_where_it_is_used() {
        // Set after training, the threshold was never checked: 2.0 silently never alerted and
        // -1 or NaN alerted on every predicted anomaly.
        let mut d = AnomalyDetector::new();
        d.train(&history()).unwrap();
        for th in [2.0, -1.0, f64::NAN, 1.0 + 1e-12] {
            let bad = d.clone().with_threshold(th);
            let mut w = bad.window();
            for &v in &history()[..14] {
                w.push(v);
            }
            let before = w.current();
            let e = bad
                .alert_if_anomaly(&mut w, "cpu", Timestamp::EPOCH, 1000.0)
                .unwrap_err();
            assert!(
                matches!(
                    e,
                    AnomalyError::InvalidParam {
                        name: "threshold",
                        ..
                    }
                ),
                "{th}: {e}"
            );
            assert!(e.to_string().contains("must be in [0, 1]"), "{e}");
            // The window is untouched: the point did not enter it.
            assert_eq!(w.current(), before, "{th}");
            assert_eq!(w.accepted(), 14);
            // detect does not use the threshold.
            assert!(bad.detect(&history()[..100]).is_ok());
        }
        // The bounds are valid; 0.0 alerts on every predicted anomaly.
        for th in [0.0, 1.0] {
            let ok = d.clone().with_threshold(th);
            let mut w = ok.window();
            for &v in &history()[..20] {
                ok.alert_if_anomaly(&mut w, "cpu", Timestamp::EPOCH, v)
                    .unwrap();
            }
            let a = ok
                .alert_if_anomaly(&mut w, "cpu", Timestamp::EPOCH, 1000.0)
                .unwrap();
            assert_eq!(a.is_some(), th == 0.0, "{th}");
        }
    }

    #[test]
    fn streaming_features_overflowing_f64_name_the_feature_like_detect() {
        // Alternating +-1.7e308: the short mean's running sum overflows. Streaming used to hand
        // the NaN features to the forest: `NonFinite { row: 0, column: 1, value: NaN }`.
        let mut d = AnomalyDetector::new();
        d.train(&history()).unwrap();
        let v: Vec<f64> = (0..30)
            .map(|i| if i % 2 == 0 { 1.7e308 } else { -1.7e308 })
            .collect();
        let batch = d.detect(&v).unwrap_err();
        let AnomalyError::FeatureOverflow { index, feature, .. } = batch else {
            panic!("{batch}");
        };
        let mut w = d.window();
        let mut streamed = None;
        for (i, &x) in v.iter().enumerate() {
            // A NaN between the points is skipped and not counted, as in the batch index.
            assert_eq!(
                d.alert_if_anomaly(&mut w, "m", Timestamp::EPOCH, f64::NAN),
                Ok(None)
            );
            match d.alert_if_anomaly(&mut w, "m", Timestamp::from_secs(i as i64), x) {
                Ok(None) => {}
                Err(e) => {
                    streamed = Some((i, e));
                    break;
                }
                Ok(Some(a)) => panic!("alert at {i}: {a:?}"),
            }
        }
        let (i, e) = streamed.expect("an overflow error");
        assert_eq!(i, index);
        assert!(
            matches!(e, AnomalyError::FeatureOverflow { index: j, feature: f, value }
                if j == index && f == feature && !value.is_finite()),
            "{e}"
        );
        assert!(e.to_string().contains(feature), "{e}");
        assert!(e.to_string().contains(&format!("point {index}")), "{e}");
        // The value stayed in the window, as in the batch features: once such values have left
        // it, the window scores ordinary points again (and as `detect` would).
        let mut tail = v[..=i].to_vec();
        let mut last = Err(e);
        for &x in &history()[..15] {
            tail.push(x);
            last = d.alert_if_anomaly(&mut w, "m", Timestamp::EPOCH, x);
        }
        assert!(last.is_ok(), "{last:?}");
        assert_eq!(
            w.current(),
            FeatureConfig::default().extract(&tail)[tail.len() - 1]
        );
    }

    #[test]
    fn a_spike_is_flagged_at_any_magnitude_and_offset() {
        // The forest compares at f32 precision and splits nothing narrower than 1e-7: on raw
        // features a series at 1e9 swinging by 10, one at 1e-9, or one beyond f32::MAX
        // flagged no spike at all (nor anything else, for the tiny ones).
        let swing = |i: i32| (f64::from(i) * 0.3).sin();
        for (offset, unit) in [
            (0.0, 1.0),
            (1e9, 10.0),
            (1e12, 10.0),
            (0.0, 1e-9),
            (0.0, 1e-30),
            (0.0, 1e40),
            (1e160, 1e148),
        ] {
            let mut h: Vec<f64> = (0..500)
                .map(|i| offset + unit * (50.0 + swing(i)))
                .collect();
            // One huge value in the history must not set the scale either (its features stay
            // within f64 for the largest unit only at 1e5).
            h[300] = offset + unit * if unit < 1e100 { 1e20 } else { 1e5 };
            let mut d = AnomalyDetector::new();
            d.train(&h).unwrap();
            let mut v = h[..100].to_vec();
            v[80] = offset + unit * 95.0;
            let flags = d.detect(&v).unwrap();
            assert_eq!(flags[80], Some(true), "offset {offset:e}, unit {unit:e}");
            let flagged = flags.iter().flatten().filter(|&&b| b).count();
            assert!(
                flagged <= 20,
                "offset {offset:e}, unit {unit:e}: {flagged} flagged"
            );
            let mut w = d.window();
            let alert = v[..=80]
                .iter()
                .map(|&x| {
                    d.alert_if_anomaly(&mut w, "m", Timestamp::EPOCH, x)
                        .unwrap()
                })
                .last()
                .flatten();
            let score = d.scores(&v).unwrap()[80];
            assert_eq!(
                alert.map(|a| a.score()),
                score,
                "offset {offset:e}, unit {unit:e}"
            );
        }
    }

    #[test]
    fn other_windows_after_training_need_training_again() {
        // The forest trained on the 5/15/5 features scored the 3/4/2 features without a word.
        let mut d = AnomalyDetector::new();
        d.train(&history()).unwrap();
        let same = d.clone().with_features(FeatureConfig::default());
        assert!(same.is_trained());
        let mut other = d.with_features(FeatureConfig::try_new(3, 4, 2).unwrap());
        assert!(!other.is_trained());
        assert_eq!(other.detect(&history()), Err(AnomalyError::NotTrained));
        assert_eq!(other.scores(&history()), Err(AnomalyError::NotTrained));
        other.train(&history()).unwrap();
        // The new windows: the first feature row is the fourth point.
        let flags = other.detect(&history()).unwrap();
        assert!(flags[2].is_none() && flags[3].is_some());
    }

    #[test]
    fn a_window_of_other_lengths_is_an_error() {
        // A default window against a detector trained on windows 3/4/2 alerted on nearly every
        // point of its own training history.
        let mut d = AnomalyDetector::new().with_features(FeatureConfig::try_new(3, 4, 2).unwrap());
        d.train(&history()).unwrap();
        let mut w = FeatureConfig::default().window();
        let e = d
            .alert_if_anomaly(&mut w, "m", Timestamp::EPOCH, 1.0)
            .unwrap_err();
        assert!(
            matches!(e, AnomalyError::InvalidParam { name: "window", .. }),
            "{e}"
        );
        assert!(e.to_string().contains("AnomalyDetector::window"), "{e}");
        assert_eq!(w.accepted(), 0);
        let mut w = d.window();
        assert_eq!(
            d.alert_if_anomaly(&mut w, "m", Timestamp::EPOCH, 1.0),
            Ok(None)
        );
    }

    #[test]
    fn train_rejects_short_history() {
        let mut d = AnomalyDetector::new();
        assert!(matches!(
            d.train(&[1.0; 10]),
            Err(AnomalyError::NotEnoughData { .. })
        ));
        assert!(d.clone().with_threshold(2.0).train(&history()).is_err());
    }
}
