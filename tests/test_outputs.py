"""Every output of the test study checked against what it was built from.

Each figure is drawn again from the grids it shows, by the library call its rule's script makes,
into a temporary PNG, and the two are compared pixel for pixel (decoded, exactly: the drawing is
deterministic); each table is computed again from its grids with the library's estimator and
written again, and compared byte for byte, and its numbers are checked against a computation of
their own (a grid's mean, the pixels where seeds disagree, box counting of the same fields); the
Lyapunov grids are computed again; the report's numbers and embedded images are the tables' and
files'. All exact: the workflow is deterministic on one machine (the tests' process and the
Snakemake jobs run the same code on the same CPU with the same chunk size).

In the test study every image is 16 or 24 px, under the 101 px a box-counting estimate needs, so
every dimension is refused ("not enough scales"): the tables' dimension columns are checked on
that path (the refusal, blank numbers, the images counted). The numbers' path is
tests/test_dimension.py's.
"""

import html
import json
import math
import re

import imageio.v3 as iio
import numpy as np
import pytest
import yaml
from conftest import REPO, TEST_CONFIG

from trainability.analysis.dimension import estimate_2d
from trainability.analysis.lyapunov import maximal_exponent, twin_trajectory_exponent
from trainability.analysis.seeds import (
    MEMBER_COLUMNS,
    SUMMARY_COLUMNS,
    axis_coordinates,
    level_length,
    member_row,
    summary_cells,
    summary_markdown,
    summary_row,
)
from trainability.analysis.tables import (
    dimension_row,
    markdown,
    read_table,
    refusal_headline,
    write_table,
)
from trainability.core.condition import Condition
from trainability.core.coordinates import width
from trainability.core.grid import load_grid, phase_field
from trainability.core.window import Window
from trainability.figures import line_plots
from trainability.figures.heatmap import axis_labels, save_heatmap, save_panels
from trainability.figures.line_plots import save_lyapunov_figure, save_zoom_dimension
from trainability.figures.seed_ensembles import save_ensembles_figure
from trainability.figures.video import save_keyframe_strip
from trainability.study.config import load_study
from trainability.train.sweep import axis_values, sweep

CONFIG, STUDY = load_study(
    yaml.safe_load(TEST_CONFIG.read_text()), REPO / "workflow" / "schemas" / "config.schema.yaml"
)
# as workflow/rules/common.smk names them
NAMED = [name for name, s in STUDY.items() if s.ensemble is None and name in CONFIG["conditions"]]
ENSEMBLES = {}
for _name, _study in STUDY.items():
    if _study.ensemble is not None:
        ENSEMBLES.setdefault(_study.ensemble, []).append(_name)
FAMILIES = {}
for _name, _study in STUDY.items():
    if _study.ensemble is None and _study.family is not None:
        FAMILIES.setdefault(_study.family, []).append(_name)
PAPER = [n for n, s in STUDY.items() if s.ensemble is None and s.family is None]
PANELS = [n for n, s in STUDY.items() if s.ensemble is None and s.panel is not None]
ZOOMING = [n for n, s in STUDY.items() if s.zoom is not None]


def same_pixels(built, expected):
    """Two PNGs decode to the same pixels."""
    a, b = iio.imread(built), iio.imread(expected)
    assert a.shape == b.shape, (expected, a.shape, b.shape)
    differ = np.any(a != b, axis=-1) if a.ndim == 3 else a != b
    assert not differ.any(), f"{expected}: {int(differ.sum())} pixels differ from a redraw"


def keyframes(results, name):
    return [
        results / name / "zoom" / f"keyframe_{k:02d}.npz" for k in range(STUDY[name].zoom.levels)
    ]


def dimension_grids(results, name):
    """The grids a condition's dimension pools (workflow/rules/common.smk): its panel and zoom
    keyframes, else its overview."""
    paths = [results / name / "panel.npz"] if STUDY[name].panel is not None else []
    if STUDY[name].zoom is not None:
        paths += keyframes(results, name)
    return paths or [results / name / "overview.npz"]


def number(cell):
    return None if cell == "" else float(cell)


# ----------------------------------------------------------------------------- figures


def test_every_heatmap_is_its_grid_drawn_again(test_study, tmp_path):
    results = test_study / "results"
    expected = set()
    for name in NAMED:
        expected.add(results / name / "overview.png")
        if STUDY[name].panel is not None:
            expected.add(results / name / "panel.png")
        if STUDY[name].zoom is not None:
            expected |= {p.with_suffix(".png") for p in keyframes(results, name)}
    found = {
        *results.glob("*/overview.png"),
        *results.glob("*/panel.png"),
        *results.glob("*/zoom/keyframe_*.png"),
    }
    assert found == expected
    for png in sorted(found):
        name = png.relative_to(results).parts[0]
        grid = load_grid(png.with_suffix(".npz"))
        redrawn = tmp_path / f"{name}_{png.stem}.png"
        labels = axis_labels(grid.meta["condition"])
        save_heatmap(redrawn, grid.values, grid.bounds, title=STUDY[name].title, **labels)
        same_pixels(redrawn, png)


def test_paper_and_overview_figures_are_their_grids_drawn_again(test_study, tmp_path):
    results = test_study / "results"
    for figure, names, grid_name in (
        ("paper_conditions", PANELS, "panel"),
        ("overviews", PAPER, "overview"),
    ):
        panels = []
        for name in names:
            grid = load_grid(results / name / f"{grid_name}.npz")
            title = STUDY[name].title
            if figure == "paper_conditions":  # titled with our dimension and the paper's
                dim = read_table(results / name / "dimension.csv").iloc[0]["dimension"]
                paper = CONFIG["conditions"][name].get("paper_dimension")
                text = f"fractal dim: {dim}"
                title = f"{title}\n{text if paper is None else f'{text}; paper {paper:.2f}'}"
            panels.append(
                {
                    "values": grid.values,
                    "window": grid.bounds,
                    "title": title,
                    **axis_labels(grid.meta["condition"]),
                }
            )
        redrawn = tmp_path / f"{figure}.png"
        save_panels(redrawn, panels, nrows=math.ceil(len(panels) / 2), ncols=min(2, len(panels)))
        same_pixels(redrawn, results / "figures" / f"{figure}.png")


def test_zoom_strip_and_dimension_plot_are_the_keyframes(test_study, tmp_path, monkeypatch):
    """The keyframe strip and the dimension-along-the-zoom plot drawn again from the keyframes;
    the plot's numbers are each keyframe's own box-counting estimate (NaN, a gap, where it is
    refused) against its depth below the first keyframe, from the windows of path.json."""
    results = test_study / "results"
    drawn = []
    save_figure = line_plots.save_figure

    def keep(fig, path):
        drawn.append(fig)
        save_figure(fig, path)

    monkeypatch.setattr(line_plots, "save_figure", keep)
    for name in ZOOMING:
        grids = [load_grid(p) for p in keyframes(results, name)]
        path = json.loads((results / name / "zoom" / "path.json").read_text())["keyframes"]
        assert [kf["k"] for kf in path] == list(range(len(grids)))
        for kf, grid in zip(path, grids, strict=True):  # the path's windows are the keyframes'
            assert tuple(kf["bounds"]) == tuple(float(b) for b in grid.bounds), kf["k"]
            assert kf["width"] == pytest.approx(width(*grid.bounds[:2]), rel=1e-12)

        windows = [g.bounds for g in grids]
        strip = tmp_path / f"{name}_strip.png"
        save_keyframe_strip(strip, [(g.values, w) for g, w in zip(grids, windows, strict=True)])
        same_pixels(strip, results / name / "zoom_keyframes.png")

        plot = tmp_path / f"{name}_dimension.png"
        fields = [phase_field(g) for g in grids]
        save_zoom_dimension(plot, fields, windows, STUDY[name].title)
        same_pixels(plot, results / name / "zoom_dimension.png")
        line = drawn[-1].axes[0].lines[2]  # after the two reference lines at D = 1 and 2
        estimates = [estimate_2d(f, n_boot=50) for f in fields]
        dims = [math.nan if e.refused else e.median_local_slope for e in estimates]
        np.testing.assert_array_equal(line.get_ydata(), dims)
        depth = np.log10(path[0]["width"] / np.array([kf["width"] for kf in path]))
        np.testing.assert_allclose(line.get_xdata(), depth, rtol=0, atol=1e-12)
        refused = sum(e.refused is not None for e in estimates)
        legend = [t.get_text() for t in drawn[-1].axes[0].get_legend().get_texts()]
        if refused:
            assert any(t.endswith(f": {refused} of {len(grids)}") for t in legend), legend


# ----------------------------------------------------------------------------- tables


def test_dimension_tables_are_the_grids_measured_again(test_study, tmp_path):
    """Every condition's dimension.csv is dimension_row of its grids, written again byte for
    byte; its numbers are estimate_2d's of the grids' phase fields; the study's table is the
    named conditions' rows in order."""
    results = test_study / "results"
    found = {p.parent.name for p in results.glob("*/dimension.csv")}
    assert found == {*STUDY, "toys"}  # toys/dimension.csv: Liu's toy study, a table of its own
    for name in STUDY:
        grids = [load_grid(p) for p in dimension_grids(results, name)]
        paper = CONFIG["conditions"].get(name, {}).get("paper_dimension")
        again = tmp_path / f"{name}.csv"
        write_table(again, [dimension_row(name, grids, paper)])
        table = results / name / "dimension.csv"
        assert again.read_bytes() == table.read_bytes(), name

        row = read_table(table).iloc[0]
        est = estimate_2d([phase_field(g) for g in grids])
        assert int(row["n_images"]) == est.n_images == len(grids)
        assert int(row["images_used"]) == len(est.images_used)
        assert row["refused"] == refusal_headline(est.refused)
        if est.refused:
            assert row["dimension"] == row["refused"] and row["median_local_slope"] == ""
        else:
            assert number(row["median_local_slope"]) == est.median_local_slope
            assert (number(row["median_ci_low"]), number(row["median_ci_high"])) == est.median_ci
        assert number(row["fit_slope"]) == est.fit_slope
        assert row["resolution"] == "x".join(map(str, grids[0].values.shape[::-1]))
        assert int(row["steps"]) == grids[0].meta["steps"] == STUDY[name].condition.steps

    rows = [read_table(results / n / "dimension.csv") for n in NAMED]
    study = read_table(results / "tables" / "fractal_dimensions.csv")
    assert list(study["condition"]) == NAMED
    assert study.to_dict("records") == [r.iloc[0].to_dict() for r in rows]
    assert markdown(study) in (results / "tables" / "fractal_dimensions.md").read_text()


def test_family_tables_are_their_grids(test_study):
    """Each family's table: the grid it shows (deepest keyframe of a zoom, else the overview),
    its converged fraction equal to that grid's mean, and the member's dimension.csv."""
    results = test_study / "results"
    for family, names in FAMILIES.items():
        table = read_table(results / "tables" / f"{family}.csv")
        assert list(table["condition"]) == names, family
        for row in table.to_dict("records"):
            name = row["condition"]
            shown = keyframes(results, name)[-1] if STUDY[name].zoom else None
            path = shown or results / name / "overview.npz"
            assert row["grid"] == path.relative_to(results / name).with_suffix("").as_posix()
            grid = load_grid(path)
            assert row["converged_fraction"] == repr(float(grid.converged.mean()))
            assert row["title"] == STUDY[name].title
            dim = read_table(results / name / "dimension.csv").iloc[0]
            for key in ("dimension", "median_local_slope", "fit", "fit_slope"):
                assert row[key] == dim[key], (name, key)


def test_seed_tables_are_their_member_grids(test_study, tmp_path):
    """seeds.csv and seeds_members.csv written again from the member grids byte for byte; the
    converged fractions are the grids' means, their statistics over seeds a mean and a sample
    sd; with two seeds the 0.1-0.9 band is exactly the pixels where the seeds disagree."""
    results = test_study / "results"
    summaries, members, figure = [], [], []
    for ensemble, names in ENSEMBLES.items():
        title = CONFIG["conditions"][ensemble].get("title", ensemble)
        grids = [load_grid(results / n / "overview.npz") for n in names]
        rows = [
            member_row(ensemble, n, g, read_table(results / n / "dimension.csv").iloc[0].to_dict())
            for n, g in zip(names, grids, strict=True)
        ]
        summaries.append(summary_row(ensemble, title, rows, grids))
        members += rows
        figure.append({"title": title, "grids": grids})
    write_table(tmp_path / "seeds.csv", summaries, SUMMARY_COLUMNS)
    write_table(tmp_path / "members.csv", members, MEMBER_COLUMNS)
    tables = results / "tables"
    assert (tmp_path / "seeds.csv").read_bytes() == (tables / "seeds.csv").read_bytes()
    assert (tmp_path / "members.csv").read_bytes() == (tables / "seeds_members.csv").read_bytes()
    assert (tables / "seeds.md").read_text(encoding="utf-8") == summary_markdown(summaries)
    save_ensembles_figure(tmp_path / "seeds.png", figure)
    same_pixels(tmp_path / "seeds.png", results / "figures" / "seeds.png")

    table = read_table(tables / "seeds.csv").set_index("ensemble")
    member_table = read_table(tables / "seeds_members.csv")
    for ensemble, names in ENSEMBLES.items():
        grids = [load_grid(results / n / "overview.npz") for n in names]
        fractions = np.array([g.converged.mean() for g in grids])
        mine = member_table[member_table["ensemble"] == ensemble]
        assert list(mine["member"]) == names
        assert [float(v) for v in mine["converged_fraction"]] == list(fractions)
        assert [float(v) for v in mine["stable_fraction"]] == [
            float((g.blowup_at < 0).mean()) for g in grids
        ]
        row = table.loc[ensemble]
        assert int(row["converged_n"]) == len(names)
        assert float(row["converged_mean"]) == pytest.approx(fractions.mean(), rel=1e-15)
        assert float(row["converged_sd"]) == pytest.approx(fractions.std(ddof=1), rel=1e-12)
        # the band by hand: with two seeds P is 0, 1/2 or 1, and 0.1 <= P <= 0.9 iff they differ
        assert len(grids) == 2
        disagree = int((grids[0].converged != grids[1].converged).sum())
        x, y = axis_coordinates(grids[0])
        dx, dy = (x[-1] - x[0]) / (len(x) - 1), (y[-1] - y[0]) / (len(y) - 1)
        assert float(row["band_area"]) == pytest.approx(disagree * dx * dy, rel=1e-12)
        assert float(row["pixel"]) == max(dx, dy)
        assert disagree > 0  # a band to measure: the members differ somewhere
        assert float(row["band_width"]) == float(row["band_area"]) / float(row["level_length"])
        from scipy.ndimage import uniform_filter

        p = (grids[0].converged.astype(float) + grids[1].converged) / 2
        length = level_length(uniform_filter(p, 9, mode="nearest"), x, y)
        assert float(row["level_length"]) == length


def test_lyapunov_outputs_are_computed_again(test_study, tmp_path):
    """Both exponent grids and the boundary overlaid on them are the library's, computed again
    on the rule's condition and window (the follow-up base: 8x8 pixels, 20 steps); the figure
    is them drawn again."""
    results = test_study / "results"
    followup = CONFIG["followup"]
    base = {k: v for k, v in followup["base"].items() if hasattr(Condition, k)}
    cond = Condition(**base)
    window = Window.square(followup["base"]["window"], followup["lyapunov"]["resolution"])
    x, y = axis_values(cond, window)
    converged = sweep(cond, window).converged
    expected = {
        "twin": twin_trajectory_exponent(cond, window, epsilon=followup["lyapunov"]["epsilon"]),
        "maximal": maximal_exponent(cond, window),
    }
    for kind, values in expected.items():
        with np.load(results / "lyapunov" / f"{kind}.npz") as data:
            assert sorted(data.files) == ["converged", "values", "x", "y"]
            assert data["values"].shape == window.shape
            np.testing.assert_array_equal(data["values"], values)  # NaN where NaN, else equal
            np.testing.assert_array_equal(data["converged"], converged)
            np.testing.assert_array_equal(data["x"], x)
            np.testing.assert_array_equal(data["y"], y)
        assert np.isfinite(values).any()
    redrawn = tmp_path / "lyapunov.png"
    save_lyapunov_figure(redrawn, expected["twin"], expected["maximal"], converged, window.bounds)
    same_pixels(redrawn, results / "figures" / "lyapunov.png")


# ----------------------------------------------------------------------------- report


def _sections(page: str) -> dict[str, str]:
    pattern = r'<section class="condition" id="condition-([^"]*)">(.*?)</section>'
    found = re.findall(pattern, page, re.S)
    return dict(found)


def _images(section: str) -> dict[str, bytes]:
    """alt text -> the PNG bytes inlined as a data URI."""
    import base64

    found = re.findall(r'<img src="data:image/png;base64,([^"]*)" alt="([^"]*)"', section)
    return {html.unescape(alt): base64.b64decode(data) for data, alt in found}


def test_report_prints_the_tables_numbers(test_study):
    """Per condition, the report's converged fraction is its overview's mean, its dimension
    cells are its dimension.csv's, its images are the files byte for byte; the methods table
    and the seeds table print the same numbers."""
    results = test_study / "results"
    page = (results / "report.html").read_text(encoding="utf-8")
    sections = _sections(page)
    assert list(sections) == [n.replace("_", "-") for n in NAMED]
    methods = page.split('<table id="methods-conditions">', 1)[1].split("</table>", 1)[0]
    for name in NAMED:
        section = sections[name.replace("_", "-")]
        fraction = f"{load_grid(results / name / 'overview.npz').converged.mean():.3f}"
        assert f"; {fraction} of the pixels converged." in html.unescape(section), name
        assert f"<tr><td>{name}</td>" in methods
        line = methods.split(f"<tr><td>{name}</td>", 1)[1].split("</tr>", 1)[0]
        cells = re.findall(r"<td[^>]*>(.*?)</td>", line)
        assert fraction in cells, (name, cells)

        row = read_table(results / name / "dimension.csv").iloc[0]
        shown = [html.unescape(c) for c in re.findall(r'<td class="num">(.*?)</td>', section)]
        paper = "" if row["paper"] == "" else row["paper"]
        assert shown[:2] == [row["dimension"], row["fit"]], (name, shown)
        if paper:
            assert float(shown[2]) == float(paper)
        note = html.unescape(section)
        assert f"Box counting over {row['images_used']} of {row['n_images']} image(s)" in note
        assert f"({row['resolution']} pixels), {row['steps']} training steps" in note

        images = set(_images(section).values())
        files = [results / name / "overview.png"]
        if STUDY[name].panel is not None:
            files.append(results / name / "panel.png")
        if STUDY[name].zoom is not None:
            files += [results / name / "zoom_keyframes.png", results / name / "zoom_dimension.png"]
        for path in files:
            assert path.read_bytes() in images, path

    seeds = page.split('<section id="seeds">', 1)[1].split("</section>", 1)[0]
    table = seeds.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    printed = [
        [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", tr)]
        for tr in re.findall(r"<tr>(.*?)</tr>", table)
    ]
    rows = read_table(results / "tables" / "seeds.csv").to_dict("records")
    assert printed == [summary_cells(row) for row in rows]
    for row, cells in zip(rows, printed, strict=True):  # the converged cell, from the grids
        names = ENSEMBLES[row["ensemble"]]
        f = np.array([load_grid(results / n / "overview.npz").converged.mean() for n in names])
        assert cells[3].startswith(f"{f.mean():.2f} ± {f.std(ddof=1):.2f} ["), cells
        assert cells[3].endswith(f"({len(names)} seeds)"), cells
