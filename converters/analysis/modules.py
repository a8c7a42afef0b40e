"""Finding and executing the repository's modules: each file once, its helpers by import.

Absolute imports are looked up like ``sys.path`` in an Airflow deployment: the file's folder,
its parents inside the scanned root (a ``src/`` layout), and the scanned roots.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from af2kfp.converters.analysis.interpreter import Scope, module_path_name
from af2kfp.converters.analysis.limits import FILE_SECONDS, Deadline
from af2kfp.converters.analysis.model import DagObj, ModuleObj
from af2kfp.converters.analysis.source import SourceFile, parse_file
from af2kfp.converters.findings import Finding

__all__ = ["ModuleLoader", "ModuleRun"]

# Top-level names a folder of the scanned repository must not shadow as a namespace package.
_EXTERNAL_TOP_LEVEL = set(sys.stdlib_module_names) | {"airflow", "kubernetes", "docker", "pendulum", "google"}


class ModuleRun:
    """One module executed once: its globals, and the DAGs its top level created."""

    def __init__(self, module: ModuleObj, source: SourceFile) -> None:
        self.module = module
        self.source = source
        self.dags: list[DagObj] = []
        self.findings: list[Finding] = []


class ModuleLoader:
    """Mixin of :class:`~af2kfp.converters.analysis.semantics.AirflowSemantics`: module runs and imports."""

    def display_for(self, path: Path) -> str:
        for root, display in self.roots:
            try:
                rel = path.relative_to(root)
            except ValueError:
                continue
            return (Path(display) / rel).as_posix() if display not in ("", ".") else rel.as_posix()
        return path.as_posix()

    def root_for(self, path: Path) -> Path:
        text = str(path)
        for root, _ in self.roots:
            if text == str(root) or text.startswith(str(root).rstrip("/") + "/"):
                return root
        return path.parent

    def run_file(self, path: Path, display: str | None = None) -> ModuleRun | None:
        """Execute the module at ``path`` once (cached); ``None`` when it cannot be parsed."""
        if path in self.runs:
            return self.runs[path]
        self.runs[path] = None  # an import cycle sees a module still running as unavailable
        source, problem = parse_file(path, display or self.display_for(path))
        if source is None:
            if problem is not None:
                self.parse_findings[path] = problem
            return None
        name = module_path_name(path, self.root_for(path))
        module = ModuleObj(name=name, file=source.display, scope={})
        scope = Scope(module=module)
        scope.vars.update({"__name__": name, "__file__": source.display, "__doc__": None})
        module.scope = scope.vars
        run = ModuleRun(module, source)
        self.runs[path] = run
        saved_dags, saved_groups = self.dag_stack, self.group_stack
        self.dag_stack, self.group_stack = [], []
        if not self.run_stack:
            self.steps = 0  # the evaluation budget is per scanned file, helpers included
            self.deadline = Deadline(FILE_SECONDS)
        self.run_stack.append(run)
        try:
            self.run_module(source, scope)
        finally:
            self.run_stack.pop()
            self.dag_stack, self.group_stack = saved_dags, saved_groups
        for value in scope.vars.values():
            if isinstance(value, DagObj) and value in run.dags:
                value.registered = True
        return run

    def import_module(self, dotted: str, level: int) -> ModuleObj | None:
        here = self.source.path.parent
        parts = [p for p in dotted.split(".") if p]
        if level:
            base = here
            for _ in range(level - 1):
                base = base.parent
            bases = [base]
        else:  # like sys.path: the file's folder, its parents inside the scanned root (a src/ layout), the roots
            bases = self.search_path(here)
        namespace: ModuleObj | None = None
        for base in bases:
            found = self.find_module(base, tuple(parts))
            if isinstance(found, Path):
                run = self.run_file(found)
                if run is not None:
                    return run.module
            elif found == "namespace" and namespace is None and parts[0] not in _EXTERNAL_TOP_LEVEL:
                namespace = ModuleObj(name=".".join(parts), file=base.joinpath(*parts).as_posix(), scope={})
        return namespace

    def local_modules(self, here: Path, statements: list[str]) -> list[str]:
        """The modules ``statements`` (import lines) import from the repository, as written.

        Relative imports always do; an absolute one does when its top-level package or module
        is found where Airflow would find it (``search_path``). A component does not carry
        these files, so the mapping reports them unless the user says the image has them.
        """
        found: list[str] = []
        for text in statements:
            try:
                nodes = ast.parse(text).body
            except SyntaxError:
                continue
            for node in nodes:
                if isinstance(node, ast.ImportFrom):
                    modules = [("." * node.level) + (node.module or "")]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if module.startswith(".") or top not in _EXTERNAL_TOP_LEVEL and any(
                            self.find_module(base, (top,)) is not None for base in self.search_path(here)):
                        found.append(module)
        return list(dict.fromkeys(found))

    def resolve_import(self, file: Path, module: str, level: int) -> Path | str | None:
        """The repository file ``from <dots><module> import ...`` in ``file`` reads, ``"module"`` for a
        namespace package, ``None`` outside the repository (see :mod:`af2kfp.converters.analysis.carry`)."""
        parts = tuple(p for p in module.split(".") if p)
        if level:
            base = file.parent
            for _ in range(level - 1):
                base = base.parent
            bases = [base]
        elif not parts or parts[0] in _EXTERNAL_TOP_LEVEL:
            return None
        else:
            bases = self.search_path(file.parent)
        for base in bases:
            found = self.find_module(base, parts)
            if found is not None:
                return "module" if found == "namespace" else found
        return None

    def search_path(self, here: Path) -> list[Path]:
        """The folders absolute imports of a file in ``here`` are looked up in (cached per folder)."""
        found = self.search_paths.get(here)
        if found is None:
            root = self.root_for(here / "__init__.py")
            ancestors = []
            for parent in here.parents:
                if parent != root and not str(parent).startswith(str(root) + "/"):
                    break
                ancestors.append(parent)
            found = self.search_paths[here] = list(dict.fromkeys([here, *ancestors, *(r for r, _ in self.roots)]))
        return found

    def find_module(self, base: Path, parts: tuple[str, ...]) -> Path | str | None:
        """``base/a/b.py`` or ``base/a/b/__init__.py`` (resolved), "namespace" for a folder of modules."""
        key = (base, parts)
        if key not in self.module_paths:
            candidate = base.joinpath(*parts) if parts else base
            found: Path | str | None = None
            for path in (candidate.with_suffix(".py") if parts else None, candidate / "__init__.py"):
                if path is not None and path.is_file():
                    found = path.resolve()
                    break
            if found is None and parts and candidate.is_dir() and _holds_modules(candidate):
                found = "namespace"
            self.module_paths[key] = found
        return self.module_paths[key]


def _holds_modules(folder: Path) -> bool:
    """A folder Python imports as a namespace package: modules in it or in its subfolders (``include/pkg/``)."""
    return any(next(folder.glob(pattern), None) is not None for pattern in ("*.py", "*/*.py", "*/*/*.py"))
