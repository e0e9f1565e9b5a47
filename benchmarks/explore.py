"""Time the zoom explorer as a user meets it: zoom, pan, zoom out, a 25-decade view.

Starts ``python -m trainability explore`` on a study (default: config/config.yaml and its
default condition) with an empty cache and no workflow results, drives Debian's chromium through
Playwright, and prints wall-clock times (browser and network included):

1. the start view: first picture (compiling included) and every tile of its finest level;
2. a zoom (a dragged box 1/10 of the view's side around a boundary pixel near the centre):
   the first picture (the parent tiles, drawn as soon as the view is validated), the view's
   centre tile at the finest level, and the whole view at the finest level;
3. a pan by half a view: time to the whole view, and the share of its finest tiles that were
   computed (not found in the page or the cache);
4. a zoom-in by 2 about the centre and back out: the zoom-out's time and tiles computed;
5. a view ``--deep`` decades below the start window, centred on the zoom's boundary point:
   first picture, centre tile, whole view, and the arithmetic that drew it;
6. a revisit after a server restart (the cache on disk).

    python benchmarks/explore.py [--config config/config.yaml] [--steps 200]
        [--deep 25] [--screenshot docs/explorer.png] [--explore-args "--detail 256"]

The server computes with as many threads as ``explore`` takes by default (the machine's cores,
at most 8). The load average is printed with each time: on a shared machine it says how far
the times are from an idle one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal, getcontext
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def start(config: str, cache: Path, extra: list[str]) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "trainability", "explore", "--config", config, "--port", "0"]
    cmd += ["--cache", str(cache), "--results", str(cache / "no-results"), *extra]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    for line in server.stdout:
        print(line.rstrip())
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if match:
            return server, match.group(0)
    raise RuntimeError("the explorer did not start")


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def view_of(page) -> str:
    return page.evaluate("document.body.dataset.view || ''")


def wait(page, old: str, flag: str, timeout: float) -> float:
    """Time when the page shows a view other than ``old`` whose ``flag`` is reached: 'view'
    (validated, what is known drawn), 'centre' (its centre tile at the finest level) or
    'final' (every tile of the finest level)."""
    condition = {
        "view": "true",
        "centre": "document.body.dataset.centre === 'true'",
        "final": "document.body.dataset.final === 'true'",
    }[flag]
    page.wait_for_function(
        f"old => (document.body.dataset.view || '') !== old && {condition}",
        arg=old,
        timeout=timeout * 1000,
    )
    return time.perf_counter()


def status(page) -> dict:
    return page.evaluate("fetch('/api/status').then(r => r.json())")


def navigate(page, expression: str, timeout: float, label: str) -> dict:
    """Run ``expression`` in the page (a navigation) and time its view's stages."""
    old = view_of(page)
    before = status(page)["computed"]
    t0 = time.perf_counter()
    page.evaluate(expression)
    out = {"view": wait(page, old, "view", timeout) - t0}
    tiles = page.evaluate("state.current.info.tiles.fine.length")
    out["centre"] = wait(page, old, "centre", timeout) - t0
    print(f"{label}: centre tile {out['centre']:.2f} s (load average {load()})", flush=True)
    out["final"] = wait(page, old, "final", timeout) - t0
    out["computed"] = status(page)["computed"] - before
    out["tiles"] = tiles
    out["arithmetic"] = page.locator("#arithmetic").inner_text()
    print(
        f"{label}: first picture {out['view']:.2f} s, centre tile {out['centre']:.2f} s, "
        f"whole view {out['final']:.2f} s; {out['computed']} of {tiles} finest tiles computed "
        f"({out['arithmetic']}; load average {load()})",
        flush=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--deep", type=float, default=25.0, help="decades below the start")
    parser.add_argument("--screenshot", default=None)
    parser.add_argument("--cache", default=None, help="keep the cache here (default: temporary)")
    parser.add_argument("--explore-args", default="", help="more flags for explore, quoted")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per wait")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument(
        "--deep-only",
        default=None,
        metavar="X,Y",
        help="only the start view and the deep view, centred here (window units)",
    )
    args = parser.parse_args()
    extra = args.explore_args.split()
    results = {"steps": args.steps, "load_before": load()}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        cache = Path(args.cache or Path(tmp) / "cache")
        server, base = start(args.config, cache, extra)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        try:
            t0 = time.perf_counter()
            page.goto(base)
            page.wait_for_function("document.body.dataset.view !== undefined")
            first = page.evaluate("state.current.info")
            t0 = time.perf_counter()
            page.goto(f"{base}?{first['query'].split('&steps=')[0]}&steps={args.steps}")
            t = wait(page, "", "centre", args.timeout)
            print(f"start view: first tile (compiling included) {t - t0:.2f} s")
            t = wait(page, "", "final", args.timeout)
            print(f"start view: whole view {t - t0:.2f} s (load average {load()})", flush=True)
            results["start"] = t - t0
            zoomed = page.evaluate("location.search")
            if args.deep_only:
                centre = args.deep_only.split(",")
            else:
                # a boundary pixel of the finest tiles, nearest the centre (stage fractions)
                u, v = page.evaluate(
                    """() => {
                      const info = state.current.info, w = state.current.view;
                      let best = null;
                      for (const [tile, e] of visibleTiles(w)) {
                        if (tile.z !== info.levels.fine) continue;
                        const n = tile.n, c = tile.converged;
                        for (let i = 1; i < n - 1; i++) for (let j = 1; j < n - 1; j++) {
                          const k = i * n + j;
                          if (c[k] === c[k + 1] && c[k] === c[k + n]) continue;
                          const x = ratio(e[0] - w[0], w[1] - w[0]) +
                            ratio(e[1] - e[0], w[1] - w[0]) * (j + 0.5) / n;
                          const y = ratio(e[2] - w[2], w[3] - w[2]) +
                            ratio(e[3] - e[2], w[3] - w[2]) * (i + 0.5) / n;
                          const d = Math.hypot(x - 0.5, y - 0.5);
                          const inside = x > 0.06 && x < 0.94 && y > 0.06 && y < 0.94;
                          if (inside && (!best || d < best[0])) best = [d, x, 1 - y];
                        }
                      }
                      return best ? [best[1], best[2]] : [0.5, 0.5];  // none: the centre
                    }"""
                )
                box = page.locator("#stage").bounding_box()

                def at(a, b):
                    return box["x"] + a * box["width"], box["y"] + b * box["height"]

                old = view_of(page)
                before = status(page)["computed"]
                page.mouse.move(*at(u - 0.05, v - 0.05))
                page.mouse.down()
                page.mouse.move(*at(u + 0.05, v + 0.05), steps=5)
                t0 = time.perf_counter()
                page.mouse.up()
                zoom = {"view": wait(page, old, "view", args.timeout) - t0}
                zoom["centre"] = wait(page, old, "centre", args.timeout) - t0
                zoom["final"] = wait(page, old, "final", args.timeout) - t0
                zoom["computed"] = status(page)["computed"] - before
                zoom["tiles"] = page.evaluate("state.current.info.tiles.fine.length")
                zoom["first_levels"] = page.evaluate("document.body.dataset.firstDrawn")
                zoom["level"] = page.evaluate("state.current.info.levels.fine")
                print(
                    f"zoom: first picture {zoom['view']:.2f} s (levels {zoom['first_levels']} "
                    f"under level {zoom['level']}), centre tile {zoom['centre']:.2f} s, whole view "
                    f"{zoom['final']:.2f} s; {zoom['computed']} tiles computed (load average "
                    f"{load()})",
                    flush=True,
                )
                results["zoom"] = zoom
                zoomed = page.evaluate("location.search")
                centre = page.evaluate(
                    "[formatDec((state.current.view[0] + state.current.view[1]) / 2n, 40),"
                    " formatDec((state.current.view[2] + state.current.view[3]) / 2n, 40)]"
                )
                if args.screenshot:
                    page.mouse.move(*at(0.5, 0.5))
                    page.click("#use-target")
                    time.sleep(0.5)
                    page.screenshot(path=args.screenshot)
                    print(f"screenshot: {args.screenshot}")
                results["pan"] = navigate(page, "panBy(0.5, 0)", args.timeout, "pan by half a view")
                results["zoom_in"] = navigate(
                    page,
                    "navigate({window: windowText(zoomed(state.current.view, 0.5, 0.5, 0.5))})",
                    args.timeout,
                    "zoom in 2x about the centre",
                )
                results["zoom_out"] = navigate(
                    page,
                    "navigate({window: windowText(zoomed(state.current.view, 2, 0.5, 0.5))})",
                    args.timeout,
                    "zoom out 2x again",
                )
            # a view args.deep decades below the start window, centred on the boundary point
            start_w = [Decimal(b) for b in first["start"]["window"]]
            getcontext().prec = 80
            half = [(start_w[1] - start_w[0]) / 2, (start_w[3] - start_w[2]) / 2]
            scale = Decimal(10) ** Decimal(-args.deep)
            cx, cy = (Decimal(c) for c in centre)
            deep = [cx - half[0] * scale, cx + half[0] * scale, cy - half[1] * scale,
                    cy + half[1] * scale]  # fmt: skip
            window = ",".join(format(b.normalize(), "f") for b in deep)
            results["deep"] = navigate(
                page,
                f"go('condition={first['condition']}&window={window}&steps={args.steps}', 'push')",
                args.timeout,
                f"a view {args.deep:g} decades down",
            )
            results["deep"]["depth"] = page.evaluate("state.current.info.depth")
        finally:
            browser.close()
            server.terminate()
            server.wait(30)
        server, base = start(args.config, cache, extra)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            t0 = time.perf_counter()
            page.goto(base + zoomed)
            t = wait(page, "", "final", args.timeout)
            print(f"after a restart (cache on disk): the zoomed view whole after {t - t0:.3f} s")
            results["restart"] = t - t0
        finally:
            browser.close()
            server.terminate()
            server.wait(30)
    results["load_after"] = load()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
