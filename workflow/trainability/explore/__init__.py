"""A local zoom explorer: look around a condition's trainability grid in the browser.

``python -m trainability explore`` (or ``make explore``) serves one page on 127.0.0.1. The page
shows a *view* (a condition of the study, a window, a step count; all of it in the page's URL)
and refines it in passes: a coarse grid first, then twice the resolution per pass up to a
maximum, each computed by `trainability.train.sweep.sweep` itself, so every picture is the grid the
workflow would compute for that window. A view that is left stops its computation at the next
chunk boundary; every computed grid is kept in an on-disk cache keyed by its definition; and
the view can be handed to the workflow as a zoom target. docs/explorer.md has the user's guide.

Modules: `view` (a view: parsing the query, the float64 headroom, axis ticks, the zoom target),
`cache` (grids on disk under a key of their definition), `worker` (the one thread that runs
sweeps, with cancellation), `server` (the Starlette application and the uvicorn server),
`command` (the ``explore`` verb). The page itself is ``static/``: plain HTML, CSS and JavaScript
on a canvas, no library, nothing fetched from the network.
"""
