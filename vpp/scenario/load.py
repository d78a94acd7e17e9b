"""Read a scenario YAML file into a validated, frozen :class:`Scenario`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from vpp.errors import Problem, ScenarioError
from vpp.scenario.schema import Scenario


def load_scenario(path: str | Path, _seen: tuple[Path, ...] = ()) -> Scenario:
    """Load and validate a scenario file.

    Relative paths inside it resolve against the file's folder. A file may start from
    another: ``extends: base.yaml`` (relative to the file) loads that scenario, then
    lays this file's keys over it (mappings merged key by key, everything else
    replaced), then applies ``overrides``: a mapping of key paths
    (``site.batteries[0].sizing``, :mod:`vpp.scenario.paths`) to values, for entries
    inside lists. The base's relative paths keep resolving against the base's folder.

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
    extends = data.pop("extends", None)
    overrides = data.pop("overrides", None)
    if extends is not None:
        data = _merge(_base(path, extends, _seen), data)
    if overrides is not None:
        _apply_overrides(data, overrides, path)
    return validate_scenario(data, base_dir=path.parent.resolve(), file=str(path))


def _base(path: Path, extends: Any, seen: tuple[Path, ...]) -> dict[str, Any]:
    """The scenario ``extends`` names, validated, as a dict with absolute paths."""
    if not isinstance(extends, str):
        raise ScenarioError(
            Problem("'extends' names one scenario file", file=str(path), key="extends",
                    value=repr(extends), allowed="a path such as ../xushuguan-factory.yaml")
        )  # fmt: skip
    base_path = (path.parent / extends).resolve()
    chain = (*seen, path.resolve())
    if base_path in chain:
        raise ScenarioError(
            Problem("scenarios extend each other in a cycle", file=str(path), key="extends",
                    value=" -> ".join(str(p) for p in (*chain, base_path)))
        )  # fmt: skip
    if not base_path.is_file():
        raise ScenarioError(
            Problem("the scenario it extends is not found", file=str(path), key="extends",
                    value=str(extends), fix=f"check the path (looked for {base_path})")
        )  # fmt: skip
    return load_scenario(base_path, chain).model_dump(mode="python", exclude_none=True)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _apply_overrides(data: dict[str, Any], overrides: Any, path: Path) -> None:
    from vpp.scenario.paths import missing_path, set_path

    if not isinstance(overrides, dict):
        raise ScenarioError(
            Problem("'overrides' maps key paths to values", file=str(path), key="overrides",
                    value=type(overrides).__name__,
                    allowed="{site.batteries[0].energy_kwh: 4000, ...}")
        )  # fmt: skip
    problems = []
    for key, value in overrides.items():
        try:
            set_path(data, str(key), value, create=True)
        except (KeyError, ValueError):
            try:
                why, near, fix = missing_path(data, str(key)) or ("", [], None)
            except ValueError:
                why, near, fix = "not a key path", [], None
            problems.append(
                Problem(f"override path does not exist in the scenario: {why}",
                        file=str(path), key=f"overrides.{key}", value=repr(value),
                        allowed=", ".join(near[:25]) if near else None,
                        fix=fix or "write the path as in the scenario: site.pv[0].sizing")
            )  # fmt: skip
    if problems:
        raise ScenarioError(problems)


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
