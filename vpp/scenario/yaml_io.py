"""Read a user's YAML file safely: bounded size, bounded aliases, never a traceback.

Every YAML file a user hands to vpp (scenario, park, sweep, demand-response notice) is
read by :func:`read_yaml`. Besides PyYAML's safe loader (plain data only) it refuses:

- files larger than :data:`MAX_FILE_BYTES`;
- aliases (``*name``) that would repeat, in all, more than :data:`MAX_ALIAS_NODES`
  values: a kilobyte "billion laughs" file expands to billions of values in whatever
  walks it (validation, ``repr``), and is refused before anything is built;
- an alias inside the node it names (a cycle), and nesting deeper than :data:`MAX_DEPTH`;
- a key written twice in one mapping (YAML would silently keep the last);
- values PyYAML cannot build (a date such as ``2026-02-30``, an integer of thousands of
  digits), reported at their line instead of as a Python traceback.

Plain scalars resolve as in YAML 1.2's core schema, not YAML 1.1's: only ``true`` and
``false`` are booleans (``on``, ``off``, ``yes`` and ``no`` stay words, so the key ``on:``
of a demand charge is the string ``on``), and ``17:00`` is the text ``17:00``, not the
base-60 integer 1020. Fields that take a boolean still accept those words.

Every problem is a :class:`~vpp.errors.ScenarioError` naming the file and the line and
column, and quoting none of the file's content beyond a short excerpt of PyYAML's own
message.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from vpp.errors import Problem, ScenarioError, clip, short

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "MAX_FILE_BYTES", "read_yaml"]

#: Largest YAML file read [bytes] (10 MB).
MAX_FILE_BYTES = 10 * 1024 * 1024
#: Most values that aliases may repeat in one file, in all [-].
MAX_ALIAS_NODES = 100_000
#: Deepest nesting of mappings and lists [levels].
MAX_DEPTH = 100

_VALUE = "this value cannot be read"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader; a value that cannot be built is a YAML error at its line."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, OverflowError, TypeError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{_VALUE}: {clip(str(exc), 100)}", node.start_mark
            ) from None


_BOOL_TAG, _INT_TAG, _FLOAT_TAG = (f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float"))
# YAML 1.2 core schema for booleans and numbers: PyYAML's YAML 1.1 patterns without the
# words on/off/yes/no and without base-60 (sexagesimal) numbers such as 17:00.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL_TAG, _INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    _INT_TAG,
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?"
        r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def read_yaml(path: str | Path, *, what: str = "scenario") -> Any:
    """Parse one YAML file into plain Python data, within the limits of the module.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    what : str
        What the file is (``scenario``, ``park``, ``sweep``, ``notice``), for messages.

    Returns
    -------
    Any
        The document: a dict, list, scalar, or None for an empty file.

    Raises
    ------
    ScenarioError
        The file is missing, unreadable, too large, not UTF-8 text, not valid YAML
        (with line and column), or its aliases, cycles or nesting exceed the limits.
    """
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise ScenarioError(Problem(f"{what} file not found", file=file, fix="check the path"))
    try:
        with open(path, "rb") as stream:  # never more than the limit is read
            raw = stream.read(MAX_FILE_BYTES + 1)
        size = max(path.stat().st_size, len(raw))  # for the message only
    except OSError as exc:
        raise ScenarioError(
            Problem(
                f"the {what} file cannot be read ({exc.strerror or type(exc).__name__})",
                file=file,
                fix="check the file's permissions",
            )
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            Problem(
                f"the {what} file is too large to be a {what} file",
                file=file,
                value=f"{size} bytes",
                allowed=f"at most {MAX_FILE_BYTES} bytes",
                fix="put long data in series files (CSV or Parquet), not in YAML",
            )
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            Problem(
                f"not a {what} file: not UTF-8 text",
                file=file,
                key=f"byte {exc.start + 1}",
                allowed="a YAML text file in UTF-8",
                fix=f"give the path of a vpp {what} YAML file",
            )
        ) from None
    return _parse(text, file, what)


def _parse(text: str, file: str, what: str) -> Any:
    loader = None
    try:
        loader = _Loader(text)  # its reader refuses control characters at once
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(node, file, what)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        said = [getattr(exc, "context", None), getattr(exc, "problem", None)]
        text = ", ".join(str(s) for s in said if s) or type(exc).__name__
        if isinstance(exc, yaml.reader.ReaderError):
            text = f"character #x{exc.character:04x} at character {exc.position + 1}: {exc.reason}"
        value = str(getattr(exc, "problem", "")).startswith(_VALUE)
        raise ScenarioError(
            Problem(
                f"{'' if value else 'not valid YAML: '}{clip(text, 160)}",
                file=file,
                key=_where(mark),
                fix="correct the value"
                if value
                else "correct the YAML syntax (indentation, colons, quotes)",
            )
        ) from None
    except RecursionError:
        raise ScenarioError(
            Problem(
                f"the {what} file nests mappings or lists too deeply",
                file=file,
                allowed=f"at most {MAX_DEPTH} levels",
                fix=f"write a vpp {what} file (see scenarios/)",
            )
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


def _where(mark: Any) -> str | None:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_unique_keys(node: MappingNode, file: str) -> None:
    """Refuse a key written twice in one mapping (YAML would silently keep the last)."""
    seen: dict[tuple[str, str], Any] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        first = seen.setdefault((key_node.tag, key_node.value), key_node.start_mark)
        if first is not key_node.start_mark:
            raise ScenarioError(
                Problem(
                    f"the key {short(key_node.value, 60)} is written twice in one mapping "
                    f"(first at {_where(first)})",
                    file=file,
                    key=_where(key_node.start_mark),
                    fix="keep one of them: YAML would silently use the last",
                )
            )


def _check_graph(root: Node, file: str, what: str) -> None:
    """Refuse alias cycles, too deep nesting, and aliases that repeat too many values.

    The composed document is a graph: an alias is the very node its anchor names. Its
    size once every alias is written out (as a walk over the data sees it) is computed
    bottom-up, once per distinct node, so the check itself costs what the file holds.
    """
    expanded: dict[int, int] = {}  # id(node) -> values in its subtree, aliases written out
    depth: dict[int, int] = {}  # id(node) -> levels below it, aliases written out
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            kids = _children(node)
            expanded[key] = 1 + sum(expanded[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            if depth[key] > MAX_DEPTH:
                raise ScenarioError(
                    Problem(
                        f"the {what} file nests mappings or lists too deeply",
                        file=file,
                        key=_where(node.start_mark),
                        allowed=f"at most {MAX_DEPTH} levels",
                        fix=f"write a vpp {what} file (see scenarios/)",
                    )
                )
            if expanded[key] - len(expanded) > MAX_ALIAS_NODES:
                raise ScenarioError(
                    Problem(
                        "YAML aliases (*name) here repeat too many values: vpp refuses such "
                        "files (an alias bomb)",
                        file=file,
                        key=_where(node.start_mark),
                        value=f"more than {MAX_ALIAS_NODES} repeated values",
                        allowed=f"aliases that repeat at most {MAX_ALIAS_NODES} values in all",
                        fix="write the repeated parts out, or use fewer aliases",
                    )
                )
            continue
        if key in expanded:
            continue
        if key in on_path:
            raise ScenarioError(
                Problem(
                    "a YAML alias (*name) refers to the mapping or list that holds it (a cycle)",
                    file=file,
                    key=_where(node.start_mark),
                    fix="remove the alias; vpp files hold plain trees of values",
                )
            )
        if isinstance(node, MappingNode):
            _check_unique_keys(node, file)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in expanded)
