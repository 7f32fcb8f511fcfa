"""Vectorised evaluation of a fitted binary HistGradientBoostingClassifier's trees with numpy.

scikit-learn walks its trees one at a time (a Cython call per tree per predict), about 10 us each, so a
100-tree model costs ~1 ms per request even for one row. Here all trees advance one level per step for
all rows at once: a few numpy gathers per level, whatever the tree count.

It reads the classifier's fitted tree arrays (`_predictors[i][0].nodes`, `_baseline_prediction`), which are
private to scikit-learn: `model_code.predictor.Predictor` therefore checks the result against the public
`predict_proba` when it loads a model and falls back to the public path on any difference or error.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier


class CompiledTrees:
    def __init__(self, clf: HistGradientBoostingClassifier) -> None:
        if getattr(clf, "n_trees_per_iteration_", None) != 1:
            raise ValueError("only binary classifiers (one tree per iteration) are compiled")
        tables = [iteration[0].nodes for iteration in clf._predictors]
        if any(t["is_categorical"].any() for t in tables):
            raise ValueError("native categorical splits are not compiled")
        n_features = int(clf.n_features_in_)
        sizes = np.array([len(t) for t in tables])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        nodes = np.concatenate(tables)
        own = np.arange(len(nodes))
        base = np.repeat(offsets, sizes)
        leaf = nodes["is_leaf"].astype(bool)
        # Missing values: a node that sends NaN left reads the copy of its feature where NaN became -inf
        # (always <= threshold), one that sends NaN right reads the copy where NaN became +inf.
        self._feature = np.where(leaf, 0, nodes["feature_idx"] + np.where(nodes["missing_go_to_left"], 0, n_features))
        self._threshold = np.where(leaf, 0.0, nodes["num_threshold"])
        if not np.isfinite(self._threshold).all():
            raise ValueError("non-finite split thresholds")
        right = np.where(leaf, own, nodes["right"].astype(np.int64) + base)
        left = np.where(leaf, own, nodes["left"].astype(np.int64) + base)
        self._child = np.stack([right, left], axis=1).ravel()  # child[2 * node + went_left]
        self._value = np.where(leaf, nodes["value"], 0.0)
        self._leaf = leaf
        self._roots = offsets.astype(np.int64)
        self._depth = int(nodes["depth"].max())
        self._n_features = n_features
        self._baseline = float(np.asarray(clf._baseline_prediction).ravel()[0])

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Sum of leaf values plus the baseline (the log-odds), one per row of `x`."""
        n = x.shape[0]
        missing = np.isnan(x)
        doubled = np.concatenate([np.where(missing, -np.inf, x), np.where(missing, np.inf, x)], axis=1).ravel()
        row_base = (np.arange(n, dtype=np.int64) * (2 * self._n_features))[:, None]
        node = np.broadcast_to(self._roots, (n, len(self._roots))).copy()
        for level in range(self._depth):
            went_left = doubled[row_base + self._feature[node]] <= self._threshold[node]
            node = self._child[2 * node + went_left]
            if level % 4 == 3 and self._leaf[node].all():  # most trees are shallower than the deepest
                break
        return self._baseline + self._value[node].sum(axis=1)

    def predict_positive(self, x: np.ndarray) -> np.ndarray:
        """P(class 1) per row, as `predict_proba(x)[:, 1]`."""
        return 1.0 / (1.0 + np.exp(-self.raw(x)))
