"""Command line: ``python -m trainability <verb>`` for everything outside Snakemake.

Verbs: ``sweep`` (compute a grid or one tile of it), ``merge`` (tiles → grid), ``render``
(grid → heatmap PNG), ``dimension`` (box-counting dimension of grids or label arrays) and
``toy`` (Liu's cosine-perturbed quadratics). Bad input ends with one line naming the flag and
what is allowed, and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

from trainability.core.condition import AXES, GROUPS, Condition
from trainability.core.engine import ARITHMETICS, DTYPES, ENGINES, available_cores
from trainability.core.fields import add_arguments, from_arguments
from trainability.core.flags import integer


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (no usage dump)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {_one_line(message)}\n")


def _one_line(text: str) -> str:
    """``text`` with control characters (newlines among them) escaped: echoed user input
    cannot break a one-line error."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def _bound(text: str):
    """A window bound from its decimal text, exactly
    (`trainability.core.coordinates.coordinate`)."""
    from trainability.core.coordinates import coordinate

    try:
        value = coordinate(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a decimal number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _add_sweep(sub) -> None:
    p = sub.add_parser("sweep", help="train one network per pixel of a hyperparameter window")
    add_arguments(p, Condition, GROUPS)  # one flag per field of the condition
    axes = "; ".join(f"{a.name}: {a.meaning} {a.interval}" for a in AXES.values())
    grid = p.add_argument_group("hyperparameter window", f"Axis names (--x-axis, --y-axis): {axes}")
    grid.add_argument(
        "--window",
        type=_bound,
        nargs=4,
        metavar=("XMIN", "XMAX", "YMIN", "YMAX"),
        default=None,
        help="bounds of the window: log10 values on a log axis, the values on a linear one; "
        "read exactly from their decimal text (all digits reach the float64x2 engine) "
        "(default: -3 6 -3 6, the paper's; with two learning-rate axes of the cnn -2 4 -2 4, "
        "of the transformer -1 3 -1 3)",
    )
    grid.add_argument(
        "--resolution",
        type=integer(2),
        nargs="+",
        default=[128],
        metavar="N",
        help="pixels per side: N, or NX NY",
    )
    grid.add_argument(
        "--tile",
        type=integer(0),
        nargs=2,
        metavar=("I", "J"),
        help="compute only tile (I, J) (row I, column J) of the split --tiles",
    )
    grid.add_argument(
        "--tiles",
        type=integer(1),
        nargs=2,
        metavar=("TI", "TJ"),
        default=(1, 1),
        help="split into TI rows × TJ columns of tiles",
    )
    eng = p.add_argument_group("engine")
    eng.add_argument(
        "--engine",
        choices=ENGINES,
        default=ENGINES[0],
        help="fused: hand-written gradient (fast); autodiff: jax.grad (validation)",
    )
    eng.add_argument(
        "--dtype",
        choices=DTYPES,
        default=DTYPES[0],
        help="float32 is a preview mode only; float64x2: double-double (~32 digits), for "
        "windows narrower than float64 resolves; auto: float64 while it suffices, else float64x2",
    )
    eng.add_argument(
        "--arithmetic",
        choices=ARITHMETICS,
        default=ARITHMETICS[0],
        help="float64x2's arithmetic: perturbation (one double-double reference run, pixels as "
        "float64 differences: a few times float64's cost), doubledouble (every pixel, ~100x; "
        "more conditions) or auto (perturbation where it supports the condition)",
    )
    eng.add_argument(
        "--chunk",
        type=integer(1),
        default=None,
        help="pixels per compiled chunk (default: 128 on CPU, 16384 on GPU)",
    )
    eng.add_argument(
        "--threads",
        type=integer(1),
        default=available_cores(),
        help="chunks computed side by side (default: the cores this process may use, %(default)s)",
    )
    eng.add_argument(
        "--refine",
        type=integer(2, off=0),
        default=0,
        metavar="S",
        help="label-only refinement: a lattice of every S-th pixel, then only the cells that may "
        "hold boundary; the other pixels get inferred labels and no value (default: 0, off)",
    )
    eng.add_argument(
        "--no-early-exit",
        action="store_true",
        help="train diverged pixels to the end (for checking early exit)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", required=True, help="output .npz file")
    p.set_defaults(run=_run_sweep)


def _run_sweep(args) -> None:
    from trainability.core.grid import save_grid
    from trainability.core.precision import resolve
    from trainability.core.window import Window, default_bounds
    from trainability.study.plan import check_sweep_size
    from trainability.train.sweep import Engine, axis_values, default_chunk, sweep

    if len(args.resolution) > 2:
        raise ValueError("argument --resolution: give N or NX NY")
    nx, ny = (args.resolution * 2)[:2]
    check_sweep_size(args)  # memory and int32 limits, before anything is built
    _check_writable(args.out, "--out")
    if args.tile is not None and not all(
        0 <= i < t for i, t in zip(args.tile, args.tiles, strict=True)
    ):
        raise ValueError(f"argument --tile: must lie in the {args.tiles[0]}x{args.tiles[1]} split")
    cond = from_arguments(Condition, args)
    window = Window(*(args.window or default_bounds(cond)), nx=nx, ny=ny)
    engine = Engine.from_config(  # the flags named as a config's engine mapping
        {
            "name": args.engine,
            "dtype": args.dtype,
            "arithmetic": args.arithmetic,
            "chunk": args.chunk,
        },
        default_chunk,
        threads=args.threads,
        early_exit=not args.no_early_exit,
        refine=args.refine,  # any grid's, not only keyframes'
    )
    engine = resolve(engine, cond, window)  # auto made concrete; float64x2's refusals
    axis_values(cond, window, engine.dtype)  # the precision guard and the axis ranges
    grid = sweep(
        cond, window, engine, tile=args.tile, tiles=tuple(args.tiles), progress=not args.quiet
    )
    save_grid(args.out, grid)


def _add_merge(sub) -> None:
    p = sub.add_parser("merge", help="assemble tile .npz files into the whole grid")
    p.add_argument("tiles", nargs="+", help="tile files written by sweep --tile")
    p.add_argument("--out", required=True, help="output .npz file")
    p.set_defaults(run=_run_merge)


def _run_merge(args) -> None:
    from trainability.core.grid import load_grid, merge_tiles, save_grid

    _check_writable(args.out, "--out")
    save_grid(args.out, merge_tiles([load_grid(path) for path in args.tiles]))


def _add_render(sub) -> None:
    p = sub.add_parser("render", help="draw a grid .npz as a heatmap PNG with the paper's look")
    p.add_argument("grid", help="a grid .npz file")
    p.add_argument("--title", default=None)
    p.add_argument("--out", required=True, help="output .png file")
    p.set_defaults(run=_run_render)


def _run_render(args) -> None:
    from trainability.core.grid import load_grid
    from trainability.figures.heatmap import axis_labels, save_heatmap

    _check_writable(args.out, "--out")
    grid = load_grid(args.grid)
    labels = axis_labels(grid.meta["condition"])
    save_heatmap(args.out, grid.values, grid.bounds, title=args.title, **labels)


def _add_dimension(sub) -> None:
    p = sub.add_parser(
        "dimension",
        help="fractal dimension of trainability boundaries (box counting; Liu's 1-D counting)",
        description="FILE: a grid .npz, or an .npy array (2-D signed values or booleans; 1-D "
        "labels on 2**n+1 points). Several 2-D files are one zoom sequence: the paper's number "
        "is the median of all their local slopes.",
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--extrapolate",
        action="store_true",
        help="the FILEs are one object at several resolutions (each its own image): measure "
        "each and extrapolate to infinite resolution, D(n) = D_inf - a n^-1/2 "
        "(docs/dimension.md, section 7)",
    )
    p.set_defaults(run=_run_dimension)


def _run_dimension(args) -> None:
    import json

    import numpy as np

    from trainability.analysis.dimension import alpha_1d, estimate_2d
    from trainability.analysis.tables import format_estimate, refusal_headline
    from trainability.core.grid import load_grid, phase_field

    fields = []
    for path in args.files:
        if not Path(path).is_file():
            raise ValueError(f"no such file: {path}")
        if path.endswith(".npz"):
            fields.append(phase_field(load_grid(path)))
        else:
            try:
                fields.append(np.load(path, allow_pickle=False))
            except (OSError, ValueError) as err:
                raise ValueError(f"cannot read {path} as an .npy array: {err}") from None
    dims = {field.ndim for field in fields}
    if args.extrapolate:
        if dims != {2}:
            raise ValueError("--extrapolate takes 2-D fields (one per resolution)")
        _print_extrapolation(args, fields)
        return
    if dims == {1} and len(fields) == 1:
        result = alpha_1d(fields[0]).to_dict()
        text = f"alpha = {result['alpha']:.4f} +- {result['alpha_stderr']:.4f}"
    elif dims == {2}:
        estimate = estimate_2d(fields)
        if estimate.refused:  # an estimator that cannot measure says so, and gives no number
            raise ValueError(f"cannot measure the dimension: {estimate.refused}")
        result = estimate.to_dict()
        fit = refusal_headline(estimate.fit_refused) or format_estimate(
            estimate.fit_slope, estimate.fit_ci
        )
        text = (
            f"D = {format_estimate(estimate.median_local_slope, estimate.median_ci)} (median "
            f"local slope, the paper's estimator; 95% interval); fit: {fit}; "
            f"{len(estimate.images_used)} of {estimate.n_images} image(s) measured"
        )
    else:
        raise ValueError("give 2-D fields (one or more) or a single 1-D label array")
    print(json.dumps(result) if args.json else text)


def _print_extrapolation(args, fields) -> None:
    """``dimension --extrapolate``: each image's estimate, then the extrapolation (or why not)."""
    import json

    from trainability.analysis.extrapolation import extrapolate_images, resolution
    from trainability.analysis.tables import format_estimate, refusal_headline

    raw, result = extrapolate_images(fields)
    images = [
        {
            "file": path,
            "resolution": resolution(field),
            "median_local_slope": est.median_local_slope,
            "median_ci": None if est.median_ci is None else list(est.median_ci),
            "refused": est.refused,
        }
        for path, field, est in zip(args.files, fields, raw, strict=True)
    ]
    if args.json:
        print(json.dumps({"images": images, **result.to_dict()}))
        return
    for image, est in zip(images, raw, strict=True):
        d = refusal_headline(est.refused) or format_estimate(est.median_local_slope, est.median_ci)
        print(f"{image['resolution']} px: D = {d} ({image['file']})")
    d = (
        result.refused
        or f"D = {format_estimate(result.extrapolated, result.interval)} (95% interval)"
    )
    print(f"extrapolated (n -> infinity): {d}")


def _add_toy(sub) -> None:
    p = sub.add_parser(
        "toy",
        help="Liu's cosine-perturbed quadratic: boundary dimension over the learning rate",
        description="Gradient descent on f(x) = x^2 + eps cos(2 pi x / L) (additive) or "
        "x^2 (1 + eps cos(2 pi x / L)) (multiplicative) for every learning rate of a uniform "
        "grid over [0, lr-max] with 2**levels + 1 points; alpha by boundary counting.",
    )
    p.add_argument("--loss", choices=("additive", "multiplicative"), default="additive")
    p.add_argument("--eps", type=float, required=True, help="ripple amplitude")
    p.add_argument("--wavelength", type=float, required=True, help="ripple wavelength L > 0")
    p.add_argument("--x0", type=float, default=1.0, help="initial point (all coordinates)")
    p.add_argument("--dim", type=integer(1), default=1, help="parameter dimension d")
    p.add_argument("--lr-max", type=float, default=1.5, help="largest learning rate")
    p.add_argument("--levels", type=integer(2), default=16, help="grid of 2**levels + 1")
    p.add_argument("--steps", type=integer(1), default=1000, help="gradient-descent steps")
    p.add_argument("--threshold", type=float, default=1e8, help="divergence loss (x dim)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_run_toy)


def _run_toy(args) -> None:
    import json

    from trainability.toys.losses import ToyLoss, toy_dimension

    loss = ToyLoss(args.loss, args.eps, args.wavelength, dim=args.dim)
    result = toy_dimension(
        loss,
        args.x0,
        lr_max=args.lr_max,
        levels=args.levels,
        steps=args.steps,
        threshold=args.threshold,
    ).to_dict()
    if args.json:
        print(json.dumps(result))
    else:
        print(f"alpha = {result['alpha']:.4f} +- {result['alpha_stderr']:.4f}")
        print("boundary counts per level: " + " ".join(map(str, result["counts"])))


def _add_plan(sub) -> None:
    p = sub.add_parser(
        "plan",
        help="a study's cost before it runs: pixel-steps, CPU and wall time, memory, disk",
        description="Prints the cost per condition and in total at this machine's measured "
        "throughput (measured once, about ten seconds, and cached; docs/cost.md), and refuses "
        "a study over its budget as Snakemake would.",
    )
    p.add_argument("--configfile", default="config/config.yaml", help="the study's config")
    p.add_argument("--cores", type=integer(1), default=None, help="default: all")
    p.add_argument(
        "--target",
        choices=("all", "resolution_study"),  # trainability.study.plan.TARGETS
        default="all",
        help="the default target, or the named target resolution_study",
    )
    p.add_argument("--gpu", action="store_true", help="price tiles with the GPU figure")
    p.add_argument("--recalibrate", action="store_true", help="measure this machine again")
    p.add_argument(
        "--no-calibrate", action="store_true", help="never measure: cached or built-in figures"
    )
    p.set_defaults(run=_run_plan)


def _run_plan(args) -> None:
    from trainability.study.plan import run_plan

    run_plan(args)


def _check_writable(path: str, flag: str) -> None:
    """Fail before any work if ``path`` cannot be written (probe with a temporary file)."""
    if Path(path).is_dir() or Path(path).name in ("", ".", ".."):
        raise ValueError(f"argument {flag}: {path!r} is a directory; name a file")
    parent = Path(path).resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".probe-"):
            pass
    except OSError as err:
        raise ValueError(f"argument {flag}: cannot write to {parent}: {err.strerror}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="trainability", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    _add_sweep(sub)
    _add_merge(sub)
    _add_render(sub)
    _add_dimension(sub)
    _add_toy(sub)
    _add_plan(sub)
    from trainability.explore.command import add_parser as add_explore

    add_explore(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, OSError) as err:  # ConditionError, PrecisionError, I/O
        print(f"trainability {args.verb}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except MemoryError as err:  # a grid far too large: say so, in one line
        size = {"sweep": "--resolution", "toy": "--levels or --dim"}.get(args.verb, "the input")
        print(
            f"trainability {args.verb}: error: out of memory ({err}); lower {size}", file=sys.stderr
        )
        return 2
    return 0
