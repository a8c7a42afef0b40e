"""Airflow's exception classes inside a Python component: every import path real DAGs use.

Each case maps a callable, checks the findings (no M221: the component defines the classes it
uses), then runs the generated ``def`` as its container would and checks what the unchanged
body raised or reported. AirflowSkipException becomes a reported skip (``Decision(mode="skip")``)
whose conditions each trigger rule then applies.
"""

from __future__ import annotations

import ast
import json
import textwrap

import pytest

from af2kfp.converters.config import Config
from af2kfp.converters.graph import PythonCallable
from af2kfp.converters.mappings import map_task
from af2kfp.converters.mappings.airflow_exceptions import Provided, uses
from af2kfp.converters.mappings.conditions import conditions
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.mappings.model import Decision

PYTHON = "airflow.providers.standard.operators.python.PythonOperator"
TASK = "airflow.sdk.task"


def _map(source: str, *, imports=(), operator=PYTHON, constants=None, **args):
    source = textwrap.dedent(source).lstrip()
    name = source.split("(")[0].split()[-1]
    python = PythonCallable(name=name, source=source, file="dags/f.py", line=1, imports=list(imports),
                            constants=constants or {})
    task = example_task(operator, "use", python=python, python_callable=name, **args)
    kfp, ctx = map_task(task, dag_id="sales", config=Config())
    assert kfp is not None and kfp.python is not None
    return kfp, [f.code for f in ctx.findings]


def _component(kfp):
    namespace: dict = {}
    exec(kfp.python.code.replace("__AF2KFP_NAME__", "component"), namespace)  # generated code, not the DAG's
    return namespace["component"]


FAIL = '''
    def use(n: int):
        try:
            if n > 2:
                raise {raise_}("too many")
        except {catch} as error:
            print("caught", type(error).__name__, [b.__name__ for b in type(error).__mro__[1:3]])
            raise
        return n
'''
PATHS = [  # (module imports, body import, the name raised, the name caught)
    (["from airflow.exceptions import AirflowFailException, AirflowException"], "", "AirflowFailException",
     "AirflowException"),
    (["from airflow.sdk.exceptions import AirflowFailException as Fail, AirflowException"], "", "Fail",
     "AirflowException"),
    (["import airflow.exceptions"], "", "airflow.exceptions.AirflowFailException", "airflow.exceptions.AirflowException"),
    (["import airflow.exceptions as errors"], "", "errors.AirflowFailException", "errors.AirflowException"),
    (["from airflow import exceptions"], "", "exceptions.AirflowFailException", "exceptions.AirflowException"),
    ([], "from airflow.exceptions import AirflowFailException, AirflowException", "AirflowFailException",
     "AirflowException"),
    ([], "import airflow.exceptions", "airflow.exceptions.AirflowFailException", "airflow.exceptions.AirflowException"),
]


@pytest.mark.parametrize("imports, local, raise_, catch", PATHS)
def test_every_import_path_raises_airflows_class(imports, local, raise_, catch, capsys):
    source = FAIL.format(raise_=raise_, catch=catch)
    if local:
        source = source.replace("    def use(n: int):\n", f"    def use(n: int):\n        {local}\n\n", 1)
    kfp, found = _map(source, imports=imports, op_kwargs={"n": 3})
    assert found == []  # no M221, no M212: nothing of Airflow is imported in the component
    assert "import airflow" not in kfp.python.code and "from airflow" not in kfp.python.code
    component = _component(kfp)
    assert component(n=1) == 1
    with pytest.raises(Exception) as raised:
        component(n=3)
    assert type(raised.value).__name__ == "AirflowFailException" and str(raised.value) == "too many"
    assert "caught AirflowFailException ['AirflowException', 'Exception']" in capsys.readouterr().out
    assert kfp.decision is None


def test_fail_exception_with_retries_says_kfp_retries():
    source = FAIL.format(raise_="AirflowFailException", catch="ValueError")
    imports = ["from airflow.exceptions import AirflowFailException"]
    assert _map(source, imports=imports, op_kwargs={"n": 1})[1] == []
    assert _map(source, imports=imports, op_kwargs={"n": 1}, retries=3)[1] == ["M295"]


def test_a_class_the_component_does_not_define_stays_an_airflow_import():
    kfp, found = _map('''
        def use():
            raise AirflowRescheduleException(None)
    ''', imports=["from airflow.exceptions import AirflowRescheduleException"])
    assert found == ["M221"]
    assert "from airflow.exceptions import AirflowRescheduleException" in kfp.python.code


SKIP = '''
    def use(files: list):
        print("found", len(files))
        if not files:
            raise AirflowSkipException("nothing new")
        return {"files": files}
'''


def test_skip_reports_whether_the_task_ran_and_keeps_its_value():
    kfp, found = _map(SKIP, imports=["from airflow.exceptions import AirflowSkipException"],
                      op_kwargs={"files": ["a.csv"]})
    assert found == ["M294"]
    assert kfp.decision == Decision(mode="skip", flag="not_skipped")
    assert kfp.python.outputs == {"return_value": ("return_value", "json")}
    assert kfp.python.skip_output == "not_skipped" and kfp.python.xcoms() == {"return_value": "json"}
    component = _component(kfp)
    value, ran = component(files=["a.csv"])
    assert json.loads(value) == {"files": ["a.csv"]} and ran is True
    assert component(files=[]) == ("null", False)  # a reader gets None, as Airflow hands it


def test_skip_in_a_task_returning_nothing_is_its_single_output():
    kfp, found = _map('''
        def use(n: int):
            if n == 0:
                raise AirflowSkipException()
            print(n)
    ''', imports=["from airflow.exceptions import AirflowSkipException"], op_kwargs={"n": 0})
    assert found == ["M294"]
    assert kfp.decision == Decision(mode="skip", flag=None)
    assert kfp.python.returns == "bool" and kfp.python.xcoms() == {}
    component = _component(kfp)
    assert component(n=0) is False and component(n=2) is True


def test_skip_raised_by_a_copied_helper_counts():
    helper = 'def ensure(n):\n    if n == 0:\n        raise AirflowSkipException("empty")\n'
    kfp, found = _map('''
        def use(n: int):
            ensure(n)
            return n
    ''', imports=["from airflow.exceptions import AirflowSkipException"], constants={"ensure": helper},
        op_kwargs={"n": 0})
    assert found == ["M294"] and kfp.decision is not None
    assert _component(kfp)(n=0) == ("null", False)


def test_skip_only_caught_is_no_skip():
    kfp, found = _map('''
        def use():
            try:
                return 1
            except AirflowSkipException:
                return 0
    ''', imports=["from airflow.exceptions import AirflowSkipException"])
    assert found == [] and kfp.decision is None


def test_skip_caught_and_raised_again_is_a_skip():
    kfp, found = _map('''
        def use(n: int):
            try:
                check(n)
            except AirflowSkipException:
                print("nothing to do")
                raise
    ''', imports=["from airflow.exceptions import AirflowSkipException"],
        constants={"check": "def check(n):\n    if not n:\n        raise AirflowSkipException()\n"},
        op_kwargs={"n": 0})
    assert found == ["M294"] and kfp.decision == Decision(mode="skip", flag=None)
    assert _component(kfp)(n=0) is False
    caught_only = ast.parse("try:\n    run()\nexcept Skip:\n    print('no')\n")
    raised_again = ast.parse("try:\n    run()\nexcept (Skip, ValueError) as error:\n    raise error\n")
    provided = Provided(classes={"Skip": "AirflowSkipException"})
    assert uses(provided, [caught_only]) == set() and uses(provided, [raised_again]) == {"AirflowSkipException"}


def test_skip_in_a_subprocess_fails_as_in_airflow():
    """@task.virtualenv runs the callable in a subprocess: Airflow fails the task on the raise, as KFP does."""
    kfp, found = _map(SKIP, imports=["from airflow.exceptions import AirflowSkipException"],
                      operator="airflow.sdk.task.virtualenv", call_kwargs={"files": []})
    assert "M294" not in found and "M296" not in found and kfp.decision is None


def test_skip_in_a_branch_is_not_carried():
    kfp, found = _map('''
        def use(n: int):
            if n == 0:
                raise AirflowSkipException()
            return "a"
    ''', imports=["from airflow.exceptions import AirflowSkipException"],
        operator="airflow.providers.standard.operators.python.BranchPythonOperator")
    assert "M296" in found and kfp.decision is not None and kfp.decision.mode == "choice"


def test_trigger_rules_after_a_skipping_task():
    """Airflow skips only the task; each task after it applies its trigger rule to a skipped upstream."""
    import networkx as nx

    from af2kfp.converters.mappings.example import example_task as task

    graph = nx.DiGraph()
    rules = {"check": None, "load": None, "audit": "all_done", "join": "none_failed", "after_load": None,
             "either": "one_success", "never": "none_skipped"}
    for task_id, rule in rules.items():
        graph.add_node(task_id, task=task(PYTHON, task_id, **({"trigger_rule": rule} if rule else {})))
    graph.add_edges_from([("check", "load"), ("load", "after_load"), ("check", "audit"), ("load", "join"),
                          ("check", "either"), ("check", "never")])
    needed, wider = conditions(graph, {"check": Decision(mode="skip", flag="not_skipped")})
    ran = {("check", None): frozenset({True})}
    assert needed == {"check": {}, "load": ran, "after_load": ran, "audit": {}, "join": {}, "either": ran,
                      "never": ran}
    assert wider == set()


def test_skip_in_a_mapped_task_is_not_carried():
    from dataclasses import replace

    from af2kfp.converters.graph import Mapped

    python = PythonCallable(name="use", source=textwrap.dedent(SKIP).lstrip(), file="dags/f.py", line=1,
                            imports=["from airflow.exceptions import AirflowSkipException"])
    task = replace(example_task(TASK, "use", python=python), mapped=Mapped(expand={"files": [["a"], []]}))
    kfp, ctx = map_task(task, dag_id="sales", config=Config())
    assert "M296" in [f.code for f in ctx.findings] and kfp.decision is None
