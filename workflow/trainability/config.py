"""The study configuration: schema validation with one-line errors, defaults, and the list of
conditions the workflow computes.

`load_study(config, schema_path)` checks a parsed ``config.yaml`` against the JSON Schema in
``workflow/schemas/``, fills in the schema's defaults, then builds every condition (which checks
the cross-field rules: batch size ≤ data set size, x_min < x_max, the float64 window guard, …).
Any mistake raises `ConfigError` with one sentence naming the offending key and what is allowed,
before Snakemake schedules a single job.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, fields
from pathlib import Path

import jsonschema
import numpy as np
import yaml

from trainability.condition import Condition
from trainability.grid import Window
from trainability.zoom import check_precision, levels_for_depth

BUILTIN_STUDY = {"window": [-3.0, 6.0, -3.0, 6.0], "resolution": 128, "tiles": [1, 1]}
BUILTIN_ZOOM = {
    "depth": 0.0,
    "target": "auto",
    "outer_width": None,
    "resolution": 64,
    "tiles": [1, 1],
    "search_resolution": 32,
    "frames_per_doubling": 45,
    "fps": 30,
    "video_size": 384,
    "gif_size": 128,
}


class ConfigError(ValueError):
    """The configuration breaks the schema or a cross-field rule (message names the key)."""


@dataclass(frozen=True)
class ZoomSettings:
    """A condition's zoom sequence: ``levels`` keyframes halving from ``outer_width`` decades."""

    levels: int
    target: str | tuple[float, float]
    outer_width: float
    resolution: int
    tiles: tuple[int, int]
    search_resolution: int
    frames_per_doubling: int
    fps: float
    video_size: int
    gif_size: int

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class StudyCondition:
    """One named condition of the study: what to train, and the overview window to draw."""

    name: str
    title: str
    condition: Condition
    window: Window
    tiles: tuple[int, int]
    zoom: ZoomSettings | None = None


def load_study(config: dict, schema_path: str | Path) -> tuple[dict, dict[str, StudyCondition]]:
    """Validate ``config`` (a copy, defaults filled) and build its conditions by name.

    The ``toys`` section, when present, becomes one complete settings dict per study (built-in
    defaults < ``toys.sweep`` < the study's own keys).
    """
    config = copy.deepcopy(config)
    schema = yaml.safe_load(Path(schema_path).read_text())
    validate(config, schema)
    if "toys" in config:
        config["toys"] = _toy_settings(config["toys"], schema)
    conditions = {}
    for name, entry in config["conditions"].items():
        zoom = {**BUILTIN_ZOOM, **config["defaults"].get("zoom", {}), **entry.get("zoom", {})}
        conditions[name] = _study_condition(name, {**config["defaults"], **entry, "zoom": zoom})
    return config, conditions


def _toy_settings(toys: dict, schema: dict) -> dict:
    studies = schema["properties"]["toys"]["properties"]
    sweep = {**studies["sweep"]["default"], **toys.get("sweep", {})}
    return {
        name: {**sweep, **studies[name]["default"], **toys.get(name, {})}
        for name in studies
        if name != "sweep"
    }


def validate(config: dict, schema: dict) -> None:
    """Raise `ConfigError` for the first schema violation; fill defaults in place."""
    validator = jsonschema.Draft7Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        raise ConfigError(_describe(error))
    _fill_defaults(config, schema, schema)


def _study_condition(name: str, entry: dict) -> StudyCondition:
    settings = {**BUILTIN_STUDY, **entry}
    known = {f.name for f in fields(Condition)}
    try:
        condition = Condition(**{k: v for k, v in settings.items() if k in known})
        resolution = settings["resolution"]
        window = Window.square(settings["window"], resolution)
        window.axes()  # the float64 guard
        tiles = tuple(settings["tiles"])
        window.tile(0, 0, tiles)
        zoom = _zoom_settings(settings["zoom"], window)
    except ValueError as err:
        raise ConfigError(f"config error in conditions.{name}: {err}") from None
    return StudyCondition(name, settings.get("title", name), condition, window, tiles, zoom)


def _zoom_settings(entry: dict, window: Window) -> ZoomSettings | None:
    """Zoom of a condition, with the float64 guard applied to its deepest keyframe."""
    if entry["depth"] == 0:
        return None
    levels = levels_for_depth(entry["depth"])
    outer = entry["outer_width"] or min(window.x_max - window.x_min, window.y_max - window.y_min)
    target = entry["target"] if entry["target"] == "auto" else tuple(entry["target"])
    if target == "auto":  # the path is unknown yet: guard the largest coordinates it may reach
        bounds = np.abs(window.bounds)
        check_precision((bounds[:2].max(), bounds[2:].max()), outer, levels, entry["resolution"])
    else:
        check_precision(target, outer, levels, entry["resolution"])
    zoom_tiles = tuple(entry["tiles"])
    Window.square(window.bounds, entry["resolution"]).tile(0, 0, zoom_tiles)
    return ZoomSettings(
        levels=levels,
        target=target,
        outer_width=float(outer),
        resolution=entry["resolution"],
        tiles=zoom_tiles,
        search_resolution=entry["search_resolution"],
        frames_per_doubling=entry["frames_per_doubling"],
        fps=entry["fps"],
        video_size=entry["video_size"],
        gif_size=entry["gif_size"],
    )


def _describe(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "the top level"
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(instance) - set(allowed))
        return (
            f"config error at {where}: unknown key {unknown[0]!r}; "
            f"allowed keys: {', '.join(allowed)}"
        )
    if kind == "enum":
        allowed = ", ".join(map(str, value))
        return f"config error at {where}: {instance!r} is not allowed; choose one of {allowed}"
    if kind == "type":
        expected = value if isinstance(value, str) else " or ".join(value)
        return f"config error at {where}: expected {expected}, got {instance!r}"
    if kind in ("minimum", "exclusiveMinimum", "maximum"):
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<="}[kind]
        return f"config error at {where}: must be {op} {value}, got {instance!r}"
    if kind in ("minItems", "maxItems"):
        return f"config error at {where}: needs {value} items, got {len(instance)}"
    if kind == "required":
        return f"config error at {where}: missing required key; {error.message}"
    if kind == "pattern":
        return f"config error at {where}: name {instance!r} must be snake_case ({value})"
    return f"config error at {where}: {error.message}"


def _fill_defaults(instance, schema: dict, root: dict) -> None:
    """Insert the ``default`` of every missing property, recursively (Draft 7 ``$ref`` aware)."""
    if "$ref" in schema:
        schema = _resolve(schema["$ref"], root)
    if not isinstance(instance, dict):
        return
    for sub in schema.get("allOf", []):
        _fill_defaults(instance, sub, root)
    for key, prop in schema.get("properties", {}).items():
        if key not in instance and "default" in prop:
            instance[key] = copy.deepcopy(prop["default"])
        if key in instance:
            _fill_defaults(instance[key], prop, root)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key in set(instance) - set(schema.get("properties", {})):
            _fill_defaults(instance[key], extra, root)


def _resolve(ref: str, root: dict) -> dict:
    node = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node
