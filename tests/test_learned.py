"""The models' numpy side: the vectorised tree walk gives what walking each tree node by node gives, and a
bagged ensemble of trees is the mean of its members."""

from __future__ import annotations

import numpy as np

from bot.engine.features import CONFIDENCE_FEATURE_NAMES
from bot.engine.learned import TreeModel, packaged_model
from bot.engine.short_answer import default_model


def walked_one_by_one(model: TreeModel, x: np.ndarray) -> np.ndarray:
    """Each row's log-odds, one tree and one node at a time."""
    out = []
    for row in x:
        total = 0.0
        for root in model.roots.tolist():
            node = root
            while not model.leaf[node]:
                goes_left = row[model.feature[node]] <= model.threshold[node]
                node = int(model.left[node] if goes_left else model.right[node])
            total += float(model.value[node])
        out.append(model.baseline + total)
    return np.array(out)


def rows_near_the_thresholds(model: TreeModel, n: int, seed: int) -> np.ndarray:
    """Rows whose values sit on, just above and around the model's own thresholds (so both ways are taken)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(model.names)))
    inner = np.flatnonzero(~model.leaf)
    for row in x:
        for node in rng.choice(inner, size=min(len(inner), 3 * len(model.names)), replace=False):
            at = model.threshold[node]
            row[model.feature[node]] = rng.choice([at, np.nextafter(at, np.inf), at - 1.0])
    return x


def test_the_tree_walk_matches_a_node_by_node_walk() -> None:
    confidence = packaged_model("confidence.json", CONFIDENCE_FEATURE_NAMES)
    assert isinstance(confidence, TreeModel)
    for seed, model in enumerate((default_model().trees, confidence)):
        for n in (1, 2, 37):
            x = rows_near_the_thresholds(model, n, seed)
            assert np.allclose(model.decision(x), walked_one_by_one(model, x), rtol=0, atol=1e-9)
        assert model.decision(x[0]).shape == (1,)


def stump(feature: int, threshold: float, low: float, high: float, baseline: float) -> TreeModel:
    """One tree of one split: ``low`` when ``x[feature] <= threshold``, else ``high``."""
    return TreeModel(
        ("a", "b"),
        np.array([0]),
        np.array([feature, 0, 0]),
        np.array([threshold, 0.0, 0.0]),
        np.array([1, 0, 0]),
        np.array([2, 0, 0]),
        np.array([False, True, True]),
        np.array([0.0, low, high]),
        baseline,
        1,
    )


def test_the_mean_of_tree_models_averages_their_log_odds() -> None:
    first = stump(0, 0.5, -1.0, 2.0, 0.25)
    second = stump(1, 3.0, 4.0, -2.0, -0.75)
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 5.0], [1.0, 5.0]])
    mean = TreeModel.mean([first, second])
    assert len(mean.roots) == 2
    np.testing.assert_allclose(mean.decision(x), (first.decision(x) + second.decision(x)) / 2)
    # The members are not the same function, so the mean is neither of them.
    assert not np.allclose(mean.decision(x), first.decision(x))
    assert not np.allclose(mean.decision(x), second.decision(x))
