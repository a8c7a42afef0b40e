"""Recurring runs of the local server (``/apis/v2beta1/recurringruns``), and the runs
their ticks start, as KFP's API server and ScheduledWorkflow controller do it.

A recurring run is stored with its trigger as given (answered back unchanged), the
trigger parsed (:mod:`~af2kfp.bridge.kfp_server.schedules`), the pipeline it runs (a copy of the
spec, or only a pipeline id: its latest version at each tick), and the last tick it
triggered with that tick's index. :meth:`RecurringRuns.trigger_due` starts the runs that
are due, each in one transaction with the update of the last tick, so a crash or a
restart neither loses a tick nor starts one twice; the run's id is derived from the
recurring run and its name (as KFP 2.x does), so a tick can never make two runs. A run
started by a tick carries ``recurring_run_id`` and ``scheduled_at`` (the tick), and its
pipeline, when executed, reads that time in ``{{$.pipeline_job_schedule_time_utc}}``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
import uuid
from typing import TYPE_CHECKING, Any, Mapping

from af2kfp.bridge.kfp_server import fates, schedules
from af2kfp.bridge.kfp_server.errors import ApiError
from af2kfp.bridge.kfp_server.times import timestamp

if TYPE_CHECKING:
    from af2kfp.bridge.kfp_server.api import KfpApi

__all__ = ["RecurringRuns", "MAX_CONCURRENCY", "MAX_TICKS_PER_CALL"]

log = logging.getLogger(__name__)

MAX_CONCURRENCY = 10
MAX_TICKS_PER_CALL = 100
"""At most this many runs of one recurring run per :meth:`RecurringRuns.trigger_due` call,
so a long catch-up never holds the database for long (the next call goes on)."""
_ALIASES = {"name": "display_name", "id": "recurring_run_id"}
_RUN_NAMESPACE = uuid.UUID("6f2b8f0e-5a61-4d3c-9b57-0f6f3f2d9a11")


def _fnv32a(text: str) -> int:
    """FNV-1a, 32 bits: how KFP suffixes the name of a scheduled run."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def run_name(display_name: str, index: int) -> str:
    """The name of the recurring run's ``index``-th run: ``NAME-INDEX-HASH`` as KFP names it."""
    base = f"{display_name}-{index}"
    return f"{base}-{_fnv32a(base)}"


def run_id(recurring_run_id: str, name: str) -> str:
    """The id of a scheduled run, the same for the same recurring run and name (KFP 2.x
    derives it likewise, so two triggers of one tick cannot make two runs)."""
    return str(uuid.uuid5(_RUN_NAMESPACE, f"{recurring_run_id}/{name}"))


def _max_concurrency(value: Any) -> int:
    """int64 ``max_concurrency`` (a string in protojson, a number from kfp.Client), 1 to 10;
    unset is 0, which KFP refuses."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = "0" if value is None else str(value).strip()
    number = int(text) if not isinstance(value, bool) and re.fullmatch(r"[+-]?\d+", text) else 0
    if not 1 <= number <= MAX_CONCURRENCY:
        raise ApiError(
            400,
            "Invalid input error: Max concurrency of a recurring run must be at least 1 and at most "
            f"{MAX_CONCURRENCY}. Received {text}",
        )
    return number


def _mode(value: Any) -> bool:
    if value in (None, "MODE_UNSPECIFIED", "DISABLE", 0, 2):
        return False
    if value in ("ENABLE", 1):
        return True
    raise ApiError(400, f"Invalid input error: Recurring run's mode is invalid: {value!r}")


class RecurringRuns:
    """The recurring-run resource over the server's store; :meth:`trigger_due` is the
    scheduler's one step (the server calls it every tick, a test whenever it likes)."""

    def __init__(self, api: "KfpApi") -> None:
        self.api = api
        self.store = api.store

    # -- the API ------------------------------------------------------------------------------

    def create(self, query: Mapping[str, str], body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid input error: the request body must be a JSON object (recurring run)")
        name = body.get("display_name")
        if not isinstance(name, str) or not name:
            raise ApiError(400, "Invalid input error: Recurring run name is empty. Please specify a valid name")
        try:
            trigger = schedules.parse_trigger(body.get("trigger"))
        except schedules.ScheduleError as exc:
            raise ApiError(400, f"Invalid input error: {exc}") from None
        concurrency = _max_concurrency(body.get("max_concurrency"))
        enabled = _mode(body.get("mode"))
        reference = body.get("pipeline_version_reference")
        version = reference.get("pipeline_version_id") if isinstance(reference, dict) else None
        # an inline spec or a version: a copy is kept; a pipeline alone: its latest version at each tick
        pinned = body.get("pipeline_spec") is not None or bool(version or body.get("pipeline_version_id"))
        request = self.api.run_request({**body, "display_name": name}, query)  # checks pipeline and inputs
        now = math.floor(self.api.clock())  # KFP keeps a recurring run's times in whole seconds
        row = {
            "recurring_run_id": str(uuid.uuid4()),
            "display_name": name,
            "description": request.description,
            "experiment_id": request.experiment_id,
            "namespace": request.namespace,
            "pipeline_spec": json.dumps(request.spec) if pinned else None,
            "pipeline_id": request.pipeline_id,
            "pipeline_version_id": request.version_id if pinned else None,
            "runtime_config": json.dumps(request.runtime),
            "service_account": request.service_account,
            "trigger": json.dumps(body["trigger"]),
            "schedule": json.dumps(trigger.to_json()),
            "max_concurrency": concurrency,
            "no_catchup": int(bool(body.get("no_catchup"))),
            "enabled": int(enabled),
            "created_at": now,
            "updated_at": now,
            "last_triggered": None,
            "last_index": 0,
            "error": None,
        }
        with self.store.transaction() as db:
            if row["experiment_id"]:
                experiment = db.execute(
                    "SELECT namespace FROM experiments WHERE experiment_id = ?", (row["experiment_id"],)
                ).fetchone()
                if experiment is None:
                    raise ApiError(
                        404, f"Failed to create a recurring run: experiment {row['experiment_id']} not found"
                    )
                row["namespace"] = experiment["namespace"]
            else:
                row["experiment_id"] = self.api._default_experiment(db, row["namespace"])
            db.execute(
                f"INSERT INTO recurring_runs ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row
            )
        log.info("recurring run %s %r created (%s)", row["recurring_run_id"], name, "enabled" if enabled else "disabled")
        self._trigger(row["recurring_run_id"])  # a tick already due starts now, as KFP's controller does
        return self.get(row["recurring_run_id"], {})

    def _row(self, recurring_run_id: str) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM recurring_runs WHERE recurring_run_id = ?", (recurring_run_id,))
        if row is None:
            raise ApiError(404, f"Failed to fetch a recurring run: recurring run {recurring_run_id} not found")
        return row

    def _json(self, row: Mapping[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "recurring_run_id": row["recurring_run_id"],
            "display_name": row["display_name"],
            "description": row["description"],
            "service_account": row["service_account"],
            "max_concurrency": str(row["max_concurrency"]),  # int64: protojson writes a string
            "trigger": _trigger_json(json.loads(row["trigger"])),
            "mode": "ENABLE" if row["enabled"] else "DISABLE",
            "created_at": timestamp(row["created_at"]),
            "updated_at": timestamp(row["updated_at"]),
            "status": "ENABLED" if row["enabled"] else "DISABLED",
            "no_catchup": bool(row["no_catchup"]),
            "namespace": row["namespace"],
            "experiment_id": row["experiment_id"],
        }
        runtime = json.loads(row["runtime_config"])
        if runtime.get("parameters") or runtime.get("pipeline_root"):
            answer["runtime_config"] = runtime
        if row["pipeline_id"]:
            reference = {"pipeline_id": row["pipeline_id"]}
            if row["pipeline_version_id"]:
                reference["pipeline_version_id"] = row["pipeline_version_id"]
            answer["pipeline_version_reference"] = reference
        else:
            answer["pipeline_spec"] = json.loads(row["pipeline_spec"])
        if row["error"]:
            answer["error"] = {"code": 9, "message": row["error"], "details": []}
        return answer

    def get(self, recurring_run_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        return self._json(self._row(recurring_run_id))

    def list(self, query: Mapping[str, str]) -> dict[str, Any]:
        sql, params = "SELECT * FROM recurring_runs WHERE 1 = 1", []
        if query.get("experiment_id"):
            sql, params = sql + " AND experiment_id = ?", params + [query["experiment_id"]]
        elif query.get("namespace"):
            sql, params = sql + " AND namespace = ?", params + [query["namespace"]]
        items = [self._json(row) for row in self.store.all(sql, params)]
        page, total, token = self.api._page(items, query, _ALIASES, "recurring_run_id")
        return {"recurringRuns": page, "total_size": total, "next_page_token": token}  # the proto's own name

    def _set_enabled(self, recurring_run_id: str, enabled: bool) -> dict[str, Any]:
        self._row(recurring_run_id)
        self.store.run(
            "UPDATE recurring_runs SET enabled = ?, updated_at = ? WHERE recurring_run_id = ?",
            (int(enabled), math.floor(self.api.clock()), recurring_run_id),
        )
        log.info("recurring run %s %s", recurring_run_id, "enabled" if enabled else "disabled")
        if enabled:
            self._trigger(recurring_run_id)
        return {}

    def enable(self, recurring_run_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        return self._set_enabled(recurring_run_id, True)

    def disable(self, recurring_run_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        return self._set_enabled(recurring_run_id, False)

    def delete(self, recurring_run_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        """Delete it; the runs it started stay (KFP keeps them too)."""
        self._row(recurring_run_id)
        self.store.run("DELETE FROM recurring_runs WHERE recurring_run_id = ?", (recurring_run_id,))
        return {}

    def disable_in_experiment(self, db: Any, experiment_id: str) -> None:
        """Archiving an experiment disables its recurring runs (as KFP does)."""
        db.execute(
            "UPDATE recurring_runs SET enabled = 0, updated_at = ? WHERE experiment_id = ?",
            (math.floor(self.api.clock()), experiment_id),
        )

    # -- the scheduler's step -----------------------------------------------------------------

    def trigger_due(self) -> list[str]:
        """Start every run that is due now; return their ids (oldest tick first)."""
        started: list[str] = []
        for row in self.store.all("SELECT recurring_run_id FROM recurring_runs WHERE enabled = 1"):
            started += self._trigger(row["recurring_run_id"])
        return started

    def _active(self, db: Any, recurring_run_id: str, now: float) -> int:
        """How many of its runs have not finished (they count against max_concurrency)."""
        rows = db.execute("SELECT * FROM runs WHERE recurring_run_id = ?", (recurring_run_id,)).fetchall()
        return sum(self.api._snapshot(dict(r), now).state not in fates.TERMINAL_STATES for r in rows)

    def _trigger(self, recurring_run_id: str) -> list[str]:
        started: list[str] = []
        with self.store.transaction() as db:
            found = db.execute(
                "SELECT * FROM recurring_runs WHERE recurring_run_id = ? AND enabled = 1", (recurring_run_id,)
            ).fetchone()
            if found is None:
                return started
            row = dict(found)
            trigger = schedules.Trigger.from_json(json.loads(row["schedule"]))
            now = self.api.clock()
            active = self._active(db, recurring_run_id, now)
            base = None  # the run to start, built once for all the ticks of this call
            while len(started) < MAX_TICKS_PER_CALL and active < row["max_concurrency"]:
                tick = schedules.next_tick(
                    trigger,
                    last=row["last_triggered"],
                    created=int(row["created_at"]),
                    now=int(now),
                    catchup=not row["no_catchup"],
                )
                if tick is None or tick > now:
                    break
                index = row["last_index"] + 1
                name = run_name(row["display_name"], index)
                try:
                    base = base or self._run_request(row)
                    request = dataclasses.replace(base, display_name=name)
                    new_id = self.api.insert_run(
                        db, request, run_id=run_id(recurring_run_id, name),
                        recurring_run_id=recurring_run_id, scheduled_at=float(tick),
                    )
                except ApiError as exc:  # e.g. its pipeline was deleted: say so, try again next time
                    message = f"Failed to create a run at {timestamp(tick)}: {exc.message}"
                    if message != row["error"]:
                        log.warning("recurring run %s: %s", recurring_run_id, message)
                        db.execute(
                            "UPDATE recurring_runs SET error = ? WHERE recurring_run_id = ?", (message, recurring_run_id)
                        )
                    break
                row.update(last_triggered=tick, last_index=index, error=None)
                db.execute(
                    "UPDATE recurring_runs SET last_triggered = ?, last_index = ?, error = NULL "
                    "WHERE recurring_run_id = ?",
                    (tick, index, recurring_run_id),
                )
                log.info("recurring run %s started run %s (%s) for %s", recurring_run_id, new_id, name, timestamp(tick))
                started.append(new_id)
                active += 1
        return started

    def _run_request(self, row: Mapping[str, Any]) -> Any:
        """The run a tick starts: the pipeline copy kept at creation (an inline spec, or the
        pinned version's, which stays runnable if the version is deleted, as in KFP), or
        the pipeline's latest version now."""
        body: dict[str, Any] = {
            "display_name": row["display_name"],
            "experiment_id": row["experiment_id"],
            "runtime_config": json.loads(row["runtime_config"]),
            "service_account": row["service_account"],
        }
        if row["pipeline_spec"] is None:
            body["pipeline_version_reference"] = {"pipeline_id": row["pipeline_id"]}
            return self.api.run_request(body, {"namespace": row["namespace"]})
        request = self.api.run_request({**body, "pipeline_spec": json.loads(row["pipeline_spec"])}, {})
        return dataclasses.replace(request, pipeline_id=row["pipeline_id"], version_id=row["pipeline_version_id"])


def _trigger_json(trigger: Mapping[str, Any]) -> dict[str, Any]:
    """The trigger as stored, its times in protojson's form and ``interval_second`` a string."""
    answer: dict[str, Any] = {}
    for key in ("cron_schedule", "periodic_schedule"):
        schedule = trigger.get(key)
        if not isinstance(schedule, Mapping):
            continue
        written = {k: v for k, v in schedule.items() if v not in (None, "")}
        for bound in ("start_time", "end_time"):
            if bound in written:
                written[bound] = timestamp(schedules.epoch_seconds(written[bound], bound) or 0)
        if "interval_second" in written:  # int64: protojson writes a string
            written["interval_second"] = str(int(float(str(written["interval_second"]).strip())))
        answer[key] = written
    return answer

