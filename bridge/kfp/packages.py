"""Compiled KFP pipeline packages: read them, check parameters, switch caching.

A package is what ``kfp.compiler`` writes and ``af2kfp convert`` emits: a YAML file
(the ``PipelineSpec`` document, optionally followed by a ``PlatformSpec`` document from
``kfp.kubernetes``), a JSON file, a ``.tar.gz``/``.tgz``/``.zip`` archive holding such a
YAML, or a directory holding ``pipeline.yaml`` (an ``af2kfp convert`` output folder).
:func:`load_package` returns a :class:`PipelinePackage` whose :meth:`~PipelinePackage.run_spec`
is the ``pipeline_spec`` value a v2beta1 run carries inline (the plain spec, or
``{"pipeline_spec": ..., "platform_spec": ...}`` as ``kfp.Client`` sends it).
"""

from __future__ import annotations

import copy
import io
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from af2kfp.bridge.kfp.errors import PipelineSourceError

__all__ = ["PipelinePackage", "load_package", "parse_package"]

_ARCHIVES = (".tar.gz", ".tgz", ".zip")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built in: ~10x faster, same documents


@dataclass(frozen=True)
class PipelinePackage:
    """A compiled pipeline: its spec, its platform spec (may be empty), and where it came from."""

    pipeline_spec: Mapping[str, Any]
    platform_spec: Mapping[str, Any] = field(default_factory=dict)
    source: str = "<memory>"

    @property
    def name(self) -> str:
        return str(self.pipeline_spec.get("pipelineInfo", {}).get("name", ""))

    @property
    def parameters(self) -> dict[str, Mapping[str, Any]]:
        """The pipeline's input parameters: name -> definition (``parameterType``, ``defaultValue``...)."""
        root = self.pipeline_spec.get("root", {})
        return dict(root.get("inputDefinitions", {}).get("parameters", {}) or {})

    def check_parameters(self, values: Mapping[str, Any]) -> None:
        """Unknown parameters, or required ones missing, are an error naming the package."""
        known = self.parameters
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise PipelineSourceError(
                f"{self.source}: unknown pipeline parameter(s) {', '.join(unknown)}; "
                f"the pipeline takes: {', '.join(sorted(known)) or '(none)'}"
            )
        missing = sorted(
            name
            for name, spec in known.items()
            if name not in values and "defaultValue" not in spec and not spec.get("isOptional")
        )
        if missing:
            raise PipelineSourceError(f"{self.source}: missing required pipeline parameter(s) {', '.join(missing)}")

    def with_caching(self, enable: bool) -> "PipelinePackage":
        """A copy with every task's ``cachingOptions.enableCache`` set, as ``kfp.Client`` does at submission
        (v2beta1 runs have no run-level caching field); tasks inside sub-DAGs are included."""
        spec = copy.deepcopy(dict(self.pipeline_spec))
        dags = [spec.get("root", {}).get("dag", {})]
        dags += [c.get("dag", {}) for c in (spec.get("components") or {}).values() if isinstance(c, dict)]
        for dag in dags:
            for task in (dag.get("tasks") or {}).values():
                task.setdefault("cachingOptions", {})["enableCache"] = bool(enable)
        return PipelinePackage(spec, self.platform_spec, self.source)

    def run_spec(self) -> dict[str, Any]:
        """The value of a run's ``pipeline_spec`` field."""
        if self.platform_spec:
            return {"pipeline_spec": dict(self.pipeline_spec), "platform_spec": dict(self.platform_spec)}
        return dict(self.pipeline_spec)

    def to_yaml(self) -> bytes:
        """The package as the YAML file KFP's upload expects, whatever form it was read from."""
        docs = [dict(self.pipeline_spec)] + ([dict(self.platform_spec)] if self.platform_spec else [])
        return yaml.safe_dump_all(docs, sort_keys=False).encode("utf-8")


def parse_package(text: str, source: str = "<memory>") -> PipelinePackage:
    """A package from YAML or JSON text; ``source`` names it in errors."""
    try:
        docs = [d for d in yaml.load_all(text, Loader=_LOADER) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise PipelineSourceError(f"{where}: not valid YAML/JSON: {getattr(exc, 'problem', exc)}") from None
    if not docs or not isinstance(docs[0], dict):
        raise PipelineSourceError(f"{source}: empty or not a mapping; expected a compiled KFP pipeline")
    spec = docs[0]
    if "pipeline_spec" in spec and isinstance(spec["pipeline_spec"], dict):  # the run-body form
        spec, platform = spec["pipeline_spec"], dict(spec.get("platform_spec") or {})
    else:
        platform = {}
        for extra in docs[1:]:
            if isinstance(extra, dict):
                platform.update(extra)
    missing = [key for key in ("pipelineInfo", "root") if key not in spec]
    if missing:
        raise PipelineSourceError(
            f"{source}: not a compiled KFP v2 pipeline (missing {', '.join(missing)}); "
            "compile it with kfp.compiler or af2kfp convert"
        )
    return PipelinePackage(spec, platform, source)


def load_package(path: str | Path) -> PipelinePackage:
    """Read a package file, archive, or ``af2kfp convert`` output directory."""
    path = Path(path)
    if path.is_dir():
        candidate = path / "pipeline.yaml"
        if not candidate.is_file():
            raise PipelineSourceError(f"{path}: directory has no pipeline.yaml (run af2kfp convert first)")
        path = candidate
    try:
        if path.name.endswith(_ARCHIVES):
            return parse_package(*_read_archive(path))
        return parse_package(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise PipelineSourceError(f"{path}: cannot read pipeline package: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PipelineSourceError(f"{path}: not a text file; expected YAML, JSON or a .tar.gz/.tgz/.zip") from None


def _read_archive(path: Path) -> tuple[str, str]:
    """The text and display name of the pipeline YAML inside an archive (``pipeline.yaml`` preferred)."""
    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.endswith((".yaml", ".yml", ".json"))]
                chosen = _choose(path, names)
                return archive.read(chosen).decode("utf-8"), f"{path}!{chosen}"
        with tarfile.open(path, "r:gz") as archive:
            members = {m.name: m for m in archive.getmembers() if m.isfile()}
            chosen = _choose(path, [n for n in members if n.endswith((".yaml", ".yml", ".json"))])
            handle = archive.extractfile(members[chosen])
            assert handle is not None
            return io.TextIOWrapper(handle, encoding="utf-8").read(), f"{path}!{chosen}"
    except (tarfile.TarError, zipfile.BadZipFile) as exc:
        raise PipelineSourceError(f"{path}: broken archive: {exc}") from None


def _choose(path: Path, names: list[str]) -> str:
    for preferred in ("pipeline.yaml", "pipeline.json"):
        if preferred in names:
            return preferred
    if len(names) == 1:
        return names[0]
    raise PipelineSourceError(
        f"{path}: archive must hold pipeline.yaml or exactly one YAML/JSON file, found {names or 'none'}"
    )

