"""The models' numpy side: a bagged ensemble of trees is the mean of its members."""

from __future__ import annotations

import numpy as np

from bot.engine.learned import TreeModel


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
