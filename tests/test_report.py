"""The final report: library units on a small fake results tree, the report of the test study in
a real browser (Debian's chromium driven by Playwright), and Snakemake's own ``--report``."""

import base64
import hashlib
import json
import os
import re
import shutil
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import CHROMIUM, CHROMIUM_ARGS, REPO, TEST_CONFIG, playwright_or_skip, snakemake

from trainability.analysis.tables import read_table
from trainability.core.grid import Grid, load_grid, save_grid
from trainability.report import build_report, condition_titles, named_inputs, provenance
from trainability.report.markup import slug

TEST_CONDITIONS = [  # seed ensembles have a section of their own
    name for name, e in yaml.safe_load(TEST_CONFIG.read_text())["conditions"].items()
    if "seeds" not in e
]  # fmt: skip
EVIL = '<script>alert("x")</script> & co'


# --------------------------------------------------------------------------- a fake results tree


def _png(path: Path, shade: int = 100) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.full((6, 8, 3), shade, dtype=np.uint8)
    image[2:4, 2:6] = 255 - shade
    iio.imwrite(path, image, extension=".png")


def _grid(path: Path, activation: str, seed: int = 0) -> None:
    meta = {
        "condition": {
            "activation": activation,
            "width": 8,
            "depth": 2,
            "batch_size": None,
            "seed": seed,
        },
        "window": {"x_min": -1.0, "x_max": 4.0, "y_min": 0.0, "y_max": 4.0, "nx": 4, "ny": 4},
        "steps": 40,
        "seed": seed,
        "engine": "fused",
        "dtype": "float64",
        "versions": {"trainability": "0.1.0"},
    }
    values = np.linspace(-1, 1, 16).reshape(4, 4)
    grid = Grid(
        values=values,
        converged=values < 0,
        x=np.logspace(-1, 4, 4),
        y=np.logspace(0, 4, 4),
        diverged_at=np.full((4, 4), -1),
        probe=None,
        meta=meta,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    save_grid(path, grid)


def _mp4(path: Path) -> None:
    """A tiny H.264 video made like the workflow's (imageio-ffmpeg, libx264, yuv420p)."""
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(
        str(path), (32, 32), fps=10, codec="libx264", pix_fmt_out="yuv420p", macro_block_size=16
    )
    writer.send(None)
    for k in range(6):
        writer.send(np.full((32, 32, 3), 40 * k, dtype=np.uint8).tobytes())
    writer.close()


def _bench(path: Path, *seconds: float, rss: float = 100.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{s}\t0:00:00\t{rss}\t1\t1\t1\t0\t0\t1\t1\n" for s in seconds)
    path.write_text(
        "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n" + rows
    )


DIM_HEADER = "condition,dimension,paper,fit,median_local_slope,fit_slope,fit_ci_low,fit_ci_high,"
DIM_HEADER += "n_images,images_used,resolution,steps,note\n"
DIM_A = 'cond_a,"1.61 [1.58, 1.64]",1.66,"1.7 [1.52, 1.88]",1.612,1.703,1.52,1.88,5,5,24x24,40,\n'
CONFIG = {
    "defaults": {"width": 8, "steps": 40},
    "conditions": {
        "cond_a": {"title": "tanh, full batch", "activation": "tanh"},
        "cond_b": {"title": EVIL, "activation": "relu"},
    },
    "engine": {"name": "fused", "dtype": "float64"},
}
PATTERNS = {
    "sweep_tile": "{condition}/{grid}/sweep_{i}_{j}.tsv",
    "dimension": "{condition}/dimension.tsv",
    "zoom_video": "{condition}/zoom/video.tsv",
}


@pytest.fixture
def fake_results(tmp_path):
    """Two conditions (one with a zoom video), one follow-up figure, a toy study, benchmarks."""
    res = tmp_path / "results"
    for name, act, shade in (("cond_a", "tanh", 60), ("cond_b", "relu", 160)):
        _grid(res / name / "overview.npz", act, seed=0 if name == "cond_a" else 7)
        _png(res / name / "overview.png", shade)
    (res / "cond_a" / "dimension.csv").write_text(DIM_HEADER + DIM_A)
    (res / "cond_b" / "dimension.csv").write_text(
        DIM_HEADER + f'cond_b,no boundary,,no boundary,,,,,1,0,24x24,40,"one phase only {EVIL}"\n'
    )
    _png(res / "cond_a" / "zoom_keyframes.png", 30)
    _mp4(res / "cond_a" / "zoom.mp4")
    _png(res / "figures" / "paper_conditions.png", 90)
    _png(res / "figures" / "activations.png", 120)
    _png(res / "figures" / "optimizers.png", 140)  # a group of the config, not the follow-up's
    _png(res / "toys" / "strip.png", 200)
    (res / "toys" / "strip.csv").write_text("loss,alpha\nmultiplicative,0.93\n")
    (res / "tables").mkdir()
    (res / "tables" / "fractal_dimensions.csv").write_text(DIM_HEADER + DIM_A)
    (res / "tables" / "activations.csv").write_text(f"activation,dimension\n{EVIL},1.25\n")
    bench = res / "benchmarks"
    _bench(bench / "cond_a" / "overview" / "sweep_0_0.tsv", 1.5, rss=150)
    _bench(bench / "cond_a" / "overview" / "sweep_1_0.tsv", 2.5, rss=250)
    _bench(bench / "cond_a" / "zoom" / "keyframe_00" / "sweep_0_0.tsv", 3.0)
    _bench(bench / "cond_a" / "dimension.tsv", 0.25)
    _bench(bench / "cond_b" / "dimension.tsv", 0.5, 1.5)  # repeat(): its mean, 1.0, counts
    _bench(bench / "cond_a" / "zoom" / "video.tsv", 0.75)
    _bench(bench / "toys" / "strip_3.tsv", 4.0)  # no pattern: named by its stem, "strip"
    return res


FAKE_INPUTS = {  # the fake tree's files, named as the report rule names them
    "cond_a.grid": "cond_a/overview.npz",
    "cond_a.overview": "cond_a/overview.png",
    "cond_a.dimension": "cond_a/dimension.csv",
    "cond_a.keyframes": "cond_a/zoom_keyframes.png",
    "cond_a.video": "cond_a/zoom.mp4",
    "cond_b.grid": "cond_b/overview.npz",
    "cond_b.overview": "cond_b/overview.png",
    "cond_b.dimension": "cond_b/dimension.csv",
    "figure.paper_conditions": "figures/paper_conditions.png",
    "figure.activations": "figures/activations.png",
    "figure.optimizers": "figures/optimizers.png",
    "toy_figure.strip": "toys/strip.png",
    "toy_table.strip": "toys/strip.csv",
    "table.fractal_dimensions": "tables/fractal_dimensions.csv",
    "table.activations": "tables/activations.csv",
}


def _build(res: Path, **kwargs) -> str:
    kwargs.setdefault("benchmark_dir", res / "benchmarks")
    kwargs.setdefault("benchmark_patterns", PATTERNS)
    kwargs.setdefault("webm", False)
    named = {key: res / path for key, path in FAKE_INPUTS.items()}
    inputs = named_inputs(named, condition_titles(CONFIG))
    out = build_report(inputs, CONFIG, res / "report.html", **kwargs)
    return out.read_text()


class _Collector(HTMLParser):
    """Tags, attributes, ids and section texts of a page."""

    def __init__(self):
        super().__init__()
        self.tags, self.ids, self.text = [], {}, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "id" in attrs:
            self.ids[attrs["id"]] = tag

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Collector:
    parser = _Collector()
    parser.feed(text)
    return parser


def _section(text: str, section_id: str) -> str:
    """The HTML of the <section> with ``section_id`` (up to the next condition/top section)."""
    start = text.index(f'id="{section_id}"')
    end = text.find("</section>", start)
    return text[start:end]


# --------------------------------------------------------------------------- library units


def test_sections_per_condition(fake_results):
    text = _build(fake_results)
    page = _parse(text)
    for section in ("methods", "conditions", "followup", "toys", "tables", "provenance"):
        assert page.ids.get(section) == "section", section
    a = _section(text, "condition-cond-a")
    assert "tanh, full batch" in a and a.count("<img ") == 2  # overview + keyframe strip
    assert "1.61" in a and "1.7" in a and "[1.52, 1.88]" in a and "1.66" in a  # paper beside
    assert "<video" in a and 'type="video/mp4"' in a
    assert (fake_results / "cond_a" / "zoom.mp4").read_bytes() == base64.b64decode(
        re.search(r'data:video/mp4;base64,([^"]+)"', a).group(1)
    )
    b = _section(text, "condition-cond-b")
    assert b.count("<img ") == 1 and "<video" not in b  # no zoom: no strip, no video
    assert "one phase only" in b and "—" in b  # NaN estimates shown as dashes, note kept
    assert "A relu network of width 8 and depth 2" in b and "seed 7" in b  # from its grid
    assert "by gradient descent on the full batch" in b and "log scale from 10^-1 to 10^4" in b
    # figures only when present: activations yes, the other follow-up figures no
    assert 'id="followup-activations"' in text and 'href="#table-activations"' in text
    for absent in ("architectures", "perturbations", "lyapunov"):
        assert f'id="followup-{absent}"' not in text
    # a group of the config's own (optimizers, the deep zoom) is filed beyond the papers, not
    # under the follow-up report's heading
    assert "optimizers" not in _section(text, "followup")
    assert 'id="extension-optimizers"' in _section(text, "extensions")
    assert 'id="toys-strip"' in text and "multiplicative" in text
    assert 'id="table-fractal-dimensions"' in text and 'id="table-activations"' in text
    # the methods table comes from the grids' metadata, the full config is printed
    methods = _section(text, "methods")
    assert "Engine: <code>fused</code>" in methods and "<code>0, 7</code>" in methods
    assert "&quot;conditions&quot;" in methods
    # every image is an inline PNG identical to its file
    images = [a["src"] for t, a in page.tags if t == "img"]
    assert len(images) == 7  # paper figure, 2 overviews, strip, activations, optimizers, toys
    paper = (fake_results / "figures" / "paper_conditions.png").read_bytes()
    decoded = [base64.b64decode(src.split(",", 1)[1]) for src in images]
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert all(d.startswith(b"\x89PNG\r\n\x1a\n") for d in decoded) and paper in decoded


def test_no_seeds_section_without_ensembles(fake_results):
    assert 'id="seeds"' not in _build(fake_results)


def test_text_is_escaped_and_nothing_external(fake_results):
    text = _build(fake_results)
    assert "<script" not in text.lower()  # EVIL appears in a title, a note and a table cell
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"
    assert text.count(escaped) >= 4  # title, ToC, note, activations table
    page = _parse(text)
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "iframe", "object", "embed")
        if "src" in attrs:
            assert attrs["src"].startswith("data:"), tag
        if "href" in attrs:
            assert tag == "a" and (attrs["href"].startswith(("#", "https://arxiv.org/"))), attrs
    csp = next(a for t, a in page.tags if t == "meta" and a.get("http-equiv"))
    assert "default-src 'none'" in csp["content"]


def test_provenance_fields(fake_results):
    text = _build(fake_results, repo_dir=fake_results)  # not a git checkout
    prov = _section(text, "provenance")
    assert re.search(r"git commit</th><td><code>unknown<", prov)
    canonical = json.dumps(CONFIG, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode()).hexdigest() in prov
    assert provenance.config_hash(CONFIG) != provenance.config_hash({**CONFIG, "engine": {}})
    import jax
    import matplotlib
    import snakemake as sm

    for name, version in (
        ("jax", jax.__version__),
        ("numpy", np.__version__),
        ("matplotlib", matplotlib.__version__),
        ("snakemake", sm.__version__),
        ("trainability", "0.1.0"),
    ):
        assert f"{name} version</th><td><code>{version}</code>" in prov
    assert f"cpu count</th><td><code>{os.cpu_count()}</code>" in prov
    assert "platform</th>" in prov
    commit = provenance.git_commit(REPO)
    if shutil.which("git") and (REPO / ".git").exists():
        assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", commit)
    else:
        assert commit == "unknown"


def test_benchmark_times_are_summed_per_rule(fake_results):
    times = {t.rule: t for t in provenance.benchmark_times(fake_results / "benchmarks", PATTERNS)}
    assert set(times) == {"sweep_tile", "dimension", "zoom_video", "strip"}
    assert times["sweep_tile"].jobs == 3 and times["sweep_tile"].seconds == pytest.approx(7.0)
    assert times["sweep_tile"].max_seconds == pytest.approx(3.0)
    assert times["sweep_tile"].max_rss_mb == pytest.approx(250)
    assert times["dimension"].jobs == 2 and times["dimension"].seconds == pytest.approx(1.25)
    assert times["strip"].seconds == pytest.approx(4.0)
    ordered = [t.rule for t in provenance.benchmark_times(fake_results / "benchmarks", PATTERNS)]
    assert ordered == ["sweep_tile", "strip", "dimension", "zoom_video"]  # longest first
    text = _build(fake_results)
    assert 'id="total-seconds">13.0<' in text  # 7 + 1.25 + 0.75 + 4
    assert "0:00:13" in text
    assert provenance.benchmark_times(fake_results / "nowhere") == []


def test_inputs_are_named_or_refused(tmp_path):
    inputs = named_inputs(
        {"cond_b.grid": "b.npz", "figure.overviews": "o.png", "finished": ["x", "y"]},
        condition_titles(CONFIG),
    )
    assert [c.name for c in inputs.conditions] == ["cond_a", "cond_b"]  # the config's order
    assert inputs.conditions[0].files == {} and inputs.conditions[1].get("grid") == Path("b.npz")
    assert inputs.figure == {"overviews": Path("o.png")}
    for bad in ("cond_c.grid", "cond_a.movie", "figures.overviews", "overview"):
        with pytest.raises(ValueError, match=f"report input '{re.escape(bad)}' is none of"):
            named_inputs({bad: "f"}, condition_titles(CONFIG))


def test_benchmark_patterns_with_constraints_and_overlaps(tmp_path):
    """Snakemake inlines wildcard constraints ({w,regex}); the most literal pattern wins."""
    _bench(tmp_path / "toys" / "dimension.tsv", 2.0)  # Liu's study named "dimension"
    _bench(tmp_path / "cond_a" / "dimension.tsv", 1.0)
    _bench(tmp_path / "cond_a" / "zoom" / "keyframe_07" / "sweep_0_1.tsv", 3.0)
    _bench(tmp_path / "cond_a" / "zoom" / "keyframe_7" / "sweep_0_1.tsv", 5.0)  # no \d{2} match
    patterns = {
        "anything": "{a}/{b}.tsv",
        "dimension": "{condition,cond_a|cond_b}/dimension.tsv",
        "toy_study": "toys/{study,strip|dimension}.tsv",
        "sweep_tile": r"{condition,cond_a}/{grid,overview|zoom/keyframe_\d{2}}"
        r"/sweep_{i,\d+}_{j,\d+}.tsv",
    }
    times = {t.rule: t.seconds for t in provenance.benchmark_times(tmp_path, patterns)}
    assert times == {"toy_study": 2.0, "dimension": 1.0, "sweep_tile": 3.0, "anything": 5.0}


def test_written_atomically_and_replaced(fake_results):
    out = fake_results / "report.html"
    out.write_text("old")
    _build(fake_results)
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in fake_results.glob(".report*")] == []


def test_video_has_a_webm_source_first(fake_results):
    text = _build(fake_results, webm=True)
    sources = re.findall(r'<source src="data:(video/[a-z0-9]+);base64,([^"]+)"', text)
    assert [mime for mime, _ in sources] == ["video/webm", "video/mp4"]
    assert base64.b64decode(sources[0][1]).startswith(b"\x1a\x45\xdf\xa3")  # EBML (Matroska)


# --------------------------------------------------------------------------- the test study


@pytest.fixture(scope="module")
def study_report(test_study):
    """results/report.html of the test study (built by the default target, or here)."""
    html = test_study / "results" / "report.html"
    if not html.exists():
        snakemake(test_study, "--cores", "2", "results/report.html")
    return html


def test_report_in_a_real_browser(study_report, tmp_path):
    sync_playwright = playwright_or_skip()
    results = study_report.parent
    errors, external = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: None if r.url.startswith(("data:", "file:")) else external.append(r.url),
            )
            page.goto(study_report.as_uri(), wait_until="load")
            images = page.evaluate(
                "() => [...document.images].map(i => [i.alt, i.complete, i.naturalWidth])"
            )
            page.wait_for_function(
                "() => [...document.querySelectorAll('video')]"
                ".every(v => v.readyState >= 1 || v.networkState === 3)",  # 3: no playable source
                timeout=30_000,
            )
            videos = page.evaluate(
                "() => [...document.querySelectorAll('video')].map(v => "
                "[v.getAttribute('aria-label'), v.duration, v.error && v.error.code,"
                " v.currentSrc.slice(0, 16)])"
            )
            # each encoding on its own, so a broken WebM cannot hide behind a working MP4
            sources = page.evaluate(
                """async () => Promise.all([...document.querySelectorAll('video source')].map(
                    s => new Promise(done => {
                        const v = document.createElement('video');
                        v.onloadedmetadata = () => done([s.type, v.duration]);
                        v.onerror = () => done([s.type, -1]);
                        v.src = s.src;
                    })))"""
            )
            # a still frame from the middle of each zoom for the screenshot (decodes, too)
            page.evaluate(
                """async () => Promise.all([...document.querySelectorAll('video')].map(
                    v => new Promise(done => {
                        v.pause();
                        v.onseeked = done;
                        v.currentTime = v.duration / 2;
                    })))"""
            )
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    shutil.copyfile(tmp_path / "report.png", results / "report_screenshot.png")

    n_png = sum(1 for _ in results.glob("*/overview.png"))  # every condition's overview
    assert len(images) >= n_png + 1, images
    assert all(complete and width > 0 for _, complete, width in images), images
    n_mp4 = sum(1 for _ in results.glob("*/zoom.mp4"))
    assert len(videos) == n_mp4 >= 1
    assert all(duration > 0 and not err for _, duration, err, _ in videos), videos
    assert sources and all(duration > 0 for _, duration in sources), sources
    assert errors == [] and external == []
    assert iio.imread(tmp_path / "report.png").shape[0] > 900


def test_study_report_content(study_report, test_study):
    text = study_report.read_text()
    results = test_study / "results"
    for condition in ("tanh_fullbatch", "tanh_minibatch"):
        assert f'id="condition-{slug(condition)}"' in text
    assert 'id="table-fractal-dimensions"' in text
    seeds = _section(text, "seeds")  # the test study's two seed ensembles, not conditions
    assert "tanh, per-pixel seeds (24x24, per pixel (both))" in seeds and "(2 seeds)" in seeds
    assert "<img" in seeds and 'id="seeds-members"' in seeds
    assert 'id="condition-tanh-seeds"' not in text
    resolution = _section(text, "resolution")  # resolution_study.report: true in the test config
    assert "<img" in resolution and 'href="#table-resolution-summary"' in resolution
    assert 'id="table-refinement-check"' in text
    assert 'id="extension-resolution-study"' not in text  # not filed as a condition group
    prov = _section(text, "provenance")
    assert 'id="runtimes"' in prov and "sweep_tile</td>" in prov and "dimension</td>" in prov
    total = sum(t.seconds for t in provenance.benchmark_times(results / "benchmarks"))
    shown = float(re.search(r'id="total-seconds">([0-9.]+)<', prov).group(1))
    assert shown == pytest.approx(total, abs=0.06)


class _Tables(HTMLParser):
    """The cells' text of every table with an id (rows of the body, keyed by the header)."""

    def __init__(self):
        super().__init__()
        self.tables, self._id, self._row, self._cell = {}, None, None, None
        self._header: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._id, self._header = attrs["id"], []
            self.tables[self._id] = []
        elif tag == "tr" and self._id:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if not self._header:
                self._header = self._row
            else:
                self.tables[self._id].append(dict(zip(self._header, self._row, strict=False)))
            self._row = None
        elif tag == "table":
            self._id = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _tables(text: str) -> dict[str, list[dict]]:
    parser = _Tables()
    parser.feed(text)
    return parser.tables


def _shown(cell: str) -> str:
    """A CSV cell as the report must show it: 3 significant figures, blank as a dash."""
    if cell == "":
        return "—"
    try:
        return cell if re.fullmatch(r"[+-]?\d+", cell) else f"{float(cell):.3g}"
    except ValueError:
        return cell


def test_study_report_numbers_are_the_results_files(study_report, test_study):
    """Dimensions, converged fractions, pixels, steps and run times on the page equal the
    grids, CSV tables and benchmark files of results/ (read here, not through the report)."""
    text = study_report.read_text()
    results = test_study / "results"
    tables = _tables(text)
    methods = {row["condition"]: row for row in tables["methods-conditions"]}
    for name in TEST_CONDITIONS:
        grid = load_grid(results / name / "overview.npz")
        row = methods[name]
        assert float(row["converged fraction"]) == pytest.approx(grid.converged.mean(), abs=5e-4)
        assert row["pixels"] == "{}×{}".format(*grid.values.shape[::-1])
        assert int(row["steps"]) == grid.meta["steps"]
        csv = read_table(results / name / "dimension.csv").iloc[0]
        section = _section(text, f"condition-{slug(name)}")
        cells = re.findall(r'<table class="dimension">.*?</table>', section)[0]
        values = re.findall(r'<td class="num">([^<]*)</td>', cells)
        assert values == [csv["dimension"], csv["fit"], _shown(csv["paper"])], name
        assert f"Box counting over {csv['images_used']} of {csv['n_images']} image(s)" in section
    # the study table, cell by cell
    frame = read_table(results / "tables" / "fractal_dimensions.csv")
    page = tables["table-fractal-dimensions"]
    assert len(page) == len(frame)
    for row, csv in zip(page, frame.to_dict("records"), strict=True):
        assert row == {column: _shown(cell) for column, cell in csv.items()}
    # run times: the benchmark files summed here with pandas, one job per file (mean of repeats);
    # those written after the report (targets other tests built since) are not in it
    built = study_report.stat().st_mtime
    benchmarks = [
        path
        for path in sorted((results / "benchmarks").rglob("*.tsv"))
        if path.stat().st_mtime <= built
    ]
    seconds = [pd.read_csv(path, sep="\t")["s"].mean() for path in benchmarks]
    runtimes = tables["runtimes"]
    footer = runtimes.pop()  # the tfoot row: total
    assert footer["rule"] == "total" and int(footer["jobs"]) == len(benchmarks)
    assert float(footer["total s"]) == pytest.approx(sum(seconds), abs=0.06)
    assert sum(int(r["jobs"]) for r in runtimes) == len(benchmarks)
    shown = sum(float(r["total s"]) for r in runtimes)  # each row rounded to 0.1 s
    assert shown == pytest.approx(sum(seconds), abs=0.05 * len(runtimes) + 1e-9)


def test_study_report_describes_each_condition_from_its_metadata(study_report, test_study):
    """No fixed words about conditions: the adam condition with a linear β2 axis is described
    as Adam on a linear axis, the gradient-descent ones as gradient descent on log axes."""
    text = study_report.read_text()
    assert "log10 axes" not in text and "by full-batch or minibatch gradient descent" not in text
    words = {"gd": "by gradient descent", "adam": "by Adam"}
    for name in TEST_CONDITIONS:
        cond = load_grid(test_study / "results" / name / "overview.npz").meta["condition"]
        section = _section(text, f"condition-{slug(name)}")
        sentence = re.search(r'<p class="settings">(.*?)</p>', section).group(1)
        assert words[cond["optimizer"]] in sentence, (name, sentence)
        assert [w for w in words.values() if w in sentence] == [words[cond["optimizer"]]]
        assert f"A {cond['activation']} network of width {cond['width']}" in sentence
        assert f"trained for {cond['steps']} steps" in sentence
        batch = cond["batch_size"]
        assert ("the full batch" if batch is None else f"minibatches of {batch}") in sentence
        scales = {cond["x_scale"], cond["y_scale"]}
        assert ("linear scale" in sentence) == ("linear" in scales)
        assert ("log scale" in sentence) == ("log" in scales)
    adam = _section(text, "condition-adam-beta2")
    assert "by Adam (beta1 0.9, adam_eps 1e-08; beta2 on the y axis)" in adam
    assert "y: Adam β2 (beta2), linear scale from 0.5 to 0.999" in adam
    assert "x: Learning rate (lr), log scale from 10^0 to 10^2.5" in adam


def test_snakemake_zip_report(study_report, test_study, tmp_path):
    out = tmp_path / "report.zip"
    result = snakemake(test_study, "--report", str(out))
    # docutils renders the captions (workflow/report/*.rst): none of its complaints, e.g. an
    # |absolute value| read as an undefined substitution, on the console or on the page
    complaint = re.compile(r"\((?:ERROR|WARNING|SEVERE)/\d\)|System Message|Undefined substitution")
    assert not complaint.search(result.stderr), result.stderr[-2000:]
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
    assert "report/report.html" in names  # Snakemake's page, and ours among the results
    assert any(n.startswith("report/data/raw/") and n.endswith("/report.html") for n in names)
    for expected in ("overview.png", "paper_conditions.png", "zoom.mp4", "fractal_dimensions.csv"):
        assert any(n.endswith(expected) for n in names), expected
    with zipfile.ZipFile(out) as archive:
        page = archive.read("report/report.html").decode()
    assert "Reproduction of J. Sohl-Dickstein" in page  # workflow/report/workflow.rst
    assert not complaint.search(page)
