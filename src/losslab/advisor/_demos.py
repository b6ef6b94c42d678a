"""Built-in demonstration tables for the advisor, one per branch of the decision guide.

* ``delivery``: delivery minutes = 20 + 3 distance + 4 preparation + 2 rush hour + heavy-tailed
  noise (Student t, 2 degrees of freedom, scale 3) and 8 % of orders delayed by 20 to 80 minutes:
  a heavy-tailed regression target.
* ``fraud``: scikit-learn's ``make_classification`` with 3 % positives (class_sep 0.6): an
  imbalanced binary target.
* ``demand``: riders in the next 15 minutes = 100 + 20 x1 - 10 x2 + 5 x3 + noise growing with
  x1, with under-prediction costing 3 and over-prediction 1 per rider: asymmetric costs.
"""

from __future__ import annotations

import numpy as np

DEMOS = {
    "delivery": {"task": "regression", "costs": None},
    "fraud": {"task": "binary", "costs": None},
    "demand": {"task": "regression", "costs": (3.0, 1.0)},
}


def demo_table(name: str, n: int = 3000, seed: int = 0):
    """(X, y, feature names, {"task", "costs"}) of a demo table."""
    if name not in DEMOS:
        raise ValueError(f"unknown demo {name!r}; the demos are: {', '.join(DEMOS)}")
    rng = np.random.default_rng(seed)
    if name == "delivery":
        distance = rng.uniform(0.5, 8.0, n)
        prep = rng.uniform(0.0, 3.0, n)
        rush = (rng.random(n) < 0.3).astype(float)
        y = 20 + 3 * distance + 4 * prep + 2 * rush + 3 * rng.standard_t(2, n)
        late = rng.random(n) < 0.08
        y[late] += rng.uniform(20, 80, int(late.sum()))
        return np.column_stack([distance, prep, rush]), y, ["distance", "prep", "rush"], DEMOS[name]
    if name == "fraud":
        from sklearn.datasets import make_classification

        X, y = make_classification(n, 6, n_informative=4, n_redundant=1, weights=[0.97],
                                   class_sep=0.6, flip_y=0.0, random_state=seed)
        return X, y, [f"f{i}" for i in range(6)], DEMOS[name]
    X = rng.normal(size=(n, 3))
    y = 100 + X @ np.array([20.0, -10.0, 5.0]) + rng.normal(size=n) * (10 + 5 * np.abs(X[:, 0]))
    return X, y, ["x1", "x2", "x3"], DEMOS[name]
