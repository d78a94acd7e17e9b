"""Read a scenario YAML file into a validated, frozen :class:`Scenario`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from vpp.errors import Problem, ScenarioError
from vpp.scenario.schema import Scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file.

    Relative paths inside it resolve against the file's folder.

    Parameters
    ----------
    path : str or pathlib.Path
        The scenario YAML file.

    Raises
    ------
    ScenarioError
        With every problem found: unreadable file, YAML syntax, unknown keys, wrong
        types, impossible values, each with its key path.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(
            Problem(
                "scenario file not found",
                file=str(path),
                fix="check the path; scenarios ship in the scenarios/ folder",
            )
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise ScenarioError(
            Problem(
                f"not valid YAML: {getattr(exc, 'problem', exc)}",
                file=str(path),
                key=where,
                fix="correct the YAML syntax (indentation, colons, quotes)",
            )
        ) from None
    if not isinstance(data, dict):
        raise ScenarioError(
            Problem(
                "a scenario file must hold a mapping of keys",
                file=str(path),
                value=type(data).__name__,
                allowed="name, horizon, site, ...",
            )
        )
    return validate_scenario(data, base_dir=path.parent.resolve(), file=str(path))


def validate_scenario(
    data: dict[str, Any], *, base_dir: Path | None = None, file: str | None = None
) -> Scenario:
    """Validate a scenario given as a dict (as parsed from YAML)."""
    try:
        return Scenario.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ScenarioError([_problem(err, file) for err in exc.errors()]) from None


def _tagged() -> dict[str, type[BaseModel]]:
    """Union members chosen by their ``kind`` tag: pydantic puts the tag in error paths."""
    from vpp.scenario import schema

    return {
        "profile": schema.ProfilePV,
        "clearsky": schema.ClearSkyPV,
        "rooftop": schema.RooftopPV,
        "carport": schema.CarportPV,
        "shiftable": schema.ShiftableLoad,
        "curtailable": schema.CurtailableLoad,
    }


def _user_loc(loc: tuple[Any, ...]) -> list[Any]:
    """The error location as the user wrote it: union tags and pydantic's branch names dropped."""
    out: list[Any] = []
    for i, part in enumerate(loc):
        after_index = i > 0 and isinstance(loc[i - 1], int)
        if isinstance(part, str) and after_index and part in _tagged():
            continue
        if isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue
        out.append(part)
    return out


def _key_path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in _user_loc(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _allowed_keys(loc: tuple[Any, ...]) -> str | None:
    """The keys allowed at the place of an unknown key, by walking the schema."""
    model: Any = Scenario
    for i, part in enumerate(loc[:-1]):
        if isinstance(part, int):
            continue
        if isinstance(part, str) and i > 0 and isinstance(loc[i - 1], int) and part in _tagged():
            model = _tagged()[part]
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _inner_model(field.annotation)
        if model is None:
            return None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return ", ".join(model.model_fields)
    return None


def _inner_model(annotation: Any) -> Any:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _problem(err: dict[str, Any], file: str | None) -> Problem:
    loc = tuple(err.get("loc", ()))
    key = _key_path(loc)
    kind = err.get("type", "")
    value = err.get("input")
    shown = None if isinstance(value, dict) else repr(value)
    if kind == "extra_forbidden":
        return Problem(
            f"unknown key '{loc[-1]}'",
            file=file,
            key=key,
            allowed=_allowed_keys(loc),
            fix="remove it or correct its spelling",
        )
    if kind == "missing":
        return Problem("required key is missing", file=file, key=key, fix="add it")
    message = err.get("msg", "invalid value").removeprefix("Value error, ")
    return Problem(message, file=file, key=key or None, value=shown)
