"""Tests for trainability.figures.video: zoom geometry, frames, MP4/GIF writing, keyframe strip."""

from __future__ import annotations

import math

import imageio.v2 as iio2
import imageio.v3 as iio3
import numpy as np
import pytest

from trainability.figures import video
from trainability.figures.heatmap import colorize, colorize_float, rank_stretch, rgb_to_uint8
from trainability.figures.video import (
    fixed_point,
    interpolate_window,
    render_frame,
    save_keyframe_strip,
    stretch_pair,
    write_zoom_video,
)

# nested, re-centred (non-concentric) windows, each 2x narrower than the previous
WINDOWS = [(0.0, 1.0, 0.0, 1.0), (0.3, 0.8, 0.2, 0.7), (0.45, 0.7, 0.3, 0.55)]


def _keyframe(window, n=32):
    """A smooth signed field sampled on the window's grid (both phases present)."""
    x = np.linspace(window[0], window[1], n)
    y = np.linspace(window[2], window[3], n)
    v = np.sin(9.0 * x)[None, :] + np.cos(7.0 * y)[:, None] - 0.3
    return v * (1.0 + 0.01 * x[None, :] + 0.02 * y[:, None] ** 2), window


def _rel(c, lo, hi):
    return (c - lo) / (hi - lo)


# --------------------------------------------------------------------------- geometry
def test_fixed_point_simple_cases():
    assert fixed_point((0.0, 8.0), (2.0, 6.0)) == pytest.approx(4.0)
    assert fixed_point((0.0, 8.0), (0.0, 4.0)) == pytest.approx(0.0)
    assert fixed_point((0.0, 8.0), (4.0, 8.0)) == pytest.approx(8.0)
    assert fixed_point((-1.0, 3.0), (1.0, 2.0)) == pytest.approx(5.0 / 3.0)
    with pytest.raises(ValueError):
        fixed_point((0.0, 1.0), (2.0, 3.0))


@pytest.mark.parametrize("seed", range(5))
def test_fixed_point_is_fixed_by_the_affine_map(seed):
    rng = np.random.default_rng(seed)
    lo1 = rng.uniform(-3, 3)
    a1 = rng.uniform(0.1, 9)
    a2 = a1 / 2
    lo2 = lo1 + rng.uniform(0, a1 - a2)
    c = fixed_point((lo1, lo1 + a1), (lo2, lo2 + a2))
    assert lo2 + (c - lo1) * (a2 / a1) == pytest.approx(c, abs=1e-12)
    assert _rel(c, lo1, lo1 + a1) == pytest.approx(_rel(c, lo2, lo2 + a2), abs=1e-12)
    assert lo1 <= c <= lo1 + a1


def test_interpolate_window_endpoints_exact():
    wa, wb = WINDOWS[0], WINDOWS[1]
    assert interpolate_window(wa, wb, 0.0) == wa
    assert interpolate_window(wa, wb, 1.0) == wb
    deep_a = (2.3, 2.3 + 4e-12, 1.7, 1.7 + 4e-12)
    deep_b = (2.3 + 1.3e-12, 2.3 + 3.3e-12, 1.7 + 0.1e-12, 1.7 + 2.1e-12)
    assert np.array_equal(interpolate_window(deep_a, deep_b, 0), deep_a)
    assert np.array_equal(interpolate_window(deep_a, deep_b, 1), deep_b)
    with pytest.raises(ValueError):
        interpolate_window(wa, wb, 1.5)


@pytest.mark.parametrize("deep", [False, True])
def test_interpolate_window_fixed_point_and_geometric_widths(deep):
    if deep:  # 4e-12 decades around eta ~ 200: digits must not be lost
        wa = (2.3, 2.3 + 4e-12, 1.7, 1.7 + 4e-12)
        wb = (2.3 + 1.3e-12, 2.3 + 3.3e-12, 1.7 + 0.1e-12, 1.7 + 2.1e-12)
        tol = 1e-3
    else:
        wa, wb = WINDOWS[0], WINDOWS[1]
        tol = 1e-12
    cx = fixed_point(wa[:2], wb[:2])
    cy = fixed_point(wa[2:], wb[2:])
    px, py = _rel(cx, *wa[:2]), _rel(cy, *wa[2:])
    assert px == pytest.approx(_rel(cx, *wb[:2]), abs=tol)
    for alpha in np.linspace(0, 1, 11):
        w = interpolate_window(wa, wb, alpha)
        assert _rel(cx, w[0], w[1]) == pytest.approx(px, abs=tol)
        assert _rel(cy, w[2], w[3]) == pytest.approx(py, abs=tol)
        for k in (0, 2):
            width = w[k + 1] - w[k]
            wa_k, wb_k = wa[k + 1] - wa[k], wb[k + 1] - wb[k]
            expected = wa_k * (wb_k / wa_k) ** alpha
            assert width == pytest.approx(expected, rel=tol)
    w = interpolate_window(wa, wb, 0.5)
    gm = math.sqrt((wa[1] - wa[0]) * (wb[1] - wb[0]))
    assert w[1] - w[0] == pytest.approx(gm, rel=tol)


# --------------------------------------------------------------------------- frames
def test_render_frame_endpoints_are_plain_renderings():
    kf_a, kf_b = _keyframe(WINDOWS[0]), _keyframe(WINDOWS[1])
    f0 = render_frame(kf_a, kf_b, 0.0, 32)
    assert f0.shape == (32, 32, 3) and f0.dtype == np.uint8
    assert np.array_equal(f0, colorize(rank_stretch(kf_a[0])))
    f1 = render_frame(kf_a, kf_b, 1.0, 32)
    assert np.array_equal(f1, colorize(rank_stretch(kf_b[0])))
    assert not np.array_equal(f0, f1)


def test_render_frame_blend_weight_outside_b():
    kf_a, kf_b = _keyframe(WINDOWS[0]), _keyframe(WINDOWS[1])
    alpha, size = 0.3, 32
    f = render_frame(kf_a, kf_b, alpha, size)
    s_aa, s_ab, _ = stretch_pair(kf_a[0], kf_b[0])
    x0, x1, y0, y1 = interpolate_window(WINDOWS[0], WINDOWS[1], alpha)
    assert x0 < WINDOWS[1][0] - 0.1  # the frame's left column lies outside b's window
    # left column of the frame: nearest a-pixels, colours blended with weight sin^2(0.15 pi)
    ix = int(np.floor(x0 * 31 + 0.5))
    iy = np.floor((y0 + np.arange(size) * (y1 - y0) / (size - 1)) * 31 + 0.5).astype(int)
    w = np.sin(alpha * np.pi / 2) ** 2
    expected = (1 - w) * colorize_float(s_aa[iy, ix]) + w * colorize_float(s_ab[iy, ix])
    assert np.array_equal(f[::-1, 0], rgb_to_uint8(expected))


def _line_keyframe(window, n=40):
    """Sign boundary along one oblique line; magnitude grows away from it."""
    x = np.linspace(window[0], window[1], n)[None, :]
    y = np.linspace(window[2], window[3], n)[:, None]
    d = (x - 0.4) + 0.4 * (y - 0.3)  # away from the zoom's fixed point (0.6, 0.4)
    return d * (1.0 + np.abs(d)), window


def _phase_of_colour(frame):
    """+1 where a pixel's nearest Spectral colour lies in the converged half, else -1."""
    lut = colorize(np.linspace(-1, 1, 256)[None, :], flip=False)[0].astype(float)
    dist = ((frame.astype(float)[..., None, :] - lut) ** 2).sum(-1)
    return np.where(np.argmin(dist, axis=-1) >= 128, 1, -1)


@pytest.mark.parametrize("alpha", [0.3, 0.5, 0.8])
def test_render_frame_mid_zoom_shows_the_interpolated_window(alpha):
    kf_a, kf_b = _line_keyframe(WINDOWS[0]), _line_keyframe(WINDOWS[1])
    f = render_frame(kf_a, kf_b, alpha, 48)
    assert f.shape == (48, 48, 3)
    # the field's own phase on the interpolated window (image orientation: top = highest y)
    # converged (v < 0) pixels are coloured from the upper (positive) half of the colormap
    truth = -np.sign(_line_keyframe(interpolate_window(WINDOWS[0], WINDOWS[1], alpha), 48)[0])
    truth = truth[::-1]
    phase = _phase_of_colour(f)
    assert np.mean(phase == truth) > 0.97
    # a wrong window (a's, i.e. no zoom) would not match as well
    wrong = -np.sign(_line_keyframe(WINDOWS[0], 48)[0])[::-1]
    assert np.mean(phase == wrong) < np.mean(phase == truth) - 0.03


# --------------------------------------------------------------------------- files
def _count_frames(path):
    reader = iio2.get_reader(path, format="FFMPEG")
    try:
        frames = [np.asarray(f) for f in reader]
    finally:
        reader.close()
    return frames


def test_write_zoom_video_mp4_and_gif(tmp_path):
    kfs = [_keyframe(w) for w in WINDOWS]
    mp4, gif = tmp_path / "zoom.mp4", tmp_path / "zoom.gif"
    fpd = 4
    n = write_zoom_video(
        mp4, (kf for kf in kfs), frames_per_doubling=fpd, size=40, gif_path=gif, gif_size=16
    )
    expected = fpd * (len(kfs) - 1) + 1
    assert n == expected
    frames = _count_frames(mp4)
    assert len(frames) == expected
    assert frames[0].shape == (48, 48, 3)  # 40 rounded up to a multiple of 16
    # decoded frames match the rendered ones up to compression error
    first = render_frame(kfs[0], kfs[1], 0.0, 48).astype(float)
    last = render_frame(kfs[-1], kfs[-1], 0.0, 48).astype(float)
    assert np.abs(frames[0] - first).mean() < 12
    assert np.abs(frames[-1] - last).mean() < 12
    g = iio3.imread(gif, index=None)
    assert g.shape[1:3] == (16, 16)
    # default stride fps/10 = 3: frames 0, 3, 6 and the last one (8)
    assert g.shape[0] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zoom.gif", "zoom.mp4"]


def test_write_zoom_video_single_keyframe(tmp_path):
    mp4 = tmp_path / "one.mp4"
    assert write_zoom_video(mp4, [_keyframe(WINDOWS[0])], frames_per_doubling=5, size=32) == 1
    frames = _count_frames(mp4)
    assert len(frames) == 1 and frames[0].shape == (32, 32, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.mp4"]


def test_write_zoom_video_failure_leaves_nothing(tmp_path):
    def keyframes():
        yield _keyframe(WINDOWS[0])
        raise RuntimeError("sweep failed")

    with pytest.raises(RuntimeError):
        write_zoom_video(tmp_path / "z.mp4", keyframes(), size=16, gif_path=tmp_path / "z.gif")
    assert list(tmp_path.iterdir()) == []


def test_save_keyframe_strip(tmp_path, monkeypatch):
    kfs = [_keyframe(WINDOWS[k % 3], n=8) for k in range(10)]
    widths = [9.0 / 2**k for k in range(10)]
    out = tmp_path / "strip.png"
    save_keyframe_strip(out, kfs, widths)
    img = iio3.imread(out)
    assert img.shape[:2] == (440, 1600)  # 2 rows x 8 columns of 2-inch panels at 100 dpi
    assert sorted(p.name for p in tmp_path.iterdir()) == ["strip.png"]

    captured = []
    monkeypatch.setattr(video, "save_figure", lambda fig, path: captured.append(fig))
    save_keyframe_strip(out, kfs, widths)
    (fig,) = captured
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 10
    assert titles[0] == "9.0e+00 dec" and titles[9] == f"{9.0 / 2**9:.1e} dec"
    with pytest.raises(ValueError):
        save_keyframe_strip(out, kfs, widths[:3])
