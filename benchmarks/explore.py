"""Time the zoom explorer as a user meets it: a zoom's first and final picture, a cache hit.

Starts ``python -m trainability explore`` on a study (default: config/config.yaml and its
default condition) with an empty cache and no workflow results, drives Debian's chromium through
Playwright, and prints the wall-clock time from the mouse-up that ends a drag (a zoom into a
boundary pixel of the first picture, a box 1/10 of the view's side) to each pass of the new
view, then from the browser's forward button back to that view to its final picture (a cache
hit), and from a restarted server's page load to it (the cache on disk). Saves a screenshot of
the final picture with its readout and zoom target (``--screenshot``).

    python benchmarks/explore.py [--config config/config.yaml] [--screenshot docs/explorer.png]

The times include the browser and the network stack; the server computes with as many threads
as ``explore`` takes by default (the machine's cores, at most 8).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
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


def wait_pass(page, view: str, res: str, timeout: float = 1800) -> float:
    page.wait_for_function(
        "([v, r]) => document.body.dataset.view !== v && document.body.dataset.pass === r",
        arg=[view, res],
        timeout=timeout * 1000,
    )
    return time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--screenshot", default=None)
    parser.add_argument("--cache", default=None, help="keep the cache here (default: temporary)")
    parser.add_argument("--explore-args", default="", help="more flags for explore, quoted")
    args = parser.parse_args()
    extra = args.explore_args.split()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        cache = Path(args.cache or Path(tmp) / "cache")
        server, base = start(args.config, cache, extra)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        try:
            t0 = time.perf_counter()
            page.goto(base)
            passes = page.evaluate("fetch('/api/study').then(r => r.json())")["passes"]
            first = wait_pass(page, "", str(passes[0]))
            print(f"start view, first picture (includes compiling): {first - t0:.2f} s")
            # a boundary pixel of the first picture, nearest the centre
            u, v = page.evaluate(
                """() => {
                  const s = state.shown, c = s.converged; let best = null;
                  for (let i = 1; i < s.ny - 1; i++) for (let j = 1; j < s.nx - 1; j++) {
                    const k = i * s.nx + j;
                    if (c[k] === c[k + 1] && c[k] === c[k + s.nx]) continue;
                    const d = Math.hypot(i - s.ny / 2, j - s.nx / 2);
                    if (!best || d < best[0]) best = [d, i, j];
                  }
                  return [best[2] / (s.nx - 1), 1 - best[1] / (s.ny - 1)];
                }"""
            )
            box = page.locator("#stage").bounding_box()

            def at(a, b):
                return box["x"] + a * box["width"], box["y"] + b * box["height"]

            old = page.evaluate("document.body.dataset.view")
            page.mouse.move(*at(u - 0.05, v - 0.05))
            page.mouse.down()
            page.mouse.move(*at(u + 0.05, v + 0.05), steps=5)
            t0 = time.perf_counter()
            page.mouse.up()
            for res in passes:
                t = wait_pass(page, old, str(res))
                load = " ".join(f"{x:.1f}" for x in os.getloadavg())
                print(f"zoom: {res}² picture after {t - t0:.2f} s (load average {load})")
            zoomed = page.url
            status = page.evaluate("fetch('/api/status').then(r => r.json())")
            print(f"server: {status}")
            page.mouse.move(*at(0.5, 0.5))
            page.click("#use-target")
            time.sleep(0.5)
            if args.screenshot:
                page.screenshot(path=args.screenshot)
                print(f"screenshot: {args.screenshot}")

            page.go_back()
            page.wait_for_function("document.body.dataset.view !== undefined")
            time.sleep(1.0)
            back = page.evaluate("document.body.dataset.view")
            t0 = time.perf_counter()
            page.go_forward()
            t = wait_pass(page, back, str(passes[-1]))
            print(f"revisit (cache hit): final picture after {t - t0:.3f} s")
        finally:
            browser.close()
            server.terminate()
            server.wait(30)
        server, base = start(args.config, cache, extra)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            t0 = time.perf_counter()
            page.goto(base + zoomed.split("/", 3)[3])
            t = wait_pass(page, "", str(passes[-1]))
            print(f"after a restart (cache on disk): final picture after {t - t0:.3f} s")
        finally:
            browser.close()
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
