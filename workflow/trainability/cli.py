"""Command line: ``python -m trainability <verb>`` for everything outside Snakemake.

Verbs: ``sweep`` (compute a grid or one tile of it), ``merge`` (tiles → grid), ``render``
(grid → heatmap PNG). Bad input ends with one line naming the flag and what is allowed, and
exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from trainability.condition import ACTIVATIONS, OFFSET_MODES, PHASE_SPACES, READOUTS


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (no usage dump)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


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
    grid = p.add_argument_group("hyperparameter window")
    grid.add_argument(
        "--phase-space",
        choices=PHASE_SPACES,
        default="lr_vs_lr",
        help="lr_vs_lr: x = input-layer lr, y = output-layer lr; offset_vs_lr: "
        "x = input weight offset c, y = lr of all layers",
    )
    grid.add_argument(
        "--offset-mode",
        choices=OFFSET_MODES,
        default="every_step",
        help="offset_vs_lr: add c before every step (reference code) or once",
    )
    grid.add_argument(
        "--window",
        type=float,
        nargs=4,
        metavar=("XMIN", "XMAX", "YMIN", "YMAX"),
        default=(-3.0, 6.0, -3.0, 6.0),
        help="log10 bounds of the window",
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
    from trainability.sweep import Engine, default_chunk, sweep

    if len(args.resolution) > 2:
        raise ValueError("argument --resolution: give N or NX NY")
    nx, ny = (args.resolution * 2)[:2]
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
        phase_space=args.phase_space,
        offset_mode=args.offset_mode,
        steps=args.steps,
        seed=args.seed,
        epsilon=args.epsilon,
        readout=args.readout,
    )
    window = Window(*args.window, nx=nx, ny=ny)
    window.axes()  # the float64 guard, before any work
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
    labels = axis_labels(grid.meta["condition"]["phase_space"])
    save_heatmap(args.out, grid.values, bounds, title=args.title, **labels)


def _check_writable(path: str, flag: str) -> None:
    """Fail before any work if ``path`` cannot be written (probe with a temporary file)."""
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, OSError) as err:  # ConditionError, PrecisionError, I/O
        print(f"trainability {args.verb}: error: {err}", file=sys.stderr)
        return 2
    return 0
