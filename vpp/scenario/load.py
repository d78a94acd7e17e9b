"""Read a scenario YAML file into a validated, frozen :class:`Scenario`.

The file is parsed by :func:`vpp.scenario.yaml_io.read_yaml` (bounded size and aliases).
A file that is not a scenario (not a mapping holding ``horizon``, ``site`` or
``extends``) is refused without quoting any of it. The files it names must lie inside
the project folder unless ``allow_outside`` (:mod:`vpp.scenario.reach`). Validation
errors become :class:`~vpp.errors.Problem` objects with the key path as the user wrote
it (:func:`problems_of`), values shown bounded (:func:`vpp.errors.short`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from vpp.errors import Problem, ScenarioError, clip, short
from vpp.scenario.common import Strict
from vpp.scenario.reach import OUTSIDE_FIX, is_inside, outside_message, project_root
from vpp.scenario.schema import Scenario
from vpp.scenario.yaml_io import read_yaml

__all__ = ["SCENARIO_MARKS", "load_scenario", "problems_of", "validate_scenario"]

#: A mapping is a scenario file when it holds at least one of these keys.
SCENARIO_MARKS = ("horizon", "site", "extends")


def load_scenario(
    path: str | Path, *, allow_outside: bool = False, root: str | Path | None = None
) -> Scenario:
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
    allow_outside : bool
        Let the scenario name files (``extends``, series, weather, sessions, forecasts)
        outside its project folder (:mod:`vpp.scenario.reach`).
    root : str or pathlib.Path, optional
        The project folder, when the scenario is part of a larger file (a park's site);
        default: the parent of the scenario's folder. Ignored with ``allow_outside``.

    Raises
    ------
    ScenarioError
        With every problem found: unreadable file, YAML syntax, not a scenario, a path
        outside the project folder, unknown keys, wrong types, impossible values, each
        with its key path.
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
    reach = None if allow_outside else Path(root) if root is not None else project_root(path)
    return _load(path, reach, ())


def _load(path: Path, root: Path | None, seen: tuple[Path, ...]) -> Scenario:
    data = read_yaml(path, what="scenario")
    if not isinstance(data, dict) or not any(k in data for k in SCENARIO_MARKS):
        raise ScenarioError(not_a_file_problem(data, str(path), "scenario", SCENARIO_MARKS))
    extends = data.pop("extends", None)
    overrides = data.pop("overrides", None)
    if extends is not None:
        data = _merge(_base(path, extends, root, seen), data)
    if overrides is not None:
        _apply_overrides(data, overrides, path)
    return validate_scenario(data, base_dir=path.parent.resolve(), file=str(path), root=root)


def not_a_file_problem(data: Any, file: str, what: str, marks: tuple[str, ...]) -> Problem:
    """The problem of a YAML file that is not a vpp ``what`` file; quotes none of it."""
    if isinstance(data, dict):
        shape = f"a mapping with none of the keys {', '.join(marks)}"
    elif isinstance(data, list):
        shape = "a list"
    elif data is None:
        shape = "an empty document"
    else:
        shape = "a single value, not a mapping of keys"
    return Problem(
        f"not a vpp {what} file",
        file=file,
        value=shape,
        allowed=f"a mapping of keys holding at least one of {', '.join(marks)}",
        fix=f"give the path of a vpp {what} YAML file (examples in scenarios/)",
    )


def _base(path: Path, extends: Any, root: Path | None, seen: tuple[Path, ...]) -> dict[str, Any]:
    """The scenario ``extends`` names, validated, as a dict with absolute paths."""
    file = str(path)
    if not isinstance(extends, str):
        raise ScenarioError(
            Problem(
                "'extends' names one scenario file",
                file=file,
                key="extends",
                value=short(extends),
                allowed="a path such as ../xushuguan-factory.yaml",
            )
        )
    base_path = (path.parent / extends).resolve()
    chain = (*seen, path.resolve())
    if root is not None and not is_inside(base_path, root):
        raise ScenarioError(
            Problem(
                outside_message(extends, root),
                file=file,
                key="extends",
                allowed=f"scenario files inside {root}",
                fix=OUTSIDE_FIX,
            )
        )
    if base_path in chain:
        raise ScenarioError(
            Problem(
                "scenarios extend each other in a cycle",
                file=file,
                key="extends",
                value=" -> ".join(str(p) for p in (*chain, base_path)),
            )
        )
    if not base_path.is_file():
        raise ScenarioError(
            Problem(
                "the scenario it extends is not found",
                file=file,
                key="extends",
                value=short(extends, 160),
                fix=f"check the path (looked for {base_path})",
            )
        )
    return _load(base_path, root, chain).model_dump(mode="python", exclude_none=True)


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
            Problem(
                "'overrides' maps key paths to values",
                file=str(path),
                key="overrides",
                value=type(overrides).__name__,
                allowed="{site.batteries[0].energy_kwh: 4000, ...}",
            )
        )
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
                Problem(
                    f"override path does not exist in the scenario: {clip(why, 200)}",
                    file=str(path),
                    key=f"overrides.{clip(str(key), 120)}",
                    value=short(value),
                    allowed=", ".join(near[:25]) if near else None,
                    fix=fix or "write the path as in the scenario: site.pv[0].sizing",
                )
            )
    if problems:
        raise ScenarioError(problems)


def validate_scenario(
    data: dict[str, Any],
    *,
    base_dir: Path | None = None,
    file: str | None = None,
    root: Path | None = None,
) -> Scenario:
    """Validate a scenario given as a dict (as parsed from YAML).

    ``base_dir``: folder relative paths resolve against; ``root``: the project folder
    every path must lie in (None: no rule), see :mod:`vpp.scenario.reach`.
    """
    try:
        return Scenario.model_validate(data, context={"base_dir": base_dir, "root": root})
    except ValidationError as exc:
        raise ScenarioError(problems_of(exc, file)) from None


# ---------------------------------------------------------------- validation errors

#: Error kinds that only say "this branch of a union does not take this type".
_TYPE_KINDS = frozenset(
    {
        "model_type",
        "model_attributes_type",
        "dict_type",
        "list_type",
        "literal_error",
        "string_type",
        "float_type",
        "float_parsing",
        "int_type",
        "int_parsing",
        "int_from_float",
        "bool_type",
        "bool_parsing",
        "date_type",
        "date_parsing",
        "datetime_type",
        "datetime_parsing",
        "is_instance_of",
        "path_type",
    }
)
#: Labels pydantic puts in an error's location for the branches of a plain union.
_BRANCH_LABELS = frozenset(
    "float int str bool date datetime constrained-float constrained-int constrained-str "
    "lax-or-strict json-or-python nullable union".split()
)


def problems_of(exc: ValidationError, file: str | None) -> list[Problem]:
    """The problems of a pydantic validation error, one per thing the user must fix.

    For a value that may take several forms (a number or a series, say), pydantic
    reports every form it does not fit; only the form that the value is closest to is
    kept (a type mismatch of one form is dropped when another form reports what is
    wrong inside it), and forms that all mismatch are merged into one problem.
    """
    errors = [dict(e) for e in exc.errors()]
    for err in errors:
        err["clean"] = _clean_loc(tuple(err.get("loc", ())))
        err["key"] = _key_path(err["clean"])
    explained = _explainer(errors)
    kept = [e for e in errors if e.get("type") not in _TYPE_KINDS or not explained(e["key"])]
    merged: dict[str, list[dict[str, Any]]] = {}
    for err in kept:
        slot = err["key"] if err.get("type") in _TYPE_KINDS else f"{len(merged)}:{err['key']}"
        merged.setdefault(slot, []).append(err)
    return [_problem(group, file) for group in merged.values()]


def _explainer(errors: list[dict[str, Any]]) -> Callable[[str], bool]:
    """Whether a type mismatch at a key is explained by another form of the value: an
    error at the same key that is not a type mismatch, or any error inside the value.

    Built once for all errors; each question is a set lookup and two binary searches of
    the sorted keys (a set of every key's text prefixes could grow with the square of a
    long user key).
    """
    reported = {e["key"] for e in errors if e.get("type") not in _TYPE_KINDS}
    keys = sorted({e["key"] for e in errors})

    def has_inside(key: str) -> bool:
        for head in (key + ".", key + "["):
            at = bisect_left(keys, head)
            if at < len(keys) and keys[at].startswith(head):
                return True
        return False

    return lambda key: key in reported or has_inside(key)


def _model_names() -> set[str]:
    names, todo = set(), [Strict]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


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
        "deferrable": schema.DeferrableLoad,
    }


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The location without pydantic's plain-union branch labels (tagged-union tags kept)."""
    models = _model_names()
    out: list[Any] = []
    for part in loc:
        if isinstance(part, str) and (
            "[" in part or part.startswith("function-") or part in _BRANCH_LABELS or part in models
        ):
            continue
        out.append(part)
    return tuple(out)


def _user_loc(loc: tuple[Any, ...]) -> list[Any]:
    """The cleaned location as the user wrote it: the tags of tagged unions dropped."""
    out: list[Any] = []
    for i, part in enumerate(loc):
        after_index = i > 0 and isinstance(loc[i - 1], int)
        if isinstance(part, str) and after_index and part in _tagged():
            continue
        out.append(part)
    return out


def _key_path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in _user_loc(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = clip(str(part), 60)
            text += f".{name}" if text else name
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


def _problem(group: list[dict[str, Any]], file: str | None) -> Problem:
    err = group[0]
    loc, key = err["clean"], err["key"]
    kind = err.get("type", "")
    value = err.get("input")
    shown = None if isinstance(value, dict) else short(value)
    if kind == "extra_forbidden":
        return Problem(
            f"unknown key {short(str(loc[-1]), 60)}",
            file=file,
            key=key,
            allowed=_allowed_keys(loc),
            fix="remove it or correct its spelling",
        )
    if kind == "missing":
        return Problem("required key is missing", file=file, key=key, fix="add it")
    said = [str(e.get("msg", "invalid value")).removeprefix("Value error, ") for e in group]
    rest = [m.removeprefix("Input should be ") for m in said[1:]]
    message = ", or ".join([said[0], *dict.fromkeys(rest)])
    return Problem(clip(message, 400), file=file, key=key or None, value=shown)
