"""Shapley values of a cooperative game (pure, numpy).

A game is a vectorised characteristic function: ``game(masks)`` takes a boolean matrix of
coalitions (``k x n``, row = one coalition of the ``n`` players) and returns their values,
``k x C`` (``C`` components that add up to the value; one column is fine). ``v(empty)``
must be 0.

* :func:`shapley_exact`: every coalition (``2**n`` of them), the closed formula
  ``phi_i = sum_{S not containing i} |S|! (n-|S|-1)! / n! (v(S+i) - v(S))``. Used up to
  :data:`EXACT_MAX` (12) players (4,096 coalitions).
* :func:`shapley_sampled`: Monte Carlo over random permutations (Castro et al. 2009): each
  permutation gives every player one marginal contribution, so the estimates are means of
  i.i.d. samples with a standard error ``s_i / sqrt(m)``; the stated bound is the normal
  (CLT) interval ``z * se_i`` at ``confidence`` (default 95 %, per player). Sampling goes on
  in batches until ``max_i z * se_i <= rel_error * mean_i |phi_i|`` (1 % of the mean
  allocation's size by default) or ``max_permutations``. Every permutation's marginals
  add up to ``v(N)``, so the estimates are efficient (sum to ``v(N)``) exactly, and a null
  player's estimate is exactly 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist
from typing import Literal

import msgspec
import numpy as np
from numpy.typing import NDArray

Game = Callable[[NDArray[np.bool_]], NDArray[np.float64]]
EXACT_MAX = 12


class ShapleyResult(msgspec.Struct, frozen=True, kw_only=True):
    """Per player: the value of each component (``n x C`` as nested tuples) and of their
    sum, with the standard error and bound of the sum (0 when exact)."""

    method: Literal["exact", "monte_carlo"]
    values: tuple[float, ...]
    components: tuple[tuple[float, ...], ...]
    standard_errors: tuple[float, ...]
    half_widths: tuple[float, ...]
    """``z * standard_error`` at :attr:`confidence`: the stated bound of each estimate."""
    confidence: float
    permutations: int = 0
    converged: bool = True
    rel_error: float = 0.0
    """``max half width / mean |value|`` reached."""


def _as_2d(values: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    out = np.asarray(values, dtype=np.float64)
    return out.reshape(k, -1)


def all_coalitions(n: int) -> NDArray[np.bool_]:
    """Row ``s`` is the coalition whose bit ``i`` of ``s`` says whether player i is in."""
    idx = np.arange(1 << n, dtype=np.int64)
    return ((idx[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(bool)


def shapley_exact(game: Game, n: int) -> NDArray[np.float64]:
    """Exact Shapley values, ``n x C``."""
    if n == 0:
        return np.zeros((0, 1))
    masks = all_coalitions(n)
    v = _as_2d(game(masks), 1 << n)
    size = masks.sum(axis=1)
    weights = np.array(
        [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
    )
    idx = np.arange(1 << n, dtype=np.int64)
    out = np.zeros((n, v.shape[1]))
    for i in range(n):
        without = idx[(idx >> i) & 1 == 0]
        out[i] = (weights[size[without]][:, None] * (v[without | (1 << i)] - v[without])).sum(
            axis=0
        )
    return out


def z_value(confidence: float) -> float:
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def shapley_sampled(
    game: Game,
    n: int,
    *,
    rel_error: float = 0.01,
    confidence: float = 0.95,
    seed: int = 0,
    batch: int = 64,
    min_permutations: int = 128,
    max_permutations: int = 50_000,
) -> ShapleyResult:
    """Monte Carlo permutation estimate (see the module docstring)."""
    rng = np.random.default_rng(seed)
    z = z_value(confidence)
    total: NDArray[np.float64] | None = None
    squares = np.zeros(n)
    m = 0
    converged = False
    reached = math.inf
    steps = np.arange(1, n + 1)
    while m < max_permutations:
        b = min(batch, max_permutations - m)
        perms = np.argsort(rng.random((b, n)), axis=1)
        pos = np.argsort(perms, axis=1)  # pos[b, i]: where player i stands
        masks = pos[:, None, :] < steps[None, :, None]  # b x n(prefix) x n(players)
        v = _as_2d(game(masks.reshape(b * n, n)), b * n).reshape(b, n, -1)
        prefix = np.concatenate([np.zeros((b, 1, v.shape[2])), v], axis=1)
        step = np.diff(prefix, axis=1)  # marginal of the player at each position
        marginal = np.take_along_axis(step, pos[:, :, None], axis=1)  # b x n x C
        summed = marginal.sum(axis=0)
        total = summed if total is None else total + summed
        squares += (marginal.sum(axis=2) ** 2).sum(axis=0)
        m += b
        if m < min_permutations:
            continue
        mean = total.sum(axis=1) / m
        var = np.maximum(squares / m - mean**2, 0.0) * m / max(m - 1, 1)
        half = z * np.sqrt(var / m)
        scale = float(np.abs(mean).mean())
        reached = float(half.max()) / scale if scale > 0 else (0.0 if half.max() == 0 else math.inf)
        if reached <= rel_error:
            converged = True
            break
    assert total is not None
    values = total / m
    mean = values.sum(axis=1)
    var = np.maximum(squares / m - mean**2, 0.0) * m / max(m - 1, 1)
    se = np.sqrt(var / m)
    return ShapleyResult(
        method="monte_carlo",
        values=tuple(float(x) for x in mean),
        components=tuple(tuple(float(x) for x in row) for row in values),
        standard_errors=tuple(float(x) for x in se),
        half_widths=tuple(float(x) for x in z * se),
        confidence=confidence,
        permutations=m,
        converged=converged,
        rel_error=reached,
    )


def shapley(
    game: Game,
    n: int,
    *,
    exact_max: int = EXACT_MAX,
    rel_error: float = 0.01,
    confidence: float = 0.95,
    seed: int = 0,
    max_permutations: int = 50_000,
) -> ShapleyResult:
    """Exact up to ``exact_max`` players, sampled beyond."""
    if n <= exact_max:
        phi = shapley_exact(game, n)
        return ShapleyResult(
            method="exact",
            values=tuple(float(x) for x in phi.sum(axis=1)),
            components=tuple(tuple(float(x) for x in row) for row in phi),
            standard_errors=(0.0,) * n,
            half_widths=(0.0,) * n,
            confidence=1.0,
        )
    return shapley_sampled(
        game,
        n,
        rel_error=rel_error,
        confidence=confidence,
        seed=seed,
        max_permutations=max_permutations,
    )
