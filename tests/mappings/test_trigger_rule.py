"""TriggerDagRunOperator rule: what it flags and how the component finds the target's pipeline."""

from __future__ import annotations

from af2kfp.converters.config import Config
from af2kfp.converters.mappings import map_task
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.mappings.model import Input, Template
from af2kfp.converters.mappings.trigger import TRIGGER
from af2kfp.converters.templating import ParamRef, PipelineParameter
from af2kfp.converters.values import Symbolic, TaskRef


def _map(pipelines=None, producers=None, params=None, **args):
    task = example_task(TRIGGER, "trigger", **args)
    kfp, _ = map_task(task, dag_id="parent", config=Config(), producers=producers or {}, params=params or {},
                      pipelines=pipelines)
    return kfp


def test_a_target_in_the_converted_set_is_named_as_converted():
    kfp = _map(pipelines={"orders_child": "orders-child"}, trigger_dag_id="orders_child")
    assert kfp.arguments["pipeline_name"] == "orders-child" and kfp.findings == [] and kfp.fate == "converted"
    assert kfp.arguments["run_name"] == "orders_child (triggered by parent.trigger)"


def test_a_target_outside_the_converted_set_is_m300():
    kfp = _map(pipelines={"parent": "parent"}, trigger_dag_id="Orders.Archive")
    assert [f.code for f in kfp.findings] == ["M300"] and kfp.arguments["pipeline_name"] == "orders-archive"


def test_a_rendered_target_is_m301_and_named_as_converted_at_run_time():
    target = PipelineParameter(name="target", default="orders_child")
    kfp = _map(pipelines={}, params={"target": target}, trigger_dag_id="{{ params.target }}")
    assert [f.code for f in kfp.findings] == ["M301"]
    assert kfp.arguments["pipeline_name"] == Template(name="pipeline_name", parts=(ParamRef("target"),))
    assert 'pipeline_name = re.sub(r"[^0-9a-z]+", "-", pipeline_name.lower()).strip("-")' in kfp.python.code


def test_conf_parts_that_cannot_be_passed_are_m302_and_the_rest_is_exact():
    kfp = _map(trigger_dag_id="child", producers={"ids": "json"},
               conf={"ids": TaskRef(task_id="ids"), "gone": TaskRef(task_id="nowhere"), "n": 3,
                     "deep": {"day": "{{ ds }}"}, "who": Symbolic(source="owner()")})
    assert sorted(f.code for f in kfp.findings) == ["M205", "M302", "M302"]
    assert kfp.arguments["conf"] == '{"n": 3, "deep": {"day": "{{ ds }}"}}'
    assert kfp.arguments["conf_ids"] == Input(name="conf_ids", task_id="ids")
    assert '    conf["ids"] = json.loads(conf_ids)\n' in kfp.python.code


def test_a_whole_conf_from_an_upstream_task_is_loaded():
    kfp = _map(trigger_dag_id="child", producers={"build_conf": "json"}, conf=TaskRef(task_id="build_conf"))
    assert kfp.findings == [] and "    conf = json.loads(conf_value)\n" in kfp.python.code
