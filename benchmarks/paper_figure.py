"""Like for like with the paper's figure: the box-counting dimension read off the published
six-panel picture, beside the same reading of our own figure.

    python benchmarks/paper_figure.py PAPER_FIGURE.png [--ours results/figures/paper_conditions.png]

``PAPER_FIGURE.png`` is ``fractal_tiles_midres.png`` of the author's public repository
(Sohl-Dickstein/fractal; download it yourself, it is not shipped here). Each panel is a grid of
the paper's resolution drawn into a box of a few hundred pixels with matplotlib's ``Spectral``
map, the two phases on its two halves (docs/methods.md §2; `trainability.figures.heatmap`):
converged pixels at colour positions above 0.5 (green to dark blue), diverged below (yellow-orange
to dark red), the dark ends meeting at the boundary. So the labels can be recovered from the
colours: each pixel takes the position of the nearest of the map's 256 colours, and its label is
that position > 0.5. The panels are found as the six largest connected regions of map-coloured
pixels (titles and ticks are black, the page white), each cropped a few pixels inside its frame.

Our figure (``snakemake paper_conditions`` or the resolution study's) is read back the same
way, each panel resampled (nearest) to the paper's panel size, so both numbers come from the same
kind of image through the same estimator (`trainability.analysis.dimension.estimate_2d`): equal
networks and an equal estimator must give equal numbers here, whatever the grids' resolutions
were. Prints, per panel: the paper's stated dimension, ours read off its figure, ours read off
our figure, with 95 % intervals, and the converged share of each.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from matplotlib import colormaps
from scipy import ndimage

from trainability.analysis.dimension import estimate_2d

PANELS = (  # the paper's layout, row by row, with its stated dimensions
    ("identity, full batch", 1.17),
    ("ReLU, full batch", 1.20),
    ("tanh, dataset size 1", 1.41),
    ("tanh, minibatch 16", 1.55),
    ("tanh, full batch", 1.66),
    ("tanh, weight offset vs lr", 1.98),
)
INSET = 3  # pixels cropped inside each panel's frame (antialiased edges)
NEAR = 60.0  # RGB distance within which a pixel counts as a map colour (antialiased ones too)


def spectral_lut() -> np.ndarray:
    """The 256 colours of matplotlib's Spectral map as RGB in 0…255 (256 × 3)."""
    return colormaps["Spectral"](np.linspace(0, 1, 256))[:, :3] * 255.0


def positions(rgb: np.ndarray, lut: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's nearest map position in [0, 1] and its distance to that colour."""
    flat = rgb.reshape(-1, 3).astype(float)
    best = np.zeros(len(flat), int)
    dist = np.full(len(flat), np.inf)
    for k, colour in enumerate(lut):
        d = np.sqrt(((flat - colour) ** 2).sum(axis=1))
        closer = d < dist
        best[closer], dist[closer] = k, d[closer]
    shape = rgb.shape[:2]
    return (best / (len(lut) - 1)).reshape(shape), dist.reshape(shape)


def panels(image: np.ndarray, lut: np.ndarray, count: int = len(PANELS)) -> list[np.ndarray]:
    """The ``count`` largest map-coloured regions of a figure, row by row: each a 2-D array of
    map positions (row 0 at the top, as drawn)."""
    rgb = image[..., :3]
    position, dist = positions(rgb, lut)
    regions, n = ndimage.label(ndimage.binary_closing(dist < NEAR, iterations=2))
    sizes = ndimage.sum(np.ones_like(regions), regions, index=np.arange(1, n + 1))
    largest = np.argsort(sizes)[::-1][:count] + 1
    boxes = ndimage.find_objects(regions)
    found = [boxes[k - 1] for k in largest]
    height = np.median([b[0].stop - b[0].start for b in found])
    found.sort(key=lambda b: (round(b[0].start / height), b[1].start))
    return [
        position[b[0].start + INSET : b[0].stop - INSET, b[1].start + INSET : b[1].stop - INSET]
        for b in found
    ]


def resample(field: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resampling of a label image onto ``shape``."""
    rows = (np.arange(shape[0]) * field.shape[0] // shape[0]).clip(0, field.shape[0] - 1)
    cols = (np.arange(shape[1]) * field.shape[1] // shape[1]).clip(0, field.shape[1] - 1)
    return field[np.ix_(rows, cols)]


def dimension(converged: np.ndarray) -> str:
    """The paper's estimator on a label image (−1 converged, +1 diverged), as text."""
    est = estimate_2d([np.where(converged, -1.0, 1.0)])
    if est.refused:
        return est.refused
    low, high = est.median_ci
    return f"{est.median_local_slope:.2f} [{low:.2f}, {high:.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paper", type=Path, help="the paper's six-panel figure (PNG)")
    parser.add_argument("--ours", type=Path, default=Path("results/figures/paper_conditions.png"))
    args = parser.parse_args()
    lut = spectral_lut()
    theirs = [p > 0.5 for p in panels(iio.imread(args.paper), lut)]
    ours = [p > 0.5 for p in panels(iio.imread(args.ours), lut)] if args.ours.exists() else None
    print("| panel | paper's value | read off the paper's figure | read off ours | converged "
          "(paper's figure / ours) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for k, (name, stated) in enumerate(PANELS):
        mine = "no figure" if ours is None else dimension(resample(ours[k], theirs[k].shape))
        share = f"{theirs[k].mean():.2f}" + ("" if ours is None else f" / {ours[k].mean():.2f}")
        print(f"| {name} ({theirs[k].shape[1]}×{theirs[k].shape[0]} px) | {stated} | "
              f"{dimension(theirs[k])} | {mine} | {share} |")  # fmt: skip


if __name__ == "__main__":
    main()
