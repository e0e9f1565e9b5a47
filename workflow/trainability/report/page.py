"""The study's final report: one self-contained HTML page assembled from the files the rule names.

`build_report(inputs, config, out_path)` writes ``report.html`` from `ReportInputs` (the
rule's named inputs, `trainability.report.inputs`): title and abstract, methods (the validated
config and, per condition, a description generated from its grid's metadata with the engine,
seed, versions and converged fraction recorded there), one section per condition of the config
(overview heatmap, zoom keyframes, zoom video, box-counting dimension beside the paper's
value), the paper's figure, the follow-up report's and Liu's figures when present, every table,
and provenance (`trainability.report.provenance`: git commit, config hash, package versions,
machine, run time per rule summed from Snakemake's benchmark files).

Self-contained: images and videos are inlined as base64 ``data:`` URIs
(`trainability.report.media`); a Content-Security-Policy meta tag forbids every other source,
so the page loads nothing from the network and runs no script. All text from files or config
is HTML-escaped (`trainability.report.markup`). The file is written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from trainability.analysis.tables import read_table
from trainability.core.atomic import atomic_path
from trainability.core.grid import load_grid, window_bounds
from trainability.report.describe import OPTIMIZER_NAMES, SCALE_WORDS, condition_of, describe
from trainability.report.inputs import ConditionFiles, ReportInputs
from trainability.report.markup import cite, esc, fmt, html_table, slug
from trainability.report.media import figure, video
from trainability.report.provenance import RuleTime, benchmark_times, hms, provenance
from trainability.report.seeds import SECTION_ID as SEEDS_ID
from trainability.report.seeds import TITLE as SEEDS_TITLE
from trainability.report.seeds import seeds_section

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

# The follow-up report's figures, in the order the report discusses them.
EXTENSIONS_ID, EXTENSIONS_TITLE = "extensions", "Beyond the papers"
RESOLUTION_ID, RESOLUTION_TITLE = "resolution", "The dimension against resolution"
FOLLOWUP_FIGURES = {
    "activations": "Activation functions: one trainability heatmap per activation.",
    "architectures": "Width × depth: one heatmap per architecture.",
    "perturbations": "Weight perturbations: heatmaps for increasing perturbation ε.",
    "lyapunov": (
        "Lyapunov exponents per pixel: the twin-trajectory estimate and the maximal exponent "
        "(Benettin); the black line is the trainability boundary."
    ),
}


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


# Rows of a CSV table shown in the report (the CSV itself keeps them all).
MAX_TABLE_ROWS = 300
# the pictures of a condition's section: kind (`CONDITION_FILES`) -> (alt text, caption)
CONDITION_FIGURES = {
    "overview": (
        "trainability over the hyperparameter window",
        "Overview: blue-green pixels converged, red-yellow diverged (rank colour stretch).",
    ),
    "panel": (
        "the paper's published window",
        "Panel: the window the paper shows for this condition, at the same steps.",
    ),
    "keyframes": (
        "zoom keyframes",
        "Zoom keyframes, each 2× narrower than the last, titled with its width in decades.",
    ),
    "zoom_dimension": (
        "dimension along the zoom",
        "Box-counting dimension of each keyframe against its depth.",
    ),
}


# --------------------------------------------------------------------------- one condition


Overview = tuple[dict | None, float | None]  # a condition's grid metadata, converged fraction


def _overview(files: ConditionFiles) -> Overview:
    """The overview grid's metadata and converged fraction (None, None if it is unreadable)."""
    path = files.get("grid")
    if path is None or not path.is_file():
        return None, None
    try:
        grid = load_grid(path)
    except ValueError:
        return None, None
    return grid.meta, float(grid.converged.mean())


def _dimension_html(path: Path | None) -> str:
    if path is None or not path.is_file():
        return '<p class="missing">No dimension estimate (dimension.csv missing).</p>'
    rows = read_table(path)
    if rows.empty:
        return '<p class="missing">dimension.csv is empty.</p>'
    row = rows.iloc[0]
    out = [
        '<table class="dimension"><thead><tr><th>estimate</th>'
        "<th>value [95 % interval]</th></tr></thead><tbody>",
        "<tr><td>median local slope (the paper's estimator)</td>"
        f'<td class="num">{esc(row.get("dimension", ""))}</td></tr>',
        f'<tr><td>least-squares fit</td><td class="num">{esc(row.get("fit", ""))}</td></tr>',
        f'<tr><td>paper (Sohl-Dickstein 2024)</td><td class="num">{esc(fmt(row.get("paper")))}'
        "</td></tr></tbody></table>",
        f'<p class="note">Box counting over {esc(row.get("images_used", "?"))} of '
        f"{esc(row.get('n_images', '?'))} image(s) ({esc(row.get('resolution', '?'))} pixels), "
        f"{esc(row.get('steps', '?'))} training steps. Intervals and rounding: "
        "docs/dimension.md.</p>",
    ]
    if str(row.get("note", "")).strip():
        out.append(f'<p class="note">Note: {esc(row["note"])}</p>')
    return "".join(out)


def _settings_line(meta: dict | None, converged: float | None) -> str:
    """The condition in words (from its grid's metadata), then how it was computed."""
    if not meta:
        return ""
    computed = (
        f"Computed by the {meta.get('engine')} engine in {meta.get('dtype')}; "
        f"{converged:.3f} of the pixels converged."
    )
    return f'<p class="settings">{esc(describe(meta))} {esc(computed)}</p>'


def _condition_section(files: ConditionFiles, overview: Overview, *, webm: bool) -> str:
    name, title = files.name, files.title
    meta, converged = overview
    fig = {
        kind: _figure(files.get(kind), f"{title}: {alt}", caption)
        for kind, (alt, caption) in CONDITION_FIGURES.items()
    }
    parts = [
        f'<section class="condition" id="condition-{esc(slug(name))}">',
        f"<h3>{esc(title)} <code>{esc(name)}</code></h3>",
        _settings_line(meta, converged),
        '<div class="row">',
        fig["overview"] or '<p class="missing">No overview heatmap.</p>',
        fig["panel"],
        "<div><h4>Box-counting dimension</h4>",
        _dimension_html(files.get("dimension")),
        "</div></div>",
    ]
    mp4 = files.get("video")
    clip = video(mp4, f"{title}: zoom into the boundary", webm=webm) if mp4 else ""
    strip, along = fig["keyframes"], fig["zoom_dimension"]
    if strip or along or clip:
        parts += ["<h4>Zoom into the boundary</h4>", strip]
        parts += ['<div class="row">', clip, along, "</div>"] if clip or along else []
    parts.append("</section>")
    return "".join(parts)


def _figure(path: Path | None, alt: str, caption: str = "") -> str:
    return figure(path, alt, caption) if path is not None else ""


# --------------------------------------------------------------------------- methods


def _axis_cell(meta: dict, which: str) -> str:
    """``"lr_even, log [-1, 4]"``: the axis's hyperparameter, scale and window bounds."""
    cond, axis = condition_of(meta), "xy".index(which)
    name = cond.axis_names[axis]
    scale = (cond.x_scale, cond.y_scale)[axis]
    lo, hi = window_bounds(meta)[2 * axis : 2 * axis + 2]
    bounds = f"[{lo:g}, {hi:g}]"
    return f"{name}, {scale}10 {bounds}" if scale == "log" else f"{name}, {scale} {bounds}"


def _kinds(metas: dict[str, dict]) -> str:
    """What this run's conditions use, grouped: optimizers and axis scales, with the names."""
    optimizers: dict[str, list[str]] = {}
    scales: dict[str, list[str]] = {}
    for name, meta in metas.items():
        cond = condition_of(meta)
        optimizers.setdefault(OPTIMIZER_NAMES[cond.optimizer], []).append(name)
        for scale in dict.fromkeys((cond.x_scale, cond.y_scale)):
            scales.setdefault(SCALE_WORDS[scale], []).append(name)

    def listing(groups):
        return "; ".join(f"{kind} ({', '.join(names)})" for kind, names in groups.items())

    return f"Optimizers: {listing(optimizers)}. Axes on a {listing(scales)}."


def _methods(config: dict, conditions: list[ConditionFiles], overviews: list[Overview]) -> str:
    rows, metas = [], {}
    for files, (meta, converged) in zip(conditions, overviews, strict=True):
        if meta is None:
            rows.append({"condition": files.name, "note": "overview grid missing"})
            continue
        metas[files.name] = meta
        cond, w = condition_of(meta), meta["window"]
        rows.append(
            {
                "condition": files.name,
                "activation": cond.activation,
                "width": cond.width,
                "depth": cond.depth,
                "optimizer": OPTIMIZER_NAMES[cond.optimizer],
                "steps": meta.get("steps"),
                "batch size": cond.batch_size or "full",
                "dataset size": cond.dataset_size or "default",
                "x axis": _axis_cell(meta, "x"),
                "y axis": _axis_cell(meta, "y"),
                "pixels": f"{w.get('nx')}×{w.get('ny')}",
                "converged fraction": f"{converged:.3f}",
                "seed": meta.get("seed"),
                "engine": meta.get("engine"),
                "dtype": meta.get("dtype"),
            }
        )
    columns = [
        "condition", "activation", "width", "depth", "optimizer", "steps", "batch size",
        "dataset size", "x axis", "y axis", "pixels", "converged fraction", "seed", "engine",
        "dtype",
    ]  # fmt: skip
    if any("note" in r for r in rows):
        columns.append("note")
    engine = config.get("engine", {})
    seeds = sorted({str(m.get("seed")) for m in metas.values()})
    versions = next((m.get("versions") for m in metas.values() if m.get("versions")), {})
    out = [
        '<section id="methods"><h2>Methods</h2>',
        "<p>Each pixel of a 2-D grid of hyperparameters trains one mean-field MLP from the same "
        "initialisation, with the network, optimizer, batch and axes of its condition (below, "
        "read from each condition's grid); the pixel is coloured by whether the loss converged "
        "or diverged and how fast (Sohl-Dickstein 2024, rank colour stretch). "
        f"{esc(_kinds(metas)) if metas else ''} "
        "The trainability boundary's fractal dimension is estimated by box counting over the "
        "panel and zoom keyframes (or the overview when a condition has neither) that span at "
        "least a decade of box sizes: the paper's estimator is the median of the local slopes; "
        "a least-squares fit is given beside it; each with a 95 % interval from moving the box "
        "grid and resampling keyframes, rounded to the digits it supports. Grids are cut into "
        "tiles computed as independent jobs and merged bit-identically.</p>",
        f"<p>Engine: <code>{esc(engine.get('name', '?'))}</code>, dtype "
        f"<code>{esc(engine.get('dtype', '?'))}</code>. Seeds recorded in the grids: "
        f"<code>{esc(', '.join(seeds) or '?')}</code>. "
        "Library versions recorded in the grids: "
        + (", ".join(f"{esc(k)} {esc(v)}" for k, v in sorted(versions.items())) or "?")
        + ".</p>",
        "<h3>Conditions as computed (from each overview grid's metadata)</h3>",
        html_table(
            pd.DataFrame(rows, columns=columns, dtype=object), table_id="methods-conditions"
        ),
        "<details><summary>The full validated configuration (JSON)</summary><pre>"
        + esc(json.dumps(config, indent=2, sort_keys=True, default=str))
        + "</pre></details>",
        "</section>",
    ]
    return "".join(out)


# --------------------------------------------------------------------------- other sections


def _tables_section(tables: dict[str, Path]) -> str:
    if not tables:
        return ""
    out = ['<section id="tables"><h2>Tables</h2>']
    for name, path in tables.items():
        try:
            frame = read_table(path)
        except (OSError, ValueError, UnicodeDecodeError) as err:
            out.append(f'<p class="missing">{esc(path.name)}: unreadable ({esc(err)})</p>')
            continue
        out.append(f"<h3>{esc(name.replace('_', ' '))} <code>tables/{esc(path.name)}</code>")
        out.append("</h3>")
        out.append(html_table(frame, table_id=f"table-{slug(name)}"))
    out.append("</section>")
    return "".join(out)


def _followup_section(figures: dict[str, Path], tables: dict[str, Path]) -> str:
    parts = []
    for name, caption in FOLLOWUP_FIGURES.items():
        fig = _figure(figures.get(name), f"follow-up: {name}", caption)
        if not fig:
            continue
        parts.append(f'<h3 id="followup-{esc(slug(name))}">{esc(name.capitalize())}</h3>{fig}')
        if name in tables:
            parts.append(
                f'<p class="note">Table: <a href="#table-{esc(slug(name))}">{esc(name)}</a>.</p>'
            )
    if not parts:
        return ""
    return (
        '<section id="followup"><h2>The follow-up report (ASU): activations, architectures, '
        "perturbations, Lyapunov exponents</h2>"
        f"<p>{cite(ASU_REPORT)}</p>" + "".join(parts) + "</section>"
    )


def _resolution_section(figures: dict[str, Path], tables: dict[str, Path]) -> str:
    """The resolution study (``resolution_study.report``): D against resolution, extrapolated."""
    fig = _figure(
        figures.get("resolution_study"),
        "dimension against resolution",
        "Each panel's boundary dimension at increasing resolution (95 % intervals), the paper's "
        "value dashed, and the extrapolation to infinite resolution D(n) = D∞ − a·n^(−1/2) with "
        "its interval (docs/dimension.md §7).",
    )
    if not fig:
        return ""
    links = [
        f'<a href="#table-{slug(name)}">{esc(name.replace("_", " "))}</a>'
        for name in ("resolution_summary", "resolution_study", "refinement_check")
        if name in tables
    ]
    note = f'<p class="note">Tables: {", ".join(links)}.</p>' if links else ""
    return (
        f'<section id="{RESOLUTION_ID}"><h2>{RESOLUTION_TITLE}</h2>{fig}{note}</section>'
    )


def _extensions_section(figures: dict[str, Path]) -> str:
    """The config's other condition groups (optimizers, the deep zoom, ...): this project's own
    studies, not the follow-up report's, each under its group's name."""
    known = {"paper_conditions", "overviews", "seeds", "resolution_study", *FOLLOWUP_FIGURES}
    parts = []
    for name, path in figures.items():
        if name not in known:
            parts.append(f'<h3 id="extension-{esc(slug(name))}">{esc(name.replace("_", " "))}</h3>')
            parts.append(figure(path, name, f"figures/{path.name}"))
    if not parts:
        return ""
    return (
        f'<section id="{EXTENSIONS_ID}"><h2>{EXTENSIONS_TITLE}</h2>'
        "<p>Condition groups of this study beyond the papers' (the config's <code>group</code> "
        "key): each member's deepest zoom keyframe where it has a zoom, else its overview.</p>"
        + "".join(parts)
        + "</section>"
    )


def _toys_section(toy_figures: dict[str, Path], toy_tables: dict[str, Path]) -> str:
    if not toy_figures:
        return ""
    parts = [
        '<section id="toys"><h2>Cosine-perturbed quadratics (Liu 2024)</h2>',
        f"<p>{cite(LIU_PAPER)}. Gradient descent on a quadratic plus a cosine ripple over a "
        "uniform grid of learning rates; α is the slope of log2 of the number of trainability "
        "boundaries against the grid level (0 for a single boundary, about 1 when fractal).</p>",
    ]
    for name, path in toy_figures.items():
        parts.append(f'<h3 id="toys-{esc(slug(name))}">{esc(name.replace("_", " "))}</h3>')
        parts.append(figure(path, f"Liu (2024): {name}", f"toys/{path.name}"))
        table = toy_tables.get(name)
        if table is not None and table.is_file():
            frame = read_table(table)
            parts.append(
                f"<details><summary>toys/{esc(table.name)} ({len(frame)} rows)</summary>"
                + html_table(frame, table_id=f"toys-table-{slug(name)}", max_rows=MAX_TABLE_ROWS)
                + "</details>"
            )
    parts.append("</section>")
    return "".join(parts)


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
            f'<p class="note">Total job time {esc(hms(total))} (h:m:s), summed over the '
            "benchmark files of results/benchmarks: jobs that ran side by side count in full, so "
            "this is compute time, not the wall-clock time of the run. Rules without a "
            "benchmark (merging, drawing) are not counted.</p>"
        )
    out.append("</section>")
    return "".join(out)


# --------------------------------------------------------------------------- the page


def render_report(
    inputs: ReportInputs,
    config: dict,
    *,
    prov: dict,
    times: list[RuleTime],
    webm: bool = True,
) -> str:
    """The report as one HTML string (see module docstring)."""
    conditions = inputs.conditions
    overviews = [_overview(c) for c in conditions]  # each grid read once
    tables_html = _tables_section(inputs.table)
    followup_html = _followup_section(inputs.figure, inputs.table)
    extensions_html = _extensions_section(inputs.figure)
    toys_html = _toys_section(inputs.toy_figure, inputs.toy_table)
    seeds_html = seeds_section(inputs.figure, inputs.table)
    resolution_html = _resolution_section(inputs.figure, inputs.table)
    paper_fig = _figure(
        inputs.figure.get("paper_conditions"),
        "the paper's conditions side by side",
        "The paper's conditions at its published windows (its figure's layout), each titled with "
        "our boundary dimension beside the paper's.",
    )
    overviews_fig = _figure(
        inputs.figure.get("overviews"),
        "the paper's conditions over their whole windows",
        "The same conditions over their overview windows (each condition's section gives its "
        "axes): the fractal lies deep inside.",
    )
    n_zoom = sum(c.get("video") is not None for c in conditions)
    toc = [("methods", "Methods"), ("conditions", "The paper's conditions")]
    toc += [(f"condition-{slug(c.name)}", c.title) for c in conditions]
    toc += [(RESOLUTION_ID, RESOLUTION_TITLE)] if resolution_html else []
    toc += [(SEEDS_ID, SEEDS_TITLE)] if seeds_html else []
    toc += [("followup", "Follow-up report")] if followup_html else []
    toc += [(EXTENSIONS_ID, EXTENSIONS_TITLE)] if extensions_html else []
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
        f"Reproduction of {cite(SD_PAPER)}: a small neural network is trained once per pixel of "
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
        _methods(config, conditions, overviews),
        '<section id="conditions"><h2>The paper\'s conditions</h2>',
        paper_fig or '<p class="missing">The six-panel figure is missing.</p>',
        overviews_fig,
        *[_condition_section(c, o, webm=webm) for c, o in zip(conditions, overviews, strict=True)],
        "</section>",
        resolution_html,
        seeds_html,
        followup_html,
        extensions_html,
        toys_html,
        tables_html,
        _provenance_section(prov, times),
        "</body></html>",
    ]
    return "\n".join(part for part in body if part) + "\n"


def build_report(
    inputs: ReportInputs,
    config: dict,
    out_path,
    *,
    repo_dir=None,
    benchmark_dir=None,
    benchmark_patterns: dict[str, str] | None = None,
    webm: bool = True,
) -> Path:
    """Write the HTML report of ``inputs`` to ``out_path`` (atomically).

    ``config`` is the validated study config; ``repo_dir`` the workflow's git checkout (for the
    commit); ``benchmark_patterns`` maps rule → benchmark path relative to ``benchmark_dir``
    (see `benchmark_times`); ``webm`` adds a VP9 copy of each video.
    """
    prov = provenance(config, repo_dir)
    times = benchmark_times(benchmark_dir, benchmark_patterns) if benchmark_dir else []
    text = render_report(inputs, config, prov=prov, times=times, webm=webm)
    with atomic_path(out_path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(out_path)
