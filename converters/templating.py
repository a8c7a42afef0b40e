"""Airflow Jinja templates -> KFP: pipeline parameters, KFP placeholders, secrets and data edges.

Airflow renders a templated argument per task run; KFP renders nothing. A template is
split with Jinja's own lexer and each ``{{ expression }}`` parsed with Jinja's parser,
then translated by :data:`MACROS`: a typed pipeline parameter (``params.x``), an output
of the run context (``ds``, ``macros.ds_add(ds, 1)``: :mod:`af2kfp.converters.run_context`), a
run parameter the caller fills (``dag_run.conf['x']``), a KFP placeholder (``run_id``), a
literal known now (``dag.dag_id``), a Kubernetes Secret (``conn.x.password``) or another
task's output (``ti.xcom_pull``). Anything else stays verbatim with a finding. Pure: no
Airflow, no KFP import.
"""

from __future__ import annotations

import hashlib
import keyword
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Union

import jinja2
from jinja2 import nodes

from af2kfp.converters.date_expressions import python_expression
from af2kfp.converters.environment import Environment
from af2kfp.converters.findings import Severity, register_code
from af2kfp.converters.run_context import DATE_STRINGS, DATE_TIMES, DATES
from af2kfp.converters.values import Call, DateTime, Deferred, Duration, Symbolic

__all__ = [
    "ParamRef",
    "PlaceholderRef",
    "SecretRef",
    "DataRef",
    "ContextRef",
    "Part",
    "PipelineParameter",
    "TaskParam",
    "TemplateContext",
    "TemplateIssue",
    "Translation",
    "Macro",
    "MACROS",
    "macro_table",
    "RUN_CONTEXT",
    "PLACEHOLDERS",
    "UNKNOWN_MACRO",
    "STATEMENT_KEPT",
    "UNDECLARED_PARAM",
    "PARAM_UNKNOWN",
    "SECRET_IN_ARGUMENT",
    "TEMPLATE_IN_ENV",
    "has_template",
    "translate_template",
    "dag_parameters",
    "task_parameters",
    "merged_params",
    "rendered",
    "variable_parameter",
    "pipeline_expression",
    "python_name",
    "supplied_text",
    "fold_supplied",
]

UNKNOWN_MACRO = register_code(
    "M240", Severity.WARNING, "Jinja expression not translated",
    "The expression has no KFP equivalent here; it is kept verbatim. Pass its value as a pipeline parameter.",
).code
STATEMENT_KEPT = register_code(
    "M241", Severity.WARNING, "Jinja statement kept verbatim",
    "KFP does not render Jinja control flow ({% if %}, {% for %}...); the whole string is kept as written.",
).code
UNDECLARED_PARAM = register_code(
    "M242", Severity.WARNING, "Template reads a param the DAG does not declare",
    "The pipeline parameter has no default and type str; declare it in the DAG's params to type it.",
).code
PARAM_UNKNOWN = register_code(
    "M243", Severity.WARNING, "DAG param value not known statically",
    "The pipeline parameter is typed str without a default; give the param a literal default.",
).code
SECRET_IN_ARGUMENT = register_code(
    "M244", Severity.WARNING, "Connection secret inside a non-shell argument",
    "The secret is an environment variable; only a shell expands $VAR inside an argument. Read the variable instead.",
).code
TEMPLATE_IN_ENV = register_code(
    "M245", Severity.WARNING, "Run-time template in an environment variable",
    "KFP environment variables are constants; a shell-script task exports such a value from an argument, but this "
    "container runs its own entrypoint. Pass the value as an argument (a pipeline parameter) instead.",
).code


@dataclass(frozen=True)
class ParamRef:
    """A pipeline parameter, by its Python name in the pipeline function."""

    name: str


@dataclass(frozen=True)
class PlaceholderRef:
    """A KFP runtime placeholder, by its ``kfp.dsl`` constant name (``PIPELINE_JOB_ID_PLACEHOLDER``)."""

    constant: str


@dataclass(frozen=True)
class SecretRef:
    """A connection field read from a Kubernetes Secret as an environment variable; never its value."""

    conn_id: str
    field: str

    @property
    def secret_name(self) -> str:
        return "airflow-conn-" + re.sub(r"[^a-z0-9-]+", "-", self.conn_id.lower()).strip("-")

    @property
    def env(self) -> str:
        return "AF2KFP_CONN_" + re.sub(r"\W+", "_", f"{self.conn_id}_{self.field}").upper()


@dataclass(frozen=True)
class DataRef:
    """Another task's XCom read by ``ti.xcom_pull``: a data edge."""

    task_id: str
    key: str = "return_value"


@dataclass(frozen=True)
class ContextRef:
    """An output of the run context: ``name``, computed there by the Python ``python``."""

    name: str
    python: str


Part = Union[str, ParamRef, PlaceholderRef, SecretRef, DataRef, ContextRef]
_NO_DEFAULT: Any = object()


@dataclass(frozen=True, kw_only=True)
class PipelineParameter:
    """One parameter of the pipeline function.

    ``type`` is a KFP parameter annotation (``str``, ``int``, ``float``, ``bool``, ``list``,
    ``dict``); ``default`` is absent when the run must supply it. ``kind``: ``param`` (the
    DAG's params), ``run`` (per run: ``dag_run.conf['x']``, the ``logical_date`` override...),
    ``variable`` (an Airflow Variable), ``argument`` (an operator argument the fallback takes at run time).
    ``airflow`` is what an Airflow caller passes for it (``"{{ ds }}"``), ``None`` for params.
    """

    name: str
    kind: str = "param"
    type: str = "str"
    default: Any = _NO_DEFAULT
    airflow: str | None = None
    description: str = ""

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT


@dataclass(frozen=True)
class TemplateIssue:
    """A finding to attach where the template is used: ``(code, message)``."""

    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class TaskParam:
    """A param the task itself sets (``params=``, ``default_args["params"]``), as ``{{ params.x }}`` renders it.

    ``value``: the plain value, when known at conversion (it folds into the text: ``parts`` is its text);
    otherwise ``parts`` are text and references (a Variable's pipeline parameter, or one standing for a
    value not known) and ``parameters`` what they read; ``issues`` are reported where it is read.
    """

    parts: tuple[Any, ...]
    parameters: tuple[PipelineParameter, ...] = ()
    value: Any = _NO_DEFAULT
    issues: tuple[TemplateIssue, ...] = ()

    @property
    def known(self) -> bool:
        return self.value is not _NO_DEFAULT


@dataclass(frozen=True, kw_only=True)
class TemplateContext:
    """What a template may refer to: the DAG, the task, and the params Airflow merges for the task by name:
    the DAG's as pipeline parameters, the task's own over them (:func:`merged_params`)."""

    dag_id: str
    task_id: str
    params: dict[str, PipelineParameter | TaskParam] = field(default_factory=dict)
    # Variables and Connections supplied at conversion: ``{{ var.value.x }}``, ``{{ conn.x.host }}`` fold into text.
    environment: Environment = field(default_factory=Environment)


@dataclass(frozen=True, kw_only=True)
class Translation:
    """A template as literal text and references, with everything it needs from the pipeline."""

    parts: tuple[Part, ...]
    parameters_used: tuple[PipelineParameter, ...] = ()
    secrets: tuple[SecretRef, ...] = ()
    data_refs: tuple[DataRef, ...] = ()
    findings: tuple[TemplateIssue, ...] = ()

    @property
    def is_static(self) -> bool:
        """True when the value is plain text after translation (nothing resolved at run time)."""
        return all(isinstance(p, str) for p in self.parts)

    @property
    def text(self) -> str:
        """The parts joined, references shown as ``{{kind:name}}`` (for messages only)."""
        return "".join(p if isinstance(p, str) else f"{{{{{type(p).__name__}:{_ref_name(p)}}}}}" for p in self.parts)


@dataclass(frozen=True, kw_only=True)
class Macro:
    """One row of the translation table (``docs/templating.md`` is checked against it)."""

    airflow: str
    kfp: str
    kind: str
    note: str = ""
    examples: tuple[str, ...] = ()


# Values Airflow keeps per run that the pipeline cannot compute: the caller passes them.
RUN_CONTEXT = ("prev_data_interval_start_success", "prev_data_interval_end_success", "prev_start_date_success",
               "prev_end_date_success")
_AIRFLOW2_ONLY = {"execution_date", "next_ds", "next_ds_nodash", "prev_ds", "prev_ds_nodash", "yesterday_ds",
                  "yesterday_ds_nodash", "tomorrow_ds", "tomorrow_ds_nodash", "next_execution_date",
                  "prev_execution_date"}
PLACEHOLDERS = {"run_id": "PIPELINE_JOB_ID_PLACEHOLDER"}
_DAG_RUN_ATTRS = {"run_id": "PIPELINE_JOB_ID_PLACEHOLDER"}
_TASK_NAMES = ("task", "ti", "task_instance")
_MACRO_FUNCTIONS = ("ds_add", "ds_format", "ds_format_locale", "datetime_diff_for_humans", "datetime",
                    "timedelta", "dateutil", "time", "uuid", "random")

MACROS: tuple[Macro, ...] = (
    Macro(airflow="{{ params.x }}, {{ params['x'] }}", kfp="pipeline parameter `x`", kind="param",
          note="typed from the DAG's `params` (`Param(default, type=...)`), default kept",
          examples=("{{ params.x }}", "{{ params['x'] }}")),
    *(Macro(airflow=f"{{{{ {name} }}}}", kfp=f"run context output `{name}`", kind="date",
            note=("the run's date as Airflow renders it" if name in DATE_STRINGS else
                  "the datetime as Airflow renders it (`2024-03-05 00:00:00+00:00`)") + (
                "; Airflow 2 only (Airflow 3 fails to render it)" if name in _AIRFLOW2_ONLY else ""),
            examples=(f"{{{{ {name} }}}}",))
      for name in (*DATE_STRINGS, *DATE_TIMES)),
    Macro(airflow="{{ dag_run.logical_date }}, {{ dag_run.data_interval_start }}, ...",
          kfp="run context output named after the attribute", kind="date",
          examples=("{{ dag_run.logical_date }}", "{{ dag_run.data_interval_start }}")),
    Macro(airflow="{{ macros.ds_add(ds, 7) }}, {{ macros.ds_format(ds, ...) }}, {{ ds | filter }}",
          kfp="run context output named after the expression (`ds_add_ds_7`)", kind="date",
          note="any expression over the dates, constants, `macros.ds_add`/`ds_format`/`datetime`/`timedelta`, "
               "Jinja's and Airflow's filters (`replace`, `upper`, `ds`, `ts`...) and operators, computed by the run "
               "context; pendulum-only methods (`.add()`, `.at()`...) are not (M240)",
          examples=("{{ macros.ds_add(ds, 7) }}", "{{ macros.ds_format(ds, '%Y-%m-%d', '%Y%m') }}",
                    "{{ ds | replace('-', '') }}", "{{ (logical_date - macros.timedelta(days=1)).strftime('%Y%m') }}")),
    *(Macro(airflow=f"{{{{ {name} }}}}", kfp=f"pipeline parameter `{name}` (str, required)", kind="run",
            note=f'needs the previous runs\' history; the caller passes `"{name}": "{{{{ {name} }}}}"`',
            examples=(f"{{{{ {name} }}}}",))
      for name in RUN_CONTEXT),
    Macro(airflow="{{ dag_run.conf['x'] }}, {{ dag_run.conf.get('x') }}", kfp="pipeline parameter `x`",
          kind="run", note="run configuration becomes a run parameter",
          examples=("{{ dag_run.conf['x'] }}", "{{ dag_run.conf.get('x') }}")),
    Macro(airflow="{{ run_id }}, {{ dag_run.run_id }}", kfp="`dsl.PIPELINE_JOB_ID_PLACEHOLDER`",
          kind="placeholder", note="unique per run, as Airflow's run id; the text differs",
          examples=("{{ run_id }}", "{{ dag_run.run_id }}")),
    Macro(airflow="{{ dag.dag_id }}, {{ dag_run.dag_id }}, {{ ti.dag_id }}", kfp="the DAG id as literal text",
          kind="literal", examples=("{{ dag.dag_id }}", "{{ dag_run.dag_id }}", "{{ ti.dag_id }}")),
    Macro(airflow="{{ task.task_id }}, {{ ti.task_id }}, {{ task_instance.task_id }}",
          kfp="the task id as literal text", kind="literal",
          note="known at conversion; `dsl.PIPELINE_TASK_NAME_PLACEHOLDER` would give KFP's component name",
          examples=("{{ task.task_id }}", "{{ ti.task_id }}", "{{ task_instance.task_id }}")),
    Macro(airflow="{{ var.value.x }}, {{ var.value.get('x', 'd') }}", kfp="pipeline parameter `x` (str)",
          kind="variable", note="default from `.get`'s second argument",
          examples=("{{ var.value.x }}", "{{ var.value.get('x', 'd') }}")),
    Macro(airflow="{{ var.json.x }}, {{ var.json.x.key }}", kfp="pipeline parameter `x` / `x_key` (str)",
          kind="variable", note="the caller passes the JSON text (or the key's value)",
          examples=("{{ var.json.x }}", "{{ var.json.x.key }}")),
    Macro(airflow='Variable.get("x") (argument value)', kfp="pipeline parameter `x` (str)", kind="variable",
          note='read as `{{ var.value.x }}`; `default_var` becomes the default'),
    Macro(airflow="{{ conn.x.password }} (any field)", kfp="env var `AF2KFP_CONN_X_PASSWORD` from Secret "
          "`airflow-conn-x`, key `password`", kind="secret",
          note="`${AF2KFP_CONN_X_PASSWORD}` in shell scripts, `$(...)` in other arguments; never the value",
          examples=("{{ conn.x.password }}", "{{ conn.x.host }}")),
    Macro(airflow="{{ ti.xcom_pull(task_ids='t') }}, key='k'", kfp="the output of task `t` (a data edge)",
          kind="data", note="`return_value` only; other keys are a finding",
          examples=("{{ ti.xcom_pull(task_ids='t') }}", "{{ task_instance.xcom_pull('t') }}")),
    Macro(airflow="{# comment #}", kfp="removed", kind="literal", examples=("{# comment #}",)),
    Macro(airflow="{% if %}, {% for %}, other statements", kfp="string kept verbatim (M241)", kind="finding",
          examples=("{% if params.x %}a{% endif %}",)),
    Macro(airflow="anything else", kfp="kept verbatim (M240)", kind="finding",
          examples=("{{ ti.try_number }}", "{{ params.x + 1 }}")),
)


def macro_table() -> str:
    """The Markdown table of :data:`MACROS` that ``docs/templating.md`` holds."""
    rows = ["| Airflow | KFP | Kind | Note |", "| --- | --- | --- | --- |"]
    for macro in MACROS:
        cells = [f"`{macro.airflow}`" if "`" not in macro.airflow else macro.airflow, macro.kfp, macro.kind,
                 macro.note]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


_ENV = jinja2.Environment()


def has_template(text: str) -> bool:
    """Cheap test before parsing: could ``text`` hold any Jinja at all?"""
    return "{{" in text or "{%" in text or "{#" in text


def python_name(name: str) -> str:
    """A valid, non-keyword Python identifier for a parameter named ``name`` (ASCII: Python would
    NFKC-normalise other letters, or refuse them, like ``⅖``)."""
    slug = re.sub(r"\W+", "_", name, flags=re.ASCII).strip("_") or "param"
    if slug[0].isdigit():
        slug = "p_" + slug
    return slug + "_" if keyword.iskeyword(slug) or slug in ("dsl", "compiler", "kubernetes", "Path") else slug


def _ref_name(part: Any) -> str:
    return getattr(part, "name", None) or getattr(part, "constant", None) or getattr(part, "task_id", None) or (
        f"{part.conn_id}.{part.field}")


def _slug_expression(source: str) -> str:
    """A readable parameter name for an expression; a hash keeps apart what the slug would merge."""
    slug = python_name(re.sub(r"(?i)\bmacros\.", "", source).lower())
    if re.search(r"[^\w\s.,()]", source):
        slug += "_" + hashlib.sha1(source.encode()).hexdigest()[:6]
    return slug


def _run_parameter(name: str, source: str) -> PipelineParameter:
    return PipelineParameter(name=python_name(name), kind="run", airflow=f"{{{{ {source} }}}}",
                             description=f"Airflow renders {{{{ {source} }}}}")


def variable_parameter(name: str, default: Any = _NO_DEFAULT, source: str | None = None) -> PipelineParameter:
    """The pipeline parameter for an Airflow Variable ``name`` (``{{ var.value.name }}``, ``Variable.get``)."""
    return PipelineParameter(name=python_name(name), kind="variable", default=default,
                             airflow=f"{{{{ {source or 'var.value.' + name} }}}}",
                             description=f"Airflow Variable {name}")


def supplied_text(environment: Environment, chain: list[str]) -> str | None:
    """What Airflow renders for ``var.value.x``, ``var.json.x.k`` or ``conn.x.host`` when it was supplied at
    conversion (``--variables``, ``--connections``); ``None`` when it was not. Never a password."""
    head, rest = chain[0], chain[1:]
    if head == "var" and len(rest) >= 2 and rest[0] == "value" and len(rest) == 2:
        return environment.variable(rest[1])
    if head == "var" and len(rest) >= 2 and rest[0] == "json" and environment.has_json(rest[1]):
        value: Any = environment.json_variable(rest[1])
        for key in rest[2:]:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return value if isinstance(value, str) else str(value)
    connection = environment.connections.get(rest[0]) if head == "conn" and len(rest) >= 2 else None
    if connection is not None:
        value = connection.value_of(rest[1])
        for key in rest[2:]:
            value = value.get(key) if isinstance(value, dict) else None
        return None if value is None or isinstance(value, dict) else str(value)
    return None


def _chain(node: nodes.Node) -> list[str] | None:
    """``a.b['c'].d`` as ``["a", "b", "c", "d"]``; ``None`` for anything but names and constant keys."""
    if isinstance(node, nodes.Name):
        return [node.name]
    if isinstance(node, nodes.Getattr):
        head = _chain(node.node)
        return None if head is None else head + [node.attr]
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        head = _chain(node.node)
        return None if head is None else head + [node.arg.value]
    return None


def _const_args(call: nodes.Call) -> tuple[list[Any], dict[str, Any]] | None:
    if call.dyn_args is not None or call.dyn_kwargs is not None:
        return None
    if not all(isinstance(a, nodes.Const) for a in call.args) or not all(
            isinstance(k.value, nodes.Const) for k in call.kwargs):
        return None
    return [a.value for a in call.args], {k.key: k.value.value for k in call.kwargs}


def _is_run_expression(node: nodes.Node) -> bool:
    """Only names Airflow renders per run that the pipeline cannot compute, ``macros.*``, constants, filters."""
    names = {n.name for n in node.find_all(nodes.Name)} | ({node.name} if isinstance(node, nodes.Name) else set())
    if not names or not names <= set(RUN_CONTEXT) | {"macros"} or not names & set(RUN_CONTEXT):
        return False
    for attr in [node, *node.find_all(nodes.Getattr)]:
        if isinstance(attr, nodes.Getattr) and isinstance(attr.node, nodes.Name) and attr.node.name == "macros" and (
                attr.attr not in _MACRO_FUNCTIONS):
            return False
    return True


class _Translator:
    """Translates the expressions of one template; collects what they need."""

    def __init__(self, ctx: TemplateContext) -> None:
        self.ctx = ctx
        self.parameters: dict[str, PipelineParameter] = {}
        self.secrets: list[SecretRef] = []
        self.data: list[DataRef] = []
        self.issues: list[TemplateIssue] = []

    def _param(self, parameter: PipelineParameter) -> ParamRef:
        self.parameters.setdefault(parameter.name, parameter)
        return ParamRef(parameter.name)

    def expression(self, node: nodes.Node, source: str) -> Part | tuple[Part, ...] | None:
        """The part(s) for one ``{{ }}`` expression, or ``None`` when it has no translation."""
        chain = _chain(node)
        if chain:
            part = self._chain_part(chain, source)
            if part is not None:
                return part
        if isinstance(node, nodes.Call):
            part = self._call_part(node, source)
            if part is not None:
                return part
        python = python_expression(node)
        if python is not None and python not in DATES:  # a date alone is its chain, above
            return ContextRef(_slug_expression(source), python)
        if _is_run_expression(node):
            return self._param(_run_parameter(_slug_expression(source), source))
        return None

    def _chain_part(self, chain: list[str], source: str) -> Part | tuple[Part, ...] | None:
        head, rest = chain[0], chain[1:]
        if head in DATES and not rest:
            return ContextRef(head, head)
        if head == "dag_run" and len(rest) == 1 and rest[0] in DATES:
            return ContextRef(rest[0], rest[0])
        if head in RUN_CONTEXT and not rest:
            return self._param(_run_parameter(head, head))
        if head in PLACEHOLDERS and not rest:
            return PlaceholderRef(PLACEHOLDERS[head])
        if head == "params" and rest and isinstance(self.ctx.params.get(rest[0]), TaskParam):
            return self._task_param(self.ctx.params[rest[0]], rest[1:])  # type: ignore[arg-type]
        if head == "params" and len(rest) == 1:
            declared = self.ctx.params.get(rest[0])
            if declared is None:
                self.issues.append(TemplateIssue(UNDECLARED_PARAM, f"{{{{ {source} }}}}: neither the DAG nor the task "
                                                                   f"declares param {rest[0]!r}; a str pipeline "
                                                                   "parameter is used"))
                declared = PipelineParameter(name=python_name(rest[0]), description=f"DAG param {rest[0]}")
            return self._param(declared)
        if head in ("dag", "dag_run") and rest == ["dag_id"] or head in _TASK_NAMES and rest == ["dag_id"]:
            return self.ctx.dag_id
        if head in _TASK_NAMES and rest == ["task_id"]:
            return self.ctx.task_id
        if head == "dag_run" and len(rest) == 1 and rest[0] in _DAG_RUN_ATTRS:
            return PlaceholderRef(_DAG_RUN_ATTRS[rest[0]])
        if head == "dag_run" and len(rest) == 1 and rest[0] in RUN_CONTEXT:
            return self._param(_run_parameter(rest[0], source))
        if head == "dag_run" and len(rest) == 2 and rest[0] == "conf":
            return self._param(_run_parameter(rest[1], source))
        if head in ("var", "conn") and len(rest) >= 2:
            known = supplied_text(self.ctx.environment, chain)
            if known is not None:
                return known
        if head == "var" and len(rest) >= 2 and rest[0] in ("value", "json"):
            return self._param(variable_parameter("_".join(rest[1:]), source=source))
        if head == "conn" and len(rest) >= 2:
            secret = SecretRef(rest[0], "_".join(rest[1:]))
            if secret not in self.secrets:
                self.secrets.append(secret)
            return secret
        return None

    def _task_param(self, param: TaskParam, keys: list[str]) -> Part | tuple[Part, ...] | None:
        """A task's own param: its text, or the text of one of its keys (``params.x.key`` of a dict)."""
        if not keys:
            for parameter in param.parameters:
                self._param(parameter)
            self.issues += param.issues
            return param.parts
        value = param.value
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return rendered(value)

    def _call_part(self, node: nodes.Call, source: str) -> Part | None:
        func = _chain(node.node)
        consts = _const_args(node)
        if not func or consts is None:
            return None
        args, kwargs = consts
        if func[0] in _TASK_NAMES and func[1:] == ["xcom_pull"]:
            task_ids = kwargs.get("task_ids", args[0] if args else None)
            key = kwargs.get("key", "return_value")
            if isinstance(task_ids, str) and isinstance(key, str):
                ref = DataRef(task_ids, key)
                if ref not in self.data:
                    self.data.append(ref)
                return ref
            return None
        if func[:2] == ["var", "value"] and func[2:] == ["get"] and args and isinstance(args[0], str):
            known = supplied_text(self.ctx.environment, ["var", "value", args[0]])
            if known is not None:
                return known
            default = args[1] if len(args) > 1 else kwargs.get("default_var", _NO_DEFAULT)
            return self._param(variable_parameter(args[0], default if default is _NO_DEFAULT else str(default),
                                                  source=source))
        if func == ["dag_run", "conf", "get"] and args and isinstance(args[0], str):
            return self._param(_run_parameter(args[0], source))
        return None


def _segments(text: str) -> list[tuple[str, str]]:
    """``(kind, source)`` pieces: ``data``, ``variable``, ``block``, ``comment``, ``raw``; joined they are ``text``."""
    pieces: list[tuple[str, str]] = []
    kind, buffer = "", []
    closers = {"variable_end": "variable", "block_end": "block", "comment_end": "comment"}
    for _, token, value in _ENV.lex(text):
        if token in ("variable_begin", "block_begin", "comment_begin", "raw_begin"):
            if buffer:
                pieces.append((kind or "data", "".join(buffer)))
            kind, buffer = {"variable_begin": "variable", "block_begin": "block", "comment_begin": "comment",
                            "raw_begin": "raw"}[token], [value]
            continue
        buffer.append(value)
        if token in closers or token == "raw_end":
            pieces.append((kind, "".join(buffer)))
            kind, buffer = "", []
    if buffer:
        pieces.append((kind or "data", "".join(buffer)))
    return pieces


def fold_supplied(text: str, environment: Environment) -> str:
    """``text`` with each ``{{ var.value.x }}``, ``{{ var.json.x.k }}``, ``{{ conn.x.host }}``... whose value was
    supplied at conversion replaced by that value; every other part as written (still a template)."""
    if not has_template(text) or not (environment.variables or environment.json_only or environment.connections):
        return text
    try:
        segments = _segments(text)
    except jinja2.TemplateSyntaxError:
        return text
    out = []
    for kind, source in segments:
        known = None
        if kind == "variable":
            try:
                body = _ENV.parse(source).body
            except jinja2.TemplateSyntaxError:
                body = []
            expr = body[0].nodes[0] if body and isinstance(body[0], nodes.Output) and len(body[0].nodes) == 1 else None
            chain = _chain(expr) if expr is not None else None
            if chain and chain[0] in ("var", "conn"):
                known = supplied_text(environment, chain)
            elif isinstance(expr, nodes.Call) and _chain(expr.node) == ["var", "value", "get"]:
                consts = _const_args(expr)
                if consts and consts[0] and isinstance(consts[0][0], str):
                    known = supplied_text(environment, ["var", "value", consts[0][0]])
        out.append(source if known is None else known)
    return "".join(out)


def translate_template(text: str, ctx: TemplateContext) -> Translation:
    """Translate one Airflow template string; text without Jinja comes back as one literal part."""
    if not has_template(text):
        return Translation(parts=(text,))
    try:
        segments = _segments(text)
        _ENV.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        return Translation(parts=(text,), findings=(
            TemplateIssue(UNKNOWN_MACRO, f"not a valid Jinja template ({exc.message}); kept verbatim"),))
    if any(kind in ("block", "raw") for kind, _ in segments):
        return Translation(parts=(text,), findings=(
            TemplateIssue(STATEMENT_KEPT, "Jinja statements ({% ... %}) cannot be translated; the string is kept as "
                                          "written"),))
    translator = _Translator(ctx)
    parts: list[Part] = []
    for kind, source in segments:
        if kind == "comment":
            continue
        if kind == "data":
            parts.append(source)
            continue
        inner = source[2:-2].strip("-+ \t\n")
        body = _ENV.parse(source).body
        expr = body[0].nodes[0] if body and isinstance(body[0], nodes.Output) and len(body[0].nodes) == 1 else None
        part = translator.expression(expr, inner) if expr is not None else None
        if part is None:
            translator.issues.append(TemplateIssue(UNKNOWN_MACRO, f"{{{{ {inner} }}}} has no KFP translation; kept "
                                                                  "verbatim"))
            part = source
        parts.extend(part if isinstance(part, tuple) else (part,))
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return Translation(parts=tuple(merged) or ("",), parameters_used=tuple(translator.parameters.values()),
                       secrets=tuple(translator.secrets), data_refs=tuple(translator.data),
                       findings=tuple(translator.issues))


_TYPES = {"integer": "int", "number": "float", "string": "str", "boolean": "bool", "array": "list",
          "object": "dict"}


def _python_type(value: Any) -> str:
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (list, "list"), (dict, "dict")):
        if isinstance(value, kind):
            return name
    return "str"


def _plain(value: Any) -> Any:
    """A param default as plain JSON data (dates as ISO text, durations in seconds), or ``None`` if unknown."""
    if isinstance(value, DateTime):
        return value.iso
    if isinstance(value, Duration):
        return value.seconds
    if isinstance(value, list):
        items = [_plain(v) for v in value]
        return None if any(i is None and v is not None for i, v in zip(items, value)) else items
    if isinstance(value, dict):
        out = {str(k): _plain(v) for k, v in value.items()}
        return None if any(out[str(k)] is None and v is not None for k, v in value.items()) else out
    if isinstance(value, (Symbolic, Call)):
        return None
    return value


def _from_param_call(name: str, call: Call) -> tuple[PipelineParameter, list[TemplateIssue]]:
    raw = call.args[0] if call.args else call.kwargs.get("default", _NO_DEFAULT)
    declared = call.kwargs.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    kind = _TYPES.get(declared) if isinstance(declared, str) else None
    issues: list[TemplateIssue] = []
    default: Any = _NO_DEFAULT
    if raw is not _NO_DEFAULT:
        default = _plain(raw)
        if default is None and raw is not None:
            issues.append(TemplateIssue(PARAM_UNKNOWN, f"param {name!r}: default is not known statically"))
            default = _NO_DEFAULT
    kind = kind or (_python_type(default) if default not in (_NO_DEFAULT, None) else "str")
    if kind == "float" and isinstance(default, int) and not isinstance(default, bool):
        default = float(default)
    notes = [str(call.kwargs["description"])] if isinstance(call.kwargs.get("description"), str) else []
    if isinstance(call.kwargs.get("enum"), list):
        notes.append("one of " + ", ".join(map(str, call.kwargs["enum"])))
    return PipelineParameter(name=python_name(name), type=kind, default=default, description="; ".join(notes)), issues


def dag_parameters(params: Any) -> tuple[dict[str, PipelineParameter], list[TemplateIssue]]:
    """The DAG's ``params`` as typed pipeline parameters, by Airflow name, with defaults."""
    if not isinstance(params, dict):
        if params not in (None, {}):
            return {}, [TemplateIssue(PARAM_UNKNOWN, "the DAG's params are not a literal dict; none are converted")]
        return {}, []
    out: dict[str, PipelineParameter] = {}
    issues: list[TemplateIssue] = []
    for name, value in params.items():
        if isinstance(value, Call) and value.func.rsplit(".", 1)[-1] == "Param":
            out[name], found = _from_param_call(name, value)
            issues += found
            continue
        default = _plain(value)
        if default is None and value is not None:
            issues.append(TemplateIssue(PARAM_UNKNOWN, f"param {name!r}: value is not known statically"))
            out[name] = PipelineParameter(name=python_name(name))
            continue
        kind = _python_type(default) if default is not None else "str"
        out[name] = PipelineParameter(name=python_name(name), type=kind, default=default)
    return out, issues


def rendered(value: Any) -> str:
    """The text Jinja renders for a plain value (``str()``: ``True``, ``None``, ``{'a': 1}``)."""
    return str(value)


def _standing_for(parameter: PipelineParameter, issues: list[TemplateIssue]) -> TaskParam:
    return TaskParam(parts=(ParamRef(parameter.name),), parameters=(parameter,), issues=tuple(issues))


def _task_param(name: str, value: Any, base: TemplateContext) -> TaskParam:
    """One param the task sets: its value folded when known; a Variable read as its template renders it; a
    ``Param(...)`` by its default (a required one, or a value not known, is a pipeline parameter)."""
    where = f"param {name!r} of task {base.task_id!r}"
    if isinstance(value, Call) and value.func.rsplit(".", 1)[-1] == "Param":
        parameter, issues = _from_param_call(name, value)
        raw = value.args[0] if value.args else value.kwargs.get("default", _NO_DEFAULT)
        plain = _plain(raw) if raw is not _NO_DEFAULT else None
        if raw is not _NO_DEFAULT and (plain is not None or raw is None):
            return TaskParam(parts=(rendered(plain),), value=plain)
        described = replace(parameter, description=where + (f"; {parameter.description}" if parameter.description
                                                            else ""))
        return _standing_for(described, issues)
    if isinstance(value, Deferred) and value.template is not None:
        translation = translate_template(value.template, base)
        if all(isinstance(part, (str, ParamRef)) for part in translation.parts) and not translation.findings:
            if translation.is_static:
                text = "".join(translation.parts)  # type: ignore[arg-type]
                return TaskParam(parts=(text,), value=text)
            return TaskParam(parts=translation.parts, parameters=translation.parameters_used)
    plain = _plain(value)
    if plain is not None or value is None:
        return TaskParam(parts=(rendered(plain),), value=plain)
    return _standing_for(PipelineParameter(name=python_name(name), description=where), [TemplateIssue(
        PARAM_UNKNOWN, f"{where}: value is not known statically; a str pipeline parameter stands for it")])


def task_parameters(params: Any, base: TemplateContext) -> dict[str, TaskParam]:
    """The params a task sets itself (``params=`` and ``default_args["params"]``, merged by the analyzer), by
    Airflow name; ``base`` names the DAG and task and carries what was supplied at conversion. What is not
    known is reported where it is read (:attr:`TaskParam.issues`, or M242 for params that are no dict)."""
    if not isinstance(params, dict):
        return {}
    return {str(name): _task_param(str(name), value, base) for name, value in params.items()}


def merged_params(dag_params: dict[str, PipelineParameter], task_params: Any,
                  base: TemplateContext) -> dict[str, PipelineParameter | TaskParam]:
    """The params a task's templates see, as Airflow merges them when it renders the task: the DAG's, the
    task's own over them (``process_params``)."""
    return {**dag_params, **task_parameters(task_params, base)}


def pipeline_expression(parts: tuple[Any, ...], output_of: Callable[[Any], str],
                        str_parameters: frozenset[str] = frozenset()) -> str:
    """Python source, inside the pipeline function, for the string made of ``parts``.

    A placeholder or a ``str`` parameter (named in ``str_parameters``) alone is passed as it
    is; anything else becomes an f-string, which kfp compiles into one runtime string (a
    rendered Airflow template is a string too). ``output_of`` gives the source of a task
    output part (a :class:`DataRef` or the mapping's ``Input``).
    """

    def ref(part: Any) -> str:
        if isinstance(part, ParamRef):
            return part.name
        if isinstance(part, PlaceholderRef):
            return f"dsl.{part.constant}"
        return output_of(part)

    if len(parts) == 1 and (isinstance(parts[0], PlaceholderRef) or isinstance(parts[0], ParamRef) and (
            parts[0].name in str_parameters)):
        return ref(parts[0])
    body = "".join(p.replace("{", "{{").replace("}", "}}") if isinstance(p, str) else "{" + ref(p) + "}"
                   for p in parts)
    quoted = repr(body)
    if quoted.startswith("'") and '"' not in body:
        quoted = '"' + quoted[1:-1].replace("\\'", "'") + '"'
    return "f" + quoted
