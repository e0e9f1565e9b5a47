"""Measure the chaos floor of each golden grid and write tests/data/golden/floors.json.

    PYTHONPATH=workflow python tests/data/measure_floors.py

For every golden grid (tests/data/make_golden.py) the library's sweep recomputes it with the
``fused`` (default) and the ``autodiff`` engine, exactly as tests/test_golden.py does; this
script counts the labels that differ from the independent reference and records the largest
relative value gap on the insensitive pixels. The allowance of a grid is the larger count plus a
margin of max(1, ⌈5 % of its sensitive pixels⌉): chaotic pixels may flip on another machine
or XLA build, and the margin keeps such flips from failing the test while any systematic change
of the model (which moves many labels, or any insensitive value) still does.
"""

from __future__ import annotations

import json
import math
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/
sys.path.insert(0, str(HERE))  # tests/data/

import test_golden  # noqa: E402
from make_golden import versions  # noqa: E402


def main() -> None:
    grids = {}
    for name in test_golden.NAMES:
        golden = test_golden.load(name)
        entry = {}
        for engine in test_golden.ENGINES:
            _, grid = test_golden.recompute(golden, engine)
            differ, compared, gap = test_golden.compare(golden, grid)
            entry[engine] = differ
            entry[f"max_rel_value_diff_{engine}"] = gap
            entry["insensitive_pixels_compared"] = compared
        sensitive = int((golden["sensitivity"] > test_golden.INSENSITIVE).sum())
        entry["sensitive_pixels"] = sensitive
        margin = max(1, math.ceil(0.05 * sensitive))
        entry["allowed"] = max(entry[e] for e in test_golden.ENGINES) + margin
        grids[name] = entry
        print(name, entry)
    out = {
        "comment": (
            "Chaos floors of the golden grids: for each grid, how many of its labels the "
            "library's fused and autodiff engines (tests/test_golden.py's recompute) give "
            "differently from the independent reference that made the grid; 'allowed' = the "
            "larger count + max(1, ceil(5% of the grid's sensitive pixels)). "
            "max_rel_value_diff_*: the largest relative value gap over the insensitive pixels "
            "(sensitivity <= 1e-8) whose labels agree. Written by tests/data/measure_floors.py."
        ),
        "measured_with": {
            **versions(),
            "machine": platform.machine(),
            "python": platform.python_version(),
        },  # fmt: skip
        "grids": grids,
    }
    (test_golden.GOLDEN / "floors.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
