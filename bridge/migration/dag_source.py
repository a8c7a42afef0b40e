"""Python source for the values of a DAG as ``report.json`` holds them, for ``af2kfp cutover``.

A cut-over DAG repeats its original's ``DAG(...)`` arguments (schedule, dates, tags,
``default_args`` with the owner, retries and callbacks). The analyzer kept each value
resolved (``af2kfp.converters.values``): plain data, a known call (``Param(...)``, a timetable),
a duration, a date, or, where it could not know it, the expression as written
(``page_on_call``). An expression's names are found in the original file, statically:
a name it imports is imported the same way; a name it defines is read from it when the
generated file loads (:func:`af2kfp.airflow_plugins.originals.original_attribute`). A name found
nowhere, a relative import or a clash with a name the generated file needs is a problem
that keeps the DAG from being cut over, with the reason.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from af2kfp.converters.emit.layout import Atom, Group, Node, number, string
from af2kfp.converters.values import Call, DateTime, Duration, Symbolic, TaskRef

__all__ = ["OriginalNames", "original_names", "SourceBuilder", "CutoverProblem"]


class CutoverProblem(Exception):
    """A value of the DAG cannot be written into the generated file; the message says why."""


@dataclass(frozen=True)
class OriginalNames:
    """What the original DAG file binds at its top level: ``imports`` (name -> the import
    statement that binds it alone) and ``defined`` (every other top-level binding)."""

    path: Path
    imports: dict[str, str]
    defined: frozenset[str]
    relative: frozenset[str] = frozenset()


def _bound_by_import(node: ast.Import | ast.ImportFrom) -> dict[str, str]:
    found = {}
    for alias in node.names:
        if isinstance(node, ast.Import):
            bound = alias.asname or alias.name.split(".")[0]
            found[bound] = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
        elif alias.name != "*":
            bound = alias.asname or alias.name
            line = f"from {node.module} import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
            found[bound] = line
    return found


def original_names(path: Path) -> OriginalNames:
    """The top-level bindings of ``path`` (parsed, never run)."""
    try:
        module = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as exc:
        raise CutoverProblem(f"{path}: cannot read the original DAG file: {exc}") from None
    imports: dict[str, str] = {}
    defined: set[str] = set()
    relative: set[str] = set()
    for statement in module.body:
        if isinstance(statement, ast.ImportFrom) and statement.level:
            relative.update(a.asname or a.name for a in statement.names)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            imports.update(_bound_by_import(statement))
        else:
            for node in ast.walk(statement):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    defined.add(node.name)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    defined.add(node.id)
                elif isinstance(node, (ast.Import, ast.ImportFrom)):  # in a try/if: read from the file
                    defined.update(a.asname or a.name.split(".")[0] for a in node.names)
    for name in relative:
        imports.pop(name, None)
    return OriginalNames(path, imports, frozenset(defined - set(imports)), frozenset(relative))


def _free_names(source: str) -> set[str]:
    tree = ast.parse(source.strip(), mode="eval")
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda):
            local.update(a.arg for a in node.args.args + node.args.kwonlyargs)
    return loaded - local - set(dir(builtins))


@dataclass
class SourceBuilder:
    """Turns values into layout nodes, collecting the imports and original-file reads they need.

    ``relative_original`` is the original file's path from the generated file's folder.
    """

    names: OriginalNames
    relative_original: str
    imports: dict[str, str] = field(default_factory=dict)  # bound name -> import line
    loaded: dict[str, Group] = field(default_factory=dict)  # bound name -> the call that reads it

    def bind(self, name: str, line: str) -> str:
        """Import ``name`` with ``line``; a name bound twice differently is a problem."""
        if self.imports.get(name, line) != line or name in self.loaded:
            raise CutoverProblem(f"name {name!r} is needed as `{line}` and as `{self.imports.get(name)}`")
        self.imports[name] = line
        return name

    def _load(self, name: str) -> None:
        if name in self.imports:
            raise CutoverProblem(f"name {name!r} is defined in the DAG file and also needed as `{self.imports[name]}`")
        self.bind("original_attribute", "from af2kfp.airflow_plugins.originals import original_attribute")
        arguments = (("", Atom("__file__")), ("", Atom(string(self.relative_original))), ("", Atom(string(name))))
        self.loaded[name] = Group("original_attribute", arguments)

    def _expression(self, source: str) -> Node:
        try:
            names = _free_names(source)
        except SyntaxError:
            raise CutoverProblem(f"cannot read the expression {source!r}") from None
        for name in sorted(names):
            if name in self.names.imports:
                self.bind(name, self.names.imports[name])
            elif name in self.names.relative:
                raise CutoverProblem(f"{name!r} comes from a relative import in {self.names.path.name}")
            elif name in self.names.defined:
                self._load(name)
            else:
                raise CutoverProblem(f"{source!r}: {name!r} is not bound at the top of {self.names.path.name}")
        return Atom(" ".join(source.split()) if "\n" in source else source)

    def _datetime(self, iso: str) -> Node:
        moment = datetime.fromisoformat(iso)
        parts = [moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second, moment.microsecond]
        while len(parts) > 3 and parts[-1] == 0:
            parts.pop()
        items: list[tuple[str, Node]] = [("", Atom(str(p))) for p in parts]
        if moment.tzinfo is not None:
            if moment.utcoffset() != timezone.utc.utcoffset(None):
                raise CutoverProblem(
                    f"date {iso} has a fixed UTC offset; its time zone's name is unknown (give it with pendulum)"
                )
            items.append(("tzinfo=", Atom(self.bind("timezone", "from datetime import timezone") + ".utc")))
        return Group(self.bind("datetime", "from datetime import datetime"), tuple(items))

    def node(self, item: Any) -> Node:
        """The layout node of one resolved value."""
        if item is None or isinstance(item, bool):
            return Atom(repr(item))
        if isinstance(item, (int, float)):
            return Atom(number(item))
        if isinstance(item, str):
            return Atom(string(item))
        if isinstance(item, (list, tuple)):
            return Group("", tuple(("", self.node(v)) for v in item), "collection", "[]")
        if isinstance(item, dict):
            return Group("", tuple((f"{string(str(k))}: ", self.node(v)) for k, v in item.items()), "collection", "{}")
        if isinstance(item, Symbolic):
            return self._expression(item.source)
        if isinstance(item, Call):
            module, _, attribute = item.func.rpartition(".")
            head = self.bind(attribute, f"from {module} import {attribute}") if module else item.func
            items = [("", self.node(a)) for a in item.args] + [(f"{k}=", self.node(v)) for k, v in item.kwargs.items()]
            return Group(head, tuple(items))
        if isinstance(item, Duration):
            seconds = int(item.seconds) if float(item.seconds).is_integer() else item.seconds
            return Group(self.bind("timedelta", "from datetime import timedelta"), (("seconds=", Atom(number(seconds))),))
        if isinstance(item, DateTime):
            return self._datetime(item.iso)
        if isinstance(item, TaskRef):
            raise CutoverProblem(f"a task's output ({item.task_id}) is not a DAG argument")
        raise CutoverProblem(f"cannot write the value {item!r}")
