"""Command line: ``python -m trainability <verb>`` for everything outside Snakemake.

Verbs: ``sweep`` (compute a grid or one tile of it), ``merge`` (tiles → grid), ``render``
(grid → heatmap PNG), ``dimension`` (box-counting dimension of grids or label arrays) and
``toy`` (Liu's cosine-perturbed quadratics). Bad input ends with one line naming the flag and
what is allowed, and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from trainability.condition import (
    ACTIVATIONS,
    AXES,
    DRAWS,
    OFFSET_MODES,
    OPTIMIZERS,
    PHASE_SPACES,
    READOUTS,
    SCALES,
    SCHEDULES,
    WEIGHT_DECAY_MODES,
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (no usage dump)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {_one_line(message)}\n")


def _one_line(text: str) -> str:
    """``text`` with control characters (newlines among them) escaped: echoed user input
    cannot break a one-line error."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {value}")
        return value

    return parse


def _float_at_least(low: float, strict: bool = False):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if not (value > low if strict else value >= low) or value != value:
            raise argparse.ArgumentTypeError(
                f"must be a number {'>' if strict else '>='} {low:g}, got {text}"
            )
        return value

    return parse


def _add_sweep(sub) -> None:
    p = sub.add_parser("sweep", help="train one network per pixel of a hyperparameter window")
    net = p.add_argument_group("network and data (papers.md §1.1)")
    net.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        default="tanh",
        help="hidden nonlinearity: tanh(√2z), √2·relu(z), z, sigmoid(√2z)",
    )
    net.add_argument(
        "--width", type=_int_at_least(1), default=16, help="hidden width n (= input dim)"
    )
    net.add_argument(
        "--depth",
        type=_int_at_least(1),
        default=2,
        help="number of weight matrices (2 = one hidden layer)",
    )
    net.add_argument(
        "--residual",
        action="store_true",
        help="residual hidden-to-hidden layers H_{i+1} = H_i + φ(Z_i)/√(depth−2) (depth >= 3)",
    )
    net.add_argument("--target-dim", type=_int_at_least(1), default=1, help="output dimension")
    net.add_argument(
        "--dataset-ratio",
        type=_float_at_least(0, strict=True),
        default=1.0,
        help="N = ratio × parameters / target-dim (identity: ratio × width)",
    )
    net.add_argument(
        "--dataset-size",
        type=_int_at_least(1),
        default=None,
        help="explicit number of training points N (1 = single datapoint)",
    )
    net.add_argument(
        "--inputs",
        choices=("normal", "uniform"),
        default="normal",
        help="input distribution: N(0,1) (reference code) or U(0,1) (report text)",
    )
    net.add_argument(
        "--seed", type=int, default=0, help="seed of weights and data (reference scheme)"
    )
    net.add_argument(
        "--draws",
        choices=DRAWS,
        default="legacy",
        help="legacy: JAX 0.4's random generator, the paper's 2024 networks; partitionable: "
        "today's JAX default (other networks from the same seed)",
    )
    train = p.add_argument_group("training")
    train.add_argument(
        "--steps", type=_int_at_least(1), default=500, help="gradient-descent steps T"
    )
    train.add_argument(
        "--batch-size",
        type=_int_at_least(1),
        default=None,
        help="minibatch size (drawn with replacement, same for every pixel); default: full batch",
    )
    train.add_argument(
        "--epsilon",
        type=_float_at_least(0),
        default=0.0,
        help="per-pixel initial weight noise ε·N(0,1)",
    )
    train.add_argument(
        "--readout",
        choices=READOUTS,
        default="loss",
        help="loss: the paper's measure only; probe: also store the output at a fixed probe input",
    )
    opt = p.add_argument_group(
        "optimizer and weight decay (fixed values; any of them may instead be an axis)"
    )
    opt.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default="gd",
        help="gd: W ← W − ηg; momentum (heavy ball): v ← μv + g, W ← W − ηv; nesterov: "
        "v ← μv + g, W ← W − η(g + μv); adam: bias-corrected W ← W − η·m̂/(√v̂ + eps)",
    )
    opt.add_argument("--momentum", type=float, default=0.9, help="momentum μ in [0, 1)")
    opt.add_argument("--beta1", type=float, default=0.9, help="Adam β1 in [0, 1)")
    opt.add_argument("--beta2", type=float, default=0.999, help="Adam β2 in [0, 1)")
    opt.add_argument("--adam-eps", type=float, default=1e-8, help="Adam eps > 0")
    opt.add_argument("--weight-decay", type=float, default=0.0, help="weight decay λ >= 0")
    opt.add_argument(
        "--weight-decay-mode",
        choices=WEIGHT_DECAY_MODES,
        default="l2",
        help="l2: g ← g + λW; decoupled (AdamW style): W ← W − ηλW after the optimizer step",
    )
    sched = p.add_argument_group("learning-rate schedule s(t), multiplying every layer's rate")
    sched.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default="constant",
        help="constant: 1; warmup: min(1, (t+1)/warmup-steps); cosine: from 1 to "
        "final-lr-fraction over the run; step: decay-factor^⌊t/decay-every⌋",
    )
    sched.add_argument("--warmup-steps", type=int, default=0, help="length of the warm-up")
    sched.add_argument(
        "--final-lr-fraction", type=float, default=0.0, help="cosine: s at the last step"
    )
    sched.add_argument("--decay-every", type=int, default=100, help="step: steps per decay")
    sched.add_argument("--decay-factor", type=float, default=0.5, help="step: factor per decay")
    grid = p.add_argument_group("hyperparameter window")
    grid.add_argument(
        "--phase-space",
        choices=PHASE_SPACES,
        default="lr_vs_lr",
        help="lr_vs_lr: x = lr of even layers (input), y = lr of odd layers (output); "
        "offset_vs_lr: x = input weight offset c, y = lr of all layers; custom: --x-axis, "
        "--y-axis",
    )
    axis_help = "; ".join(f"{a.name}: {a.meaning} {a.interval}" for a in AXES.values())
    grid.add_argument(
        "--x-axis",
        choices=tuple(AXES),
        default=None,
        metavar="NAME",
        help=f"custom phase space: hyperparameter on the x axis. Names: {axis_help}",
    )
    grid.add_argument(
        "--y-axis",
        choices=tuple(AXES),
        default=None,
        metavar="NAME",
        help="custom phase space: hyperparameter on the y axis (names as --x-axis)",
    )
    grid.add_argument(
        "--x-scale",
        choices=SCALES,
        default="log",
        help="log: window bounds are log10 values (logspace); linear: raw values (linspace)",
    )
    grid.add_argument("--y-scale", choices=SCALES, default="log", help="as --x-scale")
    grid.add_argument(
        "--lr",
        type=float,
        default=0.1,
        help="custom phase space: learning rate of every layer no axis sets",
    )
    grid.add_argument(
        "--lr-hidden",
        type=float,
        default=None,
        help="learning rate of the hidden-to-hidden matrices (depth >= 3); default: the "
        "phase space's rule",
    )
    grid.add_argument(
        "--offset", type=float, default=0.0, help="fixed input weight offset c when not an axis"
    )
    grid.add_argument(
        "--init-scale",
        type=float,
        default=1.0,
        help="fixed factor on every initial weight when not an axis",
    )
    grid.add_argument(
        "--offset-mode",
        choices=OFFSET_MODES,
        default="every_step",
        help="how the input weight offset c (offset axis or --offset) is applied: before every "
        "step (reference code) or once at initialisation",
    )
    grid.add_argument(
        "--window",
        type=float,
        nargs=4,
        metavar=("XMIN", "XMAX", "YMIN", "YMAX"),
        default=(-3.0, 6.0, -3.0, 6.0),
        help="bounds of the window: log10 values on a log axis, the values on a linear one",
    )
    grid.add_argument(
        "--resolution",
        type=_int_at_least(2),
        nargs="+",
        default=[128],
        metavar="N",
        help="pixels per side: N, or NX NY",
    )
    grid.add_argument(
        "--tile",
        type=_int_at_least(0),
        nargs=2,
        metavar=("I", "J"),
        help="compute only tile (I, J) (row I, column J) of the split --tiles",
    )
    grid.add_argument(
        "--tiles",
        type=_int_at_least(1),
        nargs=2,
        metavar=("TI", "TJ"),
        default=(1, 1),
        help="split into TI rows × TJ columns of tiles",
    )
    eng = p.add_argument_group("engine")
    eng.add_argument(
        "--engine",
        choices=("fused", "autodiff"),
        default="fused",
        help="fused: hand-written gradient (fast); autodiff: jax.grad (validation)",
    )
    eng.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default="float64",
        help="float32 is a preview mode only",
    )
    eng.add_argument(
        "--chunk",
        type=_int_at_least(1),
        default=None,
        help="pixels per compiled chunk (default: 128 on CPU, 16384 on GPU)",
    )
    eng.add_argument(
        "--threads", type=_int_at_least(1), default=1, help="chunks computed side by side"
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
    from trainability.condition import Condition
    from trainability.grid import Window
    from trainability.io import save_grid
    from trainability.plan import check_sweep_size
    from trainability.sweep import Engine, axis_values, default_chunk, sweep

    if len(args.resolution) > 2:
        raise ValueError("argument --resolution: give N or NX NY")
    nx, ny = (args.resolution * 2)[:2]
    check_sweep_size(args)  # memory and int32 limits, before anything is built
    _check_writable(args.out, "--out")
    if args.tile is not None and not all(
        0 <= i < t for i, t in zip(args.tile, args.tiles, strict=True)
    ):
        raise ValueError(f"argument --tile: must lie in the {args.tiles[0]}x{args.tiles[1]} split")
    cond = Condition(
        activation=args.activation,
        width=args.width,
        depth=args.depth,
        target_dim=args.target_dim,
        dataset_ratio=args.dataset_ratio,
        dataset_size=args.dataset_size,
        batch_size=args.batch_size,
        input_distribution=args.inputs,
        draws=args.draws,
        phase_space=args.phase_space,
        offset_mode=args.offset_mode,
        steps=args.steps,
        seed=args.seed,
        epsilon=args.epsilon,
        readout=args.readout,
        optimizer=args.optimizer,
        momentum=args.momentum,
        beta1=args.beta1,
        beta2=args.beta2,
        adam_eps=args.adam_eps,
        weight_decay=args.weight_decay,
        weight_decay_mode=args.weight_decay_mode,
        schedule=args.schedule,
        warmup_steps=args.warmup_steps,
        final_lr_fraction=args.final_lr_fraction,
        decay_every=args.decay_every,
        decay_factor=args.decay_factor,
        residual=args.residual,
        lr_hidden=args.lr_hidden,
        lr=args.lr,
        offset=args.offset,
        init_scale=args.init_scale,
        x_axis=args.x_axis,
        y_axis=args.y_axis,
        x_scale=args.x_scale,
        y_scale=args.y_scale,
    )
    window = Window(*args.window, nx=nx, ny=ny)
    axis_values(cond, window)  # the float64 guard and the axis ranges, before any work
    engine = Engine(
        name=args.engine,
        dtype=args.dtype,
        chunk=args.chunk or default_chunk(),
        threads=args.threads,
        early_exit=not args.no_early_exit,
    )
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
    from trainability.io import load_grid, merge_tiles, save_grid

    _check_writable(args.out, "--out")
    save_grid(args.out, merge_tiles([load_grid(path) for path in args.tiles]))


def _add_render(sub) -> None:
    p = sub.add_parser("render", help="draw a grid .npz as a heatmap PNG with the paper's look")
    p.add_argument("grid", help="a grid .npz file")
    p.add_argument("--title", default=None)
    p.add_argument("--out", required=True, help="output .png file")
    p.set_defaults(run=_run_render)


def _run_render(args) -> None:
    from trainability.io import load_grid
    from trainability.render import axis_labels, save_heatmap

    _check_writable(args.out, "--out")
    grid = load_grid(args.grid)
    window = grid.meta["window"]
    bounds = (window["x_min"], window["x_max"], window["y_min"], window["y_max"])
    labels = axis_labels(grid.meta["condition"])
    save_heatmap(args.out, grid.values, bounds, title=args.title, **labels)


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
    p.set_defaults(run=_run_dimension)


def _run_dimension(args) -> None:
    import json

    import numpy as np

    from trainability.dimension import alpha_1d, estimate_2d
    from trainability.io import load_grid

    fields = []
    for path in args.files:
        if not Path(path).is_file():
            raise ValueError(f"no such file: {path}")
        if path.endswith(".npz"):
            fields.append(load_grid(path).values)
        else:
            try:
                fields.append(np.load(path, allow_pickle=False))
            except (OSError, ValueError) as err:
                raise ValueError(f"cannot read {path} as an .npy array: {err}") from None
    dims = {field.ndim for field in fields}
    if dims == {1} and len(fields) == 1:
        result = alpha_1d(fields[0]).to_dict()
        text = f"alpha = {result['alpha']:.4f} +- {result['alpha_stderr']:.4f}"
    elif dims == {2}:
        result = estimate_2d(fields).to_dict()
        low, high = result["fit_ci"]
        text = (
            f"median local slope = {result['median_local_slope']:.4f}; fit slope = "
            f"{result['fit_slope']:.4f} (95% interval {low:.4f} to {high:.4f}); "
            f"{result['n_images']} image(s)"
        )
    else:
        raise ValueError("give 2-D fields (one or more) or a single 1-D label array")
    print(json.dumps(result) if args.json else text)


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
    p.add_argument("--dim", type=_int_at_least(1), default=1, help="parameter dimension d")
    p.add_argument("--lr-max", type=float, default=1.5, help="largest learning rate")
    p.add_argument("--levels", type=_int_at_least(2), default=16, help="grid of 2**levels + 1")
    p.add_argument("--steps", type=_int_at_least(1), default=1000, help="gradient-descent steps")
    p.add_argument("--threshold", type=float, default=1e8, help="divergence loss (x dim)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_run_toy)


def _run_toy(args) -> None:
    import json

    from trainability.toys import ToyLoss, toy_dimension

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
    p.add_argument("--cores", type=_int_at_least(1), default=None, help="default: all")
    p.add_argument("--gpu", action="store_true", help="price tiles with the GPU figure")
    p.add_argument("--recalibrate", action="store_true", help="measure this machine again")
    p.add_argument(
        "--no-calibrate", action="store_true", help="never measure: cached or built-in figures"
    )
    p.set_defaults(run=_run_plan)


def _run_plan(args) -> None:
    from trainability.plan import run_plan

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
