"""Result tables: per-condition dimension rows, and the study table as CSV and Markdown."""

from __future__ import annotations

import csv
import io as _io
import math

from trainability.dimension import estimate_2d
from trainability.io import atomic_path

DIMENSION_COLUMNS = (
    "condition",
    "median_local_slope",
    "fit_slope",
    "fit_ci_low",
    "fit_ci_high",
    "paper",
    "n_images",
    "resolution",
    "steps",
    "note",
)


def dimension_row(condition: str, grids, paper: float | None) -> dict:
    """Box-counting estimates over the grids of one condition (a zoom sequence or one image).

    A boundary that cannot be measured (one phase only, too few box sizes) gives NaN estimates
    and the reason in ``note`` rather than an error: a condition without a boundary is a result.
    """
    row = {
        "condition": condition,
        "paper": math.nan if paper is None else paper,
        "n_images": len(grids),
        "resolution": "x".join(str(n) for n in grids[0].values.shape[::-1]),
        "steps": grids[0].meta["steps"],
        "note": "",
    }
    try:
        est = estimate_2d([g.values for g in grids])
        row.update(
            median_local_slope=est.median_local_slope,
            fit_slope=est.fit_slope,
            fit_ci_low=est.fit_ci[0],
            fit_ci_high=est.fit_ci[1],
        )
    except ValueError as err:
        row.update(
            median_local_slope=math.nan,
            fit_slope=math.nan,
            fit_ci_low=math.nan,
            fit_ci_high=math.nan,
            note=str(err),
        )
    return row


def write_csv(path, rows, columns=DIMENSION_COLUMNS) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _fmt(row.get(k, "")) for k in columns})


def read_csv(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def markdown(rows, columns=DIMENSION_COLUMNS) -> str:
    """A GitHub-flavoured Markdown table of ``rows``."""
    out = _io.StringIO()
    out.write("| " + " | ".join(columns) + " |\n")
    out.write("|" + "|".join("---" for _ in columns) + "|\n")
    for row in rows:
        out.write("| " + " | ".join(_fmt(row.get(k, "")) for k in columns) + " |\n")
    return out.getvalue()


def _fmt(value) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value)
