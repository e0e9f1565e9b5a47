"""The paper's own figure: its networks, its published windows, zooms that arrive at them."""

import math
import re

import numpy as np
import pytest
import yaml
from conftest import REPO

from trainability.core.window import Window
from trainability.study.config import ConfigError, load_study
from trainability.train.sweep import Engine, sweep
from trainability.zoom.paths import concentric_path, levels_for_depth

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
STUDY = load_study(CONFIG, SCHEMA)[1]
PANELS = {name: s for name, s in STUDY.items() if s.panel is not None}


def documented_windows() -> list[dict]:
    """The table of docs/paper_windows.md, row by row."""
    rows = []
    for line in (REPO / "docs" / "paper_windows.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and re.fullmatch(r"[\d.]+", cells[1]):
            rows.append({
                "edges": [float(c) for c in cells[1:5]],
                "steps": int(cells[6]), "paper": float(cells[7]),
            })  # fmt: skip
    return rows


def test_the_six_panels_are_the_documented_windows_in_the_papers_order():
    docs = documented_windows()
    assert len(docs) == len(PANELS) == 6
    for doc, (name, study) in zip(docs, PANELS.items(), strict=True):
        entry = CONFIG["conditions"][name]
        assert entry["panel"]["edges"] == doc["edges"], name
        assert study.condition.steps == doc["steps"] and entry["paper_dimension"] == doc["paper"]
        x0, x1, y0, y1 = (math.log10(v) for v in doc["edges"])
        assert study.panel.bounds == (x0, x1, y0, y1)


def test_the_published_tanh_window_holds_both_phases_only_with_the_papers_draws():
    study = PANELS["tanh_fullbatch"]
    window = Window.square(study.panel.bounds, 32)
    paper = sweep(study.condition, window, Engine(threads=2)).converged.mean()
    assert 0.4 < paper < 0.7  # 0.55: the swirls of the paper's panel
    today = sweep(study.condition.replace(draws="partitionable"), window, Engine(threads=2))
    assert today.converged.all()  # today's JAX draws a network with no boundary here


@pytest.mark.parametrize("name", list(PANELS))
def test_the_concentric_zoom_ends_exactly_at_the_published_window(name):
    panel = PANELS[name].panel.bounds
    path = concentric_path(panel, 6.0)
    assert path.bounds[-1] == panel  # bit for bit
    assert 6.0 <= path.width(0) < 12.0  # the paper's rule: the first doubling >= 6 decades
    for k in range(path.levels - 1):
        assert path.width(k) == pytest.approx(2 * path.width(k + 1), rel=1e-9)
        outer, inner = path.bounds[k], path.bounds[k + 1]
        assert outer[0] < inner[0] < inner[1] < outer[1]
        assert outer[2] < inner[2] < inner[3] < outer[3]
    assert np.ptp(np.array(path.centres), axis=0).max() < 1e-15


def test_a_zoom_that_stops_above_its_panel_is_refused():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["conditions"]["relu_fullbatch"]["zoom"] = {"depth": 3}
    with pytest.raises(ConfigError) as err:
        load_study(config, SCHEMA)
    message = str(err.value)
    assert "relu_fullbatch" in message and "raise zoom.depth to at least 6.622" in message
    assert "\n" not in message
    config["conditions"]["relu_fullbatch"]["zoom"] = {"depth": 6.622}
    zoom = load_study(config, SCHEMA)[1]["relu_fullbatch"].zoom
    assert zoom.target == "panel" and zoom.levels == levels_for_depth(6.622) == 23
