"""Render a mapped DAG as an idiomatic KFP v2 ``pipeline.py``, laid out as black would.

The module holds only literals and generated signatures: every user value passes
through :func:`~af2kfp.converters.emit.layout.value`, user Python appears only as the body
of a ``@dsl.component`` function (never executed when the module is imported), kept as
the user wrote it. Generated statements are split by :mod:`af2kfp.converters.emit.layout`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Callable

from af2kfp.converters.emit.blocks import ChainItem, Item, LoopItem, SubPipelineItem, TaskItem, body_items, members
from af2kfp.converters.emit.layout import LINE_LENGTH, Atom, Chain, Group, Node, layout, split, value, width
from af2kfp.converters.emit.literals import comment_text, docstring
from af2kfp.converters.emit.names import Names, assign_names, kebab, snake, unique
from af2kfp.converters.emit.run_context import run_context_call, run_context_task
from af2kfp.converters.graph import dag_info
from af2kfp.converters.mappings.model import LOOP_PREFIX, Arm, FileText, Input, KfpTask, Loop, MappedDag, Template
from af2kfp.converters.mappings.pytypes import kfp_type
from af2kfp.converters.run_context import RUN_CONTEXT_ID
from af2kfp.converters.templating import ParamRef, pipeline_expression

__all__ = ["EmittedPipeline", "render_pipeline", "operator_label"]


@dataclass(frozen=True)
class EmittedPipeline:
    """The formatted module, the names it uses, and the pipeline function to compile."""

    code: str
    names: Names
    pipeline_name: str
    # Files the module reads when imported (``af2kfp.converters.runtime``): they go beside pipeline.py.
    files: tuple[str, ...] = ()


def operator_label(operator: str) -> str:
    """``DockerOperator`` for classes, ``@task.docker`` for TaskFlow decorators."""
    for prefix in ("airflow.sdk.", "airflow.decorators."):
        if operator.startswith(prefix + "task"):
            return "@" + operator[len(prefix):]
    return operator.rsplit(".", 1)[-1]


def _input_type(mapped: MappedDag, task_id: str, key: str = "return_value") -> str:
    """The KFP type of one output of a task (container outputs are strings)."""
    for kfp in mapped.tasks:
        if kfp.task_id == task_id and kfp.python is not None:
            carrier = kfp.python.xcoms().get(key)
            return kfp_type(carrier) if carrier else "str"
    return "str"


def _output_name(mapped: MappedDag, item: Input) -> str | None:
    """The output an input reads: ``None`` for a component's single output, else its name."""
    for kfp in mapped.tasks:
        if kfp.task_id == item.task_id and kfp.python is not None and kfp.python.outputs:
            return kfp.python.outputs[item.key][0]
    return None


def _call(head: str, *positional: Node, **keywords: Any) -> Group:
    """``head(positional..., key=value...)``; keyword values that are not nodes are plain data."""
    items = [("", node) for node in positional]
    items += [(f"{key}=", v if isinstance(v, (Atom, Group, Chain)) else value(v)) for key, v in keywords.items()]
    return Group(head, tuple(items))


def _statement(node: Node, indent: int = 0, prefix: str = "") -> str:
    return "\n".join(layout(node, indent, prefix)) + "\n"


def _signature(name: str, params: list[tuple[str, Node | None]]) -> Group:
    """``def name(p: type = default, ...)``: ``params`` are ``(name: type, default)``."""
    items = tuple((f"{p} = ", d) if d is not None else ("", Atom(p)) for p, d in params)
    return Group(f"def {name}", items, "def")


def _container(kfp: KfpTask, name: str, mapped: MappedDag) -> str:
    # One input per name: the same run context output may stand in two arguments.
    inputs = list({item.name: item for item in kfp.command + kfp.args if isinstance(item, (Input, Template))}.values())
    optional = value("") if kfp.ignore_upstream_failure else None  # KFP wants a default for such inputs
    params: list[tuple[str, Node | None]] = [
        (f"{i.name}: {_input_type(mapped, i.task_id, i.key) if isinstance(i, Input) else 'str'}",
         optional if isinstance(i, Input) else None) for i in inputs]
    if kfp.output:
        params.append((f"{kfp.output}: dsl.OutputPath(str)", None))
    params.sort(key=lambda p: p[1] is not None)  # inputs given a default go last, as Python wants

    def items(values: list[Any], extra: str | None = None) -> Group:
        nodes = [Atom(v.name) if isinstance(v, (Input, Template, FileText)) else value(v) for v in values] + (
            [Atom(extra)] if extra else [])
        return Group("", tuple(("", n) for n in nodes), "collection", "[]")

    fields: dict[str, Node] = {"image": value(kfp.image)}
    if kfp.command:
        fields["command"] = items(kfp.command)
    if kfp.args or kfp.output:
        fields["args"] = items(kfp.args, kfp.output)
    return "@dsl.container_component\n" + "\n".join(
        layout(_signature(name, params), 0, "", ":") + layout(_call("dsl.ContainerSpec", **fields), 4, "return ")
    ) + "\n"


def _default(source: str) -> Node:
    """A parameter default (``repr`` text from the mapping) re-quoted as black would, same value."""
    try:
        parsed = ast.literal_eval(source)
        node = value(parsed)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return Atom(source)
    return node if ast.literal_eval(node.flat()) == parsed else Atom(source)


def _python(kfp: KfpTask, name: str) -> str:
    assert kfp.python is not None
    fn = kfp.python
    options: dict[str, Any] = {"base_image": fn.base_image}
    if fn.packages:
        options["packages_to_install"] = fn.packages
    _, body = fn.code.split("\n", 1)  # the generated one-line ``def``, then the user's body
    params = [(f"{p}: {kfp_type(carrier)}", None if default is None else _default(default))
              for p, carrier, default in fn.params]
    header = layout(_call("@dsl.component", **options)) + _def_lines(name, params, fn)
    return "\n".join(header) + "\n" + body


def _def_lines(name: str, params: list[tuple[str, Node | None]], fn: Any) -> list[str]:
    """The ``def`` line(s). A ``NamedTuple`` return is written exploded with magic trailing commas,
    which black keeps as is whatever its length; the parameters split as black splits them."""
    if not fn.outputs:
        return layout(_signature(name, params), 0, "", f" -> {fn.returns}:" if fn.returns else ":")
    fields = [f"        ({value(output).flat()}, {kfp_type(carrier)})," for output, carrier in fn.outputs.values()]
    if fn.skip_output is not None:  # whether the task ran (AirflowSkipException): the conditions test it
        fields.append(f"        ({value(fn.skip_output).flat()}, bool),")
    returns = ["    \"Outputs\",", "    [", *fields, "    ],", "):"]
    signature = _signature(name, params)
    head = f"{signature.flat()} -> NamedTuple("
    if width(head) <= LINE_LENGTH:
        return [head, *returns]
    return split(signature)[:-1] + [") -> NamedTuple(", *returns]


def _call_arguments(kfp: KfpTask, output: Callable[[Input], str], text: frozenset[str]) -> dict[str, Node]:
    """Call arguments: literals, other tasks' outputs, and templates built from pipeline parameters."""
    values = dict(kfp.arguments)
    values.update({i.name: i for i in kfp.command + kfp.args if isinstance(i, (Input, Template))})
    return {key: Atom(output(v)) if isinstance(v, Input) else Atom(pipeline_expression(v.parts, output, text))
            if isinstance(v, Template) else Atom(v.name) if isinstance(v, ParamRef) else value(v)
            for key, v in values.items()}


def _settings(kfp: KfpTask, var: str) -> list[Group]:
    """Every setter call for one task, in a fixed order."""
    task = Atom(var)
    calls = []
    for name, v in kfp.env.items():
        calls.append(_call(f"{var}.set_env_variable", name=name, value=v))
    for attr, method in (("cpu_request", "set_cpu_request"), ("cpu_limit", "set_cpu_limit"),
                         ("memory_request", "set_memory_request"), ("memory_limit", "set_memory_limit"),
                         ("accelerator_type", "set_accelerator_type"), ("accelerator_limit", "set_accelerator_limit")):
        if getattr(kfp, attr) is not None:
            calls.append(_call(f"{var}.{method}", value(getattr(kfp, attr))))
    if kfp.retry is not None:
        r = kfp.retry
        opts = {k: v for k, v in (("backoff_duration", r.backoff_duration), ("backoff_factor", r.backoff_factor),
                                  ("backoff_max_duration", r.backoff_max_duration)) if v is not None}
        calls.append(_call(f"{var}.set_retry", num_retries=r.num_retries, **opts))
    k = "kubernetes"
    for s in kfp.secret_env:
        optional = {"optional": True} if s.optional else {}
        calls.append(_call(f"{k}.use_secret_as_env", task, secret_name=s.secret_name, secret_key_to_env=s.key_to_env,
                           **optional))
    for c in kfp.config_map_env:
        optional = {"optional": True} if c.optional else {}
        calls.append(_call(f"{k}.use_config_map_as_env", task, config_map_name=c.config_map_name,
                           config_map_key_to_env=c.key_to_env, **optional))
    for name, path in kfp.field_env.items():
        calls.append(_call(f"{k}.use_field_path_as_env", task, env_name=name, field_path=path))
    for s in kfp.secret_volumes:
        calls.append(_call(f"{k}.use_secret_as_volume", task, secret_name=s.secret_name, mount_path=s.mount_path))
    for v in kfp.volumes:
        if v.kind == "pvc":
            sub = {"sub_path": v.sub_path} if v.sub_path else {}
            calls.append(_call(f"{k}.mount_pvc", task, pvc_name=v.name, mount_path=v.mount_path, **sub))
        elif v.kind == "config_map":
            calls.append(_call(f"{k}.use_config_map_as_volume", task, config_map_name=v.name, mount_path=v.mount_path))
        else:
            extra = {a: getattr(v, a) for a in ("medium", "size_limit") if getattr(v, a)}
            calls.append(_call(f"{k}.empty_dir_mount", task, volume_name=v.name, mount_path=v.mount_path, **extra))
    for key, v in kfp.node_selector.items():
        calls.append(_call(f"{k}.add_node_selector", task, label_key=key, label_value=v))
    for t in kfp.tolerations:
        opts = {a: getattr(t, a) for a in ("key", "operator", "value", "effect", "toleration_seconds")
                if getattr(t, a) is not None}
        calls.append(_call(f"{k}.add_toleration", task, **opts))
    for a in kfp.node_affinity:
        opts = {f: getattr(a, f) for f in ("match_expressions", "match_fields") if getattr(a, f)}
        if a.weight is not None:
            opts["weight"] = a.weight
        calls.append(_call(f"{k}.add_node_affinity", task, **opts))
    for key, v in kfp.labels.items():
        calls.append(_call(f"{k}.add_pod_label", task, label_key=key, label_value=v))
    for key, v in kfp.annotations.items():
        calls.append(_call(f"{k}.add_pod_annotation", task, annotation_key=key, annotation_value=v))
    if kfp.image_pull_secrets:
        calls.append(_call(f"{k}.set_image_pull_secrets", task, secret_names=kfp.image_pull_secrets))
    if kfp.image_pull_policy:
        calls.append(_call(f"{k}.set_image_pull_policy", task, policy=kfp.image_pull_policy))
    if kfp.security:
        calls.append(_call(f"{k}.set_security_context", task, **kfp.security))
    if kfp.timeout_seconds:
        calls.append(_call(f"{k}.set_timeout", task, seconds=int(kfp.timeout_seconds)))
    return calls


def _file_texts(mapped: MappedDag) -> list[FileText]:
    """The files tasks read (the fallback's runner), each once, in task order."""
    found = {item.name: item for t in mapped.tasks for item in t.command + t.args if isinstance(item, FileText)}
    return list(found.values())


def _file_constant(item: FileText) -> str:
    """``NAME = Path(__file__).with_name("file").read_text()``: read when the module is imported, so
    the text goes into the compiled pipeline.yaml and pipeline.py stays readable."""
    read = f'Path(__file__).with_name({value(item.file).flat()}).read_text(encoding="utf-8")'
    line = f"{item.name} = {read}"
    return line if len(line) <= 88 else f"{item.name} = (\n    {read}\n)"


def _pipeline_parameters(mapped: MappedDag) -> list[tuple[str, Node | None]]:
    """The pipeline function's parameters: required ones first (Python's rule), then defaults."""
    ordered = sorted(mapped.parameters, key=lambda p: p.has_default)
    return [(f"{p.name}: {p.type}", value(p.default) if p.has_default else None) for p in ordered]


def _component(kfp: KfpTask, name: str, mapped: MappedDag) -> str:
    """A Python component for Python tasks and their stand-ins (which keep the outputs), else a container."""
    return _python(kfp, name) if kfp.python is not None else _container(kfp, name, mapped)


@dataclass
class _Scope:
    """One pipeline function being written: the main pipeline or a sub-pipeline of branch arms.

    ``local``: tasks whose variables this function defines; ``regions``: tasks inside a
    sub-pipeline called here -> that call's variable; ``outer``: outputs of tasks outside
    this function -> the parameter that brings them in.
    """

    mapped: MappedDag
    names: Names
    text: frozenset[str]
    taken: set[str]
    functions: list[str]
    local: set[str] = field(default_factory=set)
    regions: dict[str, str] = field(default_factory=dict)
    outer: dict[tuple[str, str | None], str] = field(default_factory=dict)
    looped: dict[str, tuple[Loop, ...]] = field(default_factory=dict)

    def ref(self, task_id: str, output: str | None = None) -> Node:
        """The expression for a task's output here (``task.outputs["x"]`` splits as black splits it)."""
        if task_id in self.local:
            var = self.names.variable[task_id]
            return Atom(f"{var}.output") if output is None else Group(f"{var}.outputs", (("", value(output)),),
                                                                       brackets="[]")
        return Atom(self.outer[(task_id, output)])

    def output(self, item: Input, reader: KfpTask | None = None) -> str:
        """An output as ``reader`` reads it: a mapped task's results are collected into a list
        unless the reader runs in the same loop iteration (a mapped task group)."""
        if item.task_id.startswith(LOOP_PREFIX):
            return item.task_id[len(LOOP_PREFIX):]
        if item.task_id == RUN_CONTEXT_ID:  # a named output of the run context
            return self.ref(item.task_id, item.key).flat()
        ref = self.ref(item.task_id, _output_name(self.mapped, item)).flat()
        loops = self.looped.get(item.task_id, ())
        return f"dsl.Collected({ref})" if loops and not set(loops) <= set(reader.loops if reader else ()) else ref

    def waited(self, task_id: str) -> str | None:
        """What a statement here names in ``.after()`` to wait for ``task_id`` (``None``: outside)."""
        if task_id in self.regions:
            return self.regions[task_id]
        return self.names.variable[task_id] if task_id in self.local else None


def _condition(scope: _Scope, arm: Arm, kind: str, indent: int) -> list[str]:
    if kind == "Else":
        return [" " * indent + "with dsl.Else():"]
    compared = scope.ref(arm.decider, arm.output).flat()
    return layout(_call(f"with dsl.{kind}", Atom(f"{compared} == {value(arm.value).flat()}")), indent, "", ":")


def _loop_header(scope: _Scope, loop: Loop) -> Group:
    items = Atom(scope.output(loop.items)) if isinstance(loop.items, Input) else value(loop.items)
    options = {"parallelism": loop.parallelism} if loop.parallelism else {}
    return _call("with dsl.ParallelFor", items=items, **options)


def _task_lines(scope: _Scope, kfp: KfpTask, indent: int, upstream: list[str]) -> list[str]:
    """The task's source comment and statements."""
    mapped, names = scope.mapped, scope.names
    lines: list[str] = []
    airflow = mapped.graph.nodes[kfp.task_id]["task"]
    var = names.variable[kfp.task_id]
    note = comment_text(f"# Airflow: {airflow.file}:{airflow.line} {kfp.task_id} ({operator_label(kfp.operator)})")
    if kfp.fate == "unsupported":
        note += comment_text(" - placeholder, not converted")
    call = _call(names.component[kfp.task_id], **_call_arguments(kfp, lambda i: scope.output(i, kfp), scope.text))
    setters = [_call(".set_display_name", value(kfp.task_id)), _call(".set_caching_options", Atom("False"))]
    lines += [" " * indent + note.rstrip(), *layout(Chain(call, tuple(setters)), indent, f"{var} = ")]
    data = kfp.reads() | {arm.decider for arm in kfp.arms}  # a condition on an output waits for it
    after = list(dict.fromkeys(w for u in upstream if u not in data and (w := scope.waited(u)) is not None))
    if after:
        lines += layout(_call(f"{var}.after", *map(Atom, after)), indent)
    if kfp.ignore_upstream_failure:
        lines += layout(_call(f"{var}.ignore_upstream_failure"), indent)
    for setter in _settings(kfp, var):
        lines += layout(setter, indent)
    return lines


def _subpipeline(scope: _Scope, item: SubPipelineItem, indent: int, upstream: dict[str, list[str]]) -> list[str]:
    """Define the sub-pipeline of a decider's arms (module level) and call it here."""
    mapped, names = scope.mapped, scope.names
    inside = set(item.task_ids)
    by_id = {t.task_id: t for t in mapped.tasks}
    suffix = snake(item.arm.output) if item.arm is not None and item.arm.output else "branches"
    skips = by_id[item.decider].decision is not None and by_id[item.decider].decision.mode == "skip"
    base = f"after_{snake(item.decider)}" if skips else f"{names.component[item.decider]}_{suffix}"
    function = unique(base, scope.taken)
    variable = unique(f"{function}_task", scope.taken)
    inner = _Scope(mapped, names, scope.text, scope.taken, scope.functions, looped=scope.looped)
    needed: dict[tuple[str, str | None], str] = {}  # outer output -> parameter type
    for task_id in item.task_ids:
        kfp = by_id[task_id]
        for read in sorted(kfp.inputs(), key=lambda i: (i.task_id, i.key)):
            if read.task_id != RUN_CONTEXT_ID and read.task_id not in inside and not read.task_id.startswith(LOOP_PREFIX):
                needed[(read.task_id, _output_name(mapped, read))] = _input_type(mapped, read.task_id, read.key)
        for output in sorted(kfp.run_context):  # the run's dates, named outputs of the run context
            needed[(RUN_CONTEXT_ID, output)] = "str"
        own = [i for i, arm in enumerate(kfp.arms) if arm.decider == item.decider]
        for arm in kfp.arms[own[0] if own else len(kfp.arms):]:  # outer arms are the caller's to test
            if arm.decider not in inside:
                needed[(arm.decider, arm.output)] = "bool" if arm.value is True else "str"
    params: list[tuple[str, Node | None]] = []
    arguments: dict[str, Any] = {}
    for (task_id, output), kind in needed.items():
        producer = by_id.get(task_id)  # a task that may skip: its outputs are named after it (several are read)
        skipping = producer is not None and producer.python is not None and producer.python.skip_output is not None
        name = unique(f"{snake(task_id)}_{snake(output)}" if skipping and output else snake(output) if output
                      else f"{snake(task_id)}_output", scope.taken)
        inner.outer[(task_id, output)] = name
        params.append((f"{name}: {kind}", None))
        arguments[name] = scope.ref(task_id, output)
    used = {p.name for t in item.task_ids for p in by_id[t].parameters}
    for parameter in mapped.parameters:
        if parameter.name in used:
            params.append((f"{parameter.name}: {parameter.type}", None))
            arguments[parameter.name] = Atom(parameter.name)
    body = _items(inner, item.items, 4, upstream)
    decider = item.decider
    what = f"when {decider} was not skipped" if skips else f"after {decider} decides"
    decorator = _call("@dsl.pipeline", name=kebab(function),
                      description=f"The tasks Airflow runs {what}, as one unit a join waits for.")
    signature = "\n".join(layout(_signature(function, params), 0, "", ":"))
    scope.functions.append(_statement(decorator) + signature + "\n" + "\n".join(body) + "\n")
    passed = {task_id for task_id, _ in needed}  # reading an output already waits for it
    waits = [w for t in item.task_ids for u in upstream.get(t, [])
             if u not in inside and u not in passed and (w := scope.waited(u)) is not None]
    label = f"after {decider}" if skips else (
        f"{decider} {item.arm.output}" if item.arm is not None and item.arm.output else f"{decider} branches")
    call = Chain(_call(function, **arguments), (_call(".set_display_name", value(label)),
                                                _call(".set_caching_options", Atom("False"))))
    lines = layout(call, indent, f"{variable} = ")
    if waits:
        lines += layout(_call(f"{variable}.after", *map(Atom, dict.fromkeys(waits))), indent)
    for task_id in inside:
        scope.regions[task_id] = variable
    return lines


def _items(scope: _Scope, items: list[Item], indent: int, upstream: dict[str, list[str]]) -> list[str]:
    """Statements for ``items`` at ``indent``: tasks, condition chains, sub-pipeline calls."""
    by_id = {t.task_id: t for t in scope.mapped.tasks}
    lines: list[str] = []
    for item in items:
        if isinstance(item, TaskItem):
            scope.local.add(item.task_id)
            lines += _task_lines(scope, by_id[item.task_id], indent, upstream.get(item.task_id, []))
        elif isinstance(item, ChainItem):
            for block in item.blocks:
                lines += _condition(scope, block.arm, block.kind, indent)
                lines += _items(scope, block.items, indent + 4, upstream)
        elif isinstance(item, LoopItem):
            lines += layout(_loop_header(scope, item.loop), indent, "", f" as {item.loop.variable}:")
            lines += _items(scope, item.items, indent + 4, upstream)
        else:
            lines += _subpipeline(scope, item, indent, upstream)
    return lines


def _main_body(scope: _Scope, upstream: dict[str, list[str]]) -> list[str]:
    """The pipeline function's body: the run context first when tasks read the run's dates, then
    the tasks; a teardown that ends the DAG wraps the rest in ``dsl.ExitHandler``."""
    items = body_items(scope.mapped)
    lines: list[str] = []
    if scope.mapped.run_context is not None:
        names = scope.names
        scope.local.add(RUN_CONTEXT_ID)
        lines += run_context_call(names.component[RUN_CONTEXT_ID], names.variable[RUN_CONTEXT_ID],
                                  scope.mapped.run_context.parameter, 4)
    exit_task = next((t for t in scope.mapped.tasks if t.exit_handler), None)
    if exit_task is None:
        return lines + _items(scope, items, 4, upstream)
    rest = [item for item in items if members([item]) != [exit_task.task_id]]
    scope.local.add(exit_task.task_id)
    lines += _task_lines(scope, exit_task, 4, [])
    lines.append(f"    with dsl.ExitHandler(exit_task={scope.names.variable[exit_task.task_id]}):")
    return lines + _items(scope, rest, 8, upstream)


def render_pipeline(mapped: MappedDag) -> EmittedPipeline:
    """The whole ``pipeline.py`` for one mapped DAG, laid out as black lays it out."""
    info = dag_info(mapped.graph)
    context = run_context_task(mapped.run_context, mapped.run_context.base_image) if mapped.run_context else None
    names = assign_names(info.dag_id, [t.task_id for t in mapped.tasks] + ([RUN_CONTEXT_ID] if context else []),
                         [p.name for p in mapped.parameters], {RUN_CONTEXT_ID: "run_context"})
    description = info.description if isinstance(info.description, str) and info.description else (
        f"Converted from Airflow DAG {info.dag_id} ({info.file}:{info.line})."
    )
    kube = any(t.uses_kubernetes() for t in mapped.tasks)
    header = docstring(
        f"KFP v2 pipeline for the Airflow DAG {info.dag_id}, converted by af2kfp.",
        "",
        f"Airflow source: {info.file}:{info.line}",
        "Compile: python pipeline.py (writes pipeline.yaml next to this file)",
    )
    named = any(t.python is not None and t.python.outputs for t in mapped.tasks)
    imports = "from pathlib import Path\n" + ("from typing import NamedTuple\n" if named else "") + (
        "\nfrom kfp import compiler, dsl\n")
    files = _file_texts(mapped)
    constants = "".join(f"\n# {f.file}: written by af2kfp beside this file; pipeline.yaml carries its text.\n"
                        f"{_file_constant(f)}\n" for f in files)
    parts = [header + "\n\n" + imports + ("from kfp import kubernetes\n" if kube else "") + constants]
    if context is not None:
        parts.append(_component(context, names.component[RUN_CONTEXT_ID], mapped))
    shared: dict[str, str] = {}  # identical components (a @task called twice) are defined once
    for kfp in mapped.tasks:
        key = _component(kfp, "__AF2KFP_COMPONENT__", mapped)
        if key in shared:
            names.component[kfp.task_id] = shared[key]
            continue
        shared[key] = names.component[kfp.task_id]
        parts.append(_component(kfp, names.component[kfp.task_id], mapped))
    upstream: dict[str, list[str]] = {}
    for u, v in mapped.edges:
        upstream.setdefault(v, []).append(u)
    order = list(names.variable)
    upstream = {v: sorted(us, key=order.index) for v, us in upstream.items()}
    text = frozenset(p.name for p in mapped.parameters if p.type == "str")
    taken = {names.pipeline, *names.component.values(), *names.variable.values(), *(p.name for p in mapped.parameters)}
    functions: list[str] = []
    scope = _Scope(mapped, names, text, taken, functions, looped={t.task_id: t.loops for t in mapped.tasks if t.loops})
    body = _main_body(scope, upstream)
    parts += functions
    pipeline_name = kebab(info.dag_id)
    decorator = _call("@dsl.pipeline", name=pipeline_name, description=description)
    signature = "\n".join(layout(_signature(names.pipeline, _pipeline_parameters(mapped)), 0, "", ":"))
    parts.append(_statement(decorator) + signature + "\n" + "\n".join(body or ["    pass"]) + "\n")
    package = _call("str", Atom('Path(__file__).with_name("pipeline.yaml")'))
    main = _call("compiler.Compiler().compile", pipeline_func=Atom(names.pipeline), package_path=package)
    parts.append('if __name__ == "__main__":\n' + _statement(main, 4))
    return EmittedPipeline(code="\n\n".join(parts), names=names, pipeline_name=pipeline_name,
                           files=tuple(f.file for f in files))
