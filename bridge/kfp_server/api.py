"""The KFP API v2beta1 resources of the local server: pipelines, pipeline
versions, experiments, runs (recurring runs: :attr:`KfpApi.recurring`); and the
scripting of runs' fates.

Methods take decoded query parameters and JSON bodies and return the JSON
answer; they raise :class:`ApiError` for anything a real KFP would refuse.
Field names and shapes follow ``kfp_server_api``'s v2beta1 models.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping

from af2kfp.bridge.kfp_server import credentials, executor, fates, listing, specs
from af2kfp.bridge.kfp_server.errors import ApiError
from af2kfp.bridge.kfp_server.fates import Fate, FateError, RunSnapshot
from af2kfp.bridge.kfp_server.recurring import RecurringRuns
from af2kfp.bridge.kfp_server.store import Store
from af2kfp.bridge.kfp_server.times import timestamp

__all__ = ["KfpApi", "Policy", "RunRequest", "Settings", "SIMULATION_PLUGIN", "timestamp"]

log = logging.getLogger(__name__)

_NO_EXECUTE = "af2kfp kfp-server: fate 'execute' needs a server started with --execute; nothing was run"
_RUN_ALIASES = {"name": "display_name", "id": "run_id"}
_EXPERIMENT_ALIASES = {"name": "display_name", "id": "experiment_id"}
_PIPELINE_ALIASES = {"id": "pipeline_id"}
_VERSION_ALIASES = {"id": "pipeline_version_id"}
_SECRET_SETTINGS = ("bearer_token", "session_cookie")
SIMULATION_PLUGIN = "af2kfp-kfp-server"
"""Key of the run's ``plugins_output`` entry saying whether it was simulated or executed."""


@dataclasses.dataclass(kw_only=True)
class Settings:
    """Server-wide defaults; stored in the database, changeable at run time.

    ``bearer_token`` and ``session_cookie`` are given as the secrets and stored as
    salted hashes (:mod:`~af2kfp.bridge.kfp_server.credentials`); read back, they are the hashes.
    """

    default_fate: str = "succeed"
    run_seconds: float = 3.0
    pending_seconds: float = 0.5
    cancel_seconds: float = 0.5
    bearer_token: str | None = None
    session_cookie: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def public(self) -> dict[str, Any]:
        """The settings as the control API shows them: credentials masked."""
        shown = self.to_json()
        for key in _SECRET_SETTINGS:
            if shown[key] is not None:
                shown[key] = "***"
        return shown


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunRequest:
    """A run to create, checked (:meth:`KfpApi.run_request`), not yet stored
    (:meth:`KfpApi.insert_run`): by hand or by a recurring run's tick."""

    display_name: str
    description: str
    runtime: dict[str, Any]
    spec: Any
    pipeline_id: str | None
    version_id: str | None
    service_account: str
    tasks: tuple[str, ...]
    own_fate: Fate | None
    experiment_id: str
    namespace: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Policy:
    """What the server may do, fixed when it starts (command-line flags), never stored
    and never changeable through an API: ``execute`` runs pipelines' code on this
    machine (``--execute``); ``run_fates`` lets a run choose its own fate with an
    ``af2kfp.fate`` parameter or description line (``--run-fates``)."""

    execute: bool = False
    run_fates: bool = False


def _new_id() -> str:
    return str(uuid.uuid4())


def _hashed(key: str, value: str) -> str:
    return credentials.hash_cookie(value) if key == "session_cookie" else credentials.hash_secret(value.strip())


def _require(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, f"Invalid input error: the request body must be a JSON object ({what})")
    return body


def _text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid input error: {field} must be a string")
    return value


class KfpApi:
    """The resources, backed by a :class:`Store`. Thread-safe."""

    def __init__(
        self,
        store: Store,
        *,
        work_dir: Path | None = None,
        settings: Settings | None = None,
        policy: Policy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy or Policy()
        self.checker = credentials.Checker()
        self.recurring = RecurringRuns(self)
        if work_dir is None and store.path != ":memory:":
            work_dir = Path(store.path + ".runs")
        self._work_dir = work_dir
        stored = store.setting("settings")
        self._hash_stored_secrets()
        if settings is not None:
            self.update_settings(settings.to_json(), trusted=True)
        elif stored is None:
            self.update_settings(Settings().to_json(), trusted=True)
        elif fates.parse_fate(self.settings.default_fate).kind == "execute" and not self.policy.execute:
            log.warning("the stored default fate 'execute' needs --execute; runs default to 'succeed'")
            self.update_settings({"default_fate": "succeed"}, trusted=True)

    @property
    def work_dir(self) -> Path:
        """Where executed runs keep their files (a private temp folder for in-memory state)."""
        if self._work_dir is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix="af2kfp-kfp-server-"))
        self._work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self._work_dir

    # -- settings and scripts (the control API) ---------------------------------------------

    @property
    def settings(self) -> Settings:
        stored = json.loads(self.store.setting("settings") or "{}")
        known = {f.name for f in dataclasses.fields(Settings)}
        return Settings(**{k: v for k, v in stored.items() if k in known})  # a db from another version

    def _hash_stored_secrets(self) -> None:
        """A database written by an older version kept credentials in plain text: hash them."""
        stored = json.loads(self.store.setting("settings") or "{}")
        changed = False
        for key in _SECRET_SETTINGS:
            value = stored.get(key)
            secret = value.partition("=")[2] if key == "session_cookie" and isinstance(value, str) else value
            if isinstance(secret, str) and not credentials.is_hashed(secret):
                stored[key] = _hashed(key, value)
                changed = True
        if changed:
            self.store.set_setting("settings", json.dumps(stored))

    def public_settings(self) -> dict[str, Any]:
        """The settings as the control API shows them, with the start-time policy (read only)."""
        return {**self.settings.public(), **dataclasses.asdict(self.policy)}

    def update_settings(self, changes: Mapping[str, Any], *, trusted: bool = False) -> dict[str, Any]:
        """Change settings. ``trusted`` changes come from whoever started the server; the
        control API's (untrusted) may rotate a credential but never remove one."""
        current = self.settings.to_json()
        fixed = set(changes) & {f.name for f in dataclasses.fields(Policy)}
        if fixed:
            raise ApiError(
                400,
                f"{', '.join(sorted(fixed))} is fixed when the server starts "
                "(--execute, --run-fates) and cannot be changed through an API",
            )
        unknown = set(changes) - set(current)
        if unknown:
            raise ApiError(400, f"unknown setting(s): {', '.join(sorted(unknown))}")
        for key, value in changes.items():
            if key == "default_fate":
                self._fate(value)
            elif key in _SECRET_SETTINGS:
                if value is None and current[key] is not None and not trusted:
                    raise ApiError(
                        400,
                        f"{key} cannot be removed while the server runs (restart it without the "
                        "credential to turn authentication off); give a new value to rotate it",
                    )
                if value is not None and (not isinstance(value, str) or not value.strip()):
                    raise ApiError(400, f"{key} must be a non-empty string, or null for none")
                if key == "session_cookie" and value is not None and "=" not in value:
                    raise ApiError(400, "session_cookie must look like NAME=VALUE")
                value = None if value is None else _hashed(key, value)
            elif not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ApiError(400, f"{key} must be a number of seconds >= 0")
            current[key] = float(value) if key.endswith("_seconds") else value
        self.store.set_setting("settings", json.dumps(current))
        return self.public_settings()

    def _fate(self, value: Any) -> Fate:
        try:
            fate = fates.parse_fate(value)
        except FateError as exc:
            raise ApiError(400, str(exc)) from None
        if fate.kind == "execute" and not self.policy.execute:
            raise ApiError(
                400,
                "fate 'execute' runs the pipeline's code on this machine: only a server started "
                "with --execute does that",
            )
        return fate

    def add_script(self, body: Any) -> dict[str, Any]:
        """Script the next run(s), or the runs with a display name."""
        body = _require(body, "script")
        fate = self._fate(body.get("fate"))
        count = body.get("count", 1 if body.get("display_name") is None else None)
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise ApiError(400, "count must be a positive integer (or null: every matching run)")
        name = body.get("display_name")
        if name is not None and not isinstance(name, str):
            raise ApiError(400, "display_name must be a string")
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO scripts (display_name, fate, remaining) VALUES (?, ?, ?)",
                (name, fates.dumps(fate), count),
            )
        return {"id": cursor.lastrowid, "display_name": name, "fate": fate.to_json(), "remaining": count}

    def list_scripts(self) -> list[dict[str, Any]]:
        rows = self.store.all("SELECT * FROM scripts ORDER BY id")
        return [{**row, "fate": json.loads(row["fate"])} for row in rows]

    def clear_scripts(self) -> None:
        self.store.run("DELETE FROM scripts")

    def rescript_run(self, run_id: str, body: Any) -> dict[str, Any]:
        """Give a run a new fate from now on (its RUNNING phase restarts now)."""
        fate = self._fate(_require(body, "fate").get("fate"))
        row = self._run_row(run_id)
        if fate.kind == "execute" or row["exec_dir"]:
            raise ApiError(400, f"run {run_id}: executed runs and 'execute' fates cannot be re-scripted")
        now = self.clock()
        self.store.run(
            "UPDATE runs SET fate = ?, origin = ?, terminated_at = NULL WHERE run_id = ?",
            (fates.dumps(fate), max(now, row["origin"]), run_id),
        )
        return self.get_run(run_id, {})

    def _take_fate(self, db: Any, display_name: str, run_fate: Fate | None) -> tuple[Fate, bool]:
        """The new run's fate, and whether someone chose it (a script or the run itself)
        rather than the server's default."""
        row = db.execute(
            "SELECT * FROM scripts WHERE display_name = ? ORDER BY id LIMIT 1", (display_name,)
        ).fetchone()
        if row is None and run_fate is not None:
            return run_fate, True
        if row is None:
            row = db.execute(
                "SELECT * FROM scripts WHERE display_name IS NULL ORDER BY id LIMIT 1"
            ).fetchone()
        if row is None:
            return fates.parse_fate(self.settings.default_fate), False
        if row["remaining"] is not None:
            if row["remaining"] <= 1:
                db.execute("DELETE FROM scripts WHERE id = ?", (row["id"],))
            else:
                db.execute("UPDATE scripts SET remaining = remaining - 1 WHERE id = ?", (row["id"],))
        return Fate.from_json(json.loads(row["fate"])), True

    # -- experiments ------------------------------------------------------------------------

    def _experiment_json(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "experiment_id": row["experiment_id"],
            "display_name": row["display_name"],
            "description": row["description"],
            "created_at": timestamp(row["created_at"]),
            "namespace": row["namespace"],
            "storage_state": row["storage_state"],
            "last_run_created_at": timestamp(row["last_run_created_at"]),
        }

    def create_experiment(self, query: Mapping[str, str], body: Any) -> dict[str, Any]:
        body = _require(body, "experiment")
        name = _text(body.get("display_name"), "display_name")
        if not name:
            raise ApiError(400, "Invalid input error: Experiment must have a non-empty name")
        namespace = _text(body.get("namespace"), "namespace")
        with self.store.transaction() as db:
            if db.execute(
                "SELECT 1 FROM experiments WHERE display_name = ? AND namespace = ?", (name, namespace)
            ).fetchone():
                raise ApiError(
                    409,
                    f"Already exist error: Failed to create a new experiment. The name {name!r} already exists. Please specify a new name",
                )
            row = {
                "experiment_id": _new_id(),
                "display_name": name,
                "description": _text(body.get("description"), "description"),
                "namespace": namespace,
                "created_at": self.clock(),
                "storage_state": "AVAILABLE",
                "last_run_created_at": None,
            }
            db.execute(
                "INSERT INTO experiments VALUES (:experiment_id, :display_name, :description, :namespace, :created_at, :storage_state, :last_run_created_at)",
                row,
            )
        return self._experiment_json(row)

    def _experiment_row(self, experiment_id: str) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM experiments WHERE experiment_id = ?", (experiment_id,))
        if row is None:
            raise ApiError(404, f"Failed to get experiment: experiment {experiment_id} not found")
        return row

    def get_experiment(self, experiment_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        return self._experiment_json(self._experiment_row(experiment_id))

    def list_experiments(self, query: Mapping[str, str]) -> dict[str, Any]:
        items = [self._experiment_json(r) for r in self._rows("experiments", query.get("namespace"))]
        page, total, token = self._page(items, query, _EXPERIMENT_ALIASES, "experiment_id")
        return {"experiments": page, "total_size": total, "next_page_token": token}

    def archive_experiment(self, experiment_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        self._experiment_row(experiment_id)
        with self.store.transaction() as db:
            db.execute(
                "UPDATE experiments SET storage_state = 'ARCHIVED' WHERE experiment_id = ?", (experiment_id,)
            )
            db.execute("UPDATE runs SET storage_state = 'ARCHIVED' WHERE experiment_id = ?", (experiment_id,))
            self.recurring.disable_in_experiment(db, experiment_id)
        return {}

    def unarchive_experiment(self, experiment_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        self._experiment_row(experiment_id)
        self.store.run(
            "UPDATE experiments SET storage_state = 'AVAILABLE' WHERE experiment_id = ?", (experiment_id,)
        )
        return {}

    def delete_experiment(self, experiment_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        self._experiment_row(experiment_id)
        with self.store.transaction() as db:
            db.execute("DELETE FROM runs WHERE experiment_id = ?", (experiment_id,))
            db.execute("DELETE FROM recurring_runs WHERE experiment_id = ?", (experiment_id,))
            db.execute("DELETE FROM experiments WHERE experiment_id = ?", (experiment_id,))
        return {}

    def _default_experiment(self, db: Any, namespace: str) -> str:
        row = db.execute(
            "SELECT experiment_id FROM experiments WHERE display_name = 'Default' AND namespace = ?",
            (namespace,),
        ).fetchone()
        if row:
            return row["experiment_id"]
        experiment_id = _new_id()
        db.execute(
            "INSERT INTO experiments (experiment_id, display_name, description, namespace, created_at) VALUES (?, 'Default', 'All runs created without specifying an experiment will be grouped here.', ?, ?)",
            (experiment_id, namespace, self.clock()),
        )
        return experiment_id

    # -- pipelines and versions -------------------------------------------------------------

    def _pipeline_json(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "pipeline_id": row["pipeline_id"],
            "display_name": row["display_name"],
            "name": row["name"],
            "description": row["description"],
            "created_at": timestamp(row["created_at"]),
            "namespace": row["namespace"],
            "tags": json.loads(row["tags"]),
        }

    def _version_json(self, row: Mapping[str, Any]) -> dict[str, Any]:
        answer = {
            "pipeline_id": row["pipeline_id"],
            "pipeline_version_id": row["pipeline_version_id"],
            "display_name": row["display_name"],
            "name": row["name"],
            "description": row["description"],
            "created_at": timestamp(row["created_at"]),
            "code_source_url": row["code_source_url"],
            "tags": json.loads(row["tags"]),
        }
        if row["package_url"]:
            answer["package_url"] = {"pipeline_url": row["package_url"]}
        answer["pipeline_spec"] = _parsed(row["spec"])
        return answer

    def _pipeline_row(self, pipeline_id: str) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM pipelines WHERE pipeline_id = ?", (pipeline_id,))
        if row is None:
            raise ApiError(404, f"Failed to get pipeline: pipeline {pipeline_id} not found")
        return row

    def _tags(self, raw: Any) -> str:
        if raw in (None, ""):
            return "{}"
        try:
            tags = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            tags = None
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise ApiError(400, "Invalid input error: tags must be a JSON map of strings")
        return json.dumps(tags)

    def _insert_pipeline(self, db: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
        name = _text(fields.get("name"), "name") or _text(fields.get("display_name"), "display_name")
        if not name:
            raise ApiError(400, "Invalid input error: pipeline name is empty. Please specify a valid name")
        namespace = _text(fields.get("namespace"), "namespace")
        if db.execute(
            "SELECT 1 FROM pipelines WHERE name = ? AND namespace = ?", (name, namespace)
        ).fetchone():
            raise ApiError(
                409,
                f"Already exist error: Failed to create a new pipeline. The name {name!r} already exists. Please specify a new name",
            )
        row = {
            "pipeline_id": _new_id(),
            "name": name,
            "display_name": _text(fields.get("display_name"), "display_name") or name,
            "description": _text(fields.get("description"), "description"),
            "namespace": namespace,
            "created_at": self.clock(),
            "tags": self._tags(fields.get("tags")),
        }
        db.execute(
            "INSERT INTO pipelines VALUES (:pipeline_id, :name, :display_name, :description, :namespace, :created_at, :tags)",
            row,
        )
        return row

    def _insert_version(
        self, db: Any, pipeline_id: str, fields: Mapping[str, Any], spec: Any, package_url: str = ""
    ) -> dict[str, Any]:
        name = _text(fields.get("name"), "name") or _text(fields.get("display_name"), "display_name")
        if not name:
            raise ApiError(
                400, "Invalid input error: pipeline version name is empty. Please specify a valid name"
            )
        if db.execute(
            "SELECT 1 FROM versions WHERE pipeline_id = ? AND name = ?", (pipeline_id, name)
        ).fetchone():
            raise ApiError(
                409,
                f"Already exist error: Failed to create a new pipeline version. The name {name!r} already exists. Please specify a new name",
            )
        row = {
            "pipeline_version_id": _new_id(),
            "pipeline_id": pipeline_id,
            "name": name,
            "display_name": _text(fields.get("display_name"), "display_name") or name,
            "description": _text(fields.get("description"), "description"),
            "created_at": self.clock(),
            "spec": json.dumps(spec),
            "package_url": package_url,
            "code_source_url": _text(fields.get("code_source_url"), "code_source_url"),
            "tags": self._tags(fields.get("tags")),
        }
        db.execute(
            "INSERT INTO versions VALUES (:pipeline_version_id, :pipeline_id, :name, :display_name, :description, :created_at, :spec, :package_url, :code_source_url, :tags)",
            row,
        )
        return row

    def upload_pipeline(self, query: Mapping[str, str], filename: str, data: bytes) -> dict[str, Any]:
        spec = self._package(data, filename)
        fields = dict(query)
        fields.setdefault("name", Path(filename).name.split(".")[0])
        with self.store.transaction() as db:
            pipeline = self._insert_pipeline(db, fields)
            self._insert_version(db, pipeline["pipeline_id"], {**fields, "tags": None}, spec)
        return self._pipeline_json(pipeline)

    def upload_pipeline_version(self, query: Mapping[str, str], filename: str, data: bytes) -> dict[str, Any]:
        pipeline_id = query.get("pipelineid") or query.get("pipeline_id")
        if not pipeline_id:
            raise ApiError(
                400, "Invalid input error: pipeline ID (pipelineid) is required to upload a pipeline version"
            )
        self._pipeline_row(pipeline_id)
        spec = self._package(data, filename)
        fields = dict(query)
        fields.setdefault("name", Path(filename).name.split(".")[0])
        with self.store.transaction() as db:
            row = self._insert_version(db, pipeline_id, fields, spec)
        return self._version_json(row)

    @staticmethod
    def _package(data: bytes, filename: str) -> Any:
        try:
            return specs.load_package(data, filename)
        except specs.SpecError as exc:
            raise ApiError(400, f"Invalid input error: {exc}") from None

    def _version_spec(self, body: Mapping[str, Any]) -> tuple[Any, str]:
        if isinstance(body.get("pipeline_spec"), dict):
            return body["pipeline_spec"], ""
        url = (
            (body.get("package_url") or {}).get("pipeline_url")
            if isinstance(body.get("package_url"), dict)
            else None
        )
        if not url:
            raise ApiError(
                400,
                "Invalid input error: a pipeline version needs package_url.pipeline_url (or pipeline_spec)",
            )
        try:  # file:// or http(s)://: a local tool fetching what its own user named
            with urllib.request.urlopen(url, timeout=10) as answer:
                data = answer.read()
        except (OSError, ValueError) as exc:
            raise ApiError(400, f"Invalid input error: cannot read package_url {url!r}: {exc}") from None
        return self._package(data, url.rsplit("/", 1)[-1] or "pipeline.yaml"), url

    def create_pipeline(self, query: Mapping[str, str], body: Any) -> dict[str, Any]:
        body = _require(body, "pipeline")
        with self.store.transaction() as db:
            row = self._insert_pipeline(db, body)
        return self._pipeline_json(row)

    def create_pipeline_and_version(self, query: Mapping[str, str], body: Any) -> dict[str, Any]:
        body = _require(body, "pipeline and version")
        pipeline, version = _require(body.get("pipeline"), "pipeline"), _require(
            body.get("pipeline_version"), "pipeline_version"
        )
        spec, url = self._version_spec(version)
        with self.store.transaction() as db:
            row = self._insert_pipeline(db, pipeline)
            self._insert_version(db, row["pipeline_id"], {"name": row["name"], **version}, spec, url)
        return self._pipeline_json(row)

    def create_pipeline_version(
        self, pipeline_id: str, query: Mapping[str, str], body: Any
    ) -> dict[str, Any]:
        body = _require(body, "pipeline version")
        self._pipeline_row(pipeline_id)
        spec, url = self._version_spec(body)
        with self.store.transaction() as db:
            row = self._insert_version(db, pipeline_id, body, spec, url)
        return self._version_json(row)

    def get_pipeline(self, pipeline_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        return self._pipeline_json(self._pipeline_row(pipeline_id))

    def get_pipeline_by_name(self, name: str, query: Mapping[str, str]) -> dict[str, Any]:
        row = self.store.one(
            "SELECT * FROM pipelines WHERE name = ? AND namespace = ?", (name, query.get("namespace", ""))
        )
        if row is None:
            raise ApiError(404, f"Failed to get pipeline by name: pipeline {name!r} not found")
        return self._pipeline_json(row)

    def list_pipelines(self, query: Mapping[str, str]) -> dict[str, Any]:
        items = [self._pipeline_json(r) for r in self._rows("pipelines", query.get("namespace"))]
        page, total, token = self._page(items, query, _PIPELINE_ALIASES, "pipeline_id")
        return {"pipelines": page, "total_size": total, "next_page_token": token}

    def delete_pipeline(self, pipeline_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        self._pipeline_row(pipeline_id)
        cascade = query.get("cascade", "").lower() == "true"
        with self.store.transaction() as db:
            if (
                not cascade
                and db.execute("SELECT 1 FROM versions WHERE pipeline_id = ?", (pipeline_id,)).fetchone()
            ):
                raise ApiError(
                    400,
                    f"Failed to delete pipeline {pipeline_id}: it has existing versions; delete them first or pass cascade=true",
                    grpc_code=9,
                )
            db.execute("DELETE FROM versions WHERE pipeline_id = ?", (pipeline_id,))
            db.execute("DELETE FROM pipelines WHERE pipeline_id = ?", (pipeline_id,))
        return {}

    def _version_row(self, pipeline_id: str, version_id: str) -> dict[str, Any]:
        row = self.store.one(
            "SELECT * FROM versions WHERE pipeline_version_id = ? AND pipeline_id = ?",
            (version_id, pipeline_id),
        )
        if row is None:
            raise ApiError(
                404,
                f"Failed to get pipeline version: pipeline version {version_id} of pipeline {pipeline_id} not found",
            )
        return row

    def get_pipeline_version(
        self, pipeline_id: str, version_id: str, query: Mapping[str, str]
    ) -> dict[str, Any]:
        return self._version_json(self._version_row(pipeline_id, version_id))

    def list_pipeline_versions(self, pipeline_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        self._pipeline_row(pipeline_id)
        rows = self.store.all("SELECT * FROM versions WHERE pipeline_id = ?", (pipeline_id,))
        items = [self._version_json(r) for r in rows]
        page, total, token = self._page(items, query, _VERSION_ALIASES, "pipeline_version_id")
        return {"pipeline_versions": page, "total_size": total, "next_page_token": token}

    def delete_pipeline_version(
        self, pipeline_id: str, version_id: str, query: Mapping[str, str]
    ) -> dict[str, Any]:
        self._version_row(pipeline_id, version_id)
        self.store.run("DELETE FROM versions WHERE pipeline_version_id = ?", (version_id,))
        return {}

    # -- runs -------------------------------------------------------------------------------

    def create_run(self, query: Mapping[str, str], body: Any) -> dict[str, Any]:
        request = self.run_request(_require(body, "run"), query)
        with self.store.transaction() as db:
            run_id = self.insert_run(db, request)
        return self.get_run(run_id, {})

    def run_request(self, body: Mapping[str, Any], query: Mapping[str, str]) -> RunRequest:
        """A run to create, checked as KFP checks it (nothing is stored yet)."""
        name = _text(body.get("display_name"), "display_name")
        if not name:
            raise ApiError(400, "Invalid input error: The run name is empty. Please specify a valid name")
        runtime = body.get("runtime_config") or {}
        if not isinstance(runtime, dict) or not isinstance(runtime.get("parameters") or {}, dict):
            raise ApiError(400, "Invalid input error: runtime_config.parameters must be a JSON object")
        spec, pipeline_id, version_id = self._run_pipeline(body)
        try:
            tasks = specs.root_tasks(spec)
        except specs.SpecError as exc:
            raise ApiError(400, f"Invalid input error: {exc}") from None
        own_fate = None
        if self.policy.run_fates:  # else an af2kfp.fate parameter is just a parameter
            try:
                own_fate = fates.fate_from_inputs(runtime.get("parameters"), body.get("description"))
            except FateError as exc:
                raise ApiError(400, f"Invalid input error: {exc}") from None
            if own_fate is not None:
                self._fate(own_fate)  # 'execute' only with --execute
        return RunRequest(
            display_name=name,
            description=_text(body.get("description"), "description"),
            runtime=runtime,
            spec=spec,
            pipeline_id=pipeline_id,
            version_id=version_id,
            service_account=_text(body.get("service_account"), "service_account"),
            tasks=tuple(tasks),
            own_fate=own_fate,
            experiment_id=_text(body.get("experiment_id") or query.get("experiment_id"), "experiment_id"),
            namespace=_text(query.get("namespace"), "namespace"),
        )

    def insert_run(
        self,
        db: Any,
        request: RunRequest,
        *,
        run_id: str | None = None,
        recurring_run_id: str | None = None,
        scheduled_at: float | None = None,
    ) -> str:
        """Store the run (inside the caller's transaction ``db``) and start it; return its id.
        A recurring run's tick gives ``recurring_run_id`` and the ``scheduled_at`` time."""
        settings, now = self.settings, self.clock()
        run_id = run_id or _new_id()
        experiment_id, namespace = request.experiment_id, request.namespace
        if experiment_id:
            experiment = db.execute(
                "SELECT namespace FROM experiments WHERE experiment_id = ?", (experiment_id,)
            ).fetchone()
            if experiment is None:
                raise ApiError(404, f"Failed to create a run: experiment {experiment_id} not found")
            namespace = experiment["namespace"]
        else:
            experiment_id = self._default_experiment(db, namespace)
        fate, chosen = self._take_fate(db, request.display_name, request.own_fate)
        if fate.kind == "succeed" and not chosen and self.policy.execute:
            fate = Fate(kind="execute")
        if fate.kind == "execute" and not self.policy.execute:  # a script stored by an earlier server
            fate = Fate(kind="fail", after=0.0, message=_NO_EXECUTE)
        pending = settings.pending_seconds if fate.pending is None else fate.pending
        row = {
            "run_id": run_id,
            "experiment_id": experiment_id,
            "namespace": namespace,
            "display_name": request.display_name,
            "description": request.description,
            "storage_state": "AVAILABLE",
            "pipeline_spec": json.dumps(request.spec) if request.pipeline_id is None else None,
            "pipeline_id": request.pipeline_id,
            "pipeline_version_id": request.version_id,
            "runtime_config": json.dumps(request.runtime),
            "service_account": request.service_account,
            "created_at": now,
            "origin": now + pending,
            "fate": fates.dumps(fate),
            "tasks": json.dumps(list(request.tasks)),
            "run_seconds": settings.run_seconds,
            "cancel_seconds": settings.cancel_seconds,
            "terminated_at": None,
            "exec_dir": None,
            "exec_pid": None,
            "pipeline_name": specs.pipeline_name(request.spec),
            "recurring_run_id": recurring_run_id,
            "scheduled_at": scheduled_at,
        }
        if fate.kind == "execute":
            arguments = {
                k: v
                for k, v in (request.runtime.get("parameters") or {}).items()
                if k not in fates.FATE_PARAMETERS
            }
            times = {"created_at": now, "scheduled_at": now if scheduled_at is None else scheduled_at}
            row.update(self._start_execution(run_id, request.spec, arguments, **times))
        db.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row)
        db.execute("UPDATE experiments SET last_run_created_at = ? WHERE experiment_id = ?", (now, experiment_id))
        log.info("run %s %r created; fate %s", run_id, request.display_name, json.loads(row["fate"]))
        return run_id

    def _start_execution(
        self, run_id: str, spec: Any, parameters: dict[str, Any], *, created_at: float, scheduled_at: float
    ) -> dict[str, Any]:
        """Run it with kfp.local in a child; tasks kfp.local cannot run here (container
        components) are recorded as not run, and the run then fails naming them. The spec
        gets the run's creation and scheduled times, as the KFP driver gives them."""
        run_dir = self.work_dir / run_id
        spec = specs.with_run_times(spec, created_at=created_at, scheduled_at=scheduled_at)
        return {"exec_dir": str(run_dir), "exec_pid": executor.start_execution(run_dir, spec, parameters)}

    def _run_pipeline(self, body: Mapping[str, Any]) -> tuple[Any, str | None, str | None]:
        spec = body.get("pipeline_spec")
        reference = body.get("pipeline_version_reference") or {}
        if not isinstance(reference, dict):
            raise ApiError(400, "Invalid input error: pipeline_version_reference must be an object")
        pipeline_id = reference.get("pipeline_id")
        version_id = reference.get("pipeline_version_id") or body.get("pipeline_version_id")
        if spec is not None:
            if not isinstance(spec, dict) or "root" not in specs.pipeline_spec_of(spec):
                raise ApiError(
                    400, "Invalid input error: pipeline_spec is not a compiled KFP v2 pipeline spec"
                )
            return spec, None, None
        if version_id:
            row = self.store.one("SELECT * FROM versions WHERE pipeline_version_id = ?", (version_id,))
            if row is None or (pipeline_id and row["pipeline_id"] != pipeline_id):
                raise ApiError(404, f"Failed to create a run: pipeline version {version_id} not found")
            return _parsed(row["spec"]), row["pipeline_id"], version_id
        if pipeline_id:
            self._pipeline_row(pipeline_id)
            row = self.store.one(
                "SELECT * FROM versions WHERE pipeline_id = ? ORDER BY created_at DESC LIMIT 1",
                (pipeline_id,),
            )
            if row is None:
                raise ApiError(404, f"Failed to create a run: pipeline {pipeline_id} has no versions")
            return _parsed(row["spec"]), pipeline_id, row["pipeline_version_id"]
        raise ApiError(400, "Invalid input error: a run needs pipeline_spec or pipeline_version_reference")

    def _run_row(self, run_id: str) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        if row is None:
            raise ApiError(404, f"Failed to get run: run {run_id} not found")
        return row

    def _snapshot(self, row: Mapping[str, Any], now: float) -> RunSnapshot:
        if row["exec_dir"]:
            return executor.execution_snapshot(
                Path(row["exec_dir"]),
                run_id=row["run_id"],
                pod_prefix=row["pipeline_name"],
                terminated_at=row["terminated_at"],
                cancel_seconds=row["cancel_seconds"],
                now=now,
                created_at=row["created_at"],
            )
        timeline = fates.Timeline(
            run_id=row["run_id"],
            created_at=row["created_at"],
            origin=row["origin"],
            fate=Fate.from_json(json.loads(row["fate"])),
            tasks=json.loads(row["tasks"]),
            run_seconds=row["run_seconds"],
            cancel_seconds=row["cancel_seconds"],
            terminated_at=row["terminated_at"],
            pod_prefix=row["pipeline_name"],
        )
        return fates.snapshot(timeline, now)

    def _run_json(self, row: Mapping[str, Any], now: float) -> dict[str, Any]:
        snap = self._snapshot(row, now)
        answer: dict[str, Any] = {
            "experiment_id": row["experiment_id"],
            "run_id": row["run_id"],
            "display_name": row["display_name"],
            "storage_state": row["storage_state"],
            "description": row["description"],
            "runtime_config": json.loads(row["runtime_config"]),
            "service_account": row["service_account"],
            "created_at": timestamp(row["created_at"]),
            "scheduled_at": timestamp(row["scheduled_at"] if row["scheduled_at"] is not None else row["created_at"]),
            "finished_at": timestamp(snap.finished_at),
            "state": snap.state,
            "state_history": [{"update_time": timestamp(t), "state": s} for t, s in snap.history],
        }
        if row["recurring_run_id"]:
            answer["recurring_run_id"] = row["recurring_run_id"]
        if row["pipeline_version_id"]:
            answer["pipeline_version_reference"] = {
                "pipeline_id": row["pipeline_id"],
                "pipeline_version_id": row["pipeline_version_id"],
            }
            answer["pipeline_version_id"] = row["pipeline_version_id"]
        else:
            answer["pipeline_spec"] = _parsed(row["pipeline_spec"])
        if snap.error:
            answer["error"] = {
                "code": 2 if snap.state == "FAILED" else 1,
                "message": snap.error,
                "details": [],
            }
        answer["run_details"] = {"task_details": [self._task_json(row, t) for t in snap.tasks]}
        answer["plugins_output"] = {SIMULATION_PLUGIN: _execution_note(row, snap)}
        return answer

    @staticmethod
    def _task_json(row: Mapping[str, Any], task: fates.TaskSnapshot) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "run_id": row["run_id"],
            "task_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{row['run_id']}/{task.name}")),
            "display_name": task.name,
            "create_time": timestamp(task.start),
            "start_time": timestamp(task.start),
            "end_time": timestamp(task.end),
            "state": task.state,
            "pod_name": task.pod_name,
            "executor_detail": {"main_job": task.pod_name},
            "child_tasks": [{"pod_name": task.pod_name}],
            "state_history": [{"update_time": timestamp(task.start), "state": "RUNNING"}]
            + ([{"update_time": timestamp(task.end), "state": task.state}] if task.end is not None else []),
        }
        if task.error:
            detail["error"] = {"code": 2, "message": task.error, "details": []}
        return detail

    def get_run(self, run_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        return self._run_json(self._run_row(run_id), self.clock())

    def list_runs(self, query: Mapping[str, str]) -> dict[str, Any]:
        sql, params = "SELECT * FROM runs WHERE 1 = 1", []
        if query.get("experiment_id"):
            sql, params = sql + " AND experiment_id = ?", params + [query["experiment_id"]]
        if query.get("namespace"):
            sql, params = sql + " AND namespace = ?", params + [query["namespace"]]
        now = self.clock()
        items = [self._run_json(r, now) for r in self.store.all(sql, params)]
        page, total, token = self._page(items, query, _RUN_ALIASES, "run_id")
        return {"runs": page, "total_size": total, "next_page_token": token}

    def terminate_run(self, run_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        now = self.clock()
        row = self._run_row(run_id)
        if row["terminated_at"] is None and self._snapshot(row, now).state not in fates.TERMINAL_STATES:
            self.store.run(
                "UPDATE runs SET terminated_at = ? WHERE run_id = ? AND terminated_at IS NULL", (now, run_id)
            )
            log.info("run %s terminated", run_id)
            executor.stop_execution(row["exec_pid"])
        return {}

    def retry_run(self, run_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        """Start a FAILED or CANCELED run over; it then succeeds unless scripted again."""
        now = self.clock()
        row = self._run_row(run_id)
        state = self._snapshot(row, now).state
        if state not in ("FAILED", "CANCELED"):
            raise ApiError(
                400,
                f"Failed to retry run {run_id}: the run is {state}, only FAILED or CANCELED runs can be retried",
                grpc_code=9,
            )
        fate = Fate.from_json(json.loads(row["fate"]))
        updates: dict[str, Any] = {
            "terminated_at": None,
            "origin": now + self.settings.pending_seconds,
            "fate": fates.dumps(Fate(kind="succeed", after=fate.after)),
        }
        if row["exec_dir"]:
            if not self.policy.execute:
                raise ApiError(
                    400,
                    f"Failed to retry run {run_id}: it was executed, and this server was not started "
                    "with --execute",
                    grpc_code=9,
                )
            spec = (
                _parsed(row["pipeline_spec"])
                if row["pipeline_spec"]
                else self._run_pipeline(
                    {"pipeline_version_reference": {"pipeline_version_id": row["pipeline_version_id"]}}
                )[0]
            )
            run_dir = Path(row["exec_dir"])
            (run_dir / "events.jsonl").unlink(missing_ok=True)
            parameters = json.loads(row["runtime_config"]).get("parameters") or {}
            arguments = {k: v for k, v in parameters.items() if k not in fates.FATE_PARAMETERS}
            spec = specs.with_run_times(
                spec, created_at=row["created_at"], scheduled_at=row["scheduled_at"] or row["created_at"]
            )
            updates = {"terminated_at": None, "exec_pid": executor.start_execution(run_dir, spec, arguments)}
        assignments = ", ".join(f"{k} = ?" for k in updates)
        self.store.run(f"UPDATE runs SET {assignments} WHERE run_id = ?", [*updates.values(), run_id])
        return {}

    def archive_run(self, run_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        self._run_row(run_id)
        self.store.run("UPDATE runs SET storage_state = 'ARCHIVED' WHERE run_id = ?", (run_id,))
        return {}

    def unarchive_run(self, run_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        self._run_row(run_id)
        self.store.run("UPDATE runs SET storage_state = 'AVAILABLE' WHERE run_id = ?", (run_id,))
        return {}

    def delete_run(self, run_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        row = self._run_row(run_id)
        executor.stop_execution(row["exec_pid"] if row["terminated_at"] is None else None)
        self.store.run("DELETE FROM runs WHERE run_id = ?", (run_id,))
        return {}

    def run_outputs(self, run_id: str) -> dict[str, Any]:
        """What a really executed run produced (task parameter outputs, pipeline outputs)."""
        row = self._run_row(run_id)
        if not row["exec_dir"]:
            raise ApiError(400, f"run {run_id} was not executed (its fate is {json.loads(row['fate'])})")
        events = executor.read_events(Path(row["exec_dir"]))
        tasks = {e["task"]: e.get("outputs", {}) for e in events if e["event"] == "task_end"}
        final = next((e.get("outputs", {}) for e in events if e["event"] == "pipeline_end"), None)
        return {"run_id": run_id, "tasks": tasks, "pipeline": final}

    # -- helpers ----------------------------------------------------------------------------

    def _rows(self, table: str, namespace: str | None) -> list[dict[str, Any]]:
        if namespace:
            return self.store.all(f"SELECT * FROM {table} WHERE namespace = ?", (namespace,))
        return self.store.all(f"SELECT * FROM {table}")

    @staticmethod
    def _page(
        items: list[dict[str, Any]], query: Mapping[str, str], aliases: Mapping[str, str], id_key: str
    ) -> tuple[list[dict[str, Any]], int, str]:
        items = listing.apply_filter(items, query.get("filter"), aliases)
        items = listing.sort_items(items, query.get("sort_by"), aliases, id_key)
        page, token = listing.paginate(items, query.get("page_token"), query.get("page_size"))
        return page, len(items), token


def _execution_note(row: Mapping[str, Any], snap: RunSnapshot) -> dict[str, Any]:
    """A ``V2beta1PluginOutput`` saying what really happened: nothing (simulated), or
    kfp.local ran it, with the tasks it could not run."""
    if not row["exec_dir"]:
        fate = Fate.from_json(json.loads(row["fate"]))
        return {
            "entries": {"execution": {"value": "simulated"}, "fate": {"value": fate.kind}},
            "state": "PLUGIN_SUCCEEDED",
            "state_message": (
                f"simulated by af2kfp kfp-server: nothing was executed; the run's state follows its "
                f"fate {fate.kind!r} (start the server with --execute to run lightweight Python "
                "components with kfp.local)"
            ),
        }
    not_run = list(snap.not_run)
    message = "executed with kfp.local by af2kfp kfp-server"
    if not_run:
        message += f"; could not run {', '.join(map(repr, not_run))}: {executor.NOT_RUN_REASON}"
    entries: dict[str, Any] = {"execution": {"value": "kfp.local"}}
    if not_run:
        entries["not_run"] = {"value": not_run}
    return {
        "entries": entries,
        "state": "PLUGIN_FAILED" if not_run else "PLUGIN_SUCCEEDED",
        "state_message": message,
    }


def _parsed(text: str | None) -> Any:
    """A stored spec as JSON; parsed once per distinct text (answers only serialise it)."""
    return None if text is None else _parsed_text(text)


@functools.lru_cache(maxsize=256)
def _parsed_text(text: str) -> Any:
    return json.loads(text)
