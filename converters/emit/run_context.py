"""The run context component (:mod:`af2kfp.converters.run_context`) as a KFP task, and its code.

Not an Airflow task: the conversion adds it at the start of a pipeline whose tasks read
the run's dates. Its ``def`` is generated whole here (laid out as black would); its
outputs are read by the other tasks as ``run_context_task.outputs["ds"]``.
"""

from __future__ import annotations

from functools import lru_cache

from af2kfp.converters.emit.layout import Atom, Chain, Group, layout, string
from af2kfp.converters.mappings.model import KfpTask, PythonFunction
from af2kfp.converters.run_context import (
    DATE_STRINGS,
    MACRO_MEMBERS,
    OVERRIDE,
    RUN_CONTEXT_DISPLAY,
    RUN_CONTEXT_ID,
    RunContextPlan,
    Timing,
    macros_imports,
    macros_source,
    timing_lines,
)

__all__ = ["run_context_task", "run_context_call"]

_MOMENT = [
    "def when(text):",
    '    """A time KFP gave; "" (KFP before 2.17) or a placeholder left as is (kfp.local) is None."""',
    '    if not text or text.startswith("{{"):',
    "        return None",
    '    value = datetime.fromisoformat(text.replace("Z", "+00:00"))',
    "    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)",
]


def _body(plan: RunContextPlan) -> list[str]:
    closure = plan.closure()
    doc = (["The logical date is the logical_date parameter when given, else the start of the data",
            "interval that ends at the recurring run's scheduled time (else at its creation time)."]
           if plan.timing.semantics == "interval" else
           ["The logical date is the logical_date parameter when given, else the recurring run's",
            "scheduled time, else the run's creation time (Airflow 3's trigger timetables)."])
    computed = timing_lines(plan.timing, closure)
    strings = [f"{name} = {source}" for name, source in DATE_STRINGS.items() if name in closure]
    macros = {m for source in plan.outputs.values() for m in MACRO_MEMBERS if f"macros.{m}" in source}
    text = "\n".join(computed + strings + list(plan.outputs.values()))
    times = {"datetime", "timezone"} | ({"timedelta"} if "timedelta" in text or macros & {"ds_add"} else set())
    imports = [f"from datetime import {', '.join(sorted(times))}"]
    if "macros" in closure:
        imports += macros_imports(macros)
    if plan.needs_croniter():
        imports.append("from croniter import croniter")
    names = list(plan.outputs)
    paths = Group("", tuple((f"{string(n)}: ", Atom(n)) for n in names), "collection", "{}")
    values = Group("", tuple((f"{string(n)}: ", Atom(s)) for n, s in plan.outputs.items()), "collection", "{}")
    lines = ['"""Airflow\'s dates for this run, from one source (added by af2kfp, see docs/templating.md).',
             "", *doc, '"""', *imports, ""]
    lines += [line[4:] for line in layout(paths, 4, "paths = ", "  # the output files, by name")]  # in the body
    lines += ["", *_MOMENT, "",
              "run_time = when(schedule_time) or when(create_time) or datetime.now(timezone.utc)",
              f"given = when({OVERRIDE})", *computed, *strings]
    if "macros" in closure:
        lines += ["", *macros_source(macros)]
    lines += ["", *(line[4:] for line in layout(values, 4, "values = ")),
              "for name, path in paths.items():",
              '    with open(path, "w") as output:',
              "        output.write(str(values[name]))"]
    return ["    " + line if line else "" for line in lines]


@lru_cache(maxsize=256)
def _code(timing: Timing, outputs: tuple[tuple[str, str], ...], params: tuple[str, ...]) -> str:
    """The ``def`` (generated once per plan: the emitter and the report both ask)."""
    header = "def __AF2KFP_NAME__(" + ", ".join(params) + "):\n"
    return header + "\n".join(_body(RunContextPlan(timing=timing, outputs=dict(outputs)))) + "\n"


def run_context_task(plan: RunContextPlan, base_image: str) -> KfpTask:
    """The run context as a KFP task with its generated component (``python.code``)."""
    params = [(OVERRIDE, "str", None), ("schedule_time", "str", None), ("create_time", "str", None)]
    params += [(name, "dsl.OutputPath(str)", None) for name in plan.outputs]
    code = _code(plan.timing, tuple(plan.outputs.items()), tuple(f"{n}: {t}" for n, t, _ in params))
    python = PythonFunction(code=code, params=params, base_image=base_image,
                            packages=["croniter"] if plan.needs_croniter() else [])
    return KfpTask(task_id=RUN_CONTEXT_ID, operator="af2kfp", rule="run_context", kind="python", python=python,
                   image=base_image)


def run_context_call(component: str, variable: str, parameter: str, indent: int) -> list[str]:
    """The statement that runs the run context first in the pipeline, with its comment."""
    call = Group(component, (
        (f"{OVERRIDE}=", Atom(parameter)),
        ("schedule_time=", Atom("dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER")),
        ("create_time=", Atom("dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER")),
    ))
    chain = Chain(call, (Group(".set_display_name", (("", Atom(string(RUN_CONTEXT_DISPLAY))),)),
                         Group(".set_caching_options", (("", Atom("False")),))))
    return [" " * indent + "# Added by af2kfp: the run's Airflow dates, read by the tasks below",
            *layout(chain, indent, f"{variable} = ")]
