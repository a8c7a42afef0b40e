"""KFP control-flow boxes in the report: labels say what each block does, read from a really
compiled pipeline, and every box fits its drawing without hiding a task.

No ``from __future__ import annotations`` here: KFP reads the components' annotations as types."""

import xml.etree.ElementTree as ET

import pytest
import yaml
from kfp import compiler, dsl

from af2kfp.converters.emit.spec_tasks import spec_tasks
from af2kfp.converters.reports.sources import kfp_groups
from af2kfp.converters.reports.svg import dag_graphs

_LABEL_CHAR_W = 6.2  # px: a generous average character width of a 10px bold label, as svg.py assumes
SVG = ""  # the inline SVG carries no xmlns: HTML parsers put it in the SVG namespace themselves


@dsl.component(base_image="python:3.11")
def _pick() -> str:
    return "a"


@dsl.component(base_image="python:3.11")
def _count() -> int:
    return 1


@dsl.component(base_image="python:3.11")
def _parts() -> list:
    return ["p1", "p2"]


@dsl.component(base_image="python:3.11")
def _work(item: str):
    print(item)


@dsl.component(base_image="python:3.11")
def _cleanup():
    print("done")


@dsl.pipeline(name="arms")
def _arms(follow: bool):
    with dsl.If(follow == True):  # noqa: E712 - a KFP condition, not a Python comparison
        _work(item="in-sub-pipeline")


@dsl.pipeline(name="flow")
def _flow(regions: list = ["emea", "amer"]):
    cleanup = _cleanup()
    with dsl.ExitHandler(exit_task=cleanup):
        choice = _pick()
        with dsl.If(choice.output == "a"):
            with dsl.ParallelFor(["x", "y", "z"], parallelism=2) as item:
                _work(item=item).set_display_name("each-literal")
        with dsl.Elif(choice.output == "b"):
            parts = _parts()
            with dsl.ParallelFor(parts.output) as part:
                _work(item=part).set_display_name("each-part")
        with dsl.Else():
            with dsl.ParallelFor(regions) as region:
                _work(item=region).set_display_name("each-region")
        count = _count()
        with dsl.If(count.output > 1):
            _arms(follow=True)


@pytest.fixture(scope="module")
def flow_groups(tmp_path_factory) -> dict[str, list[str]]:
    """Display name of each leaf task -> the labels of the groups around it."""
    target = tmp_path_factory.mktemp("groups") / "flow.yaml"
    compiler.Compiler().compile(_flow, str(target))
    text = target.read_text()
    spec = next(yaml.safe_load_all(text))
    display = {t.key: t.display for t in spec_tasks(spec)}
    return {display[key]: [label for _, label in groups] for key, groups in kfp_groups(text).items()}


def test_branch_arms_say_their_condition(flow_groups):
    exit_label = "ExitHandler (exit task cleanup)"
    assert flow_groups["each-literal"] == [exit_label, "If/Elif/Else on pick", "If pick == 'a'",
                                           "ParallelFor over 3 items, 2 at a time"]
    assert flow_groups["each-part"] == [exit_label, "If/Elif/Else on pick", "Elif pick == 'b'", "ParallelFor over parts"]
    assert flow_groups["parts"] == [exit_label, "If/Elif/Else on pick", "Elif pick == 'b'"]
    assert flow_groups["each-region"] == [exit_label, "If/Elif/Else on pick", "Else", "ParallelFor over regions"]


def test_sub_pipeline_and_its_parameters_are_named_as_written(flow_groups):
    assert flow_groups["work"] == ["ExitHandler (exit task cleanup)", "If count > 1", "sub-pipeline arms",
                                   "If follow == true"]
    assert flow_groups["count"] == ["ExitHandler (exit task cleanup)"]
    assert flow_groups["cleanup"] == []


def test_groups_with_the_same_label_stay_apart(tmp_path):
    @dsl.pipeline(name="twice")
    def twice():
        choice = _pick()
        with dsl.If(choice.output == "a"):
            _work(item="first")
        with dsl.If(choice.output == "a"):
            _work(item="second")

    target = tmp_path / "twice.yaml"
    compiler.Compiler().compile(twice, str(target))
    groups = kfp_groups(target.read_text())
    first, second = groups["work"], groups["work-2"]
    assert [label for _, label in first] == [label for _, label in second] == ["If pick == 'a'"]
    assert first[0][0] != second[0][0]


def _viewbox(svg: ET.Element) -> tuple[float, float]:
    _, _, w, h = (float(v) for v in svg.get("viewBox").split())
    return w, h


def _groups(svg: ET.Element) -> list[tuple[tuple[float, float, float, float], str, str, float]]:
    """Each group box: (x0, y0, x1, y1), the shown label, the whole label (its tooltip), the label's width
    (its ``textLength`` when squeezed to fit, else a generous estimate)."""
    out = []
    for g in svg.iter(f"{SVG}g"):
        if "group" in (g.get("class") or "").split():
            r = g.find(f"{SVG}rect")
            x, y = float(r.get("x")), float(r.get("y"))
            text = g.find(f"{SVG}text")
            out.append(((x, y, x + float(r.get("width")), y + float(r.get("height"))), text.text, g.find(f"{SVG}title").text,
                        float(text.get("textLength") or _LABEL_CHAR_W * len(text.text))))
    return out


def _nodes(svg: ET.Element) -> list[tuple[float, float, float, float]]:
    out = []
    for g in svg.iter(f"{SVG}g"):
        if "node" in (g.get("class") or "").split():
            r = [r for r in g.findall(f"{SVG}rect") if r.get("class") != "stack"][0]
            x, y = float(r.get("x")), float(r.get("y"))
            out.append((x, y, x + float(r.get("width")), y + float(r.get("height"))))
    return out


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_control_flow_boxes_fit_the_drawing_and_hide_no_task(samples):
    out, report = samples
    dag = next(d for d in report["dags"] if d["dag_id"] == "regional_refresh_control_flow")
    graphs = dag_graphs(dag, (out / dag["kfp"]["yaml"]).read_text())
    airflow, kfp = ET.fromstring(graphs.airflow_svg), ET.fromstring(graphs.kfp_svg)
    assert _viewbox(airflow) == _viewbox(kfp)  # same size: the tasks line up side by side
    width, height = _viewbox(kfp)
    boxes, nodes = _groups(kfp), _nodes(kfp)
    assert {full.split()[0] for _, _, full, _ in boxes} == {"ExitHandler", "If", "ParallelFor", "sub-pipeline"}
    assert "ExitHandler (exit task release-warehouse)" in {full for _, _, full, _ in boxes}
    labels = {full for _, _, full, _ in boxes}
    assert {"If has-new-data == true", "ParallelFor over list-partitions", "If follow_load_amer == true"} <= labels
    assert any(label.startswith("sub-pipeline pick-regions") for label in labels)
    assert "If follow_load_amer == true" in {shown for _, shown, _, _ in boxes}  # squeezed a little, not cut
    for (x0, y0, x1, y1), shown, full, text_width in boxes:
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, full
        assert shown == full or (shown.endswith("\u2026") and full.startswith(shown[:-1])), (shown, full)
        label = (x0, y0, x0 + 8 + text_width, y0 + 16)
        assert label[2] <= x1 and not any(_overlap(label, n) for n in nodes), full
    for a, *_ in boxes:  # boxes nest or stay apart: no label of one lies over another's content
        for b, *_ in boxes:
            nested = (a[0] <= b[0] and a[1] <= b[1] and b[2] <= a[2] and b[3] <= a[3]) or \
                     (b[0] <= a[0] and b[1] <= a[1] and a[2] <= b[2] and a[3] <= b[3])
            assert nested or not _overlap(a, b), (a, b)
    for x0, y0, x1, y1 in nodes + _nodes(airflow):
        assert 0 <= x0 and x1 <= width and 0 <= y0 and y1 <= height
