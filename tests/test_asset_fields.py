"""Every asset kind's scenario model says what each field is, with its unit (issue 13).

Every field of every registered unit's ``spec_model``, and of every model nested in it,
has a ``Field(description=...)`` that starts by saying what the field is and, for a
field that holds a number, gives its unit in square brackets (``[kW]``, ``[-]``).
``docs/assets.md`` tabulates them and must equal what ``docs/make_assets_doc.py``
generates now.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from vpp.assets import units
from vpp.scenario.common import EnergyKwh, PowerKw
from vpp.scenario.schema import Battery

ROOT = Path(__file__).resolve().parents[1]
UNIT = re.compile(r"\[[^\[\]]+\]")

#: Leaf types that hold no number, so whose fields need no unit (a description still):
#: names and text, file paths, dates, switches and models (which have fields of their
#: own); choices (``Literal``) and ``None`` are leaves without a unit too.
NO_UNIT = (str, Path, bool, dt.date, BaseModel)


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """Every model an annotation names and every model nested in those, each once."""
    found: list[type[BaseModel]] = []
    todo = [annotation]
    while todo:
        item = todo.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item not in found:
                found.append(item)
                todo += [f.annotation for f in item.model_fields.values()]
        else:
            todo += list(typing.get_args(item))
    return found


def holds_a_number(annotation: Any) -> bool:
    """Whether any leaf of a field's type is a number (``int``, ``float``; not ``bool``)."""
    origin = typing.get_origin(annotation)
    if origin is Literal or annotation is type(None):
        return False
    if origin is Annotated:
        return holds_a_number(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, dict):
        return any(holds_a_number(a) for a in typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, NO_UNIT):
        return False
    return True


def offenders(models: list[type[BaseModel]]) -> list[str]:
    """``Model.field: what is wrong`` for every field without a proper description."""
    found = []
    for model in models:
        for name, field in model.model_fields.items():
            where = f"{model.__name__}.{name}"
            text = (field.description or "").strip()
            if not text:
                found.append(f"{where}: no description")
            elif text.startswith("["):
                found.append(f"{where}: only its type's unit and bounds ({text!r}); say what it is")
            elif holds_a_number(field.annotation) and not UNIT.search(text):
                found.append(f"{where}: no unit in square brackets ({text!r})")
    return found


def all_models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for unit in units():
        found += [m for m in models_in(unit.spec_model) if m not in found]
    return found


def test_every_field_of_every_asset_model_says_what_it_is_and_its_unit() -> None:
    models = all_models()
    names = {m.__name__ for m in models}
    # the walk reaches the unions (PV arrays) and the nested models
    assert {"Grid", "TouPeriod", "CarportPV", "Bifacial", "BatterySizing", "Genset"} <= names
    assert sum(len(m.model_fields) for m in models) > 150
    found = offenders(models)
    assert not found, "asset scenario fields to describe (docs/assets.md):\n" + "\n".join(found)


def test_the_check_finds_a_field_without_a_description_or_unit() -> None:
    """The check can fail: a field left with its type's text only (as a battery's
    ``energy_kwh`` would be without its description), a number without a unit and a
    field without a description are each named; text without a unit passes."""

    class Made(BaseModel):  # not a Strict model: the scenario's model set stays as it is
        energy_kwh: EnergyKwh  # "[kWh], at most 1e8" from the type only
        price: float = Field(1.0, description="A price without its unit.")
        label: str = Field("x", description="A name: no unit needed.")
        bare: int = 0
        fine: PowerKw | None = Field(None, description="A power [kW].")

    assert offenders([Made]) == [
        "Made.energy_kwh: only its type's unit and bounds ('[kWh], at most 1e8'); say what it is",
        "Made.price: no unit in square brackets ('A price without its unit.')",
        "Made.bare: no description",
    ]
    assert offenders([Battery]) == []


def make_assets_doc() -> Any:
    path = ROOT / "docs" / "make_assets_doc.py"
    spec = importlib.util.spec_from_file_location("make_assets_doc", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_assets_md_is_what_the_script_generates() -> None:
    text = make_assets_doc().render()
    committed = (ROOT / "docs" / "assets.md").read_text(encoding="utf-8")
    assert committed == text, (
        "docs/assets.md is out of date; run: python docs/make_assets_doc.py > docs/assets.md"
    )


def test_docs_assets_md_has_every_kind_model_and_field() -> None:
    text = (ROOT / "docs" / "assets.md").read_text(encoding="utf-8")
    for unit in units():
        assert f"\n## {unit.kind}\n" in text
    for model in all_models():
        assert f"{model.__module__}.{model.__qualname__}" in text
        for name in model.model_fields:
            assert f"| `{name}` |" in text
