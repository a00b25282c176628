//! Agreement with scikit-learn's `IsolationForest` on fixtures written by
//! `scripts/anomaly_iforest_fixtures.py` (sklearn 1.9.1, 100 trees, `max_samples` auto, seed 42).
//!
//! Two 100-tree forests grown from different random streams rank points alike only up to Monte
//! Carlo noise, so the 100-tree comparison is made against what sklearn reaches against itself:
//! the fixture summary records the Spearman correlation of sklearn's seed-42 scores with its
//! scores at seeds 0..9 (the ceiling), and ours at seeds 0..9 is compared with the same seed-42
//! column.

use aiops_anomaly::IsolationForest;

struct Fixture {
    data: Vec<f64>,
    cols: usize,
    labels: Vec<bool>,
    sklearn: Vec<f64>,
    sklearn_1000: Vec<f64>,
}

fn load(name: &str) -> Fixture {
    let path = format!(
        "{}/tests/fixtures/iforest_{name}.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cols = header.len() - 3;
    let mut f = Fixture {
        data: vec![],
        cols,
        labels: vec![],
        sklearn: vec![],
        sklearn_1000: vec![],
    };
    for line in lines {
        let v: Vec<f64> = line.split(',').map(|s| s.parse().unwrap()).collect();
        f.data.extend_from_slice(&v[..cols]);
        f.labels.push(v[cols] == 1.0);
        f.sklearn.push(v[cols + 1]);
        f.sklearn_1000.push(v[cols + 2]);
    }
    f
}

fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let mut sab = 0.0;
    let mut saa = 0.0;
    let mut sbb = 0.0;
    for (x, y) in ra.iter().zip(&rb) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// ROC AUC by the Mann-Whitney statistic (ties count one half).
fn auc(labels: &[bool], score: &[f64]) -> f64 {
    let r = ranks(score);
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    let sum: f64 = r
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l)
        .map(|(x, _)| x + 1.0)
        .sum();
    (sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

#[test]
fn auc_helper_matches_hand_computation() {
    // Positives at scores 0.9 and 0.4, negatives 0.5 and 0.1: pairs won 3 of 4.
    assert_eq!(
        auc(&[true, true, false, false], &[0.9, 0.4, 0.5, 0.1]),
        0.75
    );
}

/// Clusters with planted outliers: most points sit in dense cores whose true scores differ by
/// less than the noise of 100 trees (sklearn against itself: Spearman 0.88-0.97).
const CLUSTERS: [&str; 5] = [
    "blobs",
    "gaussian4",
    "correlated3",
    "skewed1",
    "metric_features",
];

/// Density falling continuously from a dense centre: outlyingness is spread over all points
/// (sklearn against itself: Spearman >= 0.99).
const CONTINUOUS: [&str; 3] = ["powerlaw1", "radial2", "radial4"];

/// sklearn's seed-42 scores against its seeds 0..9, per dataset: (mean, min) Spearman.
fn sklearn_ceiling(name: &str) -> (f64, f64) {
    let path = format!(
        "{}/tests/fixtures/iforest_summary.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let c = &v[name]["spearman_sklearn_100_seed42_vs_seeds"];
    (c["mean"].as_f64().unwrap(), c["min"].as_f64().unwrap())
}

/// Our 100-tree scores at seeds 0..9 against sklearn's seed-42 column: (mean, min) Spearman.
fn ours_vs_sklearn_100(f: &Fixture) -> (f64, f64) {
    let rho: Vec<f64> = (0..10)
        .map(|seed| {
            let m = IsolationForest::new()
                .seed(seed)
                .fit(&f.data, f.cols)
                .unwrap();
            spearman(&m.score(&f.data).unwrap(), &f.sklearn)
        })
        .collect();
    let mean = rho.iter().sum::<f64>() / rho.len() as f64;
    (mean, rho.iter().copied().fold(f64::INFINITY, f64::min))
}

#[test]
fn spearman_helper_matches_hand_computation() {
    // Ranks (0, 1, 2, 3) against (0, 2, 1, 3): 1 - 6 * 2 / (4 * 15) = 0.8.
    let rho = spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 30.0, 20.0, 40.0]);
    assert!((rho - 0.8).abs() < 1e-12, "{rho}");
}

#[test]
fn agrees_with_sklearn_at_100_trees_on_continuous_outlyingness() {
    for name in CONTINUOUS {
        let f = load(name);
        // sklearn against itself: mean >= 0.99 over the 10 seed pairs (radial4's lowest pair
        // 0.989, the others >= 0.99).
        let (ceiling, ceiling_min) = sklearn_ceiling(name);
        assert!(
            ceiling >= 0.99 && ceiling_min >= 0.985,
            "{name}: sklearn vs sklearn {ceiling} (min {ceiling_min})"
        );
        let (mean, min) = ours_vs_sklearn_100(&f);
        eprintln!("{name}: ours {mean} (min {min}), sklearn {ceiling} (min {ceiling_min})");
        assert!(
            mean >= 0.98 && min >= 0.98,
            "{name}: spearman mean {mean} min {min}"
        );
        let default = IsolationForest::new().fit(&f.data, f.cols).unwrap();
        let rho = spearman(&default.score(&f.data).unwrap(), &f.sklearn);
        assert!(rho >= 0.98, "{name}: default seed spearman {rho}");
    }
}

#[test]
fn agrees_with_sklearn_at_100_trees_as_sklearn_agrees_with_itself_on_clusters() {
    for name in CLUSTERS {
        let f = load(name);
        let (ceiling, _) = sklearn_ceiling(name);
        let (mean, min) = ours_vs_sklearn_100(&f);
        eprintln!("{name}: ours {mean} (min {min}), sklearn {ceiling}");
        assert!(
            mean >= ceiling - 0.01,
            "{name}: ours vs sklearn {mean}, sklearn vs sklearn {ceiling}"
        );
    }
}

#[test]
fn agrees_with_sklearn_on_every_fixture() {
    for name in CLUSTERS.into_iter().chain(CONTINUOUS) {
        let f = load(name);
        let model = IsolationForest::new().fit(&f.data, f.cols).unwrap();
        let ours = model.score(&f.data).unwrap();
        // Two 100-tree forests with different random streams agree only to Monte Carlo noise
        // (sklearn seed against sklearn seed: Spearman 0.95-0.97 on gaussian4), so the rank
        // agreement is checked at 1000 trees, where the expected path length dominates.
        let big = IsolationForest::new()
            .n_trees(1000)
            .fit(&f.data, f.cols)
            .unwrap();
        let rho = spearman(&big.score(&f.data).unwrap(), &f.sklearn_1000);
        let (a_ours, a_sk) = (auc(&f.labels, &ours), auc(&f.labels, &f.sklearn));
        assert!(rho >= 0.98, "{name}: spearman {rho}");
        assert!(
            (a_ours - a_sk).abs() <= 0.01,
            "{name}: auc ours {a_ours} sklearn {a_sk}"
        );
        // predict flags at most the contamination share (strict inequality against the offset).
        let flagged = model
            .predict(&f.data)
            .unwrap()
            .iter()
            .filter(|&&b| b)
            .count();
        let n = f.labels.len();
        assert!(
            flagged <= n / 10 + 1 && flagged + 3 >= n / 10,
            "{name}: flagged {flagged} of {n}"
        );
        assert!(ours.iter().all(|s| (0.0..=1.0).contains(s)));
    }
}
