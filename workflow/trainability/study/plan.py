"""The cost of a study before it runs: pixel-steps, CPU time, memory per job, output size.

`workloads` lists every grid a study computes — overviews, zoom searches and keyframes, the
Lyapunov grid, Liu's toy sweeps — as `Work` items, in one place: a new kind of grid is one
more entry there. `estimate` prices them with a `Calibration` (this machine's throughput,
measured once by `calibrate` and cached, or the built-in fallback) and `check` refuses, in one
sentence, a study over its budget (``budget.core_hours``), a job over the memory limit
(``budget.memory_gib``, default this machine's memory) or a grid past a hard arithmetic limit.

**Time** (`trainability.study.calibration` has the model): each grid's training at this machine's
measured throughput for its regime and network size, plus a start-up per job and a
compilation per sweeping job.

**Memory** of a job: the measured resident size of a job process after one compilation, plus
its arrays: a sweep job holds 64 B per pixel of its tile (coordinates, indices, results), the
data set and minibatch indices, and a block of up to `Engine.block` pixels' weights and
optimizer state; a job that merges, draws or measures whole grids holds 128 B per pixel of
the grid it is drawing and 16 B per pixel of every other grid it has loaded (the zoom's
strip, video and dimension load all keyframes). Measured on this machine: drawing and box
counting a 1024² grid peaks at ~77 B per pixel above the loaded grid.

**Output**: the uncompressed size of the grid files (13 B per pixel: values, labels, step of
divergence) written twice (tiles and merged grid), plus 3 B per pixel for keyframe images
— an upper bound; `.npz` files are compressed.

**Wall time** on C cores: max(CPU time / C, the longest chain of jobs that must run one after
another), i.e. perfect packing; a zoom's search runs before its keyframes.

**float64x2** (``engine.dtype`` float64x2, or auto): every sweep is priced at its arithmetic's
factor times its float64 cost (`float64x2_factor`: `PERTURBATION_FACTOR` where
``engine.arithmetic`` takes perturbation for the condition, else `FLOAT64X2_FACTOR` for
double-double), figures measured once (docs/precision.md), not by the calibration, which always
times float64; under auto this is an upper bound (windows float64 resolves run in float64). A
zoom's search and keyframes follow ``zoom.dtype`` (by default the engine's) the same way.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from trainability.core.condition import DIGITS_CLASSES, DIGITS_SIDE, Condition
from trainability.core.engine import ARITHMETICS
from trainability.core.fields import from_arguments
from trainability.core.machine import machine_memory
from trainability.core.precision import PERTURBATION, unsupported
from trainability.core.window import Window
from trainability.numerics import compile_cache
from trainability.study.calibration import (
    FALLBACK,
    OVERVIEW_WINDOW,
    Calibration,
    as_float,
    cache_path,
    calibrate,
    load_calibration,
    network_size,
    save_calibration,
)
from trainability.study.config import ConfigError, StudyCondition, resolution_grids
from trainability.train.optimizers import state_arrays
from trainability.zoom.paths import POINT_PIXELS, panel_levels

REGIME_WIDTH = 1.0  # decades: a window narrower than this on a log axis is "deep"
LYAPUNOV_FACTOR = 16.0  # twin run ~7x and tangent run ~3-7x a sweep's step (width 8 and 16)
# engine.dtype float64x2 (or auto): a double-double pixel-step costs ~100x a float64 one on this
# machine (benchmarks/precision.py, docs/precision.md); not calibrated (a calibration would take
# hours), and under auto every sweep is priced so: an upper bound, as the plan's header says
FLOAT64X2_FACTOR = 100.0
# engine.arithmetic perturbation: 2.0-2.6x float64 per pixel-step, 3.0-3.4x with the reference
# run of small windows (CPU time, benchmarks/precision.py, docs/precision.md); 4x leaves room
# for the reference runs of small keyframes and for pixels computed again in double-double
PERTURBATION_FACTOR = 4.0
# the generic path (`trainability.train.arithmetics.generic`: jax.grad, per-pixel optax, vmap;
# the cnn's patch products) against the fused mlp's hand-written step at the same work
# (N × forward multiply-accumulates, `Condition.forward_macs`): CPU seconds per pixel-step of
# each network at its defaults over the calibration's price of that work, measured once on this
# machine (docs/cost.md; benchmarks/real_networks.py --plan checks a grid against the plan)
GENERIC_FACTORS = {"mlp": 1.2, "cnn": 8.0, "transformer": 3.8}
BISECTION_POINTS = 17  # pixels per level of a boundary search (trainability.zoom.boundary)
LYAPUNOV_COMPILES = 3  # the sweep, the twin run and the tangent run
TOY_COMPILES = 3  # shape buckets of a toy study's sweeps
NOISE_PIXELS = 2**32  # per-pixel noise keys fold in the pixel index as uint32
STEP_LIMIT = 2**31  # the step of divergence is stored as int32
DEFAULT_CORE_HOURS = 96.0  # "what a laptop does in a day": 4 cores for 24 hours

SWEEP_JOB_BYTES = 64  # per pixel of a sweep job's tile
GRID_JOB_BYTES = 128  # per pixel of the grid a merge/draw/measure job works on
HELD_GRID_BYTES = 16  # per pixel of every other grid such a job has loaded
GRID_FILE_BYTES = 13  # per pixel of a grid file, uncompressed
IMAGE_BYTES = 3  # per pixel of a keyframe image, uncompressed
TOY_BYTES = 48  # per (learning rate, coordinate) of a toy sweep


# ------------------------------------------------------------------------------------ work


@dataclass(frozen=True)
class Work:
    """Grids of one kind computed for one owner (a condition, ``lyapunov``, a toy study), with
    what they cost besides time: ``jobs`` Snakemake jobs (each pays a start-up), ``compiles``
    compilations, ``job_bytes`` above a job's baseline in the largest of them, and
    ``output_bytes`` written."""

    owner: str
    kind: str
    pixels: int = 0  # of one grid (toys: learning rates x coordinates)
    steps: int = 0
    regime: str = "none"  # overview, deep, toy, or none (no training)
    size: int = 1  # network work of one pixel-step, N_eff x parameters
    grids: int = 1
    job_pixels: int = 0  # pixels one job sweeps (a tile); 0 = the whole grid
    factor: float = 1.0
    jobs: int = 1
    compiles: int = 0
    job_bytes: float = 0
    output_bytes: float = 0
    noise: bool = False  # draws per-pixel noise from the pixel index
    serial: bool = False  # runs before the owner's other work (a zoom's search)
    where: str = "the study"  # the config key that names the owner, for messages
    remedy: str = "lower its resolution"  # how to shrink its largest job

    @property
    def pixel_steps(self) -> int:
        return self.grids * self.pixels * self.steps


def float64x2_factor(cond: Condition, arithmetic: str) -> float:
    """Price of a float64x2 pixel-step in float64 pixel-steps under ``engine.arithmetic``."""
    perturbed = arithmetic != "doubledouble" and unsupported(cond, "fused", PERTURBATION) is None
    return PERTURBATION_FACTOR if perturbed else FLOAT64X2_FACTOR


def workloads(config: dict, study: dict[str, StudyCondition]) -> list[Work]:
    """Every grid the study computes, and every job it runs (one place; see module doc)."""
    works: list[Work] = []
    engine = config.get("engine", {})
    extended = engine.get("dtype") in ("float64x2", "auto")
    for name, sc in study.items():
        named = (sc.ensemble or name) in config["conditions"]
        arithmetic = engine.get("arithmetic", ARITHMETICS[0])
        factor = float64x2_factor(sc.condition, arithmetic)
        for work in _condition_work(name, sc, named, factor):
            zoomed = work.kind in ("zoom search", "keyframes")  # priced by zoom.dtype
            if extended and not zoomed and work.regime in ("overview", "deep"):
                work = replace(work, factor=work.factor * factor)
            if sc.condition.generic and work.regime in ("overview", "deep"):
                work = _generic_work(work, sc.condition)
            works.append(work)
    followup = config.get("followup")
    if followup is not None:
        lyap = followup["lyapunov"]
        base = {k: v for k, v in followup["base"].items() if k in Condition.__dataclass_fields__}
        try:  # the Lyapunov grid is the base condition itself, at its own resolution
            cond = Condition(**base)
            window = Window.square(
                followup["base"].get("window", OVERVIEW_WINDOW), lyap["resolution"]
            )
            window.axes()  # the float64 guard
        except ValueError as err:
            raise ConfigError(f"config error at followup.lyapunov: {err}") from None
        pixels = window.nx * window.ny
        works.append(
            Work(
                "lyapunov",
                "lyapunov",
                pixels,
                cond.steps,
                "deep",
                network_size(cond),
                factor=LYAPUNOV_FACTOR,
                compiles=LYAPUNOV_COMPILES,
                job_bytes=_sweep_job_bytes(cond, pixels) + pixels * GRID_JOB_BYTES,
                output_bytes=2 * pixels * (GRID_FILE_BYTES - 4),
                noise=True,
                where="followup.lyapunov",
            )
        )
    for study_name, settings in config.get("toys", {}).items():
        works.append(_toy_work(study_name, settings))
    if (config.get("resolution_study") or {}).get("report"):  # in the default target: its
        works += [w for w in resolution_workloads(config, study) if w.kind != "panel"]  # panels
        # at their own resolution are the default study's already
    families = {sc.family for sc in study.values() if sc.family is not None and not sc.ensemble}
    paper_figure = int(any(sc.panel is not None for sc in study.values()))
    ensembles = int(any(sc.ensemble is not None for sc in study.values()))
    works.append(  # family figures, the paper's figure, the overviews, table, report, `all`,
        Work(  # the seed ensembles' table
            "figures",
            "figures, tables, report",
            grids=0,
            jobs=len(families) + 4 + paper_figure + ensembles,
        )
    )
    return works


def resolution_workloads(config: dict, study: dict[str, StudyCondition]) -> list[Work]:
    """Every grid and job of the named target ``resolution_study`` (`resolution_grids`): each
    panel at each resolution (tiles and a merge; the panel's own grid where the resolution is
    its own), the checks of the label-only grids (``labels_only.check`` tiles swept in full,
    one job each grid) and the table job. A label-only grid is priced as a full sweep: an upper
    bound (it computes ~(n/stride)^D cells' pixels, D unknown before it runs)."""
    if not config.get("resolution_study"):
        raise ConfigError("config error: this config has no resolution_study section to price")
    entry = config["resolution_study"]
    tiles = tuple(entry.get("tiles", (1, 1)))
    labels = entry.get("labels_only") or {}
    engine = config.get("engine", {})
    extended = engine.get("dtype") in ("float64x2", "auto")
    arithmetic = engine.get("arithmetic", ARITHMETICS[0])
    works = []
    for name, grids in resolution_grids(config, study).items():
        sc, where = study[name], f"conditions.{name}"
        cond = sc.condition
        factor = float64x2_factor(cond, arithmetic) if extended else 1.0
        mine = []
        for g in grids:
            n = g["resolution"]
            owner, window = f"{name} at {n}²", Window.square(sc.panel.bounds, n)
            if n == sc.panel.nx and not g["refine"]:  # the panel itself: tiles and merge
                work = _tiled_grid(owner, "panel", cond, sc.panel, sc.panel_tiles, 1, False,
                                   f"{where}.panel", "panel")  # fmt: skip
            else:
                kind = f"panel {n}²" + (" label-only" if g["refine"] else "")
                work = _tiled_grid(owner, kind, cond, window, tiles, 1, False,
                                   "resolution_study", "resolution_study")  # fmt: skip
            mine.append(replace(work, factor=factor))
            if g["refine"]:  # sampled tiles swept in full against the label-only grid
                side = -(-n // labels["check_tiles"])
                mine.append(
                    Work(
                        owner,
                        "check of the labels",
                        min(labels["check"], labels["check_tiles"] ** 2) * side * side,
                        cond.steps,
                        window_regime(cond, window),
                        network_size(cond),
                        factor=factor,
                        compiles=1,
                        job_bytes=n * n * GRID_JOB_BYTES,
                        noise=_noisy(cond),
                        where="resolution_study.labels_only",
                    )
                )
        works += [_generic_work(w, cond) for w in mine] if cond.generic else mine
    works.append(Work("resolution_study", "table, summary, figure", grids=0, jobs=1))
    return works


def _generic_work(work: Work, cond: Condition) -> Work:
    """A grid of the generic path: its network's factor (`GENERIC_FACTORS`), and every pixel
    trained to the last step (the deep regime's live = 1): its losses, a cross-entropy
    above all, seldom turn non-finite, the only thing that retires a pixel early there."""
    return replace(work, regime="deep", factor=work.factor * GENERIC_FACTORS[cond.model])


def _compilations(jobs: int) -> int:
    """Compilations paid by ``jobs`` sweep jobs of one grid (one condition, one compiled step):
    one each, unless the persistent compilation cache is on (`trainability.numerics.compile_cache`):
    then the first job compiles and stores the step and the others load it."""
    return min(jobs, 1) if compile_cache.cache_dir() is not None else jobs


def _tiled_grid(name, kind, cond, window, tiles, jobs_besides_tiles, image, where, whose) -> Work:
    """One grid swept in ``tiles`` jobs plus ``jobs_besides_tiles`` (merge, drawing, ...)."""
    pixels = window.nx * window.ny
    ti, tj = tiles
    tile = -(-window.ny // ti) * -(-window.nx // tj)
    return Work(
        name,
        kind,
        pixels,
        cond.steps,
        window_regime(cond, window),
        network_size(cond),
        job_pixels=tile,
        jobs=ti * tj + jobs_besides_tiles,
        compiles=_compilations(ti * tj),
        job_bytes=max(_sweep_job_bytes(cond, tile), pixels * GRID_JOB_BYTES),
        output_bytes=pixels * (2 * GRID_FILE_BYTES + (IMAGE_BYTES if image else 0)),
        noise=_noisy(cond),
        where=where,
        remedy=_remedy(_sweep_job_bytes(cond, tile), pixels * GRID_JOB_BYTES, whose),
    )


def _condition_work(name: str, sc: StudyCondition, named: bool, factor: float) -> list[Work]:
    cond = sc.condition
    where = f"conditions.{sc.ensemble or name}" if named else f"followup (condition {name})"
    size, noisy = network_size(cond), _noisy(cond)
    # overview: tiles, merge, dimension, and the heatmap of a named condition (not a seed's)
    drawn = named and sc.ensemble is None
    works = [
        _tiled_grid(name, "overview", cond, sc.window, sc.tiles, 2 + drawn, False, where, "its")
    ]
    if sc.panel is not None:  # panel: tiles, merge, heatmap
        works.append(
            _tiled_grid(name, "panel", cond, sc.panel, sc.panel_tiles, 2, True, f"{where}.panel",
                        "panel")  # fmt: skip
        )
    zoom = sc.zoom
    if zoom is None:
        return works
    shrink = 2.0**zoom.doublings
    if zoom.target == "panel":  # concentric down to the panel, searched below it
        above = panel_levels(sc.panel.bounds, zoom.outer_width)
        outer = (sc.panel.x_max - sc.panel.x_min) * 2.0**above
        widths = [outer / 2.0**k for k in range(zoom.levels)]
        search = widths[above:-1]
    else:
        widths = [zoom.outer_width / shrink**k for k in range(zoom.levels)]
        search = widths[:-1] if zoom.target == "auto" else []
        if zoom.target == "boundary":  # bisection rows of 17 pixels, 16x narrower each
            finest = widths[-1] / (POINT_PIXELS * (zoom.resolution - 1))
            rows = math.ceil(math.log(zoom.outer_width / finest, BISECTION_POINTS - 1))
            search = [zoom.outer_width / (BISECTION_POINTS - 1) ** k for k in range(rows)]
    search_pixels = BISECTION_POINTS if zoom.target == "boundary" else zoom.search_resolution**2
    # zoom.dtype float64x2 or auto: every sweep at its arithmetic's factor (auto: an upper bound)
    factor = factor if zoom.dtype in ("float64x2", "auto") else 1.0
    for regime in ("overview", "deep"):
        n = sum(1 for w in search if _width_regime(w) == regime)
        if n:
            works.append(
                Work(
                    name,
                    "zoom search",
                    search_pixels,
                    cond.steps,
                    regime,
                    size,
                    grids=n,
                    factor=factor,
                    jobs=0,
                    compiles=0,
                    job_bytes=_sweep_job_bytes(cond, search_pixels),
                    noise=noisy,
                    serial=True,
                    where=f"{where}.zoom",
                )
            )
    works.append(  # the path job (a search, or a fixed target written out)
        Work(name, "zoom path", grids=0, jobs=1, compiles=int(bool(search)), where=where)
    )
    kp = zoom.resolution * zoom.resolution
    zi, zj = zoom.tiles
    ktile = -(-zoom.resolution // zi) * -(-zoom.resolution // zj)
    for regime in ("overview", "deep"):
        n = sum(1 for w in widths if _width_regime(w) == regime)
        if n:
            works.append(
                Work(
                    name,
                    "keyframes",
                    kp,
                    cond.steps,
                    regime,
                    size,
                    grids=n,
                    factor=factor,
                    job_pixels=ktile,
                    jobs=n * (zi * zj + 1),  # tiles and merge of each keyframe
                    compiles=_compilations(n * zi * zj),
                    job_bytes=max(_sweep_job_bytes(cond, ktile), kp * GRID_JOB_BYTES),
                    output_bytes=n * kp * (2 * GRID_FILE_BYTES + IMAGE_BYTES),
                    noise=noisy,
                    where=f"{where}.zoom",
                    remedy=_remedy(_sweep_job_bytes(cond, ktile), kp * GRID_JOB_BYTES, "zoom"),
                )
            )
    works.append(  # keyframe strip and dimension plot, and the video: all keyframes loaded
        Work(
            name,
            "zoom figures",
            grids=0,
            jobs=2,
            job_bytes=kp * (GRID_JOB_BYTES + (zoom.levels - 1) * HELD_GRID_BYTES),
            where=f"{where}.zoom",
        )
    )
    return works


def _toy_work(study: str, s: dict) -> Work:
    lrs = 2 ** s["levels"] + 1
    if study == "strip":
        losses, dims = 1, [1]
    elif study == "roughness":
        losses, dims = 2 * s["eps"][2] * s["wavelength"][2], [1]
    elif study == "dimension":
        losses, dims = 2, list(s["dims"])
    elif study == "initial":
        losses, dims = 2 * s["samples"], [1]
    elif study == "two_cosines":
        losses, dims = s["eps1"][2] * s["eps2"][2], [1]
    else:
        raise ConfigError(f"config error at toys.{study}: no cost model for this toy study")
    total = losses * sum(dims)  # (loss, coordinate) pairs, one sweep each
    return Work(
        f"toys.{study}",
        "toy sweeps",
        lrs * total,
        s["steps"] + 1,
        "toy",
        grids=1,
        compiles=TOY_COMPILES,
        job_bytes=lrs * max(dims) * TOY_BYTES,
        output_bytes=lrs * 64 if study == "strip" else 0,
        where=f"toys.{study}",
    )


def _remedy(tile_bytes: int, grid_bytes: int, whose: str) -> str:
    """How to shrink the larger of a grid's tile jobs and its whole-grid jobs."""
    if tile_bytes > grid_bytes:
        return f"raise {whose} tiles, or lower {whose} resolution, the width or the steps"
    return f"lower {whose} resolution"


def window_regime(cond: Condition, window: Window) -> str:
    """``deep`` if the window is narrower than `REGIME_WIDTH` decades on a log axis."""
    widths = [
        hi - lo
        for lo, hi, scale in (
            (window.x_min, window.x_max, cond.x_scale),
            (window.y_min, window.y_max, cond.y_scale),
        )
        if scale == "log"
    ]
    return _width_regime(min(widths)) if widths else "overview"


def _width_regime(width: float) -> str:
    return "overview" if width >= REGIME_WIDTH else "deep"


def _noisy(cond: Condition) -> bool:
    return cond.epsilon > 0 or "epsilon" in cond.axis_names


def _sweep_job_bytes(cond: Condition, pixels: int) -> float:
    """Arrays of a sweep job over ``pixels`` pixels (module docstring)."""
    return sum(_sweep_arrays(cond, pixels, as_float(cond.n_data)).values())


def _sweep_arrays(cond, pixels: int, n_data: float, chunk: int = 128) -> dict[str, float]:
    """Bytes of a sweep's arrays by what sets their size: pixels (results, coordinates),
    network (a block of weights and optimizer state), data (the data set), steps (minibatch
    indices). ``cond`` may be any object with the Condition's size fields.

    A pixel of the block holds 2 + k arrays of float64 the size of its weights, k = the
    arrays its optimizer's state declares per weight matrix (`state_arrays`: 0 for gd, 1 for
    momentum and Nesterov, 2 for Adam), and 8·(depth + 8) bytes besides."""
    params, per_point = _sizes(cond)
    state = state_arrays(cond.optimizer)
    block = min(pixels, 8192) + chunk
    return {
        "pixels": as_float(pixels * SWEEP_JOB_BYTES),
        "network": as_float(block * (params * 8 * (2 + state) + 8 * (cond.depth + 8))),
        "data": 3 * 8 * n_data * per_point,
        "steps": as_float(8 * cond.steps * (cond.batch_size + 2) if cond.batch_size else 0),
    }


def _generic(cond) -> Condition | None:
    """The `Condition` of a condition or of the sweep's flags when it trains another network
    than the paper's mlp on gaussian data (its sizes come from its groups), else None."""
    if (getattr(cond, "model", "mlp"), getattr(cond, "data", "gaussian")) == ("mlp", "gaussian"):
        return None
    return cond if isinstance(cond, Condition) else from_arguments(Condition, cond)


def _sizes(cond) -> tuple[float, float]:
    """(parameters of one network, numbers per data point) of a condition or the flags."""
    full = _generic(cond)
    if full is not None:  # digits: 64 pixels and 10 one-hot targets per point
        return as_float(full.n_params), as_float(DIGITS_SIDE**2 + DIGITS_CLASSES)
    params = cond.width * cond.width * (cond.depth - 1) + cond.width * cond.target_dim
    return as_float(params), as_float(cond.width + cond.target_dim)


def check_sweep_size(args) -> None:
    """Refuse, naming the flags, a command-line sweep whose arrays cannot fit in this machine's
    memory or whose steps overflow the int32 step of divergence — before anything is built
    (a Condition of 10^20 layers would take forever to build)."""
    if args.steps >= STEP_LIMIT:
        raise ValueError(
            f"argument --steps: at most {STEP_LIMIT - 1:,} (the step of divergence is int32)"
        )
    nx, ny = (args.resolution * 2)[:2]
    if args.tile is not None:
        nx, ny = -(-nx // args.tiles[1]), -(-ny // args.tiles[0])
    width, target = args.width, args.target_dim
    params = width * width * (args.depth - 1) + width * target
    if _generic(args) is not None:  # its data are at most the 1797 digits
        n_data = as_float(_generic(args).n_data)
    elif args.dataset_size is not None:
        n_data = as_float(args.dataset_size)
    else:
        per = width if args.activation == "identity" else as_float(params) / as_float(target)
        n_data = args.dataset_ratio * per
    arrays = _sweep_arrays(args, nx * ny, n_data, args.chunk or 128)
    total, memory = sum(arrays.values()), machine_memory()
    if total > memory:
        lower = {
            "pixels": "--resolution (or compute it in parts with --tile and --tiles)",
            "network": "--width, --depth, --target-dim, --channels, --d-model or --chunk",
            "data": "--width, --dataset-ratio or --dataset-size",
            "steps": "--steps or --batch-size",
        }[max(arrays, key=arrays.get)]
        raise ValueError(
            f"this sweep needs about {_bytes(total)} of memory, more than this machine's "
            f"{_bytes(memory)}; lower {lower}"
        )


# -------------------------------------------------------------------------------- estimate


@dataclass(frozen=True)
class Plan:
    """A study's works priced with one calibration."""

    works: tuple[Work, ...]
    calibration: Calibration
    source: str  # where the throughput comes from, in words

    def train_seconds(self, work: Work) -> float:
        return self.calibration.seconds(work)

    def cpu_seconds(self, work: Work) -> float:
        """Training, compilations and job start-ups of a work, on one core."""
        cal = self.calibration
        return self.train_seconds(work) + work.compiles * cal.compile_s + work.jobs * cal.startup_s

    def memory(self, work: Work) -> int:
        return self.calibration.baseline_bytes + work.job_bytes

    @property
    def owners(self) -> list[str]:
        return list(dict.fromkeys(w.owner for w in self.works))

    def total_seconds(self) -> float:
        return sum(self.cpu_seconds(w) for w in self.works)

    def wall_seconds(self, cores: int) -> float:
        """Perfect packing on ``cores``, but never below the longest chain of jobs."""
        chain = 0.0
        for owner in self.owners:
            works = [w for w in self.works if w.owner == owner]
            serial = sum(self.cpu_seconds(w) for w in works if w.serial)
            longest = max(
                (self.cpu_seconds(w) / max(w.jobs, 1) for w in works if not w.serial),
                default=0.0,
            )
            chain = max(chain, serial + longest)
        return max(self.total_seconds() / max(cores, 1), chain)

    def rows(self) -> list[dict]:
        """Per owner: pixel-steps, CPU seconds, jobs, peak memory per job, output bytes."""
        rows = []
        for owner in self.owners:
            works = [w for w in self.works if w.owner == owner]
            rows.append(
                {
                    "owner": owner,
                    "grids": sum(w.grids for w in works if w.regime != "none"),
                    "jobs": sum(w.jobs for w in works),
                    "pixel_steps": sum(w.pixel_steps for w in works),
                    "seconds": sum(self.cpu_seconds(w) for w in works),
                    "memory": max(self.memory(w) for w in works),
                    "output": sum(w.output_bytes for w in works),
                }
            )
        return rows

    def table(self, cores: int) -> str:
        """The per-owner table and the totals (``plan``'s output)."""
        head = f"{'':34} {'grids':>6} {'jobs':>6} {'pixel-steps':>12} {'CPU time':>10}"
        head += f" {'mem/job':>9} {'output':>9}"
        lines = [head]
        for row in self.rows():
            lines.append(
                f"{row['owner'][:34]:34} {row['grids']:>6} {row['jobs']:>6} "
                f"{row['pixel_steps']:>12.3g} {_duration(row['seconds']):>10} "
                f"{_bytes(row['memory']):>9} {_bytes(row['output']):>9}"
            )
        return "\n".join([*lines, "", self.summary(cores)])

    def summary(self, cores: int, budget: dict | None = None) -> str:
        """A few lines: totals, wall time on ``cores``, the budget, the throughput's source."""
        works = self.works
        worst = max(works, key=self.memory)
        total = self.total_seconds()
        overhead = sum(w.jobs * self.calibration.startup_s for w in works)
        lines = [
            f"total: {sum(w.pixel_steps for w in works):.3g} pixel-steps in "
            f"{sum(w.jobs for w in works)} jobs, {total / 3600:.3g} core-hours of CPU time "
            f"({_duration(overhead)} of it job start-up); largest job {_bytes(self.memory(worst))}"
            f" ({worst.owner}, {worst.kind}); output up to "
            f"{_bytes(sum(w.output_bytes for w in works))}",
            f"wall time on {cores} core{'s' * (cores != 1)}: about "
            f"{_duration(self.wall_seconds(cores))}",
            f"throughput: {_rates(self.calibration)}; {self.source}",
        ]
        if self.calibration is FALLBACK:
            lines[-1] += " (`python -m trainability plan` measures them)"
        if budget is not None:
            limit = budget.get("memory_gib")
            memory = f"{limit:g} GiB" if limit else f"{_bytes(machine_memory())} (this machine)"
            lines.append(
                f"budget: {budget['core_hours']:g} core-hours (budget.core_hours), "
                f"{memory} per job (budget.memory_gib)"
            )
        return "\n".join(lines)

    def start_block(self, cores: int, budget: dict) -> str:
        """The block printed when a Snakemake run starts."""
        head = "cost of this study (whole study; finished outputs are skipped; docs/cost.md):"
        body = self.summary(cores, budget).splitlines()
        return "\n".join([head, *("  " + line for line in body)])


TARGETS = ("all", "resolution_study")  # what `plan --target` prices: `all` is the default target


def estimate(
    config: dict, study: dict, calibration: Calibration, source: str, target: str = "all"
) -> Plan:
    """The plan of ``target`` (`TARGETS`): the default study's, or the resolution study's."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}; got {target!r}")
    works = workloads(config, study) if target == "all" else resolution_workloads(config, study)
    return Plan(tuple(works), calibration, source)


def check(plan: Plan, config: dict) -> None:
    """Refuse, with one sentence naming the key, a study past a hard limit of the arithmetic,
    over its CPU-time budget, or with a job over the memory limit (in this order)."""
    for work in plan.works:
        if work.noise and work.pixels >= NOISE_PIXELS:
            raise ConfigError(
                f"config error in {work.where}: its {work.kind} grids have {work.pixels:.3g} "
                f"pixels, but per-pixel noise keys index pixels with 32 bits (at most "
                f"{NOISE_PIXELS - 1:,}); lower the resolution"
            )
        if work.steps >= STEP_LIMIT:
            raise ConfigError(
                f"config error in {work.where}: {work.steps:,} steps overflow the int32 step "
                f"of divergence (at most {STEP_LIMIT - 1:,}); lower steps"
            )
    budget = config.get("budget", {})
    hours = plan.total_seconds() / 3600
    allowed = budget.get("core_hours", DEFAULT_CORE_HOURS)
    if hours > allowed:
        top = max(plan.rows(), key=lambda row: row["seconds"])
        where = next(w.where for w in plan.works if w.owner == top["owner"])
        raise ConfigError(
            f"config error at budget.core_hours: the study needs about {_hours(hours)} "
            f"({sum(w.pixel_steps for w in plan.works):.3g} pixel-steps; throughput "
            f"{plan.source}), more than its budget of {allowed:g} "
            f"core-hours, {top['seconds'] / 3600 / hours:.0%} of it in {where}; raise "
            f"budget.core_hours to run it"
        )
    limit = budget.get("memory_gib")
    limit_bytes = limit * 2**30 if limit else machine_memory()
    worst = max(plan.works, key=plan.memory)
    if plan.memory(worst) > limit_bytes:
        whose = f"budget.memory_gib = {limit:g}" if limit else "this machine's memory"
        raise ConfigError(
            f"config error in {worst.where}: a job of its {worst.kind} needs about "
            f"{_bytes(plan.memory(worst))}, more than {whose} ({_bytes(limit_bytes)}); "
            f"{worst.remedy}, or raise budget.memory_gib if the jobs run on larger machines"
        )


def tile_backend(set_resources) -> str:
    """``gpu`` when Snakemake's set-resources give rule sweep_tile a GPU (profiles/slurm-gpu)."""
    tile = dict(set_resources or {}).get("sweep_tile") or {}
    return "gpu" if any(k in ("gpu", "gres", "gpus") for k in dict(tile)) else "cpu"


def check_study(config: dict, study: dict, backend: str = "cpu") -> Plan:
    """`check` with the cached calibration (or the fallback), never measuring: what a
    Snakemake start runs. Returns the plan for the start-up summary."""
    cal, source = load_calibration(config.get("engine", {}), backend)
    plan = estimate(config, study, cal, source)
    check(plan, config)
    return plan


# ------------------------------------------------------------------------------ the verb


def run_plan(args) -> None:
    """``python -m trainability plan``: print the cost table; refuse like Snakemake would."""
    import yaml

    from trainability.study.config import load_study

    path = Path(args.configfile)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        why = getattr(err, "strerror", None) or "not UTF-8 text"
        raise ValueError(f"argument --configfile: cannot read {str(path)!r}: {why}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "not YAML"
        raise ValueError(
            f"argument --configfile: {path} is not valid YAML{where}: {problem}"
        ) from None
    schema = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"
    config, study = load_study(raw, schema)
    engine = config.get("engine", {})
    backend = "gpu" if args.gpu else _local_backend()
    cal, source = load_calibration(engine, backend)
    if args.recalibrate or (source.startswith("built-in") and not args.no_calibrate):
        if backend != _local_backend():
            raise ValueError(
                f"argument --gpu: this machine has no {backend.upper()} to measure; run "
                f"`python -m trainability plan --recalibrate` on a GPU node first"
            )
        print("calibrating this machine (once, about ten seconds) ...", file=sys.stderr)
        cal = calibrate(engine)
        save_calibration(engine, backend, cal)
        source = f"measured {cal.measured}, cached in {cache_path()}"
    cores = args.cores or os.cpu_count() or 1
    plan = estimate(config, study, cal, source, args.target)
    if args.target == "resolution_study":
        print("label-only grids priced as full sweeps (an upper bound)")
    name, dtype = engine.get("name"), engine.get("dtype")
    print(f"cost of {path}, target {args.target} (engine {name} {dtype}, {backend})")
    if engine.get("dtype") in ("float64x2", "auto"):
        print(f"sweeps priced at {PERTURBATION_FACTOR:g}x float64 (perturbation) or "
              f"{FLOAT64X2_FACTOR:g}x (double-double), docs/precision.md; under dtype auto an "
              "upper bound")  # fmt: skip
    print(plan.table(cores))
    print(plan.summary(cores, config["budget"]).splitlines()[-1])
    check(plan, config)
    print("within budget")


def _local_backend() -> str:
    import jax

    return "cpu" if jax.default_backend() == "cpu" else "gpu"


# ------------------------------------------------------------------------------ formatting


def _rates(cal: Calibration) -> str:
    return (
        f"{cal.rates['overview']:,.0f} (overview) and {cal.rates['deep']:,.0f} (deep window) "
        f"pixel-steps/s per core"
    )


def _hours(hours: float) -> str:
    return f"{hours:,.3g} core-hours" if hours < 1e6 else f"{hours:.3g} core-hours"


def _duration(seconds: float) -> str:
    for unit, size in (("y", 365.25 * 86400), ("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.3g} {unit}" if value < 1000 else f"{value:.2e} {unit}"
    return f"{seconds:.2g} s"


def _bytes(n: float) -> str:
    for unit, size in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= size:
            value = n / size
            return f"{value:.3g} {unit}" if value < 1000 else f"{value:.2e} {unit}"
    return f"{math.ceil(n / 1024)} KiB"
