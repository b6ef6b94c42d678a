"""How long the advisor's default tournament takes on a 10,000-row table, for each
demonstration table: 5 folds x 2 repeats, the linear and boosting families (LightGBM), the
default candidates, thresholds tuned inside each training fold (3 inner fits each for binary).
Usage: python benchmarks/bench_advisor.py [--rows N] [--models linear,boosting]"""

from __future__ import annotations

import argparse
import time

import losslab as ll
from losslab.advisor import demo_table


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--models", default="linear,boosting")
    args = ap.parse_args()
    print(f"{'table':<10}{'rows':>8}{'candidates':>12}{'seconds':>10}  recommendation")
    for demo in ("delivery", "fraud", "demand"):
        X, y, _, meta = demo_table(demo, n=args.rows)
        costs = meta["costs"] or (None, None)
        t0 = time.perf_counter()
        a = ll.advise(X, y, cost_under=costs[0], cost_over=costs[1], models=args.models)
        print(f"{demo:<10}{len(y):>8}{len(a.table):>12}{time.perf_counter() - t0:>10.1f}  "
              f"{a.recommendation}")


if __name__ == "__main__":
    main()
