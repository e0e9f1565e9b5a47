"""The cost plan against the clock: a tiny study priced by `trainability.study.plan` and then
timed on this machine, side by side in one run.

    python benchmarks/plan.py

Calibrates (`trainability.study.calibration`), prices the study's sweep jobs, then times them in
this process, each compiling afresh as a job without the compilation cache would (the plan then
counts a compilation per job); CPU times on both sides, so other work on the machine matters
less. Prints predicted, measured and their ratio, which docs/cost.md expects within a factor 2
(it was a test before; a timing belongs here, not in the suite, where a loaded machine made it
flaky), and the load average.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from trainability.numerics import compile_cache
from trainability.study.calibration import calibrate
from trainability.study.config import load_study
from trainability.study.plan import estimate
from trainability.train import sweep as sweeping

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
TINY = {
    "defaults": {"width": 8, "steps": 200, "window": [-1, 4, 0, 4], "resolution": 40},
    "conditions": {
        "overview": {},
        "minibatch": {"batch_size": 8, "resolution": 32},
        "deep": {"window": [0.0, 0.02, 1.775, 1.795], "resolution": 32},  # at the boundary
    },
}


def main() -> None:
    os.environ[compile_cache.ENV] = "off"  # the plan: one compilation per job
    os.environ.setdefault("TRAINABILITY_CALIBRATION", str(Path(tempfile.mkdtemp()) / "cal.json"))
    load = os.getloadavg()[0]
    with compile_cache.suspended():  # no compiled step loaded from disk, as before the cache
        config, study = load_study(TINY, SCHEMA)
        cal = calibrate(config["engine"])
        plan = estimate(config, study, cal, "benchmark")
        predicted = sum(plan.train_seconds(w) + w.compiles * cal.compile_s for w in plan.works)
        engine = sweeping.Engine(chunk=sweeping.default_chunk())
        measured = 0.0
        for sc in study.values():
            for i in range(sc.tiles[0]):
                for j in range(sc.tiles[1]):
                    sweeping.forget_compiled()
                    start = time.process_time()
                    sweeping.sweep(sc.condition, sc.window, engine, tile=(i, j), tiles=sc.tiles)
                    measured += time.process_time() - start
    print(f"load average before: {load:.1f}, after: {os.getloadavg()[0]:.1f}")
    print(f"predicted {predicted:.2f} CPU-s, measured {measured:.2f} CPU-s, "
          f"ratio {predicted / measured:.2f} (docs/cost.md: within 0.5-2)")  # fmt: skip


if __name__ == "__main__":
    main()
