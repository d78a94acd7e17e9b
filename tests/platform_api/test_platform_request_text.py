"""Every text field of every request body refuses control characters with a 422 naming
the field (PostgreSQL cannot store U+0000: it was a 500 there), on both databases.

The request models are found from the app's routes, and their text fields by walking
each model's annotations (nested models, list items, mapping keys and values), so a
text field added later is covered without naming it here.
"""

from __future__ import annotations

import json
import re
import types
import typing
from typing import Any

import pytest
from platform_helpers import PARK
from pydantic import BaseModel

pytest.importorskip("fastapi")
from fastapi.routing import APIRoute

from vpp.platform import create_app
from vpp.platform.text import refuse_control

#: Path parameters filled in to reach a route's body validation.
PATH_VALUES = {"park": PARK, "site": "electronics"}
BAD = "a\x00b"


def _args(annotation: Any) -> tuple[Any, ...]:
    return typing.get_args(annotation)


def _unwrap(annotation: Any) -> list[Any]:
    """The annotation's alternatives (X | None -> [X]; Annotated[X, ...] -> [X])."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [a for arg in _args(annotation) for a in _unwrap(arg) if a is not type(None)]
    return [annotation]


def _text_paths(model: type[BaseModel]) -> list[tuple[Any, ...]]:
    """Paths to every text of ``model``: field names, 0 for a list item, ``KEY`` for a
    mapping's key and ``VALUE`` for its value."""
    out: list[tuple[Any, ...]] = []
    for name, info in model.model_fields.items():
        out += [(name, *rest) for rest in _paths_of(info.annotation)]
    return out


def _paths_of(annotation: Any) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for kind in _unwrap(annotation):
        origin = typing.get_origin(kind)
        if kind is str:
            out.append(())
        elif isinstance(kind, type) and issubclass(kind, BaseModel):
            out += _text_paths(kind)
        elif origin in (list, tuple, set, frozenset):
            out += [(0, *rest) for rest in _paths_of(_args(kind)[0])]
        elif origin is dict:
            key, value = _args(kind)
            out += [("KEY",) for _ in _paths_of(key)]
            out += [("VALUE", *rest) for rest in _paths_of(value)]
    return out


def _body(path: tuple[Any, ...]) -> Any:
    """The smallest JSON body putting :data:`BAD` at ``path``."""
    if not path:
        return BAD
    head, rest = path[0], path[1:]
    if head == 0:
        return [_body(rest)]
    if head == "KEY":
        return {BAD: {}}
    if head == "VALUE":
        return {"k": _body(rest)}
    return {head: _body(rest)}


def _routes(routes: list[Any]) -> list[Any]:
    """The app's routes, those of its included routers too."""
    out = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        out += _routes(inner.routes) if inner is not None else [route]
    return out


def _cases() -> list[tuple[str, str, tuple[Any, ...]]]:
    from vpp.platform import Platform

    platform = Platform.open("sqlite://")
    try:
        app = create_app(platform)
    finally:
        platform.close()
    cases = []
    for route in _routes(app.routes):
        if not isinstance(route, APIRoute) or route.body_field is None:
            continue
        model = route.body_field.field_info.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        if model.__module__.startswith("fastapi"):  # a form (the login): its own test
            continue
        for method in sorted(route.methods):
            cases += [(method, route.path, path) for path in _text_paths(model)]
    return cases


CASES = _cases()


def test_the_walk_finds_the_text_fields_of_every_request_model():
    """The walk sees the models' text fields (a walk finding none would pass vacuously)."""
    found = {(path, fields[0]) for _, path, fields in CASES}
    for route, field in [
        ("/api/v1/parks/{park}/sites/{site}/carbon-ledger", "reference"),
        ("/api/v1/parks/{park}/sites/{site}/carbon-ledger", "note"),
        ("/api/v1/parks/{park}/sites/{site}/telemetry", "readings"),
        ("/api/v1/keys", "label"),
        ("/api/v1/parks/{park}/targets", "sites"),
        ("/api/v1/runs", "scenario"),
    ]:
        assert (route, field) in found, (route, field)
    assert len(CASES) >= 15


@pytest.mark.parametrize(
    ("method", "route", "path"), CASES, ids=[f"{m} {r} {p}" for m, r, p in CASES]
)
def test_a_control_character_in_any_text_field_is_422_naming_it(api, method, route, path):
    url = route.format(**{k: PATH_VALUES.get(k, "1") for k in PATH_VALUES})
    url = url.replace("{run_id}", "1")
    answer = api["client"].request(
        method,
        url,
        content=json.dumps(_body(path)),
        headers={**api["headers"]["admin"], "content-type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    named = [
        p
        for p in answer.json()["problems"]
        if "control character U+0000" in p["message"]
        and p["path"].removeprefix("body.").split(".")[0] == path[0]
    ]
    assert named, answer.text


@pytest.mark.parametrize("text", ["a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\ud800b", "a\nb"])
def test_text_refuses_each_control_character(text):
    with pytest.raises(ValueError, match="control character"):
        refuse_control(text)


def test_free_text_allows_tab_and_line_breaks_only():
    assert refuse_control("line one\r\n\tline two", lines=True) == "line one\r\n\tline two"
    with pytest.raises(ValueError, match=r"U\+0000 at position 4"):
        refuse_control("line\x00", lines=True)


def _path_cases() -> list[tuple[str, str]]:
    from vpp.platform import Platform

    platform = Platform.open("sqlite://")
    try:
        app = create_app(platform)
    finally:
        platform.close()
    return [
        (sorted(route.methods)[0], route.path)
        for route in _routes(app.routes)
        if isinstance(route, APIRoute) and route.path.startswith("/api/") and "{" in route.path
    ]


PATH_CASES = _path_cases()


@pytest.mark.parametrize(("method", "route"), PATH_CASES, ids=[f"{m} {r}" for m, r in PATH_CASES])
def test_a_control_character_in_a_path_name_is_422_not_500(api, method, route):
    """Every API route's path parameters get U+0000: a 422 naming ``path`` (PostgreSQL
    was a 500 when the name reached a query)."""
    # U+0000 in the first parameter, the others a valid value
    url = re.sub(r"\{[^}]+\}", "a%00b", route, count=1)
    url = url.replace("{site}", "electronics").replace("{run_id}", "1")
    url = re.sub(r"\{[^}]+\}", "x", url)
    answer = api["client"].request(method, url, headers=api["headers"]["admin"])
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["field"] == "path"


def test_a_control_character_in_a_query_is_422(api):
    answer = api["client"].get(
        f"/api/v1/parks/{PARK}/sites/electronics/carbon-ledger?kind=x%00y",
        headers=api["headers"]["admin"],
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["field"] == "query"
