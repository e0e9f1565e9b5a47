"""``python -m trainability explore``: serve the zoom explorer on 127.0.0.1 (`trainability.cli`
registers `add_parser`)."""

from __future__ import annotations

from pathlib import Path

from trainability.core.engine import available_cores
from trainability.core.flags import integer

DEFAULT_CONDITION = "tanh_fullbatch"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "explore",
        help="zoom into a condition's grid live in the browser (a local server on 127.0.0.1)",
        description="Serve a page on 127.0.0.1 that shows a condition of the study as a map: "
        "a pyramid of tiles, each the grid `trainability sweep` computes for its window, "
        "computed as you pan and zoom (float64, then float64x2 past its limit) and kept on "
        "disk. Opens nothing by itself; prints the address. With --prefetch, computes the "
        "pyramid's first levels into the cache instead and exits. docs/explorer.md has the "
        "details.",
    )
    p.add_argument("--config", default="config/config.yaml", help="the study's config file")
    p.add_argument(
        "--condition",
        default=None,
        help=f"condition shown first (default: {DEFAULT_CONDITION}, else the config's first)",
    )
    p.add_argument(
        "--port",
        type=integer(0, 65535),
        default=8765,
        help="port on 127.0.0.1 (a free one is chosen if it is taken; 0: any free port)",
    )
    p.add_argument("--tile", type=integer(2, 1024), default=64, help="pixels per side of a tile")
    p.add_argument(
        "--detail",
        type=integer(2, 4096),
        default=256,
        help="pixels across a view at its finest level (the level drawn last)",
    )
    p.add_argument(
        "--arithmetic",
        choices=("auto", "perturbation", "doubledouble"),
        default="auto",
        help="float64x2's arithmetic past float64's limit (auto: perturbation where it "
        "computes the condition, else doubledouble)",
    )
    p.add_argument(
        "--prefetch",
        type=integer(0, 12),
        default=None,
        metavar="LEVEL",
        help="compute levels 0..LEVEL of --condition's pyramid (4^z tiles at level z) into "
        "the cache, then exit; no server",
    )
    p.add_argument(
        "--mode",
        choices=("full", "labels"),
        default="full",
        help="with --prefetch: every pixel trained (full) or label-only refinement (labels)",
    )
    p.add_argument(
        "--threads",
        type=integer(1),
        default=min(available_cores(), 8),
        help="chunks computed side by side (does not change the results)",
    )
    p.add_argument(
        "--cache",
        default=str(Path("results") / "explore" / "cache"),
        help="directory of computed grids, kept between runs",
    )
    p.add_argument(
        "--cache-size", type=integer(1), default=1024, help="cache bound in MiB (oldest go first)"
    )
    p.add_argument(
        "--results",
        default="results",
        help="the workflow's results directory: its grids are shown without recomputing",
    )
    p.set_defaults(run=run)


def run(args) -> None:
    import yaml

    from trainability.explore.cache import GridCache
    from trainability.explore.server import Explorer, bind, server
    from trainability.explore.view import Limits
    from trainability.study.config import load_study
    from trainability.train.sweep import Engine, default_chunk

    try:
        config = yaml.safe_load(Path(args.config).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"argument --config: cannot read {args.config}: {err}") from None
    validated, study = load_study(config, schema_path())
    name = args.condition or (
        DEFAULT_CONDITION if DEFAULT_CONDITION in study else next(iter(study))
    )
    if name not in study:
        raise ValueError(
            f"argument --condition: {name!r} is not a condition of {args.config}; "
            f"choose one of {', '.join(study)}"
        )
    try:
        limits = Limits(args.tile, args.detail, args.arithmetic)
    except ValueError as err:
        raise ValueError(f"argument --tile: {err}") from None
    engine = Engine.from_config(validated["engine"], default_chunk, threads=args.threads)
    cache = GridCache(args.cache, args.cache_size * 2**20)
    found = cache.index(args.results)
    explorer = Explorer(study, name, limits, engine, cache)
    if args.prefetch is not None:
        prefetch(explorer, name, args.prefetch, args.mode)
        return
    sock = bind(args.port)
    port = sock.getsockname()[1]
    if args.port not in (0, port):
        print(f"explore: port {args.port} is taken; using {port}")
    print(
        f"explore: {len(study)} conditions of {args.config}, {found} workflow grids found; "
        f"cache {args.cache}\nexplore: open http://127.0.0.1:{port}/  (Ctrl-C stops)",
        flush=True,
    )
    entry = study[name]
    explorer.worker.warm_up(entry.condition, entry.window.bounds)
    try:
        server(explorer).run(sockets=[sock])
    finally:
        explorer.worker.shutdown()


def schema_path() -> Path:
    """The config schema of this checkout (workflow/schemas/config.schema.yaml)."""
    return Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


def prefetch(explorer, name: str, level: int, mode: str = "full", log=print) -> dict:
    """Compute levels 0 … ``level`` of condition ``name``'s pyramid into the explorer's cache
    (tiles already stored are skipped; tiles outside an axis's interval have nothing to
    compute). Returns counts: computed, stored (found), outside."""
    from trainability.explore.pyramid import Pyramid
    from trainability.explore.tiles import OutsideError, plan

    entry = explorer.study[name]
    pyramid = Pyramid.of(entry.window.bounds, explorer.limits.tile)
    counts = {"computed": 0, "stored": 0, "outside": 0}
    for z in range(level + 1):
        for j in range(2**z):
            for i in range(2**z):
                try:
                    p = plan(pyramid, entry.condition, explorer.engine, z, i, j, mode,
                             explorer.limits.arithmetic)  # fmt: skip
                except OutsideError:
                    counts["outside"] += 1
                    continue
                if explorer.cache.file(*p.key) is not None:
                    counts["stored"] += 1
                    continue
                explorer.cache.put(p.compute())
                counts["computed"] += 1
        log(f"explore --prefetch: level {z} of {name} done ({counts})", flush=True)
    return counts
