"""Render a mapped DAG as an idiomatic KFP v2 ``pipeline.py``, laid out as black would.

The module holds only literals and generated signatures: every user value passes
through :func:`~converters.emit.layout.value`, user Python appears only as the body
of a ``@dsl.component`` function (never executed when the module is imported), kept as
the user wrote it. Generated statements are split by :mod:`converters.emit.layout`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from converters.emit.layout import Atom, Chain, Group, Node, layout, value
from converters.emit.literals import comment_text, docstring
from converters.emit.names import Names, assign_names, kebab
from converters.graph import dag_info
from converters.mappings.model import Input, KfpTask, MappedDag, Template
from converters.templating import pipeline_expression

__all__ = ["EmittedPipeline", "render_pipeline", "operator_label"]


@dataclass(frozen=True)
class EmittedPipeline:
    """The formatted module, the names it uses, and the pipeline function to compile."""

    code: str
    names: Names
    pipeline_name: str


def operator_label(operator: str) -> str:
    """``DockerOperator`` for classes, ``@task.docker`` for TaskFlow decorators."""
    for prefix in ("airflow.sdk.", "airflow.decorators."):
        if operator.startswith(prefix + "task"):
            return "@" + operator[len(prefix):]
    return operator.rsplit(".", 1)[-1]


def _input_type(mapped: MappedDag, task_id: str) -> str:
    for kfp in mapped.tasks:
        if kfp.task_id == task_id and kfp.python is not None and kfp.python.returns:
            return kfp.python.returns
    return "str"  # container outputs are strings


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
    inputs = [item for item in kfp.command + kfp.args if isinstance(item, (Input, Template))]
    params: list[tuple[str, Node | None]] = [
        (f"{i.name}: {_input_type(mapped, i.task_id) if isinstance(i, Input) else 'str'}", None) for i in inputs]
    if kfp.output:
        params.append((f"{kfp.output}: dsl.OutputPath(str)", None))

    def items(values: list[Any], extra: str | None = None) -> Group:
        nodes = [Atom(v.name) if isinstance(v, (Input, Template)) else value(v) for v in values] + (
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
    params = [(f"{p}: {annotation}", None if default is None else _default(default)) for p, annotation, default in fn.params]
    end = f" -> {fn.returns}:" if fn.returns else ":"
    header = layout(_call("@dsl.component", **options)) + layout(_signature(name, params), 0, "", end)
    return "\n".join(header) + "\n" + body


def _call_arguments(kfp: KfpTask, names: Names, text: frozenset[str]) -> dict[str, Node]:
    """Call arguments: literals, other tasks' outputs, and templates built from pipeline parameters."""
    values = dict(kfp.arguments)
    values.update({i.name: i for i in kfp.command + kfp.args if isinstance(i, (Input, Template))})

    def output(item: Input) -> str:
        return f"{names.variable[item.task_id]}.output"

    return {key: Atom(output(v)) if isinstance(v, Input) else Atom(pipeline_expression(v.parts, output, text))
            if isinstance(v, Template) else value(v) for key, v in values.items()}


def _template_inputs(kfp: KfpTask) -> set[str]:
    """Tasks whose output a template of ``kfp`` reads (a data dependency, no ``.after`` needed)."""
    items = list(kfp.arguments.values()) + kfp.command + kfp.args
    return {p.task_id for t in items if isinstance(t, Template) for p in t.parts if isinstance(p, Input)}


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
        calls.append(_call(f"{k}.use_secret_as_env", task, secret_name=s.secret_name, secret_key_to_env=s.key_to_env))
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


def _task_block(kfp: KfpTask, mapped: MappedDag, names: Names, upstream: list[str], text: frozenset[str]) -> list[str]:
    """The task's source comment and statements, as lines of the pipeline body."""
    airflow = mapped.graph.nodes[kfp.task_id]["task"]
    var = names.variable[kfp.task_id]
    note = comment_text(f"# Airflow: {airflow.file}:{airflow.line} {kfp.task_id} ({operator_label(kfp.operator)})")
    if kfp.fate == "unsupported":
        note += comment_text(" - placeholder, not converted")
    call = _call(names.component[kfp.task_id], **_call_arguments(kfp, names, text))
    chain = Chain(call, (_call(".set_display_name", value(kfp.task_id)), _call(".set_caching_options", Atom("False"))))
    lines = ["    " + note.rstrip(), *layout(chain, 4, f"{var} = ")]
    data = {i.task_id for i in list(kfp.arguments.values()) + kfp.command + kfp.args if isinstance(i, Input)}
    data |= _template_inputs(kfp)
    after = [Atom(names.variable[u]) for u in upstream if u not in data]
    if after:
        lines += layout(_call(f"{var}.after", *after), 4)
    for setter in _settings(kfp, var):
        lines += layout(setter, 4)
    return lines


def _pipeline_parameters(mapped: MappedDag) -> list[tuple[str, Node | None]]:
    """The pipeline function's parameters: required ones first (Python's rule), then defaults."""
    ordered = sorted(mapped.parameters, key=lambda p: p.has_default)
    return [(f"{p.name}: {p.type}", value(p.default) if p.has_default else None) for p in ordered]


def _component(kfp: KfpTask, name: str, mapped: MappedDag) -> str:
    return _python(kfp, name) if kfp.kind == "python" else _container(kfp, name, mapped)


def render_pipeline(mapped: MappedDag) -> EmittedPipeline:
    """The whole ``pipeline.py`` for one mapped DAG, laid out as black lays it out."""
    info = dag_info(mapped.graph)
    names = assign_names(info.dag_id, [t.task_id for t in mapped.tasks], [p.name for p in mapped.parameters])
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
    imports = "from pathlib import Path\n\nfrom kfp import compiler, dsl\n"
    parts = [header + "\n\n" + imports + ("from kfp import kubernetes\n" if kube else "")]
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
    body = []
    text = frozenset(p.name for p in mapped.parameters if p.type == "str")
    for kfp in mapped.tasks:
        body += _task_block(kfp, mapped, names, sorted(upstream.get(kfp.task_id, []), key=list(names.variable).index),
                            text)
    pipeline_name = kebab(info.dag_id)
    decorator = _call("@dsl.pipeline", name=pipeline_name, description=description)
    signature = "\n".join(layout(_signature(names.pipeline, _pipeline_parameters(mapped)), 0, "", ":"))
    parts.append(_statement(decorator) + signature + "\n" + "\n".join(body or ["    pass"]) + "\n")
    package = _call("str", Atom('Path(__file__).with_name("pipeline.yaml")'))
    main = _call("compiler.Compiler().compile", pipeline_func=Atom(names.pipeline), package_path=package)
    parts.append('if __name__ == "__main__":\n' + _statement(main, 4))
    return EmittedPipeline(code="\n\n".join(parts), names=names, pipeline_name=pipeline_name)
