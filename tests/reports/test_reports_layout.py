"""The shared layered layout: layers follow edges, groups stay together, both sides use the same places."""

import xml.etree.ElementTree as ET

from kfp import compiler, dsl

from af2kfp.converters.reports.layout import NODE_H, NODE_W, layered_layout
from af2kfp.converters.reports.sources import kfp_groups
from af2kfp.converters.reports.svg import dag_graphs
from tests.reports import crafted as c

SVG = ""  # the inline SVG carries no xmlns: HTML parsers put it in the SVG namespace themselves


def test_every_edge_points_down_and_nodes_do_not_overlap():
    nodes = ["a", "b", "c", "d", "e", "f"]
    edges = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("a", "e"), ("d", "f"), ("e", "f")]
    layout = layered_layout(nodes, edges)
    for u, v in edges:
        assert layout.positions[u][1] < layout.positions[v][1], (u, v)
    placed = list(layout.positions.values())
    for i, (x1, y1) in enumerate(placed):
        for x2, y2 in placed[i + 1:]:
            assert abs(x1 - x2) >= NODE_W or abs(y1 - y2) >= NODE_H
    assert all(0 <= x - NODE_W / 2 and x + NODE_W / 2 <= layout.width for x, _ in placed)


def test_a_cycle_still_lays_out():
    layout = layered_layout(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")])
    assert len(layout.positions) == 3


def test_group_boxes_hold_their_members_and_no_other_node():
    nodes = ["start", "g.x", "g.y", "h.x", "h.y", "end"]
    edges = [("start", "g.x"), ("start", "h.x"), ("g.x", "g.y"), ("h.x", "h.y"), ("g.y", "end"), ("h.y", "end"),
             ("start", "h.y")]
    groups = {"g.x": ("g",), "g.y": ("g",), "h.x": ("h",), "h.y": ("h",)}
    layout = layered_layout(nodes, edges, groups=groups)
    assert {b.path for b in layout.boxes} == {("g",), ("h",)}
    for box in layout.boxes:
        for node, (x, y) in layout.positions.items():
            inside = box.x <= x - NODE_W / 2 and x + NODE_W / 2 <= box.x + box.w and box.y <= y - NODE_H / 2 <= box.y + box.h
            assert inside == (groups.get(node) == box.path), (box.path, node)


def _rects(svg: str) -> dict[str, tuple[str, str]]:
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(f"{SVG}g"):
        if "node" in (g.get("class") or "").split():
            rect = [r for r in g.findall(f"{SVG}rect") if r.get("class") != "stack"][0]
            out[g.get("data-k")] = (rect.get("x"), rect.get("y"))
    return out


def test_both_graphs_place_each_task_at_the_same_spot():
    tasks = [c.task("a"), c.task("skip", "folded", label="EmptyOperator"), c.task("grp.b", group=["grp"]), c.task("grp.c", group=["grp"])]
    dag = c.dag("d", tasks, [("a", "skip"), ("skip", "grp.b"), ("skip", "grp.c")])
    dag["kfp"]["edges"] = [["a", "grp-b"], ["a", "grp-c"]]
    graphs = dag_graphs(dag)
    left, right = _rects(graphs.airflow_svg), _rects(graphs.kfp_svg)
    assert (graphs.airflow_nodes, graphs.kfp_nodes) == (4, 3)
    assert set(right) == set(left) - {"t1"}
    assert all(right[k] == left[k] for k in right)
    assert 'class="ghost"' in graphs.kfp_svg and "TaskGroup grp" in graphs.airflow_svg and "TaskGroup grp" in graphs.kfp_svg


def test_branch_and_mapped_tasks_are_marked():
    tasks = [c.task("pick", operator="airflow.providers.standard.operators.python.BranchPythonOperator",
                    label="BranchPythonOperator"), c.task("each", label="@task")]
    dag = c.dag("d", tasks, [("pick", "each")])
    dag["graph"]["tasks"] = [{"task_id": "each", "mapped": {"partial": {}, "expand": {"x": [1, 2]}, "expand_kwargs": None}}]
    graphs = dag_graphs(dag)
    assert graphs.airflow_svg.count('class="diamond"') == 1 and graphs.kfp_svg.count('class="diamond"') == 1
    assert 'class="edge branch-edge"' in graphs.airflow_svg
    assert 'class="stack"' in graphs.airflow_svg and "expand()" in graphs.airflow_svg


@dsl.component(base_image="python:3.11")
def _pick() -> str:
    return "a"


@dsl.component(base_image="python:3.11")
def _work(item: int):
    print(item)


@dsl.pipeline(name="flow")
def _flow():
    choice = _pick()
    with dsl.If(choice.output == "a"):
        with dsl.ParallelFor([1, 2]) as item:
            _work(item=item)


def test_kfp_control_flow_groups_come_from_the_compiled_yaml(tmp_path):
    target = tmp_path / "flow.yaml"
    compiler.Compiler().compile(_flow, str(target))
    text = target.read_text()
    groups = kfp_groups(text)
    assert groups["pick"] == ()
    assert [label.split()[0] for _, label in groups["work"]] == ["If", "ParallelFor"]
    tasks = [c.task("pick"), c.task("work")]
    kfp = [dict(c.kfp_task(tasks[0]), name="pick"), dict(c.kfp_task(tasks[1]), name="work")]
    graphs = dag_graphs(c.dag("d", tasks, [("pick", "work")], kfp_tasks=kfp), text)
    assert graphs.kfp_svg.count('class="group flow"') == 2 and "ParallelFor" in graphs.kfp_svg
