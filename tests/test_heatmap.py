"""Tests for trainability.figures.heatmap: rank stretch, edge ticks, heatmaps, atomic PNG writes."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest
from matplotlib.figure import Figure

from trainability.figures import heatmap
from trainability.figures.heatmap import (
    RankReference,
    colorize,
    format_edge_ticks,
    heatmap_figure,
    panels_figure,
    rank_stretch,
    rgb_to_uint8,
    save_heatmap,
    save_image,
    save_panels,
)


def _field(ny=24, nx=20, seed=0):
    """Distinct signed values with both phases."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((ny, nx)) * 10.0
    assert len(np.unique(v)) == v.size
    return v


# --------------------------------------------------------------------------- rank_stretch
def test_rank_stretch_exact_mapping():
    v = np.array([[-3.0, -1.0, -2.0], [0.0, 5.0, 2.0]])
    expected = np.array([[1.0, 0.25, 0.625], [-0.25, -1.0, -0.625]])
    np.testing.assert_allclose(rank_stretch(v), expected, rtol=0, atol=1e-15)


def test_rank_stretch_ties_single_and_nan():
    # negatives sorted [-3, -1, -1]: ranks 0, 1.5, 1.5 of 2 -> t = 0, 0.75, 0.75
    # single non-negative value -> middle of its band (0.625), negated
    s = rank_stretch(np.array([-1.0, -1.0, -3.0, 4.0, np.nan]))
    np.testing.assert_allclose(s[:4], [1 - 0.75 * 0.75, 1 - 0.75 * 0.75, 1.0, -0.625], atol=1e-15)
    assert np.isnan(s[4])


def test_rank_stretch_ranges_signs_monotone():
    v = _field()
    s = rank_stretch(v)
    conv, div = v < 0, v >= 0
    assert conv.any() and div.any()
    # converged -> positive band [0.25, 1], diverged -> negative band [-1, -0.25], ends reached
    assert s[conv].min() == pytest.approx(0.25) and s[conv].max() == pytest.approx(1.0)
    assert s[div].min() == pytest.approx(-1.0) and s[div].max() == pytest.approx(-0.25)
    assert np.all(s[conv] > 0) and np.all(s[div] < 0)
    # strictly decreasing in v within each phase, evenly spaced in rank
    for mask in (conv, div):
        order = np.argsort(v[mask])
        steps = np.diff(s[mask][order])
        assert np.all(steps < 0)
        np.testing.assert_allclose(steps, steps[0], rtol=1e-9)


def test_rank_stretch_one_phase_only():
    v = -np.arange(1.0, 11.0)
    s = rank_stretch(v)
    assert np.all(s >= 0.25) and np.all(s <= 1.0)


def test_rank_stretch_reference_equals_self():
    v = _field(seed=3)
    base = rank_stretch(v)
    assert np.array_equal(base, rank_stretch(v, reference=v))
    assert np.array_equal(base, rank_stretch(v, reference=RankReference.from_values(v)))
    # a subset stretched against the full array keeps its colours
    assert np.array_equal(base[3:7, 2:9], rank_stretch(v[3:7, 2:9], reference=v))


def test_rank_stretch_reference_interpolates_and_clamps():
    ref = np.array([-4.0, -2.0, 1.0, 3.0])
    s = rank_stretch(np.array([-3.0, -5.0, -1.0, 0.0, 2.0, 10.0]), reference=ref)
    np.testing.assert_allclose(s, [0.625, 1.0, 0.25, -0.25, -0.625, -1.0], atol=1e-15)
    # a phase absent from the reference maps to the middle of its band
    s = rank_stretch(np.array([-1.0, 1.0]), reference=np.array([2.0, 3.0]))
    np.testing.assert_allclose(s, [0.625, -0.25], atol=1e-15)


def test_colorize_phase_hues_and_orientation():
    v = np.array([[-100.0, 100.0], [-1.0, 1.0]])  # row 0 = lowest y
    rgb = colorize(rank_stretch(v))
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    slow_conv, slow_div = rgb[1, 0], rgb[1, 1]  # bottom row of the grid is the image's last
    assert slow_conv[2] > slow_conv[0]  # dark blue/purple
    assert slow_div[0] > slow_div[2]  # dark red


# --------------------------------------------------------------------------- ticks
@pytest.mark.parametrize(
    "lo, hi",
    [(2.3, 2.3 + 1e-9), (-3.0, 6.0), (2.3, 2.3 + 1e-13), (-0.57, -0.57 + 7.7e-7), (0.0, 1e-4)],
)
def test_format_edge_ticks_distinct_and_accurate(lo, hi):
    a, b = format_edge_ticks(lo, hi)
    assert a != b
    gap = 10.0**hi - 10.0**lo
    # each label is within a fraction of the gap of the true value
    assert abs(float(a) - 10.0**lo) < 0.5 * gap
    assert abs(float(b) - 10.0**hi) < 0.5 * gap


def test_format_edge_ticks_wide_window_is_short():
    assert format_edge_ticks(-3, 6) == ("0.001", "1e6")


# --------------------------------------------------------------------------- figures
def test_heatmap_figure_content():
    v = _field()
    window = (2.3, 2.3 + 1e-9, -1.0, 0.5)
    fig = heatmap_figure(v, window, title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    (im,) = ax.get_images()
    assert np.array_equal(np.asarray(im.get_array()), rank_stretch(v))
    assert im.origin == "lower" and im.cmap.name == "Spectral"
    assert im.norm.vmin == -1 and im.norm.vmax == 1
    assert [t.get_text() for t in ax.get_xticklabels()] == list(format_edge_ticks(*window[:2]))
    assert [t.get_text() for t in ax.get_yticklabels()] == list(format_edge_ticks(*window[2:]))
    assert ax.get_box_aspect() == 1
    # ticks at the edge pixel centres: half a pixel inside the image extent
    x0, x1, y0, y1 = im.get_extent()
    dx = (x1 - x0) / v.shape[1]
    np.testing.assert_allclose(ax.get_xticks(), [x0 + dx / 2, x1 - dx / 2], rtol=0, atol=1e-6 * dx)


def test_panels_figure_counts_and_overflow():
    panel = {"values": _field(), "window": (-3, 6, -3, 6), "title": "p"}
    fig = panels_figure([panel] * 5, 3, 2, suptitle="s")
    assert len(fig.axes) == 5
    with pytest.raises(ValueError, match="do not fit"):
        panels_figure([panel] * 7, 3, 2)


def _only(tmp_path, *names):
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


def test_save_heatmap_png(tmp_path):
    out = tmp_path / "h.png"
    save_heatmap(out, _field(), (-3, 6, -3, 6), title="tanh")
    img = iio.imread(out)
    side = int(heatmap.HEATMAP_INCHES * heatmap.HEATMAP_DPI)
    assert img.shape[:2] == (side, side)
    _only(tmp_path, "h.png")


def test_save_panels_png_six_panels(tmp_path):
    panels = [
        {"values": _field(seed=k), "window": (-3, 6, -3, 6), "title": f"D={k}", "xlabel": "x"}
        for k in range(6)
    ]
    out = tmp_path / "panels.png"
    save_panels(out, panels, 3, 2, suptitle="six")
    img = iio.imread(out)
    dpi, inch = heatmap.PANEL_DPI, heatmap.PANEL_INCHES
    assert img.shape[:2] == (round((3 * inch + 0.4) * dpi), round(2 * inch * dpi))
    _only(tmp_path, "panels.png")
    with pytest.raises(ValueError):
        save_panels(tmp_path / "bad.png", panels, 2, 2)
    _only(tmp_path, "panels.png")


def test_save_is_atomic_on_failure(tmp_path, monkeypatch):
    def broken_savefig(self, fname, **kw):
        with open(fname, "wb") as f:
            f.write(b"\x89PNG half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError):
        save_heatmap(tmp_path / "h.png", _field(), (-3, 6, -3, 6))
    _only(tmp_path)


def test_save_image_one_pixel_per_cell(tmp_path):
    v = _field(ny=7, nx=5)
    out = tmp_path / "raw.png"
    save_image(out, v)
    img = iio.imread(out)
    assert img.shape == (7, 5, 3)
    assert np.array_equal(img, colorize(rank_stretch(v)))
    assert np.array_equal(img[0], colorize(rank_stretch(v))[0])
    # origin lower: the image's top row is the grid's last (highest-y) row
    assert np.array_equal(img[0], colorize(rank_stretch(v), flip=False)[-1])
    _only(tmp_path, "raw.png")


def test_clean_number_writes_exponents_short():
    assert heatmap.clean_number("1e+06") == "1e6"
    assert heatmap.clean_number("2.5e-07") == "2.5e-7"
    assert heatmap.clean_number("1.000e+00") == "1.000e0"
    assert heatmap.clean_number("0.125") == "0.125"


def test_axis_labels_are_the_axes_declared_titles():
    from trainability.core.condition import AXES

    paper = heatmap.axis_labels({"phase_space": "lr_vs_lr"})
    assert (paper["xlabel"], paper["ylabel"]) == (AXES["lr_even"].title, AXES["lr_odd"].title)
    assert paper["xlabel"] == "Input layer learning rate"  # the paper's
    offset = heatmap.axis_labels({"phase_space": "offset_vs_lr", "x_scale": "linear"})
    assert (offset["xlabel"], offset["ylabel"]) == ("Input layer weight offset", "Learning rate")
    assert offset["scales"] == ("linear", "log")
    for name, axis in AXES.items():
        custom = {"phase_space": "custom", "x_axis": name, "y_axis": "lr"}
        assert heatmap.axis_labels(custom)["xlabel"] == axis.title


def test_colours_are_rounded_to_the_nearest_byte_and_clipped():
    """Frames and PNGs share this conversion, so comparing one with the other cannot see it."""
    rgb = np.array([0.0, 0.6 / 255, 0.4 / 255, 254.5001 / 255, 1.0, 1.3, -0.2])
    assert rgb_to_uint8(rgb).tolist() == [0, 1, 0, 255, 255, 255, 0]
