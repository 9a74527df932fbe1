"""Load YAML and remember where every value came from, so validation errors can say FILE:LINE:COL.

Used by the CSMS seed loader, the scenario loader and the load test's mix file::

    data, locate = load_with_positions("seed.yaml")
    line, col = locate(("chargers", 0, "security_profile"))   # 1-based, like editors
    problems = schema_violations(Draft202012Validator(schema), data, locate, "seed.yaml")
    # -> [(7, 23, "seed.yaml:7:23: chargers[0].security_profile: 5 is greater than ...")]

The data is JSON-shaped on purpose (it is validated with JSON Schema next): timestamps and dates
stay strings instead of becoming `datetime`, and a duplicated mapping key is an error instead of
silently replacing the first one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

Path_ = tuple[Hashable, ...]
Locate = Callable[[Sequence[Hashable]], tuple[int, int]]

__all__ = [
    "DuplicateKeyError",
    "Locate",
    "PositionLoader",
    "Positions",
    "YamlFileError",
    "dotted",
    "load_file",
    "load_with_positions",
    "loads_with_positions",
    "mark_of",
    "schema_violations",
]


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping holds the same key twice; the mark points at the second one."""


class PositionLoader(yaml.SafeLoader):
    """SafeLoader that records the start mark of every mapping, sequence and scalar by data path.

    Call `load()` once; afterwards `positions` maps each path (tuple of keys and list indexes)
    to the node's mark, and `key_positions` maps each mapping-entry path to its key's mark.
    """

    # JSON-shaped data: drop the implicit timestamp resolver (dates stay strings), keep the rest.
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str, name: str = "<string>") -> None:
        super().__init__(stream)
        self.name = name  # shown in yaml.MarkedYAMLError messages
        self.positions: dict[Path_, yaml.Mark] = {}
        self.key_positions: dict[Path_, yaml.Mark] = {}

    def load(self) -> Any:
        """Parse the single document, record positions, and return the data (None if empty)."""
        try:
            node = self.get_single_node()
            if node is None:
                return None
            self._record(node, ())
            return self.construct_document(node)
        finally:
            self.dispose()

    def _record(self, node: yaml.Node, path: Path_, active: frozenset[int] = frozenset()) -> None:
        self.positions[path] = node.start_mark
        if id(node) in active:
            return  # an alias to an ancestor: the data is recursive, stop here
        active = active | {id(node)}
        if isinstance(node, yaml.MappingNode):
            self._check_duplicates(node)
            self.flatten_mapping(node)  # resolve `<<` merge keys the way construction will
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, Hashable):
                    self.key_positions[(*path, key)] = key_node.start_mark
                    self._record(value_node, (*path, key), active)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._record(item, (*path, index), active)

    def _check_duplicates(self, node: yaml.MappingNode) -> None:
        # Explicit keys only: a key that overrides one merged in by `<<` is legal YAML.
        seen: dict[Hashable, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # the constructor reports unhashable keys itself
            if key in seen:
                raise DuplicateKeyError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r} (first at line {seen[key].line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark


class Positions:
    """Answer "where is this value?" for a loaded document; missing paths fall back to a parent."""

    def __init__(self, values: dict[Path_, yaml.Mark], keys: dict[Path_, yaml.Mark]) -> None:
        self._values = values
        self._keys = keys

    def locate(self, path: Sequence[Hashable]) -> tuple[int, int]:
        """(line, column), 1-based, of the value at `path` or of its nearest existing ancestor."""
        path = tuple(path)
        for end in range(len(path), -1, -1):
            mark = self._values.get(path[:end])
            if mark is not None:
                return mark.line + 1, mark.column + 1
        return 1, 1

    def locate_key(self, path: Sequence[Hashable]) -> tuple[int, int]:
        """(line, column) of the mapping key that ends `path` (e.g. an unexpected property)."""
        mark = self._keys.get(tuple(path))
        if mark is None:
            return self.locate(path)
        return mark.line + 1, mark.column + 1

    __call__ = locate


def loads_with_positions(text: str, name: str = "<string>") -> tuple[Any, Positions]:
    """Parse YAML text; raise `yaml.YAMLError` (with `problem_mark`) on syntax errors."""
    loader = PositionLoader(text, name)
    data = loader.load()
    return data, Positions(loader.positions, loader.key_positions)


def load_with_positions(path: str | Path) -> tuple[Any, Positions]:
    """Parse a YAML file; the second item is callable as `locate(path_tuple) -> (line, col)`."""
    return loads_with_positions(Path(path).read_text(encoding="utf-8"), str(path))


class YamlFileError(ValueError):
    """The file cannot be read or is not YAML; the message is one `FILE:LINE:COL: reason` line."""


def load_file(path: str | Path) -> tuple[Any, Positions]:
    """`load_with_positions`, with an unreadable file or a syntax error as a `YamlFileError`."""
    try:
        return load_with_positions(path)
    except OSError as exc:
        raise YamlFileError(f"{path}:1:1: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise YamlFileError(f"{path}:1:1: not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        line, col = mark_of(exc) or (1, 1)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlFileError(f"{path}:{line}:{col}: YAML syntax: {problem}") from None


def mark_of(error: yaml.YAMLError) -> tuple[int, int] | None:
    """(line, column), 1-based, of a YAML syntax error, for FILE:LINE:COL messages."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None:
        return None
    return mark.line + 1, mark.column + 1


def dotted(path: Sequence[Hashable]) -> str:
    """`chargers[0].password` for ("chargers", 0, "password"); `(root)` for ()."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"


def schema_violations(
    validator: Validator, data: Any, positions: Positions, source: str
) -> list[tuple[int, int, str]]:
    """Every JSON Schema violation as (line, col, "SOURCE:LINE:COL: field.path: reason"), sorted.

    A missing required property is reported under its own name at its parent's position; an
    unexpected property at its key, with the allowed names; pattern/type failures quote the
    schema's `description` so the reader learns the rule, not the regex.
    """
    found: list[tuple[int, int, str]] = []

    def add(path: Sequence[Hashable], reason: str, *, key: bool = False) -> None:
        line, col = positions.locate_key(path) if key else positions.locate(path)
        found.append((line, col, f"{source}:{line}:{col}: {dotted(path)}: {reason}"))

    for error in validator.iter_errors(data):
        path = list(error.absolute_path)
        if error.validator == "required":
            required = error.validator_value if isinstance(error.validator_value, list) else []
            missing = [p for p in required if repr(p) in error.message]
            for name in missing or ["?"]:
                add([*path, name], "required field is missing")
        elif (error.validator == "additionalProperties" and isinstance(error.instance, dict)
              and isinstance(error.schema, Mapping)):
            allowed = sorted(error.schema.get("properties", {}))
            for name in error.instance:
                if name not in allowed:
                    add([*path, name], f"unknown field (allowed: {', '.join(allowed)})", key=True)
        else:
            reason = error.message
            description = (
                error.schema.get("description") if isinstance(error.schema, dict) else None
            )
            if error.validator == "pattern" and description:
                reason = f"{error.instance!r} is not valid: {description}"
            elif error.validator in ("type", "format") and description:
                reason = f"{reason} ({description})"
            add(path, reason)
    return sorted(found)
