"""What the report is built from: the files its Snakemake rule names, grouped by what they are.

The rule ``report`` passes its inputs by name (`named_inputs` parses them); nothing is found by
looking into the results folder:

- ``<condition>.<kind>`` for each condition of the config, ``kind`` one of `CONDITION_FILES`:
  ``grid`` (the overview ``.npz``, whose metadata describes the condition), ``overview``,
  ``panel`` (PNG heatmaps), ``dimension`` (its dimension CSV), ``keyframes``,
  ``zoom_dimension`` (PNG) and ``video`` (MP4);
- ``figure.<name>``, ``table.<name>``, ``toy_figure.<study>``, ``toy_table.<study>``;
- ``finished``: every other target of the study, which the page does not show but waits for
  (so that the run times it sums are complete).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

CONDITION_FILES = ("grid", "overview", "panel", "dimension", "keyframes", "zoom_dimension", "video")
GROUPS = ("figure", "table", "toy_figure", "toy_table")
IGNORED = ("finished",)


@dataclass(frozen=True)
class ConditionFiles:
    """One condition of the config: its name, title and files by kind (`CONDITION_FILES`)."""

    name: str
    title: str
    files: dict[str, Path] = field(default_factory=dict)

    def get(self, kind: str) -> Path | None:
        return self.files.get(kind)


@dataclass(frozen=True)
class ReportInputs:
    """Every file the page shows, by what it is."""

    conditions: list[ConditionFiles]
    figure: dict[str, Path] = field(default_factory=dict)
    table: dict[str, Path] = field(default_factory=dict)
    toy_figure: dict[str, Path] = field(default_factory=dict)
    toy_table: dict[str, Path] = field(default_factory=dict)


def named_inputs(named: Mapping[str, object], titles: Mapping[str, str]) -> ReportInputs:
    """The report's inputs from the rule's named inputs (module docstring); ``titles`` maps
    each condition of the config to its title, in the config's order. A name that fits none
    of the forms raises `ValueError`."""
    files: dict[str, dict[str, Path]] = {name: {} for name in titles}
    groups: dict[str, dict[str, Path]] = {group: {} for group in GROUPS}
    for key, path in named.items():
        if key in IGNORED:
            continue
        head, dot, tail = key.partition(".")
        if dot and head in groups:
            groups[head][tail] = Path(path)
        elif dot and head in files and tail in CONDITION_FILES:
            files[head][tail] = Path(path)
        else:
            raise ValueError(
                f"report input {key!r} is none of <condition>.<{'|'.join(CONDITION_FILES)}>, "
                f"<{'|'.join(GROUPS)}>.<name>, {', '.join(IGNORED)}"
            )
    conditions = [ConditionFiles(name, str(title), files[name]) for name, title in titles.items()]
    return ReportInputs(conditions, **{g: dict(sorted(v.items())) for g, v in groups.items()})


def condition_titles(config: dict) -> dict[str, str]:
    """Conditions of the config in its order: name → title (not seed ensembles: they have their
    own section, `trainability.report.seeds`)."""
    ensembles = "seeds" in (config.get("defaults") or {})
    return {
        name: str((entry or {}).get("title", name))
        for name, entry in (config.get("conditions") or {}).items()
        if not ensembles and "seeds" not in (entry or {})
    }
