"""Snakemake adapter of rule zoom_video: the zoom as MP4 and a small GIF preview."""

import sys

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.core.grid import load_grid
from trainability.figures.video import write_zoom_video

zoom = sm.params.zoom


def keyframes():
    """Loaded lazily: the writer holds two keyframes at a time."""
    for path in sm.input:
        grid = load_grid(path)
        yield grid.values, grid.bounds


frames = write_zoom_video(
    sm.output.mp4,
    keyframes(),
    frames_per_doubling=zoom["frames_per_doubling"],
    fps=zoom["fps"],
    size=zoom["video_size"],
    gif_path=sm.output.gif,
    gif_size=zoom["gif_size"],
    doublings=zoom["doublings"],
)
print(f"{frames} frames", file=sys.stderr)
