//! `PageRank` against `networkx.pagerank` fixtures (`scripts/rca_pagerank_fixtures.py`) and
//! against petgraph's `page_rank` where the two definitions coincide.

use aiops_rca::{CsrGraph, PageRankParams, pagerank};
use petgraph::graph::DiGraph;

#[test]
fn equals_networkx_within_1e_6() {
    let text = include_str!("fixtures/pagerank.json");
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let n = usize::try_from(c["n"].as_u64().unwrap()).unwrap();
        let edges: Vec<(usize, usize, f64)> = c["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    usize::try_from(e[0].as_u64().unwrap()).unwrap(),
                    usize::try_from(e[1].as_u64().unwrap()).unwrap(),
                    e[2].as_f64().unwrap(),
                )
            })
            .collect();
        let vec_of = |v: &serde_json::Value| -> Option<Vec<f64>> {
            v.as_array()
                .map(|a| a.iter().map(|x| x.as_f64().unwrap()).collect())
        };
        let mut params = PageRankParams::default().alpha(c["alpha"].as_f64().unwrap());
        if let Some(p) = vec_of(&c["personalization"]) {
            params = params.personalization(p);
        }
        if let Some(d) = vec_of(&c["dangling"]) {
            params = params.dangling(d);
        }
        let expected = vec_of(&c["expected"]).unwrap();
        let g = CsrGraph::from_edges(n, &edges).unwrap();
        let got = pagerank(&g, &params).unwrap();
        for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
            assert!(
                (a - b).abs() < 1e-6,
                "{name}: node {i}: ours {a}, networkx {b}"
            );
        }
    }
}

/// petgraph's `page_rank` gives no teleport share from a node to the nodes it links to, so it
/// equals networkx only where that cannot matter: vertex-transitive graphs (cycles, complete
/// graphs) and graphs without edges. On other graphs it is only compared by the top node.
#[test]
fn equals_petgraph_where_definitions_coincide() {
    let graphs: Vec<(usize, Vec<(usize, usize)>)> = vec![
        (5, (0..5).map(|i| (i, (i + 1) % 5)).collect()),
        (
            4,
            (0..4)
                .flat_map(|i| (0..4).filter(move |&j| j != i).map(move |j| (i, j)))
                .collect(),
        ),
        (3, vec![]),
    ];
    for (n, edges) in graphs {
        let mut pg = DiGraph::<(), ()>::new();
        let nodes: Vec<_> = (0..n).map(|_| pg.add_node(())).collect();
        for &(a, b) in &edges {
            pg.add_edge(nodes[a], nodes[b], ());
        }
        let theirs = petgraph::algo::page_rank(&pg, 0.85_f64, 100);
        let w: Vec<(usize, usize, f64)> = edges.iter().map(|&(a, b)| (a, b, 1.0)).collect();
        let ours = pagerank(
            &CsrGraph::from_edges(n, &w).unwrap(),
            &PageRankParams::default(),
        )
        .unwrap();
        for (a, b) in ours.iter().zip(&theirs) {
            assert!((a - b).abs() < 1e-6, "{ours:?} vs {theirs:?}");
        }
    }
    // A star pointing at node 0: both put node 0 first.
    let mut pg = DiGraph::<(), ()>::new();
    let nodes: Vec<_> = (0..6).map(|_| pg.add_node(())).collect();
    for i in 1..6 {
        pg.add_edge(nodes[i], nodes[0], ());
    }
    let theirs = petgraph::algo::page_rank(&pg, 0.85_f64, 100);
    let w: Vec<(usize, usize, f64)> = (1..6).map(|i| (i, 0, 1.0)).collect();
    let ours = pagerank(
        &CsrGraph::from_edges(6, &w).unwrap(),
        &PageRankParams::default(),
    )
    .unwrap();
    let argmax = |v: &[f64]| (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
    assert_eq!(argmax(&ours), 0);
    assert_eq!(argmax(&theirs), 0);
}
