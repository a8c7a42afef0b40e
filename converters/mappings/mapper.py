"""Map a whole migration graph: one rule per task, EmptyOperators folded, fates decided.

Tasks are mapped in dependency order so a consumer knows its Python producers' output
types. Folding connects each folded task's predecessors to its successors. The strings
Airflow renders with Jinja are translated (:mod:`converters.mappings.templates`); the
DAG's params and what the templates read become the pipeline's parameters.
"""

from __future__ import annotations

from typing import Any, Iterable

import networkx as nx

from converters.config import Config
from converters.findings import CODES, Finding
from converters.graph import AirflowTask, DagInfo, dag_info, tasks
from converters.graph import findings as graph_findings
from converters.mappings import bash, branch, codes, docker, empty, kubernetes, python
from converters.mappings.base import decide_fate
from converters.mappings.context import MapContext
from converters.mappings.control import apply_control_flow
from converters.mappings.dates import airflow2_dates, run_context_plan
from converters.mappings.loops import LoopPlan, expand_loops, group_loops
from converters.mappings.model import Input, KfpTask, Loop, MappedDag
from converters.mappings.registry import resolve
from converters.mappings.templates import prepare_task, template_refs, translate_task
from converters.mappings.xcom_pull import pulled_task_ids
from converters.templating import PipelineParameter, dag_parameters
from converters.values import Call, TaskRef

__all__ = ["map_graph", "map_task"]

# Rules whose strings Airflow renders with Jinja and that run without Airflow in KFP.
_TEMPLATED_RULES = (bash, branch, docker, kubernetes, python)


def _refs(value: Any) -> Iterable[str]:
    if isinstance(value, TaskRef):
        yield value.task_id
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _refs(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, Call):
        yield from _refs(list(value.args))
        yield from _refs(value.kwargs)


def _consumers(graph: nx.DiGraph) -> set[str]:
    used = {u for u, _, kind in graph.edges(data="kind") if kind == "data"}
    for t in tasks(graph):
        used.update(_refs([t.args, t.call_args, t.call_kwargs]))
        used.update(template_refs([t.args, t.call_args, t.call_kwargs]))
        used.update(pulled_task_ids(t.python))  # ti.xcom_pull(task_ids="x") in the callable reads x's output
    return used


def _order(graph: nx.DiGraph) -> list[AirflowTask]:
    by_source = {t.task_id: i for i, t in enumerate(tasks(graph))}
    try:
        ids = list(nx.lexicographical_topological_sort(graph, key=lambda n: (by_source.get(n, 0), n)))
    except nx.NetworkXUnfeasible:
        ids = sorted(by_source, key=by_source.get)
    return [graph.nodes[i]["task"] for i in ids if "task" in graph.nodes[i]]


def _as_seen_from(producers: dict[str, str | None], loops_of: dict[str, tuple[Loop, ...]],
                  around: tuple[Loop, ...]) -> dict[str, str | None]:
    """Output types as a task inside ``around`` reads them: a mapped task's results are a list
    (``dsl.Collected``) unless the reader runs in the same loop iteration."""
    collected = {p: "list" for p, loops in loops_of.items()
                 if loops and p in producers and not set(loops) <= set(around)}
    return {**producers, **collected} if collected else producers


def _downstream(graph: nx.DiGraph, task_id: str, line: dict[str, tuple[int, str]]) -> tuple[str, ...]:
    """Direct downstream task ids in source order (what a branch may follow)."""
    return tuple(sorted(graph.successors(task_id), key=lambda s: line.get(s, (0, s))))


def map_task(task: AirflowTask, *, dag_id: str, config: Config, consumers: set[str] | None = None,
             producers: dict[str, str | None] | None = None,
             params: dict[str, PipelineParameter] | None = None,
             downstream: tuple[str, ...] = (), around: tuple[Loop, ...] = ()) -> tuple[KfpTask | None, MapContext]:
    """Map one task with its rule; ``None`` means folded. The context holds its findings.

    ``around``: the loops of the mapped task groups the task sits in (outermost first)."""
    rule, module, from_config = resolve(task.operator, config)
    templated = module in _TEMPLATED_RULES
    producers = dict(producers or {})
    plan = expand_loops(task, producers, taskflow=rule.startswith("task")) if (
        task.mapped is not None and module is not empty) else None
    if isinstance(plan, LoopPlan):
        task = plan.task
        producers.update(plan.types)
    ctx = MapContext(task=prepare_task(task) if templated else task, dag_id=dag_id, config=config,
                     consumers=consumers or set(), producers=producers, params=params or {},
                     downstream=downstream)
    if from_config:
        ctx.add(codes.USER_OPERATOR, f"{task.operator} is mapped as {rule} ([tool.af2kfp.operators])")
    if isinstance(plan, str):
        ctx.add(codes.DYNAMIC_MAPPING, f"{plan}; the task runs once")
    kfp = module.map_task(ctx, rule)
    if kfp is not None:
        kfp.loops = around + (plan.loops if isinstance(plan, LoopPlan) else ())
    if kfp is not None and templated:
        before = len(ctx.findings)
        translate_task(ctx, kfp)
        kfp.findings.extend(ctx.findings[before:])
        decide_fate(kfp)
    return kfp, ctx


def _dag_parameters(info: DagInfo) -> tuple[dict[str, PipelineParameter], list[Finding]]:
    """The DAG's params as pipeline parameters, and findings about the ones not known statically."""
    params, issues = dag_parameters(info.params)
    found = [Finding(code=i.code, severity=CODES[i.code].severity, message=i.message, suggestion=CODES[i.code].help,
                     file=info.file, line=info.line, dag_id=info.dag_id) for i in issues]
    return params, found


def _pipeline_parameters(params: dict[str, PipelineParameter], mapped: list[KfpTask]) -> list[PipelineParameter]:
    """The DAG's params, then every other parameter a task reads, each name once."""
    out = {p.name: p for p in params.values()}
    for kfp in mapped:
        for parameter in kfp.parameters:
            out.setdefault(parameter.name, parameter)
    return list(out.values())


def _wire_container(kfp: KfpTask, ctx: MapContext) -> None:
    """XComs inside a container's command/args become inputs; others cannot be wired."""
    count = 0

    def wire(item: Any) -> Any:
        nonlocal count
        if not isinstance(item, TaskRef):
            return item
        if ctx.producers.get(item.task_id) and item.key == "return_value":
            count += 1
            return Input(name=f"input_{count}", task_id=item.task_id)
        ctx.add(codes.XCOM_UNAVAILABLE, f"XCom {item.key!r} of {item.task_id!r} is used in the container's arguments")
        return f"<xcom {item.task_id}.{item.key}>"

    kfp.command = [wire(item) for item in kfp.command]
    kfp.args = [wire(item) for item in kfp.args]
    for name, value in list(kfp.env.items()):
        if isinstance(value, TaskRef):
            ctx.add(codes.XCOM_UNAVAILABLE, f"env {name} reads XCom of {value.task_id!r}; dropped")
            del kfp.env[name]


def _cycle_finding(graph: nx.DiGraph, kfp: KfpTask, upstream: str, downstream: str) -> Finding:
    task = graph.nodes[downstream]["task"]
    entry = CODES[codes.CYCLE_EDGE_DROPPED]
    finding = Finding(code=entry.code, severity=entry.severity, message=f"{upstream} >> {downstream} closes a cycle; dropped",
                      suggestion=entry.help, file=task.file, line=task.line, dag_id=dag_info(graph).dag_id,
                      task_id=downstream)
    kfp.findings.append(finding)
    kfp.fate = "review" if kfp.fate == "converted" else kfp.fate
    return finding


def map_graph(graph: nx.DiGraph, config: Config | None = None) -> MappedDag:
    """Every task mapped, folded tasks removed from the edges, every Airflow task given a fate."""
    config = config or Config()
    dag_id = dag_info(graph).dag_id
    params, found = _dag_parameters(dag_info(graph))
    consumers = _consumers(graph)
    producers: dict[str, str | None] = {}
    mapped: dict[str, KfpTask] = {}
    fates: dict[str, str] = {}
    folded = nx.DiGraph(graph)
    loops_of: dict[str, tuple[Loop, ...]] = {}
    line = {t.task_id: (t.line, t.task_id) for t in tasks(graph)}
    for task in _order(graph):
        around = group_loops(dag_info(graph), task, producers)
        kfp, ctx = map_task(task, dag_id=dag_id, config=config, consumers=consumers,
                            producers=_as_seen_from(producers, loops_of, around),
                            params=params, downstream=_downstream(graph, task.task_id, line), around=around)
        if kfp is None:
            fates[task.task_id] = "folded"
            found.extend(ctx.findings)
            preds, succs = list(folded.predecessors(task.task_id)), list(folded.successors(task.task_id))
            folded.remove_node(task.task_id)
            folded.add_edges_from((p, s) for p in preds for s in succs)
            continue
        if kfp.kind == "container":
            before = len(ctx.findings)
            _wire_container(kfp, ctx)
            kfp.findings.extend(ctx.findings[before:])
            decide_fate(kfp)
        mapped[task.task_id] = kfp
        fates[task.task_id] = kfp.fate
        found.extend(kfp.findings)
        if kfp.decision is not None and kfp.decision.mode == "set":
            pass  # its outputs are the conditions' booleans, not an XCom a task can read
        elif kfp.kind == "python" and kfp.python is not None and kfp.python.returns:
            producers[task.task_id] = kfp.python.returns
        elif kfp.output:
            producers[task.task_id] = "str"
        loops_of[task.task_id] = kfp.loops
    for finding in graph_findings(graph):  # the analyzer's doubts about a task also call for review
        if finding.task_id in mapped and finding.severity.rank >= 1 and fates[finding.task_id] == "converted":
            fates[finding.task_id] = mapped[finding.task_id].fate = "review"
    order = [t.task_id for t in _order(graph) if t.task_id in mapped]
    position = {task_id: i for i, task_id in enumerate(order)}
    edges = []
    for u, v in sorted(folded.edges()):
        if u not in mapped or v not in mapped:
            continue
        if position[u] >= position[v]:  # only a cycle puts a downstream task first
            found.append(_cycle_finding(graph, mapped[v], u, v))
            continue
        edges.append((u, v))
    edges, subpipelines, control = apply_control_flow(graph, [mapped[i] for i in order], edges)
    found.extend(control)
    fates.update({task_id: kfp.fate for task_id, kfp in mapped.items()})
    parameters = _pipeline_parameters(params, [mapped[i] for i in order])
    dates = run_context_plan(dag_info(graph), config, [mapped[i] for i in order], {p.name for p in parameters})
    if dates:
        found.extend(airflow2_dates(dag_info(graph), dates[0]))
    return MappedDag(
        graph=graph,
        tasks=[mapped[i] for i in order],
        edges=edges,
        fates=fates,
        findings=found,
        parameters=parameters + ([dates[1]] if dates else []),
        subpipelines=subpipelines,
        run_context=dates[0] if dates else None,
    )
