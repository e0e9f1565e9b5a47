"""HTML pieces of the report: escaping, anchors, number formatting and tables.

All text from files or config goes through `esc` before it reaches the page.
"""

from __future__ import annotations

import html
import math
import numbers
import re

import pandas as pd


def esc(value) -> str:
    """``value`` as HTML text, quotes escaped too (safe inside attribute values)."""
    return html.escape(str(value), quote=True)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def _number(value) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def fmt(value, digits: int = 3) -> str:
    """A CSV cell for display: numbers to ``digits`` significant figures, blanks/NaN as ``—``."""
    if (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or (isinstance(value, str) and value.strip() in ("", "nan", "NaN"))
    ):
        return "—"
    x = _number(value)
    if x is None:
        return str(value)
    if isinstance(value, numbers.Integral):  # a count or a size: every digit
        return str(int(value))
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return value.strip()
    return f"{x:.{digits}g}"


def html_table(frame: pd.DataFrame, *, table_id: str | None = None, max_rows: int | None = None):
    """An HTML table of ``frame`` with numeric cells formatted and right-aligned."""
    shown = frame if max_rows is None else frame.iloc[:max_rows]
    out = [f'<table id="{esc(table_id)}">' if table_id else "<table>", "<thead><tr>"]
    out += [f"<th>{esc(c)}</th>" for c in frame.columns]
    out.append("</tr></thead><tbody>")
    for row in shown.itertuples(index=False):
        cells = []
        for value in row:
            cls = ' class="num"' if _number(value) is not None else ""
            cells.append(f"<td{cls}>{esc(fmt(value))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    if len(shown) < len(frame):
        out.append(f'<p class="note">First {len(shown)} of {len(frame)} rows.</p>')
    return "".join(out)


def cite(ref: tuple[str, str | None]) -> str:
    """A reference (text, url or None) as a link, or as text."""
    text, url = ref
    return f'<a href="{esc(url)}">{esc(text)}</a>' if url else esc(text)
