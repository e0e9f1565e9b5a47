"""A local zoom explorer: a condition's trainability grid as a map in the browser.

``python -m trainability explore`` (or ``make explore``) serves one page on 127.0.0.1. The page
shows a *view* (a condition of the study, an exact decimal window, a step count, a mode; all of
it in the page's URL) drawn from the condition's *tile pyramid*: level z splits the condition's
window into 2^z × 2^z tiles of n² pixels, each computed by `trainability.train.sweep.sweep`
itself (float64, then float64x2 past float64's limit), kept on disk and shared by every view that
meets it. A pan reuses every tile already had, a zoom shows the coarser tiles at once and
replaces them tile by tile, nearest the view's centre first, and a tile that left the view
stops computing at its next chunk. docs/explorer.md has the user's guide.

Modules: `pyramid` (the tiles' exact addresses and windows), `tiles` (what computes a tile: its
sweep, precision and cache key), `view` (a view: parsing the query, levels, axis ticks, the zoom
target), `cache` (grids and tiles on disk under a key of their definition), `worker` (the one
thread that computes tiles, with cancellation), `server` (the Starlette application and the
uvicorn server), `command` (the ``explore`` verb and ``--prefetch``). The page itself is
``static/``: plain HTML, CSS and JavaScript on a canvas, no library, nothing fetched from the
network.
"""
