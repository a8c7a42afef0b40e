"""A DAG's schedule -> a KFP recurring run spec (``schedule.json`` next to the pipeline).

KFP's scheduler takes a six-field cron with seconds first (robfig/cron, see
:mod:`af2kfp.converters.cron`) or an interval in seconds, plus start/end times, ``max_concurrency`` and ``no_catchup``. The keys of
``recurring_run`` are the keyword arguments of ``kfp.Client.create_recurring_run``, so
``client.create_recurring_run(experiment_id=..., pipeline_package_path=..., **spec["recurring_run"])``
creates it. What KFP cannot express (asset-driven schedules, custom timetables) is a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from af2kfp.converters.cron import kfp_cron
from af2kfp.converters.findings import CODES, Finding, Severity, register_code
from af2kfp.converters.graph import DagInfo
from af2kfp.converters.values import Call, DateTime, Duration, Symbolic

__all__ = [
    "PRESETS",
    "KFP_MAX_CONCURRENCY",
    "AIRFLOW_MAX_ACTIVE_RUNS",
    "ScheduleSpec",
    "recurring_run_spec",
    "ASSET_SCHEDULE",
    "CUSTOM_TIMETABLE",
    "CRON_UNSUPPORTED",
    "CRON_INVALID",
    "SCHEDULE_UNKNOWN",
    "SCHEDULE_DIFFERS",
]

ASSET_SCHEDULE = register_code(
    "S401", Severity.WARNING, "Asset/Dataset schedule has no KFP equivalent",
    "KFP starts runs on time only; trigger the pipeline from the producer (e.g. KfpRunPipelineOperator).",
).code
CUSTOM_TIMETABLE = register_code(
    "S402", Severity.WARNING, "Timetable not converted",
    "Only cron and interval timetables map to a KFP recurring run; create the schedule by hand.",
).code
CRON_UNSUPPORTED = register_code(
    "S403", Severity.WARNING, "Cron expression has no KFP equivalent",
    "KFP's cron (robfig/cron) has no L, W or # and no year field, so no recurring run was written: create it by "
    "hand with the nearest schedule KFP can express, or start the runs from elsewhere.",
).code
CRON_INVALID = register_code(
    "S406", Severity.ERROR, "Cron expression is invalid",
    "croniter, which Airflow uses, rejects the expression, so Airflow does not load the DAG (AirflowTimetableInvalid) "
    "and no recurring run was written; fix the schedule in the DAG.",
).code
SCHEDULE_UNKNOWN = register_code(
    "S404", Severity.WARNING, "Schedule not known statically",
    "The schedule is computed at parse time; no recurring run spec was written.",
).code
SCHEDULE_DIFFERS = register_code(
    "S405", Severity.INFO, "Recurring run behaves differently",
    "Read schedule.json's notes: KFP evaluates cron in UTC and caps concurrency at 10.",
).code

# Airflow presets as five-field cron (airflow.timetables / croniter semantics).
PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
KFP_MAX_CONCURRENCY = 10  # the KFP API server rejects max_concurrency outside 1..10
AIRFLOW_MAX_ACTIVE_RUNS = 16  # [core] max_active_runs_per_dag default
_TIME_TIMETABLES = {
    "CronTriggerTimetable": "cron", "CronDataIntervalTimetable": "cron",
    "DeltaTriggerTimetable": "delta", "DeltaDataIntervalTimetable": "delta",
}
_ASSETS = ("Asset", "Dataset", "AssetAll", "AssetAny", "DatasetAll", "DatasetAny", "AssetAlias", "DatasetAlias")


@dataclass(kw_only=True)
class ScheduleSpec:
    """``data`` is what ``schedule.json`` holds; ``findings`` are about the DAG."""

    data: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)


def _rfc3339(value: Any) -> str | None:
    if not isinstance(value, DateTime):
        return None
    iso = value.iso
    return iso if re.search(r"(Z|[+-]\d\d:?\d\d)$", iso) else iso + "Z"


def _name(value: Any) -> str:
    return value.func.rsplit(".", 1)[-1] if isinstance(value, Call) else ""


def _is_asset(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_is_asset(item) for item in value)
    return _name(value) in _ASSETS or isinstance(value, Symbolic) and bool(
        re.search(r"\b(Asset|Dataset)\w*\(", value.source))


class _Builder:
    def __init__(self, info: DagInfo) -> None:
        self.info = info
        self.findings: list[Finding] = []
        self.notes: list[str] = []

    def add(self, code: str, message: str) -> None:
        entry = CODES[code]
        self.findings.append(Finding(code=code, severity=entry.severity, message=message, suggestion=entry.help,
                                     file=self.info.file, line=self.info.line, dag_id=self.info.dag_id))

    def trigger(self, schedule: Any) -> dict[str, Any] | None:
        """``{"cron_expression"}`` or ``{"interval_second"}``; ``None`` when KFP has nothing to schedule."""
        if schedule is None:
            self.notes.append("schedule=None: the DAG runs only when triggered; no recurring run")
            return None
        if isinstance(schedule, str):
            return self._text(schedule)
        if isinstance(schedule, Duration):
            return self._interval(schedule.seconds)
        if _is_asset(schedule):
            self.add(ASSET_SCHEDULE, "the DAG runs when assets/datasets are updated; KFP has no such trigger")
            return None
        name = _name(schedule)
        if name in ("AssetOrTimeSchedule", "DatasetOrTimeSchedule"):
            self.add(ASSET_SCHEDULE, f"{name}: only its timetable is converted, not the asset trigger")
            return self.trigger(schedule.kwargs.get("timetable"))
        if name in _TIME_TIMETABLES:
            return self._timetable(schedule, name)
        if name:
            self.add(CUSTOM_TIMETABLE, f"timetable {name} has no KFP recurring run equivalent")
            return None
        source = schedule.source if isinstance(schedule, Symbolic) else repr(schedule)
        self.add(SCHEDULE_UNKNOWN, f"schedule `{source}` is not known statically")
        return None

    def _text(self, schedule: str) -> dict[str, Any] | None:
        if schedule == "@once":
            self.notes.append("@once: the DAG runs a single time; create one run instead of a recurring run")
            return None
        if schedule == "@continuous":
            self.add(CUSTOM_TIMETABLE, "@continuous starts a run as soon as the previous one ends; KFP cannot")
            return None
        if schedule.startswith("@") and schedule not in PRESETS:
            self.add(CUSTOM_TIMETABLE, f"unknown schedule preset {schedule!r}")
            return None
        result = kfp_cron(PRESETS.get(schedule, schedule))
        for problem in result.problems:
            self.add(CRON_INVALID if result.invalid else CRON_UNSUPPORTED, problem)
        if result.cron is None:
            return None
        self.notes.append(f"Airflow {schedule!r} -> KFP cron {result.cron!r} (seconds field first)")
        return {"cron_expression": result.cron}

    def _interval(self, seconds: float) -> dict[str, Any] | None:
        if seconds <= 0:
            self.add(SCHEDULE_UNKNOWN, f"interval of {seconds}s cannot be scheduled")
            return None
        self.notes.append(f"every {int(seconds)}s counted from start_time, as Airflow counts from start_date")
        return {"interval_second": int(seconds)}

    def _timetable(self, call: Call, name: str) -> dict[str, Any] | None:
        value = call.args[0] if call.args else call.kwargs.get("cron", call.kwargs.get("delta"))
        tz = call.kwargs.get("timezone")
        if isinstance(tz, str) and tz.upper() != "UTC":
            self.add(SCHEDULE_DIFFERS, f"{name} runs in timezone {tz}; KFP evaluates cron in UTC")
        if _TIME_TIMETABLES[name] == "cron" and isinstance(value, str):
            return self._text(value)
        if _TIME_TIMETABLES[name] == "delta" and isinstance(value, Duration):
            return self._interval(value.seconds)
        self.add(SCHEDULE_UNKNOWN, f"{name} argument is not known statically")
        return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def recurring_run_spec(info: DagInfo, run_parameters: tuple[str, ...] = (), dates: str | None = None) -> ScheduleSpec:
    """The ``schedule.json`` content for one DAG; ``recurring_run`` is ``None`` when nothing recurs.

    ``run_parameters`` names the pipeline parameters the caller must pass per run
    (``dag_run.conf['x']``...); ``dates`` says how the run context dates the runs, when the
    pipeline reads dates (:meth:`af2kfp.converters.run_context.Timing.describe`).
    """
    builder = _Builder(info)
    timetable = info.extra.get("timetable")
    schedule = timetable if timetable is not None and info.schedule is None else info.schedule
    trigger = builder.trigger(schedule)
    data: dict[str, Any] = {"dag_id": info.dag_id, "airflow_schedule": _describe(schedule), "recurring_run": None}
    if trigger is not None:
        catchup = info.catchup if isinstance(info.catchup, bool) else False
        if not isinstance(info.catchup, bool):
            builder.notes.append("catchup not set: Airflow 3 defaults to False (Airflow 2 to True); no_catchup=true")
        runs = _int(info.extra.get("max_active_runs")) or AIRFLOW_MAX_ACTIVE_RUNS
        if runs > KFP_MAX_CONCURRENCY:
            builder.notes.append(f"max_active_runs {runs} capped to KFP's maximum max_concurrency "
                                 f"{KFP_MAX_CONCURRENCY}")
        start = _rfc3339(info.start_date)
        if start is None and info.start_date is not None:
            builder.add(SCHEDULE_UNKNOWN, "start_date is not known statically; the recurring run starts now")
        tz = re.search(r"([+-]\d\d:?\d\d)$", start or "")
        if "cron_expression" in trigger and tz and tz.group(1) not in ("+00:00", "+0000"):
            builder.add(SCHEDULE_DIFFERS, f"start_date has offset {tz.group(1)}; Airflow evaluates the cron in that "
                                          "timezone, KFP in UTC")
        data["recurring_run"] = {
            "job_name": info.dag_id,
            "description": f"Converted from the schedule of Airflow DAG {info.dag_id}",
            "start_time": start,
            "end_time": _rfc3339(info.end_date),
            **({"cron_expression": None, "interval_second": None} | trigger),
            "max_concurrency": max(1, min(runs, KFP_MAX_CONCURRENCY)),
            "no_catchup": not catchup,
            "enabled": True,
        }
        if run_parameters:
            builder.add(SCHEDULE_DIFFERS, f"run parameters {', '.join(run_parameters)} are fixed when the recurring "
                                          "run is created; Airflow renders them for each run")
        if dates:
            builder.notes.append(f"the run's dates follow each run's scheduled time ({dates}); no parameter needed")
    data["notes"] = builder.notes
    return ScheduleSpec(data=data, findings=builder.findings)


def _describe(schedule: Any) -> Any:
    if isinstance(schedule, Duration):
        return {"timedelta_seconds": schedule.seconds}
    if isinstance(schedule, Symbolic):
        return schedule.source
    if isinstance(schedule, Call):
        return f"{_name(schedule)}(...)"
    if isinstance(schedule, (list, tuple)):
        return [_describe(item) for item in schedule]
    return schedule
