"""The study's final report: one self-contained HTML file assembled from the results folder.

`build_report(results_dir, config, out_path)` reads what the workflow wrote (the README's "What
lands where") and writes ``report.html``: title and abstract, methods (the validated config, the
engine, seeds and versions recorded in each grid's metadata), one section per condition of the
paper (overview heatmap, zoom keyframes, zoom video, box-counting dimension beside the paper's
value), the six-panel figure, the follow-up report's and Liu's figures when present, every table
of ``results/tables``, and provenance (git commit, config hash, package versions, machine, run
time per rule summed from Snakemake's benchmark files).

Self-contained: images are inlined as base64 PNG ``data:`` URIs and videos as base64 ``data:``
URIs inside ``<video>``; a Content-Security-Policy meta tag forbids every other source, so the
page loads nothing from the network and runs no script. Each zoom video is offered twice: a VP9
WebM (transcoded here with imageio-ffmpeg's bundled ffmpeg, when it has libvpx-vp9) first, and
the workflow's H.264 MP4 second. H.264 is patent-encumbered, so Chromium builds without the
proprietary codecs (Playwright's own Chromium, some distribution packages) and Firefox without
a system H.264 decoder cannot play it, while every current browser decodes VP9; browsers without
WebM (old Safari) fall back to the MP4.

All text from files or config is HTML-escaped. The file is written atomically.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import hashlib
import html
import importlib.metadata
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from trainability.io import atomic_path

SD_PAPER = (
    "J. Sohl-Dickstein, The boundary of neural network trainability is fractal (2024)",
    "https://arxiv.org/abs/2402.06184",
)
ASU_REPORT = (
    "O. Vengurlekar, S. Patne, A. Sawant, Fractal Dynamics in Neural Network Boundaries "
    "(ASU EEE560 course report, 2024)",
    None,
)
LIU_PAPER = (
    "Y. Liu, Complex fractal trainability boundary can arise from trivial non-convexity (2024)",
    "https://arxiv.org/abs/2406.13971",
)

PACKAGES = ("trainability", "jax", "numpy", "snakemake", "matplotlib")

# The follow-up report's figures, in the order the report discusses them.
FOLLOWUP_FIGURES = {
    "activations": "Activation functions: one trainability heatmap per activation.",
    "architectures": "Width × depth: one heatmap per architecture.",
    "perturbations": "Weight perturbations: heatmaps for increasing perturbation ε.",
    "lyapunov": (
        "Lyapunov exponents per pixel: the twin-trajectory estimate and the maximal exponent "
        "(Benettin); the black line is the trainability boundary."
    ),
}

# Rows of a CSV table shown in the report (the CSV itself keeps them all).
MAX_TABLE_ROWS = 300

CSP = (
    "default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       line-height: 1.45; color: #222; }
h1 { font-size: 1.7em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
img, video { max-width: 100%; height: auto; }
video { width: 100%; max-width: 540px; image-rendering: pixelated; background: #000; }
figure { margin: 1em 0; } figcaption { font-size: .9em; color: #555; }
table { border-collapse: collapse; font-size: .88em; margin: .6em 0; }
th, td { border: 1px solid #ccc; padding: .2em .5em; text-align: left; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, monospace; font-size: .88em; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; }
.missing { color: #a33; } nav ol { columns: 2; } .note { color: #555; font-size: .9em; }
.row { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
.row > figure, .row > div { flex: 1 1 400px; max-width: 540px; margin: .5em 0; }
section.condition { border-top: 1px dashed #ddd; margin-top: 1.5em; }
"""


# --------------------------------------------------------------------------- small pieces


def esc(value) -> str:
    """``value`` as HTML text, quotes escaped too (safe inside attribute values)."""
    return html.escape(str(value), quote=True)


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


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
    if value is None or (isinstance(value, str) and value.strip() in ("", "nan", "NaN")):
        return "—"
    x = _number(value)
    if x is None:
        return str(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return value.strip()
    return f"{x:.{digits}g}"


def read_csv(path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def html_table(columns, rows, *, table_id: str | None = None, max_rows: int | None = None) -> str:
    """An HTML table of ``rows`` (dicts) with numeric cells formatted and right-aligned."""
    shown = rows if max_rows is None else rows[:max_rows]
    out = [f'<table id="{esc(table_id)}">' if table_id else "<table>", "<thead><tr>"]
    out += [f"<th>{esc(c)}</th>" for c in columns]
    out.append("</tr></thead><tbody>")
    for row in shown:
        cells = []
        for c in columns:
            value = row.get(c, "")
            cls = ' class="num"' if _number(value) is not None else ""
            cells.append(f"<td{cls}>{esc(fmt(value))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    if len(shown) < len(rows):
        out.append(f'<p class="note">First {len(shown)} of {len(rows)} rows.</p>')
    return "".join(out)


def figure(path: Path, alt: str, caption: str = "") -> str:
    """A ``<figure>`` with the PNG at ``path`` inlined (empty string if the file is missing)."""
    if not path.is_file():
        return ""
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    src = data_uri(path.read_bytes(), "image/png")
    return f'<figure><img src="{src}" alt="{esc(alt)}">{cap}</figure>'


def _ffmpeg() -> str | None:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001  (no ffmpeg: the MP4 alone is embedded)
        return None


def webm_from_mp4(mp4: Path, crf: int = 32) -> bytes | None:
    """The video at ``mp4`` transcoded to VP9 WebM, or None if ffmpeg or libvpx-vp9 is missing.

    Written to a temporary file (not a pipe) so the WebM has its duration and cues.
    """
    exe = _ffmpeg()
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "video.webm"
        cmd = [
            exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(mp4),
            "-an", "-c:v", "libvpx-vp9", "-b:v", "0", "-crf", str(crf), "-row-mt", "1",
            "-deadline", "good", "-cpu-used", "4", "-pix_fmt", "yuv420p", str(out),
        ]  # fmt: skip
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as err:
            detail = getattr(err, "stderr", b"") or b""
            print(f"report: no WebM for {mp4}: {err} {detail.decode()[-300:]}", file=sys.stderr)
            return None
        return out.read_bytes() if out.is_file() and out.stat().st_size else None


def video(mp4: Path, label: str, *, webm: bool = True) -> str:
    """A ``<video>`` playing the zoom: VP9 WebM source first (if made), the MP4 second."""
    if not mp4.is_file():
        return ""
    sources = []
    if webm and (data := webm_from_mp4(mp4)) is not None:
        sources.append(f'<source src="{data_uri(data, "video/webm")}" type="video/webm">')
    sources.append(f'<source src="{data_uri(mp4.read_bytes(), "video/mp4")}" type="video/mp4">')
    return (
        f'<figure><video controls loop muted autoplay playsinline aria-label="{esc(label)}">'
        + "".join(sources)
        + "Your browser cannot play this video.</video>"
        + f"<figcaption>{esc(label)}</figcaption></figure>"
    )


# --------------------------------------------------------------------------- provenance


def config_hash(config: dict) -> str:
    """sha256 of the validated config as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def git_commit(repo_dir) -> str:
    """``git rev-parse HEAD`` in ``repo_dir`` (plus ``-dirty`` if tracked files changed), or
    ``unknown`` without git or outside a repository. Takes no lock on the index."""
    if repo_dir is None:
        return "unknown"
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(repo_dir), *args],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", head.stdout.strip()):
            return "unknown"
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = head.stdout.strip()
    return commit + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def package_versions(packages=PACKAGES) -> dict[str, str]:
    versions = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def machine() -> dict[str, str]:
    return {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_count": str(os.cpu_count()),
        "python": platform.python_version(),
    }


def provenance(config: dict, repo_dir=None) -> dict:
    """Everything the provenance section prints, as plain strings."""
    return {
        "git_commit": git_commit(repo_dir),
        "config_sha256": config_hash(config),
        "versions": package_versions(),
        "machine": machine(),
        "generated": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


# --------------------------------------------------------------------------- benchmarks


@dataclass(frozen=True)
class RuleTime:
    """Summed benchmark of one rule: jobs, total and longest wall seconds, peak RSS (MB)."""

    rule: str
    jobs: int
    seconds: float
    max_seconds: float
    max_rss_mb: float | None


def _pattern_parts(pattern: str) -> list[tuple[str, str | None]]:
    """A Snakemake path pattern as (literal text, wildcard) pairs: the wildcard is None after
    the last literal, ``""`` for ``{w}`` and the regex for ``{w,regex}`` (Snakemake inlines the
    wildcard constraints this way; the regex may hold braces)."""
    parts, literal, i = [], [], 0
    while i < len(pattern):
        if pattern[i] != "{":
            literal.append(pattern[i])
            i += 1
            continue
        depth, j = 1, i + 1
        while j < len(pattern) and depth:
            depth += {"{": 1, "}": -1}.get(pattern[j], 0)
            j += 1
        _, _, constraint = pattern[i + 1 : j - 1].partition(",")
        parts.append(("".join(literal), constraint.strip()))
        literal, i = [], j
    parts.append(("".join(literal), None))
    return parts


def _pattern_regex(pattern: str) -> re.Pattern:
    """The regex a benchmark path must match whole: ``{w}`` matches anything non-empty."""
    out = []
    for literal, wildcard in _pattern_parts(pattern):
        out.append(re.escape(literal))
        if wildcard is not None:
            out.append(f"(?:{wildcard})" if wildcard else ".+?")
    return re.compile("".join(out))


def _literal_length(pattern: str) -> int:
    return sum(len(literal) for literal, _ in _pattern_parts(pattern))


def _fallback_rule(rel: str) -> str:
    """Name for a benchmark file no pattern matches: its stem without trailing indices."""
    return re.sub(r"(_\d+)+$", "", Path(rel).stem) or Path(rel).stem


def read_benchmark(path) -> list[dict]:
    """Rows of a Snakemake benchmark file (tab-separated, header ``s h:m:s max_rss ...``)."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def benchmark_times(bench_dir, patterns: dict[str, str] | None = None) -> list[RuleTime]:
    """Per-rule run times summed over ``bench_dir/**/*.tsv``, longest total first.

    ``patterns`` maps rule name → benchmark path pattern relative to ``bench_dir`` (e.g.
    ``{condition}/dimension.tsv``); a file is credited to the first rule whose pattern matches it
    whole, most literal characters first. Unmatched files are grouped by their stem without
    trailing ``_i_j`` indices. A file with several rows (``repeat()``) counts its mean time.
    """
    bench_dir = Path(bench_dir)
    ordered = sorted(
        (patterns or {}).items(),
        key=lambda kv: -_literal_length(kv[1]),
    )
    compiled = [(rule, _pattern_regex(pat)) for rule, pat in ordered]
    totals: dict[str, list] = {}
    for path in sorted(bench_dir.rglob("*.tsv")) if bench_dir.is_dir() else []:
        rel = path.relative_to(bench_dir).as_posix()
        try:
            rows = read_benchmark(path)
        except (OSError, csv.Error, UnicodeDecodeError):
            continue
        seconds = [x for r in rows if (x := _number(r.get("s"))) is not None]
        if not seconds:
            continue
        rss = [x for r in rows if (x := _number(r.get("max_rss"))) is not None]
        rule = next((name for name, rx in compiled if rx.fullmatch(rel)), None)
        rule = rule or _fallback_rule(rel)
        t = sum(seconds) / len(seconds)
        entry = totals.setdefault(rule, [0, 0.0, 0.0, None])
        entry[0] += 1
        entry[1] += t
        entry[2] = max(entry[2], t)
        if rss:
            entry[3] = max(rss) if entry[3] is None else max(entry[3], max(rss))
    times = [RuleTime(rule, *values) for rule, values in totals.items()]
    return sorted(times, key=lambda r: (-r.seconds, r.rule))


def _hms(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


# --------------------------------------------------------------------------- sections


def _grid_meta(path: Path) -> dict | None:
    """The JSON metadata of a grid ``.npz`` (None if absent or unreadable)."""
    if not path.is_file():
        return None
    try:
        import numpy as np

        with np.load(path, allow_pickle=False) as data:
            return json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError):
        return None


def _conditions(config: dict) -> dict[str, str]:
    """Paper conditions of the study in config order: name → title (seed ensembles have their
    own section, `trainability.report_seeds`)."""
    return {
        name: str((entry or {}).get("title", name))
        for name, entry in (config.get("conditions") or {}).items()
        if "seeds" not in (entry or {}) and "seeds" not in (config.get("defaults") or {})
    }


def _dimension_html(path: Path) -> str:
    if not path.is_file():
        return '<p class="missing">No dimension estimate (dimension.csv missing).</p>'
    _, rows = read_csv(path)
    if not rows:
        return '<p class="missing">dimension.csv is empty.</p>'
    row = rows[0]
    out = [
        '<table class="dimension"><thead><tr><th>estimate</th>'
        "<th>value [95 % interval]</th></tr></thead><tbody>",
        "<tr><td>median local slope (the paper's estimator)</td>"
        f'<td class="num">{esc(row.get("dimension") or "")}</td></tr>',
        f'<tr><td>least-squares fit</td><td class="num">{esc(row.get("fit") or "")}</td></tr>',
        f'<tr><td>paper (Sohl-Dickstein 2024)</td><td class="num">{esc(fmt(row.get("paper")))}'
        "</td></tr></tbody></table>",
        f'<p class="note">Box counting over {esc(row.get("images_used", "?"))} of '
        f"{esc(row.get('n_images', '?'))} image(s) ({esc(row.get('resolution', '?'))} pixels), "
        f"{esc(row.get('steps', '?'))} training steps. Intervals and rounding: "
        "docs/dimension.md.</p>",
    ]
    if (row.get("note") or "").strip():
        out.append(f'<p class="note">Note: {esc(row["note"])}</p>')
    return "".join(out)


def _settings_line(meta: dict | None) -> str:
    if not meta:
        return ""
    cond = meta.get("condition", {})
    w = meta.get("window", {})
    items = [
        ("activation", cond.get("activation")),
        ("width", cond.get("width")),
        ("depth", cond.get("depth")),
        ("steps", meta.get("steps")),
        ("batch size", cond.get("batch_size") or "full"),
        ("dataset size", cond.get("dataset_size") or "default"),
        ("phase space", cond.get("phase_space")),
        ("seed", meta.get("seed")),
        ("engine", meta.get("engine")),
        ("dtype", meta.get("dtype")),
        (
            "window (log10)",
            f"x [{w.get('x_min')}, {w.get('x_max')}], y [{w.get('y_min')}, {w.get('y_max')}]",
        ),
        ("pixels", f"{w.get('nx')}×{w.get('ny')}"),
    ]
    body = "; ".join(f"{esc(k)}: <code>{esc(v)}</code>" for k, v in items if v is not None)
    return f'<p class="settings">{body}</p>'


def _condition_section(results: Path, name: str, title: str, *, webm: bool) -> str:
    base = results / name
    meta = _grid_meta(base / "overview.npz")
    overview = figure(
        base / "overview.png",
        f"{title}: trainability over the hyperparameter window",
        "Overview: blue-green pixels converged, red-yellow diverged (rank colour stretch).",
    )
    panel = figure(
        base / "panel.png",
        f"{title}: the paper's published window",
        "Panel: the window the paper shows for this condition, at the same steps.",
    )
    parts = [
        f'<section class="condition" id="condition-{esc(slug(name))}">',
        f"<h3>{esc(title)} <code>{esc(name)}</code></h3>",
        _settings_line(meta),
        '<div class="row">',
        overview or '<p class="missing">No overview heatmap.</p>',
        panel,
        "<div><h4>Box-counting dimension</h4>",
        _dimension_html(base / "dimension.csv"),
        "</div></div>",
    ]
    strip = figure(
        base / "zoom_keyframes.png",
        f"{title}: zoom keyframes",
        "Zoom keyframes, each 2× narrower than the last, titled with its width in decades.",
    )
    along = figure(
        base / "zoom_dimension.png",
        f"{title}: dimension along the zoom",
        "Box-counting dimension of each keyframe against its depth.",
    )
    clip = video(base / "zoom.mp4", f"{title}: zoom into the boundary", webm=webm)
    if strip or along or clip:
        parts += ["<h4>Zoom into the boundary</h4>", strip]
        parts += ['<div class="row">', clip, along, "</div>"] if clip or along else []
    parts.append("</section>")
    return "".join(parts)


def _methods(config: dict, results: Path, conditions: dict[str, str]) -> str:
    rows = []
    metas = {}
    for name in conditions:
        meta = _grid_meta(results / name / "overview.npz")
        metas[name] = meta
        if meta is None:
            rows.append({"condition": name, "note": "overview.npz missing"})
            continue
        cond, w = meta.get("condition", {}), meta.get("window", {})
        rows.append(
            {
                "condition": name,
                "activation": cond.get("activation"),
                "width": cond.get("width"),
                "depth": cond.get("depth"),
                "steps": meta.get("steps"),
                "batch size": cond.get("batch_size") or "full",
                "dataset size": cond.get("dataset_size") or "default",
                "phase space": cond.get("phase_space"),
                "window (log10)": f"[{w.get('x_min')}, {w.get('x_max')}] × "
                f"[{w.get('y_min')}, {w.get('y_max')}]",
                "pixels": f"{w.get('nx')}×{w.get('ny')}",
                "seed": meta.get("seed"),
                "engine": meta.get("engine"),
                "dtype": meta.get("dtype"),
            }
        )
    columns = [
        "condition", "activation", "width", "depth", "steps", "batch size", "dataset size",
        "phase space", "window (log10)", "pixels", "seed", "engine", "dtype",
    ]  # fmt: skip
    if any("note" in r for r in rows):
        columns.append("note")
    engine = config.get("engine", {})
    seeds = sorted({str(m.get("seed")) for m in metas.values() if m})
    versions = next((m.get("versions") for m in metas.values() if m and m.get("versions")), {})
    out = [
        '<section id="methods"><h2>Methods</h2>',
        "<p>Each pixel of a 2-D grid of hyperparameters (log10 axes) trains one mean-field MLP, "
        "ŷ = (1/n)·φ(X·W0/√n)·W1, by full-batch or minibatch gradient descent from the same "
        "initialisation; the pixel is coloured by whether the loss converged or diverged and how "
        "fast (Sohl-Dickstein 2024, rank colour stretch). The trainability boundary's fractal "
        "dimension is estimated by box counting over the panel and zoom keyframes (or the "
        "overview when a condition has neither) that span at least a decade of box sizes: the "
        "paper's estimator is the median of the local slopes; a least-squares fit is given beside "
        "it; each with a 95 % interval from moving the box grid and resampling keyframes, "
        "rounded to the digits it supports. Grids are cut into "
        "tiles computed as independent jobs and merged bit-identically.</p>",
        f"<p>Engine: <code>{esc(engine.get('name', '?'))}</code>, dtype "
        f"<code>{esc(engine.get('dtype', '?'))}</code>. Seeds recorded in the grids: "
        f"<code>{esc(', '.join(seeds) or '?')}</code> (weights and data from PRNGKey(seed)). "
        "Library versions recorded in the grids: "
        + (", ".join(f"{esc(k)} {esc(v)}" for k, v in sorted(versions.items())) or "?")
        + ".</p>",
        "<h3>Conditions as computed (from each overview grid's metadata)</h3>",
        html_table(columns, rows, table_id="methods-conditions"),
        "<details><summary>The full validated configuration (JSON)</summary><pre>"
        + esc(json.dumps(config, indent=2, sort_keys=True, default=str))
        + "</pre></details>",
        "</section>",
    ]
    return "".join(out)


def _tables_section(results: Path) -> tuple[str, list[str]]:
    tables = sorted((results / "tables").glob("*.csv"))
    if not tables:
        return "", []
    out = ['<section id="tables"><h2>Tables</h2>']
    names = []
    for path in tables:
        try:
            columns, rows = read_csv(path)
        except (OSError, csv.Error, UnicodeDecodeError) as err:
            out.append(f'<p class="missing">{esc(path.name)}: unreadable ({esc(err)})</p>')
            continue
        names.append(path.stem)
        out.append(f"<h3>{esc(path.stem.replace('_', ' '))} <code>tables/{esc(path.name)}</code>")
        out.append("</h3>")
        out.append(html_table(columns, rows, table_id=f"table-{slug(path.stem)}", max_rows=None))
    out.append("</section>")
    return "".join(out), names


def _followup_section(results: Path, tables: list[str]) -> str:
    figures_dir = results / "figures"
    parts = []
    for name, caption in FOLLOWUP_FIGURES.items():
        fig = figure(figures_dir / f"{name}.png", f"follow-up: {name}", caption)
        if not fig:
            continue
        parts.append(f'<h3 id="followup-{esc(slug(name))}">{esc(name.capitalize())}</h3>{fig}')
        if name in tables:
            parts.append(
                f'<p class="note">Table: <a href="#table-{esc(slug(name))}">{esc(name)}</a>.</p>'
            )
    known = {"paper_conditions", "overviews", "seeds", *FOLLOWUP_FIGURES}
    others = [p for p in sorted(figures_dir.glob("*.png")) if p.stem not in known]
    for path in others:
        parts.append(f"<h3>{esc(path.stem.replace('_', ' '))}</h3>")
        parts.append(figure(path, path.stem, f"figures/{path.name}"))
    if not parts:
        return ""
    return (
        '<section id="followup"><h2>The follow-up report (ASU): activations, architectures, '
        "perturbations, Lyapunov exponents</h2>"
        f"<p>{_cite(ASU_REPORT)}</p>" + "".join(parts) + "</section>"
    )


def _toys_section(results: Path) -> str:
    pngs = sorted((results / "toys").glob("*.png"))
    if not pngs:
        return ""
    parts = [
        '<section id="toys"><h2>Cosine-perturbed quadratics (Liu 2024)</h2>',
        f"<p>{_cite(LIU_PAPER)}. Gradient descent on a quadratic plus a cosine ripple over a "
        "uniform grid of learning rates; α is the slope of log2 of the number of trainability "
        "boundaries against the grid level (0 for a single boundary, about 1 when fractal).</p>",
    ]
    for path in pngs:
        name = path.stem
        parts.append(f'<h3 id="toys-{esc(slug(name))}">{esc(name.replace("_", " "))}</h3>')
        parts.append(figure(path, f"Liu (2024): {name}", f"toys/{path.name}"))
        table = path.with_suffix(".csv")
        if table.is_file():
            columns, rows = read_csv(table)
            parts.append(
                f"<details><summary>toys/{esc(table.name)} ({len(rows)} rows)</summary>"
                + html_table(
                    columns, rows, table_id=f"toys-table-{slug(name)}", max_rows=MAX_TABLE_ROWS
                )
                + "</details>"
            )
    parts.append("</section>")
    return "".join(parts)


def _cite(ref: tuple[str, str | None]) -> str:
    text, url = ref
    return f'<a href="{esc(url)}">{esc(text)}</a>' if url else esc(text)


def _provenance_section(prov: dict, times: list[RuleTime]) -> str:
    rows = [
        ("git commit", prov["git_commit"]),
        ("config sha256", prov["config_sha256"]),
        *[(f"{k} version", v) for k, v in prov["versions"].items()],
        *[(k.replace("_", " "), v) for k, v in prov["machine"].items()],
        ("report generated", prov["generated"]),
    ]
    out = [
        '<section id="provenance"><h2>Provenance</h2><table id="provenance-table"><tbody>',
        *[f"<tr><th>{esc(k)}</th><td><code>{esc(v)}</code></td></tr>" for k, v in rows],
        "</tbody></table>",
        "<h3>Run time per rule</h3>",
    ]
    if not times:
        out.append('<p class="missing">No benchmark files in results/benchmarks.</p>')
    else:
        total = sum(t.seconds for t in times)
        out.append(
            '<table id="runtimes"><thead><tr><th>rule</th><th>jobs</th><th>total s</th>'
            "<th>longest job s</th><th>peak RSS MB</th></tr></thead><tbody>"
        )
        for t in times:
            rss = "—" if t.max_rss_mb is None else f"{t.max_rss_mb:.0f}"
            out.append(
                f'<tr><td>{esc(t.rule)}</td><td class="num">{t.jobs}</td>'
                f'<td class="num">{t.seconds:.1f}</td><td class="num">{t.max_seconds:.1f}</td>'
                f'<td class="num">{esc(rss)}</td></tr>'
            )
        jobs = sum(t.jobs for t in times)
        out.append(
            f'</tbody><tfoot><tr><th>total</th><td class="num">{jobs}</td>'
            f'<td class="num" id="total-seconds">{total:.1f}</td><td></td><td></td></tr>'
            "</tfoot></table>"
            f'<p class="note">Total job time {esc(_hms(total))} (h:m:s), summed over the '
            "benchmark files of results/benchmarks: jobs that ran side by side count in full, so "
            "this is compute time, not the wall-clock time of the run. Rules without a "
            "benchmark (merging, drawing) are not counted.</p>"
        )
    out.append("</section>")
    return "".join(out)


# --------------------------------------------------------------------------- the page


def render_report(
    results_dir,
    config: dict,
    *,
    prov: dict,
    times: list[RuleTime],
    webm: bool = True,
) -> str:
    """The report as one HTML string (see module docstring)."""
    from trainability.report_seeds import SECTION_ID as SEEDS_ID
    from trainability.report_seeds import TITLE as SEEDS_TITLE
    from trainability.report_seeds import seeds_section

    results = Path(results_dir)
    conditions = _conditions(config)
    tables_html, table_names = _tables_section(results)
    followup_html = _followup_section(results, table_names)
    toys_html = _toys_section(results)
    seeds_html = seeds_section(results)  # its own module (imports this one)
    paper_fig = figure(
        results / "figures" / "paper_conditions.png",
        "the paper's conditions side by side",
        "The paper's conditions at its published windows (its figure's layout), each titled with "
        "our boundary dimension beside the paper's.",
    )
    overviews_fig = figure(
        results / "figures" / "overviews.png",
        "the paper's conditions over their whole windows",
        "The same conditions over the whole 9-decade window: the fractal lies deep inside.",
    )
    n_zoom = sum((results / n / "zoom.mp4").is_file() for n in conditions)
    toc = [("methods", "Methods"), ("conditions", "The paper's conditions")]
    toc += [(f"condition-{slug(n)}", t) for n, t in conditions.items()]
    toc += [(SEEDS_ID, SEEDS_TITLE)] if seeds_html else []
    toc += [("followup", "Follow-up report")] if followup_html else []
    toc += [("toys", "Cosine-perturbed quadratics")] if toys_html else []
    toc += [("tables", "Tables")] if tables_html else []
    toc += [("provenance", "Provenance")]
    extras = []
    if followup_html:
        extras.append("the follow-up report's studies (activations, architectures, perturbations, "
                      "Lyapunov exponents)")  # fmt: skip
    if toys_html:
        extras.append("Liu's cosine-perturbed quadratics")
    abstract = (
        f"Reproduction of {_cite(SD_PAPER)}: a small neural network is trained once per pixel of "
        "a grid of hyperparameters, and the boundary between hyperparameters that train and "
        "those that diverge is fractal. This run computed "
        f"{len(conditions)} condition(s) of the paper"
        + (f", {n_zoom} with a zoom into the boundary" if n_zoom else "")
        + (f", and {esc(' and '.join(extras))}" if extras else "")
        + ". For every condition the report shows the trainability heatmap and the box-counting "
        "dimension of its boundary beside the paper's value."
    )
    body = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>The boundary of neural network trainability is fractal — reproduction</title>",
        f"<style>{STYLE}</style></head><body>",
        "<header><h1>The boundary of neural network trainability is fractal: reproduction</h1>",
        f'<p class="abstract">{abstract}</p></header>',
        "<nav><h2>Contents</h2><ol>",
        *[f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t in toc],
        "</ol></nav>",
        _methods(config, results, conditions),
        '<section id="conditions"><h2>The paper\'s conditions</h2>',
        paper_fig or '<p class="missing">The six-panel figure is missing.</p>',
        overviews_fig,
        *[_condition_section(results, n, t, webm=webm) for n, t in conditions.items()],
        "</section>",
        seeds_html,
        followup_html,
        toys_html,
        tables_html,
        _provenance_section(prov, times),
        "</body></html>",
    ]
    return "\n".join(part for part in body if part) + "\n"


def build_report(
    results_dir,
    config: dict,
    out_path,
    *,
    repo_dir=None,
    benchmark_patterns: dict[str, str] | None = None,
    webm: bool = True,
) -> Path:
    """Write the HTML report of the results in ``results_dir`` to ``out_path`` (atomically).

    ``config`` is the validated study config; ``repo_dir`` the workflow's git checkout (for the
    commit); ``benchmark_patterns`` maps rule → benchmark path relative to
    ``results_dir/benchmarks`` (see `benchmark_times`); ``webm`` adds a VP9 copy of each video.
    """
    results = Path(results_dir)
    prov = provenance(config, repo_dir)
    times = benchmark_times(results / "benchmarks", benchmark_patterns)
    text = render_report(results, config, prov=prov, times=times, webm=webm)
    with atomic_path(out_path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(out_path)
