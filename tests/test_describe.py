"""The report's sentences about a condition (trainability.report.describe): which settings they
name follows the fields' ``needs=`` declarations, not a list of its own."""

import re
from dataclasses import replace

import pytest

from trainability.core import fields
from trainability.core.condition import Condition
from trainability.core.fields import specs
from trainability.report.describe import describe

DECLARED = specs(Condition)
WINDOW = {"x_min": 0.0, "x_max": 2.5, "y_min": -1.0, "y_max": 0.5, "nx": 24, "ny": 12}


def text(cond: Condition) -> str:
    return describe({"condition": cond.to_dict(), "window": WINDOW})


def test_the_adam_sentence():
    cond = Condition(optimizer="adam", phase_space="custom", x_axis="lr", y_axis="beta2")
    cond = cond.replace(y_scale="linear")
    sentence = text(cond)
    assert "by Adam (beta1 0.9, adam_eps 1e-08; beta2 on the y axis)" in sentence
    assert "y: Adam β2 (beta2), linear scale from -1 to 0.5, 12 pixels" in sentence
    assert "x: Learning rate (lr), log scale from 10^0 to 10^2.5, 24 pixels" in sentence


def test_schedule_settings_are_named():
    assert "step learning-rate schedule (decay_every 100, decay_factor 0.5)" in text(
        Condition(schedule="step")
    )
    assert "cosine learning-rate schedule (final_lr_fraction 0)" in text(
        Condition(schedule="cosine")
    )
    assert "schedule" not in text(Condition())


@pytest.mark.parametrize(
    "name", [name for name, (spec, _) in DECLARED.items() if spec.needs is not None]
)
def test_a_field_is_named_exactly_when_its_needs_hold(name):
    field, values = DECLARED[name][0].needs
    for value in DECLARED[field][0].allowed:
        companion = {"data": "digits"} if field == "model" else {}  # cnn, transformer need it
        sentence = text(Condition(**{field: value}, **companion))
        named = re.search(rf"\b{name} \S", sentence) is not None
        assert named == (value in values), (name, field, value, sentence)


def test_a_field_newly_declared_with_needs_is_named_without_editing_describe(monkeypatch):
    """pixel_draws declared as read with seed_mode per_pixel only: the report then names it."""
    declared = dict(DECLARED)
    spec, default = declared["pixel_draws"]
    declared["pixel_draws"] = (replace(spec, needs=("seed_mode", ("per_pixel",))), default)
    monkeypatch.setattr(fields, "specs", lambda cls: declared if cls is Condition else {})
    per_pixel = text(Condition(seed_mode="per_pixel", pixel_draws="both"))
    assert "; seed_mode per_pixel (pixel_draws both)." in per_pixel
    assert "pixel_draws" not in text(Condition())
