#!/usr/bin/env python3
"""Writes crates/aiops-rca/tests/fixtures/pagerank.json: graphs and networkx.pagerank results.

Run from the repository root: python3 scripts/rca_pagerank_fixtures.py
"""
import json
import random

import networkx as nx


def case(name, n, edges, personalization=None, dangling=None, alpha=0.85):
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for a, b, w in edges:
        g.add_edge(a, b, weight=w)
    kw = {}
    if personalization is not None:
        kw["personalization"] = {i: v for i, v in enumerate(personalization)}
    if dangling is not None:
        kw["dangling"] = {i: v for i, v in enumerate(dangling)}
    pr = nx.pagerank(g, alpha=alpha, weight="weight", **kw)
    return {
        "name": name,
        "n": n,
        "alpha": alpha,
        "edges": [[a, b, w] for a, b, w in g.edges(data="weight")],
        "personalization": personalization,
        "dangling": dangling,
        "expected": [pr[i] for i in range(n)],
    }


def random_edges(rng, n, m, weighted, self_loops=False):
    edges = {}
    while len(edges) < m:
        a, b = rng.randrange(n), rng.randrange(n)
        if a == b and not self_loops:
            continue
        edges[(a, b)] = round(rng.uniform(0.1, 5.0), 3) if weighted else 1.0
    return [(a, b, w) for (a, b), w in edges.items()]


def main():
    rng = random.Random(7)
    cases = [
        case("path3", 3, [(0, 1, 1.0), (1, 2, 1.0)]),
        case("star_in", 6, [(i, 0, 1.0) for i in range(1, 6)]),
        case("cycle_plus_tail", 5, [(0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0), (2, 3, 2.0), (4, 3, 0.5)]),
        case("self_loops", 8, random_edges(rng, 8, 20, True, self_loops=True)),
        case("zero_weight_out", 4, [(0, 1, 0.0), (1, 2, 1.0), (2, 3, 1.0), (3, 1, 1.0)]),
        case("random20_unweighted", 20, random_edges(rng, 20, 50, False)),
        case("random50_weighted", 50, random_edges(rng, 50, 200, True)),
        case("random50_alpha09", 50, random_edges(rng, 50, 150, True), alpha=0.9),
    ]
    pers = [rng.random() if rng.random() < 0.5 else 0.0 for _ in range(60)]
    pers[0] = 1.0
    cases.append(case("random60_personalized", 60, random_edges(rng, 60, 150, True), personalization=pers))
    dang = [rng.random() for _ in range(60)]
    cases.append(case("random60_dangling", 60, random_edges(rng, 60, 90, True), personalization=pers, dangling=dang))
    cases.append(case("random300", 300, random_edges(rng, 300, 1500, True)))
    with open("crates/aiops-rca/tests/fixtures/pagerank.json", "w") as f:
        json.dump({"networkx": nx.__version__, "cases": cases}, f)


if __name__ == "__main__":
    main()
