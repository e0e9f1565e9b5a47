"""The paper's convergence measure, whole-trajectory and streamed with early exit."""

import numpy as np
import pytest

import trainability.numerics.jax64  # noqa: F401  (float64 before any array)
from trainability.train.measure import (
    BLOWUP_FACTOR,
    LOSS_CAP,
    blowup_trajectory,
    measure_trajectory,
    tally_start,
    tally_step,
    tally_values,
)


def stream(losses, retire_factor):
    losses = np.asarray(losses, dtype=np.float64)
    tally = tally_start(losses.shape[0])
    for t in range(losses.shape[1]):
        tally = tally_step(tally, losses[:, t], t, losses.shape[1], retire_factor)
    return tally


def test_measure_on_hand_made_trajectories():
    decaying = 2.0 * 0.5 ** np.arange(30)
    growing = 2.0 * 10.0 ** np.arange(30)
    values, converged = measure_trajectory(np.stack([decaying, growing]))
    assert converged.tolist() == [True, False]
    assert values[0] == pytest.approx(-np.sum(0.5 ** np.arange(30)))
    v = np.minimum(10.0 ** np.arange(30), LOSS_CAP)
    assert values[1] == pytest.approx(np.sum(1 / v))


def test_non_finite_losses_count_as_1e6_before_normalising():
    losses = np.array([[4.0, np.nan, np.inf] + [np.nan] * 20])
    values, converged = measure_trajectory(losses)
    assert not converged[0]
    assert values[0] == pytest.approx(1.0 + 22 * 4.0 / 1e6)


def test_streamed_equals_whole_trajectory():
    rng = np.random.default_rng(0)
    losses = np.exp(rng.normal(0, 3, size=(200, 60)).cumsum(axis=1) * 0.2)
    losses[rng.random(losses.shape) < 0.01] = np.nan
    expected_values, expected_converged = measure_trajectory(losses)
    values, converged = tally_values(stream(losses, None), 60)
    np.testing.assert_array_equal(converged, expected_converged)
    np.testing.assert_allclose(values, expected_values, rtol=1e-12)


def test_early_exit_is_exact_for_blowups():
    """Retired pixels get exactly the remaining contribution they would have had."""
    t = np.arange(80)
    l0 = np.array([0.9, 0.5, 1.3])[:, None]
    with np.errstate(over="ignore"):  # finite past 1e20·ℓ0 for a while, then overflow
        losses = l0 * np.exp(t**1.9)
    full = stream(losses, None)
    early = stream(losses, 1e20)
    assert np.all(np.asarray(early.retired_at)[:2] >= 0)  # ℓ0 <= 1: retired at the threshold
    values, converged = tally_values(early, 80)
    expected_values, expected_converged = tally_values(full, 80)
    np.testing.assert_array_equal(converged, expected_converged)
    np.testing.assert_allclose(values, expected_values, rtol=1e-14)


def test_no_retirement_at_a_threshold_when_initial_loss_exceeds_one():
    losses = 1.5 * np.exp(np.arange(40.0))[None, :] * 1e10
    tally = stream(losses, 1e20)
    assert int(tally.retired_at[0]) == -1


def test_loss_that_comes_back_below_1e6_can_converge():
    """Why the early-exit threshold is 1e20 and not 1e6: this run converges."""
    losses = np.concatenate([[1.0, 1e7, 1e3], 0.01 * np.ones(40)])[None, :]
    values, converged = tally_values(stream(losses, 1e20), losses.shape[1])
    assert converged[0]
    assert values[0] == pytest.approx(measure_trajectory(losses)[0][0], rel=1e-14)


def test_stability_label_on_hand_made_trajectories():
    """Blown up at the first loss past 10⁶·ℓ_0 or non-finite; the two labels differ both ways."""
    spike = np.concatenate([[1.0, 2e6, 1e3], 0.01 * np.ones(40)])  # trainable, blown up at 1
    flat = np.full(43, 2.0)  # never improves, never blows up: untrainable and stable
    nan_late = np.concatenate([np.full(10, 1.0), [np.nan] * 33])  # blown up at 10
    edge = np.concatenate([[3.0, BLOWUP_FACTOR * 3.0], np.full(41, 1.0)])  # not above: stable
    nan_first = np.concatenate([[np.nan], np.ones(42)])  # ℓ_0 non-finite: blown up at 0
    losses = np.stack([spike, flat, nan_late, edge, nan_first])
    assert blowup_trajectory(losses).tolist() == [1, -1, 10, -1, 0]
    assert measure_trajectory(losses)[1].tolist()[:2] == [True, False]
    for retire in (None, 1e20, np.inf):
        tally = stream(losses, retire)
        assert np.asarray(tally.blowup_at).tolist() == [1, -1, 10, -1, 0]


def test_stability_label_is_exact_under_early_exit():
    """Random trajectories with spikes, overflows and NaNs: the streamed label with early exit
    (either rule) equals the whole-trajectory label."""
    rng = np.random.default_rng(1)
    with np.errstate(over="ignore"):
        losses = np.exp(rng.normal(0.3, 4, size=(300, 60)).cumsum(axis=1))
    losses[rng.random(losses.shape) < 0.005] = np.nan
    losses[:50] *= 1e-3  # ℓ_0 < 1 for some: the 10²⁰ threshold retires them
    expected = blowup_trajectory(losses)
    assert 0 < (expected >= 0).sum() < 300
    for retire in (None, 1e20, np.inf):
        np.testing.assert_array_equal(np.asarray(stream(losses, retire).blowup_at), expected)
