"""The run context: Airflow's dates for one run, computed in the pipeline from one source.

Airflow gives every task of a run the same dates (``ds``, ``ts``, ``logical_date``,
``data_interval_start``...). In the converted pipeline they come from one small Python
component at its start, ``run_context``, added by the conversion: its outputs feed the
containers' templates and the Python components' context shims. It reads one time:

* the pipeline parameter ``logical_date`` when the caller sets it (a rerun, a backfill,
  ``KfpRunPipelineOperator(parameters={"logical_date": "{{ ts }}"})``), else
* the recurring run's scheduled time (``dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER``;
  KFP 2.17+ gives the creation time for a one-off run), else
* the run's creation time (``dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER``), else the
  current time (KFP before 2.17 substitutes ``""``; a runner that leaves the text as it is).

How the logical date follows from that time is the DAG's timetable (:class:`Timing`):
Airflow 3's trigger timetables (the default) make it the scheduled time; data-interval
timetables (Airflow 2's default, ``create_cron_data_intervals``) make it the start of the
interval that ends at the scheduled time, one period earlier. ``docs/templating.md`` says
it in full. Pure: no kfp import; the component's source is generated here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from af2kfp.converters.config import Config
from af2kfp.converters.graph import DagInfo
from af2kfp.converters.values import Call, Duration

__all__ = [
    "RUN_CONTEXT_ID",
    "RUN_CONTEXT_DISPLAY",
    "DATE_STRINGS",
    "DATE_TIMES",
    "DATES",
    "MACRO_MEMBERS",
    "Timing",
    "timing",
    "RunContextPlan",
    "names_read",
    "timing_lines",
    "macros_imports",
    "macros_source",
    "OVERRIDE",
]

# The id the run context's outputs are read from: no Airflow task id has a colon.
RUN_CONTEXT_ID = "af2kfp:run_context"
# Its display name in KFP: no Airflow task id has spaces or brackets either.
RUN_CONTEXT_DISPLAY = "run context (added by af2kfp)"
OVERRIDE = "logical_date_override"
# Values Airflow renders as text, with the Python that computes each from the names before it.
DATE_STRINGS: dict[str, str] = {
    "ds": 'logical_date.strftime("%Y-%m-%d")',
    "ds_nodash": 'logical_date.strftime("%Y%m%d")',
    "ts": "logical_date.isoformat()",
    "ts_nodash": 'logical_date.strftime("%Y%m%dT%H%M%S")',
    "ts_nodash_with_tz": 'logical_date.isoformat().replace("-", "").replace(":", "")',
    # Airflow 2 only (Airflow 3 removed them): the day before/after, the previous/next schedule.
    "yesterday_ds": '(logical_date - timedelta(days=1)).strftime("%Y-%m-%d")',
    "yesterday_ds_nodash": '(logical_date - timedelta(days=1)).strftime("%Y%m%d")',
    "tomorrow_ds": '(logical_date + timedelta(days=1)).strftime("%Y-%m-%d")',
    "tomorrow_ds_nodash": '(logical_date + timedelta(days=1)).strftime("%Y%m%d")',
    "prev_ds": 'prev_execution_date.strftime("%Y-%m-%d")',
    "prev_ds_nodash": 'prev_execution_date.strftime("%Y%m%d")',
    "next_ds": 'next_execution_date.strftime("%Y-%m-%d")',
    "next_ds_nodash": 'next_execution_date.strftime("%Y%m%d")',
}
# Values Airflow gives as datetimes (pendulum's, a datetime subclass whose str() is datetime's).
DATE_TIMES = ("logical_date", "data_interval_start", "data_interval_end", "execution_date",
              "prev_execution_date", "next_execution_date")
DATES = frozenset(DATE_STRINGS) | frozenset(DATE_TIMES)
# ``macros.<name>`` the run context and the shims provide: Airflow's own definitions, no Airflow.
MACRO_MEMBERS = ("ds_add", "ds_format", "datetime", "timedelta", "time", "uuid", "json", "random")
_SCHEDULES = {"prev_execution_date", "next_execution_date"}


@dataclass(frozen=True, kw_only=True)
class Timing:
    """How a run's time becomes its logical date and data interval.

    ``semantics``: ``trigger`` (the logical date is the run's time) or ``interval`` (the
    logical date is the start of the interval ending at the run's time); ``cron`` (five
    fields) or ``delta`` (seconds) is the schedule's period, ``None`` both when nothing
    recurs; ``interval`` the ``CronTriggerTimetable(interval=...)`` seconds (trigger only).
    """

    semantics: str = "trigger"
    cron: str | None = None
    delta: float | None = None
    interval: float = 0.0

    def describe(self) -> str:
        """One sentence for notes and docstrings."""
        if self.semantics == "interval":
            period = f"cron {self.cron!r}" if self.cron else f"every {self.delta:g}s"
            return (f"data intervals, {period}: the logical date is the start of the interval that ends at the "
                    "run's scheduled time, one period earlier")
        return "trigger timetable: the logical date is the run's scheduled time"


_PRESETS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
            "@monthly": "0 0 1 * *", "@quarterly": "0 0 1 */3 *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
_TIMETABLES = {"CronTriggerTimetable": ("trigger", "cron"), "CronDataIntervalTimetable": ("interval", "cron"),
               "DeltaTriggerTimetable": ("trigger", "delta"), "DeltaDataIntervalTimetable": ("interval", "delta")}


def _period(schedule: Any) -> tuple[str | None, float | None]:
    if isinstance(schedule, str) and (schedule in _PRESETS or not schedule.startswith("@")):
        cron = _PRESETS.get(schedule.strip(), schedule.strip())
        return (cron, None) if len(cron.split()) == 5 else (None, None)
    if isinstance(schedule, Duration) and schedule.seconds > 0:
        return None, schedule.seconds
    return None, None


def timing(info: DagInfo, config: Config) -> Timing:
    """The DAG's timing: an explicit timetable wins, else the schedule read as the config says
    Airflow's ``[scheduler] create_cron_data_intervals`` / ``create_delta_data_intervals`` are."""
    timetable = info.extra.get("timetable")
    schedule = timetable if timetable is not None and info.schedule is None else info.schedule
    if isinstance(schedule, Call) and schedule.func.rsplit(".", 1)[-1] in ("AssetOrTimeSchedule",
                                                                            "DatasetOrTimeSchedule"):
        schedule = schedule.kwargs.get("timetable")
    if isinstance(schedule, Call) and schedule.func.rsplit(".", 1)[-1] in _TIMETABLES:
        semantics, kind = _TIMETABLES[schedule.func.rsplit(".", 1)[-1]]
        value = schedule.args[0] if schedule.args else schedule.kwargs.get(kind)
        cron, delta = _period(value)
        interval = schedule.kwargs.get("interval")
        seconds = interval.seconds if isinstance(interval, Duration) and semantics == "trigger" else 0.0
        if cron is None and delta is None:
            semantics = "trigger"
        return Timing(semantics=semantics, cron=cron, delta=delta, interval=seconds)
    cron, delta = _period(schedule)
    intervals = config.create_cron_data_intervals if cron else config.create_delta_data_intervals
    semantics = "interval" if intervals and (cron or delta) else "trigger"
    return Timing(semantics=semantics, cron=cron, delta=delta)


@dataclass(kw_only=True)
class RunContextPlan:
    """What the pipeline reads from the run context: output name -> Python expression.

    Every expression reads only the names of :data:`DATES` and ``macros``; the component
    computes the names they read (and the ones those read), nothing else.
    """

    timing: Timing
    outputs: dict[str, str] = field(default_factory=dict)
    # The pipeline parameter that overrides the logical date, and the component's image.
    parameter: str = "logical_date"
    base_image: str = "python:3.11"

    def closure(self) -> set[str]:
        """The names the outputs read, directly or through other names."""
        names: set[str] = set()
        pending = [n for source in self.outputs.values() for n in names_read(source)]
        while pending:
            name = pending.pop()
            if name not in names:
                names.add(name)
                pending += names_read(DATE_STRINGS.get(name, ""))
        return names

    def needs_croniter(self) -> bool:
        """True when a cron is evaluated at run time (with croniter, as Airflow does)."""
        if self.timing.cron is None:
            return False
        return self.timing.semantics == "interval" or bool(_SCHEDULES & self.closure())


@lru_cache(maxsize=1024)
def names_read(source: str) -> frozenset[str]:
    """The run-context names (and ``macros``) a Python expression reads (parsed once per expression)."""
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        return frozenset()
    return frozenset({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} & (DATES | {"macros"}))


def macros_source(members: set[str]) -> list[str]:
    """Statements defining ``macros`` with Airflow's own ``members`` (``airflow.sdk.execution_time.macros``)."""
    lines: list[str] = []
    if "ds_add" in members:
        lines += ["def ds_add(ds, days):",
                  '    """Airflow\'s macros.ds_add: a YYYY-MM-DD date moved by a number of days."""',
                  "    if not days:",
                  "        return str(ds)",
                  '    moved = datetime.strptime(str(ds), "%Y-%m-%d") + timedelta(days=days)',
                  '    return moved.strftime("%Y-%m-%d")',
                  ""]
    if "ds_format" in members:
        lines += ["def ds_format(ds, input_format, output_format):",
                  '    """Airflow\'s macros.ds_format: a date string from one format to another."""',
                  "    return datetime.strptime(str(ds), input_format).strftime(output_format)",
                  ""]
    given = ", ".join(f"{m}={m}" for m in MACRO_MEMBERS if m in members)
    return lines + [f"macros = SimpleNamespace({given})"]


def macros_imports(members: set[str]) -> list[str]:
    """The imports :func:`macros_source` needs besides ``datetime`` and ``timedelta``."""
    lines = [f"import {m}" for m in ("json", "time", "uuid") if m in members]
    if "random" in members:
        lines.append("from random import random")
    return lines + ["from types import SimpleNamespace"]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def timing_lines(timing: Timing, closure: set[str]) -> list[str]:
    """Statements setting ``logical_date`` (and the interval and schedule neighbours it needs) from
    ``run_time`` and the override ``given`` (``None`` when absent)."""
    cron = _quoted(timing.cron) if timing.cron else None
    if timing.semantics == "interval" and cron:
        lines = [f"cron = {cron}",
                 "data_interval_start = given",
                 "if data_interval_start is None:  # the last whole interval before the run's time",
                 "    end = run_time",
                 "    if not croniter.match(cron, end):",
                 "        end = croniter(cron, end).get_prev(datetime)",
                 "    data_interval_start = croniter(cron, end).get_prev(datetime)",
                 "data_interval_end = croniter(cron, data_interval_start).get_next(datetime)",
                 "logical_date = data_interval_start"]
    elif timing.semantics == "interval" and timing.delta:
        lines = [f"period = timedelta(seconds={timing.delta:g})",
                 "data_interval_start = given or run_time - period",
                 "data_interval_end = data_interval_start + period",
                 "logical_date = data_interval_start"]
    else:
        lines = ["logical_date = given or run_time"]
        if closure & {"data_interval_start", "data_interval_end"}:
            lines += ([f"data_interval_start = logical_date - timedelta(seconds={timing.interval:g})",
                       "data_interval_end = logical_date"] if timing.interval else
                      ["data_interval_start = data_interval_end = logical_date"])
    if "execution_date" in closure:
        lines.append("execution_date = logical_date")
    if closure & _SCHEDULES:
        lines += _neighbours(timing, cron)
    return lines


def _neighbours(timing: Timing, cron: str | None) -> list[str]:
    """Airflow 2's previous and next schedule around the logical date (itself when nothing recurs)."""
    interval = timing.semantics == "interval"
    if cron:
        source = "cron" if interval else cron
        return [f"prev_execution_date = croniter({source}, logical_date).get_prev(datetime)",
                "next_execution_date = data_interval_end" if interval else
                f"next_execution_date = croniter({source}, logical_date).get_next(datetime)"]
    if timing.delta:
        step = f"timedelta(seconds={timing.delta:g})"
        return [f"prev_execution_date = logical_date - {step}", f"next_execution_date = logical_date + {step}"]
    return ["prev_execution_date = next_execution_date = logical_date"]
