#!/usr/bin/env python3
"""Times networkx.pagerank on a uniform random digraph of 10,000 nodes / 100,000 edges
(the size of `cargo bench --bench rca` pagerank/ours_10k_nodes_100k_edges), best of 5.

Run: python3 scripts/rca_pagerank_bench.py
"""
import random
import time

import networkx as nx


def main():
    rng = random.Random(42)
    n, m = 10_000, 100_000
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    while g.number_of_edges() < m:
        a, b = rng.randrange(n), rng.randrange(n)
        if a != b:
            g.add_edge(a, b)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        nx.pagerank(g, alpha=0.85)
        best = min(best, time.perf_counter() - t)
    print(f"networkx {nx.__version__} pagerank 10k nodes / 100k edges: {best * 1e3:.1f} ms (best of 5)")


if __name__ == "__main__":
    main()
