"""Render a mapped DAG as an idiomatic KFP v2 ``pipeline.py``, formatted with black.

The module holds only literals and generated signatures: every user value passes
through :func:`~converters.emit.literals.literal`, user Python appears only as the body
of a ``@dsl.component`` function (never executed when the module is imported).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import black

from converters.graph import dag_info
from converters.mappings.model import Input, KfpTask, MappedDag
from converters.emit.literals import comment_text, docstring, literal
from converters.emit.names import Names, assign_names, kebab

__all__ = ["EmittedPipeline", "render_pipeline", "operator_label"]


@dataclass(frozen=True)
class EmittedPipeline:
    """The formatted module, the names it uses, and the pipeline function to compile."""

    code: str
    names: Names
    pipeline_name: str


@functools.lru_cache(maxsize=4096)
def _format(part: str) -> str:
    """black, one top-level statement group at a time: identical components (DAG factories,
    placeholders) are formatted once. Joined with two blank lines, the module is black-stable."""
    return black.format_str(part, mode=black.Mode())


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


def _container(kfp: KfpTask, name: str, mapped: MappedDag) -> str:
    inputs = [item for item in kfp.command + kfp.args if isinstance(item, Input)]
    params = ", ".join(f"{i.name}: {_input_type(mapped, i.task_id)}" for i in inputs)
    if kfp.output:
        params = ", ".join(filter(None, [params, f"{kfp.output}: dsl.OutputPath(str)"]))

    def items(values: list[Any], extra: str | None = None) -> str:
        sources = [v.name if isinstance(v, Input) else literal(v) for v in values] + ([extra] if extra else [])
        return "[" + ", ".join(sources) + "]"

    fields = [f"image={literal(kfp.image)}"]
    if kfp.command:
        fields.append(f"command={items(kfp.command)}")
    if kfp.args or kfp.output:
        fields.append(f"args={items(kfp.args, kfp.output)}")
    return f"@dsl.container_component\ndef {name}({params}):\n    return dsl.ContainerSpec({', '.join(fields)})\n"


def _python(kfp: KfpTask, name: str) -> str:
    assert kfp.python is not None
    options = [f"base_image={literal(kfp.python.base_image)}"]
    if kfp.python.packages:
        options.append(f"packages_to_install={literal(kfp.python.packages)}")
    code = kfp.python.code.replace("def __AF2KFP_NAME__(", f"def {name}(", 1)
    return f"@dsl.component({', '.join(options)})\n{code}"


def _call_arguments(kfp: KfpTask, names: Names) -> str:
    parts = []
    values = dict(kfp.arguments)
    values.update({i.name: i for i in kfp.command + kfp.args if isinstance(i, Input)})
    for key, value in values.items():
        if isinstance(value, Input):
            parts.append(f"{key}={names.variable[value.task_id]}.output")
        else:
            parts.append(f"{key}={literal(value)}")
    return ", ".join(parts)


def _settings(kfp: KfpTask, var: str) -> list[str]:
    """Every setter call for one task, in a fixed order."""
    lines = []
    for name, value in kfp.env.items():
        lines.append(f"{var}.set_env_variable(name={literal(name)}, value={literal(value)})")
    for attr, method in (("cpu_request", "set_cpu_request"), ("cpu_limit", "set_cpu_limit"),
                         ("memory_request", "set_memory_request"), ("memory_limit", "set_memory_limit"),
                         ("accelerator_type", "set_accelerator_type"), ("accelerator_limit", "set_accelerator_limit")):
        if getattr(kfp, attr) is not None:
            lines.append(f"{var}.{method}({literal(getattr(kfp, attr))})")
    if kfp.retry is not None:
        r = kfp.retry
        opts = [f"num_retries={r.num_retries}"]
        opts += [f"{k}={literal(v)}" for k, v in (("backoff_duration", r.backoff_duration), ("backoff_factor", r.backoff_factor),
                                                    ("backoff_max_duration", r.backoff_max_duration)) if v is not None]
        lines.append(f"{var}.set_retry({', '.join(opts)})")
    k = "kubernetes"
    for s in kfp.secret_env:
        lines.append(f"{k}.use_secret_as_env({var}, secret_name={literal(s.secret_name)}, secret_key_to_env={literal(s.key_to_env)})")
    for s in kfp.secret_volumes:
        lines.append(f"{k}.use_secret_as_volume({var}, secret_name={literal(s.secret_name)}, mount_path={literal(s.mount_path)})")
    for v in kfp.volumes:
        if v.kind == "pvc":
            sub = f", sub_path={literal(v.sub_path)}" if v.sub_path else ""
            lines.append(f"{k}.mount_pvc({var}, pvc_name={literal(v.name)}, mount_path={literal(v.mount_path)}{sub})")
        elif v.kind == "config_map":
            lines.append(f"{k}.use_config_map_as_volume({var}, config_map_name={literal(v.name)}, mount_path={literal(v.mount_path)})")
        else:
            extra = "".join(f", {a}={literal(getattr(v, a))}" for a in ("medium", "size_limit") if getattr(v, a))
            lines.append(f"{k}.empty_dir_mount({var}, volume_name={literal(v.name)}, mount_path={literal(v.mount_path)}{extra})")
    for key, value in kfp.node_selector.items():
        lines.append(f"{k}.add_node_selector({var}, label_key={literal(key)}, label_value={literal(value)})")
    for t in kfp.tolerations:
        opts = [f"{a}={literal(getattr(t, a))}" for a in ("key", "operator", "value", "effect", "toleration_seconds")
                if getattr(t, a) is not None]
        lines.append(f"{k}.add_toleration({var}, {', '.join(opts)})")
    for a in kfp.node_affinity:
        opts = [f"{f}={literal(getattr(a, f))}" for f in ("match_expressions", "match_fields") if getattr(a, f)]
        if a.weight is not None:
            opts.append(f"weight={a.weight}")
        lines.append(f"{k}.add_node_affinity({var}, {', '.join(opts)})")
    for key, value in kfp.labels.items():
        lines.append(f"{k}.add_pod_label({var}, label_key={literal(key)}, label_value={literal(value)})")
    for key, value in kfp.annotations.items():
        lines.append(f"{k}.add_pod_annotation({var}, annotation_key={literal(key)}, annotation_value={literal(value)})")
    if kfp.image_pull_secrets:
        lines.append(f"{k}.set_image_pull_secrets({var}, secret_names={literal(kfp.image_pull_secrets)})")
    if kfp.image_pull_policy:
        lines.append(f"{k}.set_image_pull_policy({var}, policy={literal(kfp.image_pull_policy)})")
    if kfp.security:
        opts = ", ".join(f"{key}={literal(value)}" for key, value in kfp.security.items())
        lines.append(f"{k}.set_security_context({var}, {opts})")
    if kfp.timeout_seconds:
        lines.append(f"{k}.set_timeout({var}, seconds={int(kfp.timeout_seconds)})")
    return lines


def _task_block(kfp: KfpTask, mapped: MappedDag, names: Names, upstream: list[str]) -> list[str]:
    airflow = mapped.graph.nodes[kfp.task_id]["task"]
    var = names.variable[kfp.task_id]
    note = comment_text(f"# Airflow: {airflow.file}:{airflow.line} {kfp.task_id} ({operator_label(kfp.operator)})")
    if kfp.fate == "unsupported":
        note += comment_text(" - placeholder, not converted")
    call = f"{names.component[kfp.task_id]}({_call_arguments(kfp, names)})"
    lines = [note, f"{var} = {call}.set_display_name({literal(kfp.task_id)}).set_caching_options(False)"]
    data = {i.task_id for i in list(kfp.arguments.values()) + kfp.command + kfp.args if isinstance(i, Input)}
    after = [names.variable[u] for u in upstream if u not in data]
    if after:
        lines.append(f"{var}.after({', '.join(after)})")
    return lines + _settings(kfp, var)


def render_pipeline(mapped: MappedDag) -> EmittedPipeline:
    """The whole ``pipeline.py`` for one mapped DAG, black-formatted."""
    info = dag_info(mapped.graph)
    names = assign_names(info.dag_id, [t.task_id for t in mapped.tasks])
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
    imports = "from pathlib import Path\n\nfrom kfp import compiler, dsl"
    parts = [header + "\n\n" + imports + ("\nfrom kfp import kubernetes" if kube else "")]
    shared: dict[str, str] = {}  # identical components (a @task called twice) are defined once
    for kfp in mapped.tasks:
        marker = "__AF2KFP_COMPONENT__"
        text = _python(kfp, marker) if kfp.kind == "python" else _container(kfp, marker, mapped)
        if text in shared:
            names.component[kfp.task_id] = shared[text]
            continue
        shared[text] = names.component[kfp.task_id]
        parts.append(text.replace(f"def {marker}(", f"def {names.component[kfp.task_id]}(", 1))
    upstream: dict[str, list[str]] = {}
    for u, v in mapped.edges:
        upstream.setdefault(v, []).append(u)
    body = []
    for kfp in mapped.tasks:
        body += _task_block(kfp, mapped, names, sorted(upstream.get(kfp.task_id, []), key=list(names.variable).index))
    pipeline_name = kebab(info.dag_id)
    body_text = "\n".join("    " + line for line in body) or "    pass"
    parts.append(
        f"@dsl.pipeline(name={literal(pipeline_name)}, description={literal(description)})\n"
        f"def {names.pipeline}():\n{body_text}\n"
    )
    parts.append(
        'if __name__ == "__main__":\n'
        f"    compiler.Compiler().compile(pipeline_func={names.pipeline}, "
        'package_path=str(Path(__file__).with_name("pipeline.yaml")))\n'
    )
    code = "\n\n".join(_format(part) for part in parts)
    return EmittedPipeline(code=code, names=names, pipeline_name=pipeline_name)
