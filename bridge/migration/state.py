"""The migration state file, ``af2kfp-migration.yaml``: each DAG's stage, and what was deployed.

A person moves a DAG from stage to stage by editing its ``stage`` and re-running the
commands; ``af2kfp deploy`` adds an entry for each DAG it sees and records what it
deployed; ``af2kfp cutover`` will record the last shadow comparison. The file is YAML::

    version: 1
    dags:
      docker_sales_etl:
        stage: kfp-scheduled     # airflow | shadow | kfp | kfp-scheduled
        paused: false            # optional: true keeps KFP's recurring run disabled
        deployed: {...}          # written by af2kfp deploy (DeployRecord)
        shadow: {...}            # written by af2kfp cutover: the last shadow comparison

It is written round-trip (ruamel.yaml): comments, key order and quoting a person wrote are
kept, and keys af2kfp does not know are left alone. A write re-reads the file first and
applies only this run's changes to what is there (an edit made meanwhile is kept), into
a temporary file beside it that replaces the file in one step (``os.replace``): a crash
leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from af2kfp.converters.errors import InputError
from af2kfp.converters.reports.migration import STAGES

__all__ = [
    "STAGES",
    "SCHEDULED",
    "STATE_NAME",
    "DeployRecord",
    "Entry",
    "MigrationState",
    "default_state_path",
]

SCHEDULED = "kfp-scheduled"
STATE_NAME = "af2kfp-migration.yaml"
SCHEMA_VERSION = 1
_ROOT_MARKERS = ("pyproject.toml", ".git", "airflow.cfg")

_HEADER = f"""\
# af2kfp migration state (docs/deploy.md): one entry per Airflow DAG under `dags`.
#   stage: {' | '.join(STAGES)}
#     edit it to move a DAG on (or back), then run `af2kfp deploy` again;
#     only kfp-scheduled enables the DAG's KFP recurring run.
#   paused: true keeps the recurring run disabled at any stage.
#   deployed: what af2kfp deploy last did; shadow: the last shadow comparison.
version: {SCHEMA_VERSION}
dags: {{}}
"""


def default_state_path(cwd: Path | None = None) -> Path:
    """``af2kfp-migration.yaml`` in the repository root above ``cwd`` (the nearest folder
    holding pyproject.toml, .git or airflow.cfg), else in ``cwd`` itself."""
    here = (cwd or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if any((folder / marker).exists() for marker in _ROOT_MARKERS):
            return folder / STATE_NAME
    return here / STATE_NAME


@dataclass(frozen=True, kw_only=True)
class DeployRecord:
    """What ``af2kfp deploy`` last left on KFP for one DAG (``deployed:`` of its entry)."""

    host: str
    namespace: str | None
    experiment: str
    experiment_id: str
    pipeline: str
    pipeline_id: str
    pipeline_version: str
    pipeline_version_id: str
    content_sha256: str
    recurring_run_id: str | None
    recurring_run_enabled: bool
    deployed_at: str

    def to_yaml(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_yaml(cls, data: Any) -> "DeployRecord | None":
        """The record, or None when it is missing or not one af2kfp wrote (it is then ignored)."""
        if not isinstance(data, Mapping):
            return None
        try:
            return cls(**{f.name: data[f.name] for f in fields(cls)})
        except (KeyError, TypeError):
            return None


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One DAG's entry: its stage, its optional pause, and what the commands recorded."""

    dag_id: str
    stage: str
    paused: bool | None
    deployed: DeployRecord | None
    shadow: Mapping[str, Any] | None
    line: int | None  # 1-based line of the entry in the file


def _yaml() -> YAML:
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.representer.add_representer(
        type(None), lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


def _line(mapping: Any, key: str) -> int | None:
    try:
        return int(mapping.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return None


def _parse(path: Path, text: str) -> CommentedMap:
    """The document, checked: a mapping with ``version`` 1 and ``dags``: DAG id -> entry."""
    try:
        doc = _yaml().load(text) if text.strip() else None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise InputError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if doc is None:
        doc = _yaml().load(_HEADER)
    if not isinstance(doc, CommentedMap):
        raise InputError(f"{path}: expected a mapping with `version` and `dags` (see docs/deploy.md)")
    if doc.get("version", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise InputError(f"{path}:{_line(doc, 'version')}: version {doc['version']!r} is not {SCHEMA_VERSION}")
    if doc.get("dags") is None:
        doc["dags"] = CommentedMap()
    dags = doc["dags"]
    if not isinstance(dags, CommentedMap):
        raise InputError(f"{path}:{_line(doc, 'dags')}: `dags` must map DAG ids to entries")
    for dag_id, entry in dags.items():
        _check_entry(path, dags, str(dag_id), entry)
    return doc


def _check_entry(path: Path, dags: CommentedMap, dag_id: str, entry: Any) -> None:
    where = f"{path}:{_line(dags, dag_id)}: DAG {dag_id!r}"
    if not isinstance(entry, Mapping):
        raise InputError(f"{where}: expected a mapping with a `stage`, got {entry!r}")
    stage = entry.get("stage")
    if stage not in STAGES:
        raise InputError(f"{where}: stage {stage!r} is not one of {', '.join(STAGES)}")
    if entry.get("paused") is not None and not isinstance(entry.get("paused"), bool):
        raise InputError(f"{where}: paused must be true or false, got {entry.get('paused')!r}")


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step, keeping its permissions (0644 when new)."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class MigrationState:
    """The state file of one migration: read once, changed in memory, written with :meth:`save`."""

    def __init__(self, path: Path, doc: CommentedMap, *, existed: bool) -> None:
        self.path = path
        self.existed = existed
        self._doc = doc
        self._changes: list[Callable[[CommentedMap], None]] = []

    @classmethod
    def load(cls, path: Path) -> "MigrationState":
        """The file at ``path`` (an empty state when it does not exist yet)."""
        path = Path(path)
        if path.is_dir():
            raise InputError(f"{path}: is a folder; give the state file's path (e.g. {path / STATE_NAME})")
        text = cls._read(path)
        return cls(path, _parse(path, text or ""), existed=text is not None)

    @staticmethod
    def _read(path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read the migration state file: {exc}") from None

    # -- reading ------------------------------------------------------------------------

    def entry(self, dag_id: str) -> Entry | None:
        dags = self._doc["dags"]
        data = dags.get(dag_id)
        if data is None:
            return None
        return Entry(
            dag_id=dag_id,
            stage=data["stage"],
            paused=data.get("paused"),
            deployed=DeployRecord.from_yaml(data.get("deployed")),
            shadow=data.get("shadow") if isinstance(data.get("shadow"), Mapping) else None,
            line=_line(dags, dag_id),
        )

    def entries(self) -> list[Entry]:
        """Every entry, in the file's order."""
        return [e for e in (self.entry(str(d)) for d in self._doc["dags"]) if e is not None]

    # -- changing -------------------------------------------------------------------------

    def _change(self, change: Callable[[CommentedMap], None]) -> None:
        change(self._doc)
        self._changes.append(change)

    def add(self, dag_id: str, *, paused: bool = False) -> None:
        """A new entry at stage ``airflow`` (``paused: true`` written only when true)."""
        def change(doc: CommentedMap) -> None:
            if dag_id not in doc["dags"]:
                entry = CommentedMap(stage=STAGES[0])
                if paused:
                    entry["paused"] = True
                doc["dags"][dag_id] = entry

        self._change(change)

    def set_stage(self, dag_id: str, stage: str) -> None:
        """Move a DAG to ``stage`` (its entry is made when missing); the rest of the entry is kept."""
        if stage not in STAGES:
            raise InputError(f"stage {stage!r} is not one of {', '.join(STAGES)}")

        def change(doc: CommentedMap) -> None:
            entry = doc["dags"].get(dag_id)
            if isinstance(entry, Mapping):
                entry["stage"] = stage
            else:
                doc["dags"][dag_id] = CommentedMap(stage=stage)

        self._change(change)

    def record_shadow(self, dag_id: str, shadow: Mapping[str, Any]) -> None:
        """Set the entry's ``shadow``: the last shadow comparison (the entry must exist)."""
        def change(doc: CommentedMap) -> None:
            entry = doc["dags"].get(dag_id)
            if isinstance(entry, Mapping):
                entry["shadow"] = CommentedMap(shadow)

        self._change(change)

    def record_deploy(self, dag_id: str, record: DeployRecord) -> None:
        """Set the entry's ``deployed`` (the entry must exist)."""
        def change(doc: CommentedMap) -> None:
            entry = doc["dags"].get(dag_id)
            if isinstance(entry, Mapping):
                entry["deployed"] = CommentedMap(record.to_yaml())

        self._change(change)

    @property
    def changed(self) -> bool:
        return bool(self._changes)

    def save(self) -> None:
        """Write this run's changes onto the file as it is now (see the module docstring)."""
        if not self._changes:
            return
        text = self._read(self.path)
        doc = _parse(self.path, text) if text is not None else _parse(self.path, _HEADER)
        for change in self._changes:
            change(doc)
        out = io.StringIO()
        _yaml().dump(doc, out)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.path.resolve() if self.path.exists() else self.path, out.getvalue())
        self._doc, self._changes, self.existed = doc, [], True
