"""Shapley properties (hypothesis): efficiency, symmetry, null player; and the sampled
estimate within its stated bound of the exact value at 10 members."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from hub.markets import TradingRules
from hub.settlement import (
    SettlementGame,
    SlotInput,
    all_coalitions,
    largest_remainder,
    shapley_exact,
    shapley_sampled,
)

weights = st.lists(st.floats(min_value=0.0, max_value=100.0), min_size=1, max_size=7)


def weighted_game(w: list[float], cap: float) -> object:
    """v(S) = min(sum w, cap) + 0.01 (sum w)^2: not additive, v(empty) = 0."""
    wa = np.array(w)

    def game(masks: NDArray[np.bool_]) -> NDArray[np.float64]:
        x: NDArray[np.float64] = masks.astype(float) @ wa
        return np.minimum(x, cap) + 0.01 * x * x

    return game


@settings(deadline=None)
@given(
    table=st.lists(st.floats(min_value=-1e3, max_value=1e3), min_size=1, max_size=64),
)
def test_efficiency_on_any_game(table: list[float]) -> None:
    n = max(1, (len(table)).bit_length() - 1)
    values = np.array([0.0, *table[: (1 << n) - 1]] + [0.0] * ((1 << n) - len(table) - 1))
    index = 1 << np.arange(n)

    def game(masks: NDArray[np.bool_]) -> NDArray[np.float64]:
        result: NDArray[np.float64] = values[masks.astype(np.int64) @ index]
        return result

    phi = shapley_exact(game, n).sum(axis=1)
    assert abs(phi.sum() - values[-1]) <= 1e-9 * max(1.0, float(np.abs(values).sum()))


@settings(deadline=None)
@given(w=weights, cap=st.floats(min_value=1.0, max_value=300.0), data=st.data())
def test_symmetric_players_get_the_same_and_a_null_player_nothing(
    w: list[float], cap: float, data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(w) - 1))
    twin = [*w, w[i], 0.0]  # the last-but-one is i's twin, the last adds nothing
    phi = shapley_exact(weighted_game(twin, cap), len(twin)).sum(axis=1)  # type: ignore[arg-type]
    assert abs(phi[i] - phi[-2]) <= 1e-9 * max(1.0, abs(phi[i]))
    assert abs(phi[-1]) <= 1e-12
    sampled = shapley_sampled(
        weighted_game(twin, cap),  # type: ignore[arg-type]
        len(twin),
        seed=1,
        max_permutations=256,
    )
    assert sampled.values[-1] == 0.0 and sampled.half_widths[-1] == 0.0


def settlement_game(rng: np.random.Generator, n: int) -> SettlementGame:
    slots = 8
    committed = rng.uniform(0, 50, (n, slots))
    delivered = committed * rng.uniform(0.7, 1.3, (n, slots))
    lines = [
        SlotInput(
            slot=s,
            cleared_kwh=float(committed[:, s].sum()),
            clearing_price_yuan_mwh=float(rng.uniform(200, 600)),
            realtime_price_yuan_mwh=float(rng.uniform(200, 600)),
            delivered_kwh=float(delivered[:, s].sum()),
        )
        for s in range(slots)
    ]
    rules = TradingRules(deviation_tolerance=0.05, deviation_penalty_yuan_mwh=300.0)
    return SettlementGame("SPOT", lines, committed, delivered, rules)


@settings(derandomize=True, max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(seed=st.integers(0, 2**32 - 1))
def test_sampled_estimate_within_its_bound_of_exact_at_ten_members(seed: int) -> None:
    rng = np.random.default_rng(seed)
    game = settlement_game(rng, 10)
    exact = shapley_exact(game, 10).sum(axis=1)
    sampled = shapley_sampled(game, 10, seed=seed, confidence=0.999, rel_error=0.002)
    err = np.abs(np.array(sampled.values) - exact)
    assert np.all(err <= np.array(sampled.half_widths) + 1e-9), (err, sampled.half_widths)
    assert abs(sum(sampled.values) - exact.sum()) <= 1e-9 * abs(exact.sum())  # efficient


def test_the_game_is_zero_for_nobody_and_the_statement_for_everybody() -> None:
    game = settlement_game(np.random.default_rng(3), 4)
    values = game(all_coalitions(4)).sum(axis=1)
    assert values[0] == 0.0
    assert values[-1] != 0.0


@given(
    total=st.integers(-(10**7), 10**7),
    ideal=st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=20),
)
def test_largest_remainder_adds_up_to_the_cent(total: int, ideal: list[float]) -> None:
    from fractions import Fraction

    out = largest_remainder(total, [Fraction(x) for x in ideal])
    assert sum(out) == total
    assert all(x == 0 for x, i in zip(out, ideal, strict=True) if i == 0 and any(ideal))
