"""A learned model is data: fit, save, load, predict.

Two kinds, both small JSON files read with numpy only: a linear model on standardised features
(means, scales, coefficients; the ranker, fitted as a conditional logit with scipy) and
gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier, its trees flattened into
arrays). Fitting needs scikit-learn and scipy, which only ``make train`` installs
(``pip install -e '.[train]'``).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import ModelFileError

logger = logging.getLogger(__name__)

MODELS_PACKAGE = "bot.engine.models"


@dataclass(frozen=True)
class LinearModel:
    """Standardised features times coefficients, plus an intercept; a logistic link for probabilities."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit_choice(
        cls,
        groups: list[np.ndarray],
        chosen: list[np.ndarray],
        names: tuple[str, ...],
        *,
        l2: float = 1.0,
        info: dict[str, Any] | None = None,
    ) -> LinearModel:
        """A conditional logit: for each group of rows (one question's candidates), the softmax of
        the linear scores should pick the rows marked in ``chosen`` (L2 penalty ``l2``)."""
        from scipy.optimize import minimize

        x = np.concatenate(groups)
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-9] = 1.0
        x = (x - mean) / scale
        target = np.concatenate([c.astype(np.float64) / c.sum() for c in chosen])
        starts = np.cumsum([0] + [len(g) for g in groups])[:-1]
        group_of = np.repeat(np.arange(len(groups)), [len(g) for g in groups])

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            scores = x @ w
            top = np.maximum.reduceat(scores, starts)[group_of]
            exp = np.exp(scores - top)
            log_total = np.log(np.add.reduceat(exp, starts))[group_of]
            probability = exp / np.exp(log_total)
            value = -(target * (scores - top - log_total)).sum() + 0.5 * l2 * w @ w
            return value, x.T @ (probability - target) + l2 * w

        w = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x
        return cls(names, mean, scale, w, 0.0, dict(info or {}))

    def decision(self, x: np.ndarray) -> np.ndarray:
        """The linear score of each row (the log-odds)."""
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def probability(self, x: np.ndarray) -> np.ndarray:
        """The probability of each row's positive class."""
        return 1.0 / (1.0 + np.exp(-self.decision(x)))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "logistic-regression",
            "features": list(self.names),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "info": self.info,
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any], origin: str) -> LinearModel:
        try:
            names = tuple(data["features"])
            arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
            intercept = float(data["intercept"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{origin}: not a FactBot model file ({exc})") from exc
        if any(a.shape != (len(names),) for a in arrays):
            raise ModelFileError(f"{origin}: the model's arrays do not match its {len(names)} features")
        return cls(names, *arrays, intercept, dict(data.get("info") or {}))


@dataclass(frozen=True)
class TreeModel:
    """Gradient-boosted regression trees on the log-odds; all trees are walked at once.

    Node arrays are flat over every tree: node ``i`` tests ``x[feature[i]] <= threshold[i]`` and goes
    to ``left[i]`` or ``right[i]`` (absolute node numbers); a leaf holds ``value[i]``.
    """

    names: tuple[str, ...]
    roots: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    baseline: float
    depth: int
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        names: tuple[str, ...],
        *,
        sample_weight: np.ndarray | None = None,
        info: dict[str, Any] | None = None,
        random_state: int = 0,
        **params: Any,
    ) -> TreeModel:
        """Fit scikit-learn's HistGradientBoostingClassifier (``params``) and flatten its trees."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(random_state=random_state, **params)
        model.fit(x, y, sample_weight=sample_weight)
        roots, feature, threshold, left, right, leaf, value = [], [], [], [], [], [], []
        depth = 0
        for (predictor,) in model._predictors:  # one tree per iteration for a binary classifier
            nodes = predictor.nodes
            offset = len(feature)
            roots.append(offset)
            feature.extend(nodes["feature_idx"].tolist())
            threshold.extend(nodes["num_threshold"].tolist())
            left.extend((nodes["left"] + offset).tolist())
            right.extend((nodes["right"] + offset).tolist())
            leaf.extend(nodes["is_leaf"].astype(bool).tolist())
            value.extend(nodes["value"].tolist())
            depth = max(depth, int(nodes["depth"].max()))
        return cls(
            names,
            np.array(roots, dtype=np.int64),
            np.array(feature, dtype=np.int64),
            np.array(threshold, dtype=np.float64),
            np.array(left, dtype=np.int64),
            np.array(right, dtype=np.int64),
            np.array(leaf, dtype=bool),
            np.array(value, dtype=np.float64),
            float(np.ravel(model._baseline_prediction)[0]),
            depth,
            dict(info or {}),
        )

    @classmethod
    def mean(cls, models: Sequence[TreeModel]) -> TreeModel:
        """One model whose log-odds are the mean of ``models``' (a bagged ensemble: steadier
        probabilities than any one of them)."""
        k = len(models)
        offsets = np.cumsum([0, *(len(m.feature) for m in models[:-1])])
        return cls(
            models[0].names,
            np.concatenate([m.roots + o for m, o in zip(models, offsets, strict=True)]),
            np.concatenate([m.feature for m in models]),
            np.concatenate([m.threshold for m in models]),
            np.concatenate([m.left + o for m, o in zip(models, offsets, strict=True)]),
            np.concatenate([m.right + o for m, o in zip(models, offsets, strict=True)]),
            np.concatenate([m.leaf for m in models]),
            np.concatenate([m.value for m in models]) / k,
            float(np.mean([m.baseline for m in models])),
            max(m.depth for m in models),
            dict(models[0].info),
        )

    def decision(self, x: np.ndarray) -> np.ndarray:
        """The log-odds of each row.

        All (tree, row) pairs step down one level at a time; a tree drops out of the walk once all of
        its leaves are reached (:class:`_Walk`), and the leaves' values are summed in tree order.
        """
        x = np.atleast_2d(x)
        walk = self._walk
        n, width = len(x), x.shape[1] + 1
        # One more column, always 0.0, for the leaves' test (a leaf "goes left" to itself, see _Walk).
        flat = np.zeros((n, width))
        flat[:, :-1] = x
        flat = flat.ravel()
        offsets = np.arange(0, n * width, width) if n > 1 else 0
        node = np.repeat(walk.roots, n).reshape(len(walk.roots), n)  # (trees, rows), deepest tree first
        for active in walk.active:
            at = node[:active]
            goes_left = flat.take(offsets + walk.feature.take(at)) <= walk.threshold.take(at)
            node[:active] = walk.children.take(at + goes_left)
        values = np.empty((n, len(walk.roots)))
        values[:, walk.order] = self.value.take(node // 2).T
        return self.baseline + values.sum(axis=1)

    @functools.cached_property
    def _walk(self) -> _Walk:
        return _Walk.of(self)

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.decision(x)))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "gradient-boosted-trees",
            "features": list(self.names),
            "baseline": self.baseline,
            "depth": self.depth,
            "roots": self.roots.tolist(),
            "nodes": {
                "feature": self.feature.tolist(),
                "threshold": [t if np.isfinite(t) else 1e300 for t in self.threshold.tolist()],
                "left": self.left.tolist(),
                "right": self.right.tolist(),
                "leaf": self.leaf.astype(int).tolist(),
                "value": self.value.tolist(),
            },
            "info": self.info,
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any], origin: str) -> TreeModel:
        try:
            nodes = data["nodes"]
            model = cls(
                tuple(data["features"]),
                np.asarray(data["roots"], dtype=np.int64),
                np.asarray(nodes["feature"], dtype=np.int64),
                np.asarray(nodes["threshold"], dtype=np.float64),
                np.asarray(nodes["left"], dtype=np.int64),
                np.asarray(nodes["right"], dtype=np.int64),
                np.asarray(nodes["leaf"], dtype=bool),
                np.asarray(nodes["value"], dtype=np.float64),
                float(data["baseline"]),
                int(data["depth"]),
                dict(data.get("info") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{origin}: not a FactBot model file ({exc})") from exc
        sizes = {
            len(a) for a in (model.feature, model.threshold, model.left, model.right, model.leaf, model.value)
        }
        if len(sizes) != 1 or (len(model.feature) and model.feature.max() >= len(model.names)):
            raise ModelFileError(f"{origin}: the model's node arrays are inconsistent")
        return model


Model = LinearModel | TreeModel


@dataclass(frozen=True)
class _Walk:
    """A :class:`TreeModel`'s nodes arranged for a fast walk, made once per model.

    Trees are ordered deepest first (``order``: their places in the model), so at level ``k`` only the
    first ``active[k]`` trees still have rows on their way to a leaf. The walk holds node ``i`` as
    ``2 * i``, and ``feature``, ``threshold`` and ``children`` are indexed that way: a node's test is at
    ``2 * i`` (and again at ``2 * i + 1``), and ``children[2 * i + goes_left]`` is its right or left
    child (doubled too). A leaf is its own two children, and tests feature ``len(names)`` (a column
    of zeros the walk adds) against +inf, so it stays put.
    """

    roots: np.ndarray
    order: np.ndarray
    active: tuple[int, ...]
    feature: np.ndarray
    threshold: np.ndarray
    children: np.ndarray

    @classmethod
    def of(cls, model: TreeModel) -> _Walk:
        n_nodes = len(model.feature)
        nodes = np.arange(n_nodes)
        left = np.where(model.leaf, nodes, model.left)
        right = np.where(model.leaf, nodes, model.right)
        # Each tree's depth: its deepest leaf, found by walking all trees down level by level.
        depths = np.zeros(len(model.roots), dtype=np.int64)
        level, tree = model.roots, np.arange(len(model.roots))
        while len(level):
            inner = ~model.leaf[level]
            level, tree = level[inner], tree[inner]
            depths[tree] += 1  # once per tree and level, however many of its nodes are inner
            level, tree = np.concatenate([left[level], right[level]]), np.concatenate([tree, tree])
        order = np.argsort(-depths, kind="stable")
        depth_of = depths[order]
        active = tuple(int((depth_of > k).sum()) for k in range(int(depth_of.max(initial=0))))
        return cls(
            roots=2 * model.roots[order],
            order=order,
            active=active,
            feature=np.repeat(np.where(model.leaf, len(model.names), model.feature), 2),
            threshold=np.repeat(np.where(model.leaf, np.inf, model.threshold), 2),
            children=2 * np.stack([right, left], axis=1).ravel(),
        )


def recalibrated(probability: np.ndarray | float, platt: tuple[float, float] | None) -> np.ndarray:
    """Platt scaling: ``sigmoid(a * logit(p) + b)``, fitted on out-of-fold confidences so that a
    confidence of 0.7 is right about 70% of the time; ``platt`` None leaves ``p`` as it is."""
    p = np.clip(np.asarray(probability, dtype=np.float64), 1e-9, 1 - 1e-9)
    if platt is None:
        return p
    a, b = platt
    return 1.0 / (1.0 + np.exp(-(a * np.log(p / (1 - p)) + b)))


_KINDS: dict[str, type[LinearModel] | type[TreeModel]] = {
    "logistic-regression": LinearModel,
    "gradient-boosted-trees": TreeModel,
}


def model_from_json(data: dict[str, Any], origin: str) -> Model:
    kind = _KINDS.get(data.get("kind", "")) if isinstance(data, dict) else None
    if kind is None:
        raise ModelFileError(f"{origin}: not a FactBot model file (unknown kind)")
    return kind.from_json(data, origin)


def load_model(path: Path) -> Model:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: cannot read the model ({exc})") from exc
    return model_from_json(data, str(path))


def packaged_model(name: str, expected: tuple[str, ...]) -> Model:
    """A model shipped in ``bot/engine/models/``; its features must be ``expected``, in order."""
    origin = f"bot/engine/models/{name}"
    try:
        text = resources.files(MODELS_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    except (OSError, ModuleNotFoundError) as exc:
        raise ModelFileError(f"{origin}: missing from the installed package ({exc})") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ModelFileError(f"{origin}: not JSON ({exc})") from exc
    model = model_from_json(data, origin)
    if model.names != expected:
        raise ModelFileError(
            f"{origin}: trained on other features than this code computes; retrain with `make train`"
        )
    return model
