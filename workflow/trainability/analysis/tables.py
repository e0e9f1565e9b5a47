"""Result tables: per-condition dimension rows, and the study table as CSV and Markdown.

A dimension row carries every estimate at full precision (machine-readable columns) and, for
reading, the two estimates rounded to the digits their intervals support (:func:`format_estimate`)
or the reason they were refused ("not enough scales", "no boundary"), beside the paper's value.

Every CSV table of the study is written by `write_table` and read by `read_table` (pandas): a
table read back is a DataFrame whose every cell is the string written, blank when missing.
"""

from __future__ import annotations

import io as _io
import math
from collections.abc import Iterable, Mapping

import pandas as pd

from trainability.analysis.dimension import estimate_2d
from trainability.analysis.extrapolation import extrapolate
from trainability.core.atomic import atomic_path
from trainability.core.grid import phase_field

DIMENSION_COLUMNS = (
    "condition",
    "dimension",  # the paper's estimator, rounded, with its interval; or why it was refused
    "paper",  # the paper's published value (blank if the paper has none)
    "fit",  # the least-squares fit, rounded, with its interval; or why it was refused
    "median_local_slope",
    "median_ci_low",
    "median_ci_high",
    "fit_slope",
    "fit_ci_low",
    "fit_ci_high",
    "fit_range",
    "confidence",
    "n_images",
    "images_used",
    "resolution",
    "steps",
    "refused",
    "note",
)
MARKDOWN_COLUMNS = (
    "condition",
    "dimension",
    "paper",
    "fit",
    "images_used",
    "resolution",
    "steps",
    "note",
)
MARKDOWN_HEADERS = {
    "dimension": "D, ours (95 % interval)",
    "paper": "D, paper",
    "fit": "least-squares fit (95 % interval)",
    "images_used": "images measured",
}
MAX_DECIMALS = 3


def supported_decimals(estimate, low, high, max_decimals: int = MAX_DECIMALS) -> int | None:
    """Decimals of ``estimate`` that its interval ``[low, high]`` supports.

    With ``h = max(estimate - low, high - estimate)`` the interval is (at most) ``2h`` wide.
    The last digit shown is the one in which that width counts between 1 and 10 units:
    ``d = ceil(-log10(2h))``, i.e. 2 decimals for ``0.01 <= 2h < 0.1`` (``h < 0.05``), 1 for
    ``0.1 <= 2h < 1`` (``h < 0.5``); capped at ``max_decimals`` (also for ``h = 0``).  A width
    a rounding error below a power of ten (0.00999...) counts as that power.  None when
    ``2h >= 1`` (a dimension between 0 and 2 known to worse than +-0.5 has no digit to show)
    or when a value is missing or not finite.
    """
    values = (estimate, low, high)
    if any(v is None or not math.isfinite(v) for v in values):
        return None
    width = 2 * max(estimate - low, high - estimate)
    if width >= 1:
        return None
    if width <= 10.0**-max_decimals:
        return max_decimals
    return min(max_decimals, math.ceil(-math.log10(width) - 1e-9))  # 1e-9: 0.01 is 0.00999...


def format_estimate(estimate, interval) -> str:
    """``"1.48 [1.44, 1.51]"``: estimate and interval to :func:`supported_decimals`.

    ``"undetermined [0.3, 2.1]"`` when the interval supports no digit; ``"1.48 (no
    interval)"`` without an interval; ``""`` without an estimate.  Rounding is monotone, so
    the printed interval still contains the printed estimate.
    """
    if estimate is None or not math.isfinite(estimate):
        return ""
    if interval is None:
        return f"{estimate:.2f} (no interval)"
    low, high = interval
    d = supported_decimals(estimate, low, high)
    if d is None:
        return f"undetermined [{low:.1f}, {high:.1f}]"
    return f"{estimate:.{d}f} [{low:.{d}f}, {high:.{d}f}]"


def refusal_headline(reason: str | None) -> str:
    """The refusal's headline ("not enough scales", "no boundary") without its explanation."""
    return "" if reason is None else reason.split(":", 1)[0]


def dimension_row(condition: str, grids, paper: float | None) -> dict:
    """Box-counting estimates over the grids of one condition (a zoom sequence or one image).

    A boundary that cannot be measured (one phase only, images too small for a decade of box
    sizes) gives blank estimates, its reason in ``dimension``/``fit`` and ``refused``, and the
    full explanation in ``note``: a condition without a measurable boundary is a result.

    Box counting pools images of one size: when a condition's grids differ in size (a 128²
    panel and 32² keyframes), only the largest are measured — the smaller ones have fewer box
    sizes, and every one the largest images lack — and the note says how many were left out.
    """
    side = max(min(g.values.shape) for g in grids)
    measured = [g for g in grids if min(g.values.shape) == side]
    shapes = {g.values.shape for g in measured}
    if len(shapes) > 1:
        raise ValueError(f"{condition}: grids of shapes {sorted(shapes)} cannot be pooled")
    est = estimate_2d([phase_field(g) for g in measured])
    notes = [est.refused or est.fit_refused or ""]
    if len(measured) < len(grids):
        notes.append(f"{len(grids) - len(measured)} smaller images left out")
    unused = est.n_images - len(est.images_used)
    if unused and not est.refused:
        notes.append(f"{unused} of {est.n_images} images contribute nothing (too few scales)")
    median_ci = est.median_ci or (None, None)
    fit_ci = est.fit_ci or (None, None)
    return {
        "condition": condition,
        "dimension": refusal_headline(est.refused)
        or format_estimate(est.median_local_slope, est.median_ci),
        "paper": paper,
        "fit": refusal_headline(est.fit_refused) or format_estimate(est.fit_slope, est.fit_ci),
        "median_local_slope": est.median_local_slope,
        "median_ci_low": median_ci[0],
        "median_ci_high": median_ci[1],
        "fit_slope": est.fit_slope,
        "fit_ci_low": fit_ci[0],
        "fit_ci_high": fit_ci[1],
        "fit_range": f"{est.fit_range[0]}-{est.fit_range[-1]}" if est.fit_range else "",
        "confidence": est.confidence,
        "n_images": est.n_images,
        "images_used": len(est.images_used),
        "resolution": "x".join(str(n) for n in measured[0].values.shape[::-1]),
        "steps": measured[0].meta["steps"],
        "refused": refusal_headline(est.refused),
        "note": "; ".join(n for n in notes if n),
    }


Rows = pd.DataFrame | Iterable[Mapping]


def write_table(path, rows: Rows, columns=DIMENSION_COLUMNS) -> None:
    """Rows (dicts, or a DataFrame) as CSV, atomically: numbers at full precision (``repr``),
    missing values (None, NaN, absent keys) blank."""
    cells = [{k: _cell(row.get(k, "")) for k in columns} for row in _records(rows)]
    frame = pd.DataFrame(cells, columns=list(columns), dtype=str)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def read_table(path) -> pd.DataFrame:
    """A CSV table as written by `write_table`: every cell the string it holds, ``""`` if blank."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _records(rows: Rows) -> list[Mapping]:
    return rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)


def markdown(rows, columns=MARKDOWN_COLUMNS, headers=MARKDOWN_HEADERS) -> str:
    """A GitHub-flavoured Markdown table of ``rows`` (dicts or a DataFrame; column titles from
    ``headers``)."""
    out = _io.StringIO()
    out.write("| " + " | ".join(headers.get(k, k) for k in columns) + " |\n")
    out.write("|" + "|".join("---" for _ in columns) + "|\n")
    for row in _records(rows):
        cells = (_cell(row.get(k, "")).replace("|", "\\|") for k in columns)
        out.write("| " + " | ".join(cells) + " |\n")
    return out.getvalue()


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(float(value))
    return str(value)


VERDICTS = ("agrees", "lower", "higher", "uninformative")
# every box-counting dimension a curve that parts two regions of the plane can have
BOUNDARY_DIMENSIONS = (1.0, 2.0)


def verdict(interval, paper_value) -> str:
    """How our interval stands to the paper's value: ``"uninformative"`` when it holds all of
    `BOUNDARY_DIMENSIONS` (it could not disagree with any value a boundary can take: saying
    "agrees" would claim what it cannot measure); else ``"agrees"`` when the value lies inside
    ``[low, high]`` (ends included), ``"lower"`` when the whole interval lies below it,
    ``"higher"`` when above.  Raises ValueError for a missing or non-finite bound or value, or
    an interval whose low end exceeds its high end."""
    if interval is None:
        raise ValueError("no interval to compare with the paper's value (a refused estimate).")
    low, high = interval
    values = (low, high, paper_value)
    if any(v is None or not math.isfinite(v) for v in values):
        raise ValueError(f"interval {interval!r} and paper value {paper_value!r} must be finite.")
    if low > high:
        raise ValueError(f"interval [{low}, {high}] has its low end above its high end.")
    if low <= BOUNDARY_DIMENSIONS[0] and high >= BOUNDARY_DIMENSIONS[1]:
        return "uninformative"
    if paper_value < low:
        return "higher"
    if paper_value > high:
        return "lower"
    return "agrees"


SUMMARY_COLUMNS = (
    "condition", "title", "paper", "largest", "raw", "raw_ci_low", "raw_ci_high", "raw_verdict",
    "extrapolated", "extrapolated_ci_low", "extrapolated_ci_high", "verdict", "refused",
)  # fmt: skip


def resolution_summary(rows: Iterable[Mapping]) -> list[dict]:
    """One row per condition from the resolution study's rows (`dimension_row` per grid): the
    estimate at the largest resolution that measured one, with its interval and `verdict`
    against the paper's value; the extrapolation to infinite resolution over every measured
    resolution (`trainability.analysis.extrapolation`), its interval and verdict, or why it is
    refused. A verdict is blank where there is no interval or no paper value: it follows from
    the numbers beside it and from nothing else."""
    by_condition: dict[str, list[Mapping]] = {}
    for row in rows:
        by_condition.setdefault(row["condition"], []).append(row)
    out = []
    for name, mine in by_condition.items():
        paper = _float(mine[0].get("paper"))
        sides = [int(str(r["resolution"]).split("x")[0]) for r in mine]
        estimates = [_float(r["median_local_slope"]) for r in mine]
        intervals = [_interval(r) for r in mine]
        measured = [k for k, e in enumerate(estimates) if e is not None]
        row = {"condition": name, "title": mine[0].get("title", name), "paper": paper}
        if measured:
            k = max(measured, key=lambda i: sides[i])
            low, high = intervals[k] or (None, None)
            row.update(largest=sides[k], raw=estimates[k], raw_ci_low=low, raw_ci_high=high,
                       raw_verdict=_verdict(intervals[k], paper))  # fmt: skip
        fit = extrapolate(sides, estimates, intervals)
        if fit.refused:
            row["refused"] = fit.refused
        else:
            row.update(extrapolated=fit.extrapolated, extrapolated_ci_low=fit.interval[0],
                       extrapolated_ci_high=fit.interval[1],
                       verdict=_verdict(fit.interval, paper))  # fmt: skip
        out.append(row)
    return out


def _float(value) -> float | None:
    """A cell as a float, None where it holds no number."""
    if value is None or value == "":
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _interval(row: Mapping) -> tuple[float, float] | None:
    """A row's (median_ci_low, median_ci_high), None where either is missing."""
    low, high = _float(row.get("median_ci_low")), _float(row.get("median_ci_high"))
    return None if low is None or high is None else (low, high)


def _verdict(interval, paper) -> str | None:
    return None if paper is None or interval is None else verdict(interval, paper)
