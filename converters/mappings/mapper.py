"""Map a whole migration graph: one rule per task, EmptyOperators folded, fates decided.

Tasks are mapped in dependency order so a consumer knows its Python producers' output
types. Folding connects each folded task's predecessors to its successors. The strings
Airflow renders with Jinja are translated (:mod:`af2kfp.converters.mappings.templates`); the
DAG's params and what the templates read become the pipeline's parameters.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import networkx as nx

from af2kfp.converters.config import Config
from af2kfp.converters.findings import CODES, Finding
from af2kfp.converters.graph import AirflowTask, DagInfo, dag_info, tasks
from af2kfp.converters.graph import findings as graph_findings
from af2kfp.converters.mappings import bash, branch, codes, docker, empty, kubernetes, python, unsupported
from af2kfp.converters.mappings.base import decide_fate, fate_of
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.control import apply_control_flow
from af2kfp.converters.mappings.dates import airflow2_dates, run_context_plan
from af2kfp.converters.mappings.env_xcom import returned_keys
from af2kfp.converters.mappings.guards import GUARD_EVALUATED, GUARD_SUFFIX, GuardPlan, guard_task, plan_guards
from af2kfp.converters.mappings.loops import LoopPlan, expand_loops, group_loops
from af2kfp.converters.mappings.model import Input, KfpTask, Loop, MappedDag
from af2kfp.converters.mappings.dataflow import DataFlow, data_flow, output_id
from af2kfp.converters.mappings.pytypes import SCALARS, collected
from af2kfp.converters.mappings.registry import resolve_inherited, rule_names
from af2kfp.converters.mappings.templates import prepare_task, translate_task
from af2kfp.converters.templating import PipelineParameter, dag_parameters
from af2kfp.converters.values import TaskRef

__all__ = ["map_graph", "map_task"]

_BUILT_IN_RULES = frozenset(rule_names())
# Rules whose strings Airflow renders with Jinja and that run without Airflow in KFP.
_TEMPLATED_RULES = (bash, branch, docker, kubernetes, python)


def _order(graph: nx.DiGraph) -> list[AirflowTask]:
    """Tasks in dependency order (source order among equals); a mapped task group's tasks after
    the task whose list the group iterates, which they read even where no edge says so."""
    by_source = {t.task_id: i for i, t in enumerate(tasks(graph))}
    iterated = {(spec["items"].task_id, group_id) for group_id, specs in dag_info(graph).group_loops.items()
                for spec in specs if isinstance(spec["items"], TaskRef)}
    if iterated:
        graph = nx.DiGraph(graph)
        graph.add_edges_from((source, t.task_id) for source, group_id in iterated for t in tasks(graph)
                             if group_id in t.group and source in graph)
    try:
        ids = list(nx.lexicographical_topological_sort(graph, key=lambda n: (by_source.get(n, 0), n)))
    except nx.NetworkXUnfeasible:
        ids = sorted(by_source, key=by_source.get)
    return [graph.nodes[i]["task"] for i in ids if "task" in graph.nodes[i]]


def _as_seen_from(producers: dict[str, str | None], loops_of: dict[str, tuple[Loop, ...]],
                  around: tuple[Loop, ...]) -> dict[str, str | None]:
    """Output carriers as a task inside ``around`` reads them: a mapped task's results are a list
    (``dsl.Collected``) unless the reader runs in the same loop iteration."""
    outside = {task_id for task_id, loops in loops_of.items() if loops and not set(loops) <= set(around)}
    if not outside:
        return producers
    return {entry: collected(carrier) if carrier and entry.split("[", 1)[0] in outside else carrier
            for entry, carrier in producers.items()}


def _downstream(graph: nx.DiGraph, task_id: str, line: dict[str, tuple[int, str]]) -> tuple[str, ...]:
    """Direct downstream task ids in source order (what a branch may follow)."""
    return tuple(sorted(graph.successors(task_id), key=lambda s: line.get(s, (0, s))))


def map_task(task: AirflowTask, *, dag_id: str, config: Config, consumers: set[str] | None = None,
             producers: dict[str, str | None] | None = None,
             params: dict[str, PipelineParameter] | None = None,
             downstream: tuple[str, ...] = (), around: tuple[Loop, ...] = (),
             returned: dict[str, tuple[str, ...]] | None = None, flow: DataFlow | None = None,
             loops_of: dict[str, tuple[Loop, ...]] | None = None,
             pipelines: dict[str, str] | None = None, schedule: str | None = None
             ) -> tuple[KfpTask | None, MapContext]:
    """Map one task with its rule; ``None`` means folded. The context holds its findings.

    ``around``: the loops of the mapped task groups the task sits in (outermost first);
    ``returned``: Python task id -> the keys of the dict it returns, when known;
    ``flow``: what the DAG reads of each task (:func:`~af2kfp.converters.mappings.dataflow.data_flow`);
    ``loops_of``: the loops of the tasks mapped so far (``producers`` are then their own
    carriers, and a mapped task's results become a list where the task reads them collected);
    ``pipelines``: the DAGs converted together, dag_id -> KFP pipeline name (a trigger's target);
    ``schedule``: the DAG's schedule when it is a text known at conversion (what ``dag.schedule`` reads)."""
    rule, module, from_config, base = resolve_inherited(
        task.operator, task.inherits.bases if task.inherits is not None else [], config)
    if task.inherits is not None and rule in _BUILT_IN_RULES and rule != "fallback":
        task = _as_parent(task)  # the rule maps the parent's arguments; the fallback runs the class itself
    templated = module in _TEMPLATED_RULES
    producers = dict(producers or {})
    plan = expand_loops(task, producers, taskflow=rule.startswith("task"), loops_of=loops_of) if (
        task.mapped is not None and module is not empty) else None
    if loops_of:
        producers = _as_seen_from(producers, loops_of, around + (plan.loops if isinstance(plan, LoopPlan) else ()))
    if isinstance(plan, LoopPlan):
        task = plan.task
        producers.update(plan.types)
    ctx = MapContext(task=prepare_task(task, config.environment) if templated else task, dag_id=dag_id, config=config,
                     consumers=consumers or set(), producers=producers, params=params or {},
                     downstream=downstream, returned_keys=returned or {}, flow=flow or DataFlow(),
                     pipelines=pipelines, schedule=schedule,
                     looped=bool(around) or task.mapped is not None or isinstance(plan, LoopPlan))
    if from_config:
        ctx.add(codes.USER_OPERATOR, f"{base or task.operator} is mapped as {rule} ([tool.af2kfp.operators])"
                + (f"; {task.operator} derives from it" if base else ""))
    if task.inherits is not None and module is not unsupported:
        _inherited(ctx, task, rule, None if from_config else base)
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


def _rule(task: AirflowTask, config: Config) -> tuple[str, Any]:
    """The rule name and module that map ``task``, its class's ancestors considered."""
    rule, module, _, _ = resolve_inherited(task.operator, task.inherits.bases if task.inherits is not None else [],
                                           config)
    return rule, module


def _as_parent(task: AirflowTask) -> AirflowTask:
    """A repository operator's task as the class it derives from sees it: the arguments its __init__ passes on,
    and what its own execute sets on ``self`` before calling the parent's."""
    inherits = task.inherits
    assert inherits is not None
    arguments = {**inherits.arguments, **inherits.at_run}
    mapped = task.mapped
    if mapped is not None:
        mapped = replace(mapped, partial=dict(arguments),
                         expand={inherits.expanded_as.get(k, k): v for k, v in mapped.expand.items()})
    return replace(task, args=arguments, mapped=mapped)


# What an evaluated override's note says, as the finding that reports it (af2kfp.converters.analysis.overrides).
_NOTE_CODES = {"not_carried": codes.OVERRIDES_RUN, "guard": codes.RUN_GUARD, "always_ends": codes.RUN_NEVER}


def _inherited(ctx: MapContext, task: AirflowTask, rule: str, base: str | None) -> None:
    """M280: which class's rule a repository operator took (and the overrides carried over); M281: the run-time
    code it overrides that the KFP task does not run; M284/M285: when Airflow skips or fails the task instead."""
    inherits = task.inherits
    assert inherits is not None
    name = task.operator.rsplit(".", 1)[-1]
    own_rule = rule != "fallback"
    also = (f"; it also overrides {', '.join(inherits.extends)}, which calls the parent's with its arguments "
            "untouched (Airflow-side extras KFP does not run)") if inherits.extends and own_rule else ""
    if inherits.applied and own_rule:
        settings = (f"what it sets before calling the parent's is applied ({', '.join(inherits.at_run)})"
                    if inherits.at_run else "it sets nothing the parent reads")
        also += f"; its {', '.join(inherits.applied)} is evaluated: {settings}"
    if base is not None or also:
        ctx.add(codes.INHERITED_RULE, f"{name} derives from {base or inherits.bases[-1]}: mapped with the "
                                      f"{rule} rule, with the arguments its __init__ passes on{also}")
    if not own_rule:
        return
    plan = None
    if inherits.guards and task.mapped is None and not ctx.looped:
        plan = ctx.guards = plan_guards(inherits.guards, ctx.params)
    elif inherits.guards:  # one guard task per item would be needed: KFP's conditions test one output
        plan = GuardPlan(left={g["message"]: "the task is mapped or in a mapped task group" for g in inherits.guards})
    explained = {label for kind, label, _ in inherits.notes if kind in ("not_carried", "always_ends")}
    overrides = [label for label in inherits.overrides if label not in explained]
    if overrides:
        ctx.add(codes.OVERRIDES_RUN, f"{name} overrides {', '.join(overrides)}; the KFP task runs what its "
                                     "arguments describe, without that code")
    for kind, _, message in inherits.notes:
        if plan is not None and kind == "guard" and message in plan.left:
            message += f" (not evaluated at run time: {plan.left[message]})"
        elif plan is not None and kind == "guard" and any(g["message"] == message for g in plan.guards):
            continue  # the guard component evaluates it (M320 below)
        ctx.add(_NOTE_CODES[kind], message)
    if plan is not None and plan.guards:
        listed = "; ".join(f"{g['raises']} when `{g['condition']}` ({g['where']})" for g in plan.guards)
        then = ["the task runs under dsl.If on its output, and the tasks after it follow their trigger rules as after "
                "a skip" if any(g["skips"] for g in plan.guards) else "the task runs after it"]
        if not all(g["skips"] for g in plan.guards):
            then.append("a fail guard that holds fails the guard task, as Airflow fails the task")
        ctx.add(GUARD_EVALUATED, f"{name}'s run-method guards are evaluated when the pipeline runs, by the guard "
                                 f"component {task.task_id + GUARD_SUFFIX!r} ({listed}): {'; '.join(then)}")


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
        carrier = ctx.producers.get(output_id(item.task_id, item.key))
        if carrier:
            count += 1
            if carrier not in SCALARS:
                ctx.add(codes.XCOM_AS_TEXT, f"the container's arguments read {item.task_id!r}'s XCom "
                                            f"{item.key!r} as JSON text")
            return Input(name=f"input_{count}", task_id=item.task_id, key=item.key)
        ctx.add(codes.XCOM_UNAVAILABLE, f"XCom {item.key!r} of {item.task_id!r} is used in the container's arguments")
        return f"<xcom {item.task_id}.{item.key}>"

    kfp.command = [wire(item) for item in kfp.command]
    kfp.args = [wire(item) for item in kfp.args]


def _cycle_finding(graph: nx.DiGraph, kfp: KfpTask, upstream: str, downstream: str) -> Finding:
    task = graph.nodes[downstream]["task"]
    entry = CODES[codes.CYCLE_EDGE_DROPPED]
    finding = Finding(code=entry.code, severity=entry.severity, message=f"{upstream} >> {downstream} closes a cycle; dropped",
                      suggestion=entry.help, file=task.file, line=task.line, dag_id=dag_info(graph).dag_id,
                      task_id=downstream)
    kfp.findings.append(finding)
    decide_fate(kfp)
    return finding


def _settle_fates(fates: dict[str, str], mapped: dict[str, KfpTask], findings: list[Finding]) -> None:
    """Every task's fate by :func:`~af2kfp.converters.mappings.base.fate_of` from every finding about it:
    its rule's, the template pass's, control flow's and the analyzer's."""
    about: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.task_id is not None:
            about.setdefault(finding.task_id, []).append(finding)
    for task_id in fates:
        kfp = mapped.get(task_id)
        fates[task_id] = fate_of(kfp.kind if kfp else None, about.get(task_id, ()))
        if kfp is not None:
            kfp.fate = fates[task_id]


def _guard(ctx: MapContext, task: AirflowTask, kfp: KfpTask, graph: nx.DiGraph,
           params: dict[str, PipelineParameter], config: Config) -> KfpTask | None:
    """The guard component ``task`` runs under (M320), or M284 back when its task cannot run under one."""
    assert task.inherits is not None
    plan = ctx.guards
    why = ("the task is a placeholder" if kfp.kind == "placeholder" else
           "its own component already reports a skip or a decision" if kfp.decision is not None else "")
    if why:
        kfp.findings = [f for f in kfp.findings if f.code != GUARD_EVALUATED]
        for guard in plan.guards:
            ctx.add(codes.RUN_GUARD, f"{guard['message']} (not evaluated at run time: {why})")
            kfp.findings.append(ctx.findings[-1])
        decide_fate(kfp)
        return None
    task_id = task.task_id + GUARD_SUFFIX
    while task_id in graph:
        task_id += "_"
    native = dag_info(graph).extra.get("render_template_as_native_obj") is True
    guard = guard_task(task, plan, params, config.environment, native, task_id, config.python_base_image)
    guard.loops = kfp.loops
    return guard


def _guarded(graph: nx.DiGraph, guards: dict[str, KfpTask], edges: list[tuple[str, str]]
             ) -> tuple[nx.DiGraph, list[tuple[str, str]]]:
    """The graph control flow works on, and the edges: each guard between its task and the task's upstream.

    The guard takes the task's trigger rule (it decides whether the task would start); the task then needs
    only its guard, which reports like a Python task that raised AirflowSkipException."""
    control = nx.DiGraph(graph)
    for task_id, guard in guards.items():
        task: AirflowTask = graph.nodes[task_id]["task"]
        preds = list(control.predecessors(task_id))
        control.add_node(guard.task_id, task=replace(task, task_id=guard.task_id))
        control.remove_edges_from([(p, task_id) for p in preds])
        control.add_edges_from([(p, guard.task_id) for p in preds] + [(guard.task_id, task_id)])
        args = {k: v for k, v in task.args.items() if k != "trigger_rule"}
        control.nodes[task_id]["task"] = replace(task, args=args)
    rewired = [(u, guards[v].task_id if v in guards else v) for u, v in edges]
    return control, rewired + [(guard.task_id, task_id) for task_id, guard in guards.items()]


def _guard_findings(found: list[Finding], guards: dict[str, KfpTask], mapped: dict[str, KfpTask]) -> list[Finding]:
    """Findings about a guard component are its Airflow task's (control flow names the guard)."""
    of = {guard.task_id: task_id for task_id, guard in guards.items()}
    for guard_id, task_id in of.items():
        moved = [replace(f, task_id=task_id) for f in mapped[guard_id].findings]
        mapped[guard_id].findings = []
        mapped[task_id].findings.extend(moved)
        decide_fate(mapped[task_id])
    return [replace(f, task_id=of[f.task_id]) if f.task_id in of else f for f in found]


def map_graph(graph: nx.DiGraph, config: Config | None = None, pipelines: dict[str, str] | None = None) -> MappedDag:
    """Every task mapped, folded tasks removed from the edges, every Airflow task given a fate.

    ``pipelines``: the DAGs converted together, dag_id -> KFP pipeline name (``None``: not known)."""
    config = config or Config()
    dag_id = dag_info(graph).dag_id
    params, found = _dag_parameters(dag_info(graph))
    flow = data_flow(graph)
    consumers = set(flow.consumers)
    returned = {t.task_id: keys for t in tasks(graph) if t.python is not None and t.task_id in consumers
                and (keys := returned_keys(t.python.source)) is not None}
    producers: dict[str, str | None] = {}
    mapped: dict[str, KfpTask] = {}
    fates: dict[str, str] = {}
    folded = nx.DiGraph(graph)
    guards: dict[str, KfpTask] = {}  # Airflow task id -> the guard component it runs under
    loops_of: dict[str, tuple[Loop, ...]] = {}
    line = {t.task_id: (t.line, t.task_id) for t in tasks(graph)}
    only_empty = bool(line) and all(_rule(t, config)[1] is empty for t in tasks(graph))
    for task in _order(graph):
        unlooped: list[str] = []
        around, loop_types = group_loops(dag_info(graph), task, producers, unlooped)
        kfp, ctx = map_task(task, dag_id=dag_id, config=config, consumers=consumers,
                            producers={**producers, **loop_types} if loop_types else producers,
                            params=params, downstream=_downstream(graph, task.task_id, line), around=around,
                            returned=returned, flow=flow, loops_of=loops_of, pipelines=pipelines,
                            schedule=schedule if isinstance(schedule := dag_info(graph).schedule, str) else None)
        if kfp is None and only_empty:  # nothing would be left to compile: keep them as no-op containers
            kfp = empty.noop(ctx)
        if kfp is not None and unlooped:
            for problem in unlooped:
                ctx.add(codes.DYNAMIC_MAPPING, f"{problem}; the task runs once")
            kfp.findings.extend(ctx.findings[-len(unlooped):])
            decide_fate(kfp)
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
        if ctx.guards is not None and ctx.guards.guards:
            guard = _guard(ctx, task, kfp, graph, params, config)
            if guard is not None:
                guards[task.task_id] = guard
        mapped[task.task_id] = kfp
        fates[task.task_id] = kfp.fate
        found.extend(kfp.findings)
        if kfp.decision is not None and kfp.decision.mode == "set":
            pass  # its outputs are the conditions' booleans, not an XCom a task can read
        elif kfp.kind == "python" and kfp.python is not None and kfp.python.xcoms():
            for key, carrier in kfp.python.xcoms().items():
                producers[output_id(task.task_id, key)] = carrier
        elif kfp.output:
            producers[task.task_id] = "str"
        if kfp.loops:
            loops_of[task.task_id] = kfp.loops
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
    control_graph, edges = _guarded(graph, guards, edges) if guards else (graph, edges)
    order = [i for task_id in order for i in ([guards[task_id].task_id] if task_id in guards else []) + [task_id]]
    mapped.update({guard.task_id: guard for guard in guards.values()})
    edges, subpipelines, control = apply_control_flow(control_graph, [mapped[i] for i in order], edges)
    found.extend(control)
    found = _guard_findings(found, guards, mapped)
    parameters = _pipeline_parameters(params, [mapped[i] for i in order])
    dates = run_context_plan(dag_info(graph), config, [mapped[i] for i in order], {p.name for p in parameters})
    if dates:
        found.extend(airflow2_dates(dag_info(graph), dates[0]))
    _settle_fates(fates, {k: v for k, v in mapped.items() if v.guard_of is None}, [*graph_findings(graph), *found])
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
