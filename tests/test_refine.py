"""Label-only refinement (trainability.train.refine): analytic shapes, a known fractal, what it
misses
and why, and its refusals; then the refined sweep against the full one (bit-identical computed
pixels, labels on a small zoom) and how refined grids are stored, merged and read."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import yaml
from conftest import REPO

import trainability.numerics.jax64  # noqa: F401  (float64 before any array)
from trainability.analysis.dimension import edges
from trainability.analysis.seeds import stability_grid
from trainability.core.condition import Condition
from trainability.core.grid import NOT_COMPUTED, load_grid, merge_tiles, phase_field, save_grid
from trainability.core.window import Window
from trainability.study.config import ConfigError, load_study
from trainability.train.refine import lattice, oracle, refine
from trainability.train.refinement_check import boundary_density, check_refinement, sample_tiles
from trainability.train.sweep import Engine, sweep

COND = Condition(width=6, steps=40)


def disc(n: int, radius: float = 0.3):
    """Inside a disc converges; |value| grows as the boundary nears (1 far away, ~100 at it),
    like the convergence measure of a run that gets marginal (within ~0.03 of the circle)."""
    y, x = np.mgrid[0:n, 0:n] / (n - 1) - 0.5
    r = np.hypot(x, y)
    converged = r < radius
    values = np.where(converged, -1.0, 1.0) * (1 + 100 * np.exp(-np.abs(r - radius) / 0.004))
    return values, converged


def mandelbrot(n: int, steps: int = 60):
    """Escape-time picture of the Mandelbrot set at the seahorse valley: outside, the value is
    the escape time, which grows towards the set; inside it is −1 (no evidence)."""
    re, im = np.meshgrid(np.linspace(-0.80, -0.70, n), np.linspace(0.05, 0.15, n))
    c = re + 1j * im
    z = np.zeros_like(c)
    escaped = np.full(c.shape, steps)
    for t in range(steps):
        z = np.where(escaped == steps, z * z + c, z)
        escaped = np.where((escaped == steps) & (np.abs(z) > 2), t, escaped)
    converged = escaped == steps
    values = np.where(converged, -1.0, escaped + 1.0)
    return values, converged


def test_lattice_includes_both_ends():
    assert lattice(9, 4).tolist() == [0, 4, 8]
    assert lattice(10, 4).tolist() == [0, 4, 8, 9]


def test_a_disc_is_exact_and_computed_where_its_boundary_is():
    values, converged = disc(256)
    r = refine(oracle(values, converged), converged.shape, 8)
    assert np.array_equal(r.converged, converged)
    on = lattice(256, 8)
    assert r.computed[np.ix_(on, on)].all()
    assert np.array_equal(r.values[r.computed], values[r.computed])
    assert np.isnan(r.values[~r.computed]).all()
    assert not r.computed[130, 130] and not r.computed[5, 250]  # centre, corner: far from it


def test_the_computed_share_of_a_circle_falls_like_one_over_n():
    """Cells along a boundary of dimension D number ~(n/s)^D: their share of the n² pixels
    falls like n^(D−2), halving per doubling of n for a circle (D = 1)."""
    shares = []
    for n in (128, 256, 512):
        values, converged = disc(n)
        r = refine(oracle(values, converged), converged.shape, 8, roughness=np.inf)
        assert np.array_equal(r.converged, converged)
        shares.append(r.fraction - len(lattice(n, 8)) ** 2 / n**2)
    ratios = np.array(shares[1:]) / shares[:-1]
    assert np.all((0.45 < ratios) & (ratios < 0.6)), ratios


def test_a_boundary_is_followed_out_of_the_cells_the_lattice_flags():
    """A thin finger between two lattice rows, from a band the lattice sees to a tip two cells
    away: no lattice point lies on it, but the cells along it are reached through the edges
    their flagged neighbours computed."""
    n = 65
    converged = np.zeros((n, n), bool)
    converged[:, :21] = True  # a band the lattice sees (columns 0 and 16 against 32)
    converged[36:40, 20:59] = True  # the finger, between lattice rows 32 and 48
    values = np.where(converged, -1.0, 1.0)
    r = refine(oracle(values, converged), converged.shape, 16, guard=0)
    assert np.array_equal(r.converged, converged)
    assert r.passes == 4  # the lattice, the flagged cells, then two cells followed in turn


def test_an_island_inside_a_cell_needs_the_evidence():
    n = 33
    converged = np.zeros((n, n), bool)
    converged[4:7, 4:7] = True  # wholly inside the cell [0, 16]²
    distance = np.hypot(*(np.mgrid[0:n, 0:n] - 5.0))
    values = np.where(converged, -1.0, 1.0) * (1 + 100 / (1 + distance))
    missed = refine(oracle(values, converged), converged.shape, 16, guard=0, roughness=np.inf)
    assert missed.converged[4:7, 4:7].sum() == 0  # nothing told the rule to look
    found = refine(oracle(values, converged), converged.shape, 16, guard=0, roughness=0.3)
    assert np.array_equal(found.converged, converged)


def test_the_mandelbrot_set_agrees_on_almost_every_pixel():
    values, converged = mandelbrot(256)
    r = refine(oracle(values, converged), converged.shape, 8)
    assert (r.converged == converged).mean() >= 0.9999
    assert r.fraction < 1.0


@pytest.mark.parametrize("stride", [1, 0, 2.5, "8"])
def test_bad_strides_are_refused(stride):
    values, converged = disc(16)
    with pytest.raises(ValueError, match="stride must be an integer >= 2"):
        refine(oracle(values, converged), converged.shape, stride)


def zoom_windows(levels: int = 4, n: int = 33, factor: float = 16.0) -> list[Window]:
    """A small zoom into the boundary: each window ``factor`` times narrower than the last,
    centred on the last one's boundary pixel (a label change) nearest its centre."""
    window = Window.square((-1, 2, 0, 4), n)
    windows = [window]
    for _ in range(1, levels):
        grid = sweep(COND, window)
        change = np.zeros_like(grid.converged)
        change[:, 1:] = grid.converged[:, 1:] != grid.converged[:, :-1]
        at = np.argwhere(change)
        i, j = at[np.argmin(((at - n // 2) ** 2).sum(axis=1))]
        cx, cy = np.log10(grid.x[j]), np.log10(grid.y[i])
        half = (window.x_max - window.x_min) / factor / 2
        window = Window.square((cx - half, cx + half, cy - half, cy + half), n)
        windows.append(window)
    return windows


def test_a_refined_zoom_keeps_every_label_and_computes_the_same_bits():
    shares = []
    for window in zoom_windows():
        full = sweep(COND, window)
        fine = sweep(COND, window, Engine(refine=4))
        assert (fine.converged == full.converged).mean() >= 0.9999
        assert fine.meta["refine"] == 4
        c = fine.computed
        shares.append(c.mean())
        for key in ("values", "diverged_at", "blowup_at"):
            assert getattr(fine, key)[c].tobytes() == getattr(full, key)[c].tobytes(), key
        assert np.isnan(fine.values[~c]).all()
        assert (fine.diverged_at[~c] == NOT_COMPUTED).all()
        assert np.array_equal(edges(phase_field(fine)), edges(full.values))
    assert min(shares) < 0.85  # measured: 0.77, 1.0, 0.88, 0.86


def test_off_by_default_and_refined_tiles_merge(tmp_path):
    window = Window(-1, 2, 0, 4, nx=21, ny=18)
    plain = sweep(COND, window)
    assert Engine().refine == 0 and plain.computed is None and "refine" not in plain.meta
    save_grid(tmp_path / "plain.npz", plain)
    assert "computed" not in np.load(tmp_path / "plain.npz").files
    assert phase_field(plain) is plain.values
    tiles = []
    for i in range(2):
        tile = sweep(COND, window, Engine(refine=3), tile=(i, 0), tiles=(2, 1))
        save_grid(tmp_path / f"t{i}.npz", tile)
        tiles.append(load_grid(tmp_path / f"t{i}.npz"))
    merged = merge_tiles(tiles)
    assert merged.computed.shape == plain.converged.shape
    assert np.array_equal(merged.converged, plain.converged)
    c = merged.computed
    assert merged.values[c].tobytes() == plain.values[c].tobytes()


def test_consumers_that_need_values_refuse_a_refined_grid():
    fine = sweep(COND, Window.square((-1, 2, 0, 4), 17), Engine(refine=4))
    assert fine.refined
    with pytest.raises(ValueError, match="label-only refinement") as err:
        stability_grid(fine)
    assert len(str(err.value).splitlines()) == 1


@pytest.mark.parametrize("refine", [1, -2, 2.0, True])
def test_bad_refine_strides_are_refused(refine):
    with pytest.raises(ValueError, match=r"refine must be 0 \(off\) or an integer >= 2"):
        Engine(refine=refine)


def test_the_config_takes_engine_refine_and_refuses_a_stride_of_one():
    schema = REPO / "workflow" / "schemas" / "config.schema.yaml"
    config = {"defaults": {"width": 6, "steps": 20}, "conditions": {"tanh": {}}}
    assert "refine" not in load_study(config, schema)[0]["engine"]  # off: absent, as before
    assert load_study({**config, "engine": {"refine": 4}}, schema)[0]["engine"]["refine"] == 4
    with pytest.raises(ConfigError, match="engine.refine: must be >= 2"):
        load_study({**config, "engine": {"refine": 1}}, schema)


# ---------------------------------------------------------------- the check on sampled tiles


def test_sampled_tiles_are_the_densest_then_drawn_at_random():
    density = np.array([[0, 5, 0], [9, 0, 1], [0, 0, 7]])
    picked = sample_tiles(density, 4)
    assert picked[:2] == [(1, 0), (2, 2)]  # the two densest first
    assert len(set(picked)) == 4 and all(density[t] < 5 for t in picked[2:])
    assert sample_tiles(density, 4) == picked  # a fixed seed
    assert len(sample_tiles(density, 99)) == 9  # never more than there are


def test_boundary_density_counts_label_changes_per_tile():
    converged = np.zeros((6, 6), bool)
    converged[:, 3:] = True  # an edge between columns 2 and 3, the tiles' own edge: counted
    density = boundary_density(converged, 2, Window.square((0, 1, 0, 1), 6))
    assert density.tolist() == [[0, 3], [0, 3]]  # in the tile of the pixel after the change
    converged[:, 2:] = True  # now between columns 1 and 2, inside the left tiles
    density = boundary_density(converged, 2, Window.square((0, 1, 0, 1), 6))
    assert density.tolist() == [[3, 0], [3, 0]]


def test_a_real_panels_inferred_labels_equal_full_sweeps_on_sampled_tiles():
    """The identity network's published panel (500 steps, the paper's network), label-only at
    40², against the same tiles swept in full; a label flipped in the refined grid is found."""
    schema = REPO / "workflow" / "schemas" / "config.schema.yaml"
    raw = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    raw["conditions"] = {"identity_fullbatch": raw["conditions"]["identity_fullbatch"]}
    for key in ("followup", "toys", "fractal_end", "resolution_study"):
        raw.pop(key, None)
    _, study = load_study(raw, schema)
    sc = study["identity_fullbatch"]
    window = Window.square(sc.panel.bounds, 40)
    fine = sweep(sc.condition, window, Engine(refine=4))
    assert fine.refined  # some labels were inferred
    rows = check_refinement(fine, sc.condition, window, Engine(), 4, 4)
    assert len(rows) == 4 and sum(r["inferred"] for r in rows) > 0
    assert all(r["inferred_wrong"] == 0 and r["computed_wrong"] == 0 for r in rows)
    i, j = (int(v) for v in rows[0]["tile"].split("_"))
    r, c = window.tile(i, j, (4, 4))
    broken = fine.converged.copy()
    inferred = np.argwhere(~fine.computed[r, c])[0] + (r.start, c.start)
    broken[tuple(inferred)] ^= True  # one inferred label wrong, in the first sampled tile
    again = check_refinement(replace(fine, converged=broken), sc.condition, window, Engine(), 4, 4)
    assert [row["inferred_wrong"] for row in again] == [1, 0, 0, 0]
