"""Zoom videos between keyframes (Sohl-Dickstein 2024, docs/methods.md §5).

Keyframes
---------
A keyframe is ``(values, window)``: a grid (see :mod:`trainability.figures.heatmap`) and its window
``(x_min, x_max, y_min, y_max)`` in log10 units. Successive keyframe windows are (in the
paper) exactly 2× narrower per axis and may be re-centred, so they need not be concentric;
each window lies inside the previous one.

Fixed point of a zoom step (per axis)
-------------------------------------
Interval 1 = [l₁, l₁ + a₁] is sent onto interval 2 = [l₂, l₂ + a₂] by the affine map
f(x) = l₂ + r·(x − l₁) with r = a₂/a₁. Its fixed point c* = f(c*) is the point with the same
relative position p in both intervals, (c* − l₁)/a₁ = (c* − l₂)/a₂ = p:

    c* = (l₂ − r·l₁)/(1 − r),      p = (l₂ − l₁)/(a₁ − a₂)         (r ≠ 1)

If interval 2 lies inside interval 1 then 0 ≤ p ≤ 1, so c* lies inside both. The offset form
c* = l₁ + p·a₁ is what the code evaluates: it keeps the digits that matter in windows ~1e−14
decades wide around η ~ 10².

Interpolated window
-------------------
For α ∈ [0, 1], zoom exponentially about the fixed point, per axis:

    a(α) = a₁ · (a₂/a₁)^α          (geometric: a(½) = √(a₁a₂))
    l(α) = c* − p·a(α) = l₁ + p·(a₁ − a(α)),    h(α) = l(α) + a(α)

so c* keeps relative position p in every frame, α = 0 gives window 1 and α = 1 window 2
(both returned exactly).

Frame colouring
---------------
Frame α shows window(α). Its pixels (centres at ``linspace`` over the window, like a grid)
take keyframe a's value by nearest neighbour; that value is coloured by the rank stretch
against a's distribution, blended (in RGB) with the colour of its stretch against b's
distribution with weight w = sin²(απ/2). Keyframe b's own image (stretched against b) is laid
over the part of the frame it covers with opacity α. So α = 0 is a plain rendering of a, and
α = 1 a plain rendering of b: consecutive segments join without a jump in colour.

Video
-----
Segment k (keyframes k → k+1) contributes frames α = j/(F·m), j = 0 … F·m−1 (F frames per
doubling, keyframes 2^m times narrower one to the next: m = ``doublings``, 1 in the paper); a
last frame shows the final keyframe. Total: F·m·(K−1) + 1 frames.

Keyframes past float64 carry exact bounds (decimal text, `trainability.core.coordinates`); a
segment is then drawn in offsets from its first keyframe's lower-left corner, formed exactly
(`trainability.core.coordinates.shifted`): every quantity above is a difference of bounds. Frames
are streamed to ffmpeg (imageio-ffmpeg's bundled binary, H.264/libx264, yuv420p, CRF 18) and to
an optional small GIF preview (every ``gif_stride``-th frame, box-downsampled; Pillow keeps
these small frames until it closes the file). Keyframes may be given as a lazy iterable: only
two keyframes and their three stretched grids (a vs a, a vs b, b vs b, computed once per
segment, see :func:`stretch_pair`) are held, plus one full-size frame.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Sequence

import numpy as np

from trainability.core.atomic import atomic_path, save_figure
from trainability.core.coordinates import shifted, width
from trainability.figures.heatmap import (
    RankReference,
    colorize_float,
    panels_figure,
    rank_stretch,
    rgb_to_uint8,
)

__all__ = [
    "fixed_point",
    "interpolate_window",
    "stretch_pair",
    "render_frame",
    "write_zoom_video",
    "save_keyframe_strip",
]

Window = tuple[float, float, float, float]
Keyframe = tuple[np.ndarray, Sequence[float]]


# ---------------------------------------------------------------------------------------------
# geometry
# ---------------------------------------------------------------------------------------------
def _relative_fixed_position(lo1: float, hi1: float, lo2: float, hi2: float) -> float:
    a1, a2 = hi1 - lo1, hi2 - lo2
    if a1 == a2:
        raise ValueError(f"intervals of equal width {a1!r} have no zoom fixed point")
    return (lo2 - lo1) / (a1 - a2)


def fixed_point(w1: Sequence[float], w2: Sequence[float]) -> float:
    """Fixed point c* of the affine map sending interval ``w1`` = (lo1, hi1) onto ``w2``.

    c* = (lo2 − r·lo1)/(1 − r), r = (hi2 − lo2)/(hi1 − lo1); equivalently the point with the
    same relative position in both intervals. Raises ValueError for equal widths.
    """
    lo1, hi1 = float(w1[0]), float(w1[1])
    lo2, hi2 = float(w2[0]), float(w2[1])
    return lo1 + _relative_fixed_position(lo1, hi1, lo2, hi2) * (hi1 - lo1)


def _interpolate_axis(lo1: float, hi1: float, lo2: float, hi2: float, alpha: float):
    a1, a2 = hi1 - lo1, hi2 - lo2
    p = _relative_fixed_position(lo1, hi1, lo2, hi2)
    a = a1 * (a2 / a1) ** alpha
    lo = lo1 + p * (a1 - a)
    return lo, lo + a


def interpolate_window(win_a: Sequence[float], win_b: Sequence[float], alpha: float) -> Window:
    """Window at zoom fraction ``alpha`` ∈ [0, 1] from ``win_a`` to ``win_b`` (module doc).

    Per axis the width is geometric in α and the fixed point keeps its relative position;
    α = 0 returns ``win_a`` and α = 1 returns ``win_b`` exactly (as float tuples).
    """
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    wa = tuple(float(e) for e in win_a)
    wb = tuple(float(e) for e in win_b)
    if len(wa) != 4 or len(wb) != 4:
        raise ValueError("windows must be (x_min, x_max, y_min, y_max)")
    if alpha == 0.0:
        return wa  # type: ignore[return-value]
    if alpha == 1.0:
        return wb  # type: ignore[return-value]
    x = _interpolate_axis(wa[0], wa[1], wb[0], wb[1], alpha)
    y = _interpolate_axis(wa[2], wa[3], wb[2], wb[3], alpha)
    return (x[0], x[1], y[0], y[1])


# ---------------------------------------------------------------------------------------------
# frames
# ---------------------------------------------------------------------------------------------
def _grid_index(frame_lo: float, frame_hi: float, grid_lo: float, grid_hi: float, n: int, size):
    """Fractional grid index (0 … n−1 inside the grid) of the frame's pixel centres."""
    k = np.arange(size, dtype=np.float64)
    step = (frame_hi - frame_lo) / (size - 1) if size > 1 else 0.0
    offset = (frame_lo - grid_lo) + k * step  # decades from the grid's first pixel centre
    width = grid_hi - grid_lo
    if n == 1 or width == 0.0:
        return np.zeros(size)
    return offset / width * (n - 1)


def _nearest(f: np.ndarray, n: int) -> np.ndarray:
    return np.clip(np.floor(f + 0.5), 0, n - 1).astype(np.intp)


def stretch_pair(
    values_a, values_b, ref_a: RankReference | None = None, ref_b: RankReference | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three stretched grids a segment a → b needs: (a vs a, a vs b, b vs b).

    ``rank_stretch`` is a per-pixel function of the value given the reference, so stretching
    the full keyframe once and sampling it per frame equals stretching the sampled pixels.
    """
    va = np.asarray(values_a, dtype=np.float64)
    vb = np.asarray(values_b, dtype=np.float64)
    ref_a = RankReference.from_values(va) if ref_a is None else ref_a
    ref_b = RankReference.from_values(vb) if ref_b is None else ref_b
    s_aa = rank_stretch(va, reference=ref_a)
    s_bb = s_aa if vb is va else rank_stretch(vb, reference=ref_b)
    return s_aa, rank_stretch(va, reference=ref_b), s_bb


def render_frame(
    kf_a: Keyframe,
    kf_b: Keyframe,
    alpha: float,
    size: int,
    *,
    stretched: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """RGB uint8 frame (size × size × 3, highest y row on top) at zoom fraction ``alpha``.

    ``stretched`` may pass :func:`stretch_pair` of the two keyframes' values, computed once
    per segment instead of once per frame.
    """
    va = np.asarray(kf_a[0], dtype=np.float64)
    vb = np.asarray(kf_b[0], dtype=np.float64)
    wa = tuple(float(e) for e in kf_a[1])
    wb = tuple(float(e) for e in kf_b[1])
    size = int(size)
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    alpha = float(alpha)
    s_aa, s_ab, s_bb = stretch_pair(va, vb) if stretched is None else stretched
    if s_aa.shape != va.shape or s_ab.shape != va.shape or s_bb.shape != vb.shape:
        raise ValueError("stretched grids do not match the keyframes' shapes")
    x0, x1, y0, y1 = interpolate_window(wa, wb, alpha)

    # keyframe a, nearest neighbour, coloured against a (and b, weight sin²(απ/2))
    ny, nx = va.shape
    iy = _nearest(_grid_index(y0, y1, wa[2], wa[3], ny, size), ny)[:, None]
    ix = _nearest(_grid_index(x0, x1, wa[0], wa[1], nx, size), nx)[None, :]
    rgb = colorize_float(s_aa[iy, ix])
    w = math.sin(alpha * math.pi / 2) ** 2
    if w > 0.0:
        rgb = (1.0 - w) * rgb + w * colorize_float(s_ab[iy, ix])

    # keyframe b laid over the part of the frame it covers, opacity alpha
    if alpha > 0.0:
        nby, nbx = vb.shape
        fy = _grid_index(y0, y1, wb[2], wb[3], nby, size)
        fx = _grid_index(x0, x1, wb[0], wb[1], nbx, size)
        my = (fy >= -0.5) & (fy < nby - 0.5)
        mx = (fx >= -0.5) & (fx < nbx - 0.5)
        if my.any() and mx.any():
            jy, jx = _nearest(fy[my], nby), _nearest(fx[mx], nbx)
            top = colorize_float(s_bb[jy[:, None], jx[None, :]])
            region = np.ix_(my, mx)
            rgb[region] = (1.0 - alpha) * rgb[region] + alpha * top
    return rgb_to_uint8(rgb)[::-1]


def _downsample(frame: np.ndarray, n: int) -> np.ndarray:
    """Square uint8 frame → n × n: box mean when the size divides, else nearest neighbour."""
    s = frame.shape[0]
    if s == n:
        return frame
    if s % n == 0:
        b = s // n
        mean = frame.reshape(n, b, n, b, 3).astype(np.float64).mean(axis=(1, 3))
        return np.clip(np.round(mean), 0, 255).astype(np.uint8)
    idx = np.minimum(((np.arange(n) + 0.5) * s / n).astype(np.intp), s - 1)
    return frame[idx[:, None], idx[None, :]]


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------
def write_zoom_video(
    path_mp4,
    keyframes: Iterable[Keyframe],
    frames_per_doubling: int = 45,
    fps: float = 30,
    size: int = 512,
    gif_path=None,
    gif_size: int = 128,
    gif_stride: int | None = None,
    *,
    crf: int = 18,
    doublings: int = 1,
) -> int:
    """Stream the zoom through ``keyframes`` to an H.264 MP4 (and optionally a GIF preview).

    Writes F·m·(K−1)+1 frames (F = ``frames_per_doubling``, K keyframes each 2^m times
    narrower than the one before, m = ``doublings``; K = 1 gives a single frame). ``size`` is
    rounded up to a multiple of 16 (H.264 macroblocks). The GIF holds every ``gif_stride``-th
    frame plus the last (default stride: fps/10, i.e. a ~10 fps preview playing at the video's
    speed) at ``gif_size`` px. Both files are written atomically.
    ``keyframes`` may be a lazy iterable (e.g. a generator loading .npz files); it is consumed
    once, holding two keyframes at a time. Returns the number of video frames written.
    """
    import imageio.v2 as iio2
    import imageio.v3 as iio3

    fpd = int(frames_per_doubling)
    if fpd < 1:
        raise ValueError(f"frames_per_doubling must be >= 1, got {frames_per_doubling}")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if int(size) < 1 or int(gif_size) < 1:
        raise ValueError(f"size and gif_size must be >= 1, got {size} and {gif_size}")
    size = 16 * math.ceil(int(size) / 16)
    gif_size = int(gif_size)
    stride = max(1, round(fps / 10)) if gif_stride is None else int(gif_stride)
    if stride < 1:
        raise ValueError(f"gif_stride must be >= 1, got {gif_stride}")

    it = iter(keyframes)
    try:
        prev = next(it)
    except StopIteration:
        raise ValueError("write_zoom_video needs at least one keyframe") from None
    prev_ref = RankReference.from_values(prev[0])
    prev_self = rank_stretch(prev[0], reference=prev_ref)

    with contextlib.ExitStack() as stack:
        tmp_mp4 = stack.enter_context(atomic_path(path_mp4))
        gif = None
        if gif_path is not None:
            tmp_gif = stack.enter_context(atomic_path(gif_path))
            gif = stack.enter_context(iio3.imopen(tmp_gif, "w", extension=".gif"))
        writer = iio2.get_writer(
            tmp_mp4,
            format="FFMPEG",
            mode="I",
            fps=fps,
            codec="libx264",
            pixelformat="yuv420p",
            quality=None,
            macro_block_size=16,
            ffmpeg_log_level="error",
            output_params=["-crf", str(int(crf)), "-preset", "medium"],
        )
        stack.callback(writer.close)  # runs before the atomic renames (LIFO)
        gif_ms = 1000.0 * stride / fps
        count = 0

        def emit(frame: np.ndarray, last: bool = False) -> None:
            nonlocal count
            writer.append_data(frame)
            if gif is not None and (count % stride == 0 or last):
                gif.write(_downsample(frame, gif_size), duration=gif_ms, loop=0)
            count += 1

        for cur in it:
            cur_ref = RankReference.from_values(cur[0])
            cur_self = rank_stretch(cur[0], reference=cur_ref)
            stretched = (prev_self, rank_stretch(prev[0], reference=cur_ref), cur_self)
            wa, wb = shifted([prev[1], cur[1]])
            frames = fpd * doublings
            for j in range(frames):
                emit(render_frame((prev[0], wa), (cur[0], wb), j / frames, size,
                                  stretched=stretched))  # fmt: skip
            prev, prev_ref, prev_self = cur, cur_ref, cur_self
        final = (prev_self, prev_self, prev_self)
        (last,) = shifted([prev[1]])
        emit(render_frame((prev[0], last), (prev[0], last), 0.0, size, stretched=final), last=True)
    return count


def save_keyframe_strip(path, keyframes: Sequence[Keyframe], widths_decades=None) -> None:
    """Keyframe heatmaps in rows of at most 8, each titled with its width, e.g. "2.4e-05 dec".

    ``widths_decades`` defaults to each window's x width (x_max − x_min). Written atomically.
    """
    keyframes = list(keyframes)
    if not keyframes:
        raise ValueError("save_keyframe_strip needs at least one keyframe")
    if widths_decades is None:
        widths_decades = [width(w[0], w[1]) for _, w in keyframes]
    widths = list(widths_decades)
    if len(widths) != len(keyframes):
        raise ValueError(f"{len(widths)} widths given for {len(keyframes)} keyframes")
    ncols = min(8, len(keyframes))
    nrows = math.ceil(len(keyframes) / 8)
    panels = [
        {
            "values": v,
            "window": w,
            "title": f"{float(d):.1e} dec",
            "xlabel": None,
            "ylabel": None,
            "ticks": False,
        }
        for (v, w), d in zip(keyframes, widths, strict=True)
    ]
    save_figure(panels_figure(panels, nrows, ncols, panel_inches=2.0, dpi=100), path)
