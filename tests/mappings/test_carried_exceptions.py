"""Airflow's exception classes and TriggerRule in repository helper code copied into a component.

A team's ``checks`` module raises AirflowSkipException/AirflowFailException and catches
AirflowConfigException; its ``rules`` module picks a TriggerRule. Copied into the component
(af2kfp.converters.analysis.carry, af2kfp.converters.mappings.carried), they are served by the classes the
component defines for the callable (af2kfp.converters.mappings.airflow_exceptions): one definition
each, so a skip raised in the helper is the task's skip (M294), a fail its fail, and an
``except`` in the callable catches what the helper raised. The TriggerRule stand-in is compared
with Airflow's own enum.
"""

from __future__ import annotations

import json

import pytest

from tests.mappings.test_carried import _codes, _mapped, _repo, _run

HELPERS = {
    "team/__init__.py": "",
    "team/checks.py": '''
        """Guards the tasks call before they work."""
        from airflow.exceptions import AirflowConfigException, AirflowFailException
        from airflow.exceptions import AirflowSkipException as Skip

        LIMITS = {"orders": 3}


        def require_rows(rows):
            if not rows:
                raise Skip("no rows today")
            return len(rows)


        def within_limit(table, count):
            try:
                limit = LIMITS[table]
            except KeyError:
                raise AirflowConfigException(f"no limit for {table}")
            if count > limit:
                raise AirflowFailException(f"{count} rows in {table}, limit {limit}")
            return count
        ''',
    "team/rules.py": '''
        from airflow.utils.trigger_rule import TriggerRule

        CLEANUP_RULE = TriggerRule.ALL_DONE


        def rule_for(optional):
            return TriggerRule.NONE_FAILED if optional else CLEANUP_RULE
        ''',
}


@pytest.fixture
def mapped(tmp_path):
    folder = _repo(tmp_path, HELPERS, "from airflow.exceptions import AirflowException, AirflowSkipException\n"
                                      "from team.checks import require_rows, within_limit\n"
                                      "from team.rules import rule_for, CLEANUP_RULE", '''
        @task
        def count(rows: list) -> int:
            return require_rows(rows)

        @task
        def guarded(table: str, rows: list) -> str:
            try:
                return f"ok {within_limit(table, len(rows))}"
            except AirflowException as error:
                return f"{type(error).__name__}: {error}"

        @task
        def checked(table: str, rows: list) -> int:
            if table == "skip":
                raise AirflowSkipException("asked to")
            return within_limit(table, require_rows(rows))

        @task
        def rules() -> list:
            return [rule_for(True), rule_for(False), str(CLEANUP_RULE), CLEANUP_RULE.value,
                    CLEANUP_RULE == "all_done"]
        ''', 'count([1])\n    guarded("orders", [1])\n    checked("orders", [1])\n    rules()')
    return _mapped(folder)


def test_a_skip_raised_in_a_helper_is_the_tasks_skip(mapped):
    task, ctx = mapped["count"]
    codes = sorted(f.code for f in ctx.findings)
    assert "M264" not in codes and "M221" not in codes, [f.message for f in ctx.findings]
    assert "M294" in codes and task.decision is not None  # the skip is carried as the callable's would be
    code = task.python.code
    assert code.count("class AirflowSkipException(") == 1 and "Skip = AirflowSkipException" in code
    assert "airflow" not in "\n".join(line for line in code.splitlines() if "import" in line)
    value, ran = _run(task.python, rows="[]")
    assert (value, ran) == ("null", False)
    value, ran = _run(task.python, rows="[1, 2]")
    assert json.loads(value) == 2 and ran is True


def test_the_callables_except_catches_what_the_helper_raises(mapped):
    task, ctx = mapped["guarded"]
    assert _codes(ctx) == ["M266"], [f.message for f in ctx.findings]
    code = task.python.code
    for name in ("AirflowException", "AirflowFailException", "AirflowConfigException"):
        assert code.count(f"class {name}(") == 1, name
    assert _run(task.python, table="orders", rows="[1]") == "ok 1"
    assert _run(task.python, table="orders", rows="[1, 1, 1, 1, 1]") == "AirflowFailException: 5 rows in orders, limit 3"
    with pytest.raises(Exception) as raised:  # AirflowConfigException is no AirflowException, as in Airflow
        _run(task.python, table="users", rows="[1]")
    assert type(raised.value).__name__ == "AirflowConfigException"


def test_callable_and_helper_share_one_definition_of_each_class(mapped):
    task, ctx = mapped["checked"]
    code = task.python.code
    assert code.count("class AirflowSkipException(") == 1 and code.count("class AirflowException(") == 1
    assert "M294" in [f.code for f in ctx.findings]
    assert _run(task.python, table="skip", rows="[1]") == ("null", False)  # the callable's own skip
    assert _run(task.python, table="orders", rows="[]") == ("null", False)  # the helper's, same class
    with pytest.raises(Exception) as raised:
        _run(task.python, table="orders", rows="[1, 1, 1, 1]")
    assert type(raised.value).__name__ == "AirflowFailException"


def test_trigger_rule_stand_in_has_airflows_values(mapped):
    from airflow.utils.trigger_rule import TriggerRule

    task, ctx = mapped["rules"]
    assert _codes(ctx) == ["M266"], [f.message for f in ctx.findings]
    assert json.loads(_run(task.python)) == [TriggerRule.NONE_FAILED, TriggerRule.ALL_DONE, str(TriggerRule.ALL_DONE),
                                             "all_done", True]
    namespace: dict = {}
    exec(task.python.code.replace("__AF2KFP_NAME__", "component"), namespace)  # noqa: S102 - our generated code
    stand_in = _stand_in_class(task.python.code)
    assert {m.name: m.value for m in stand_in} == {m.name: m.value for m in TriggerRule}
    assert stand_in.is_valid("one_done") and stand_in.all_triggers() == TriggerRule.all_triggers()


def _stand_in_class(code: str):
    """The component's TriggerRule class, defined alone (the component's lines before the copied code)."""
    import ast

    function = ast.parse(code.replace("__AF2KFP_NAME__", "component")).body[0]
    namespace: dict = {}
    for statement in function.body:
        if isinstance(statement, ast.Import) or isinstance(statement, ast.ClassDef) and statement.name == "TriggerRule":
            exec(compile(ast.Module(body=[statement], type_ignores=[]), "<component>", "exec"), namespace)  # noqa: S102
    return namespace["TriggerRule"]


def test_airflow2_members_the_stand_in_lacks_are_a_finding(tmp_path):
    files = {"team/__init__.py": "", "team/rules.py": '''
        from airflow.utils.trigger_rule import TriggerRule

        LEGACY = TriggerRule.NONE_FAILED_OR_SKIPPED
        '''}
    folder = _repo(tmp_path, files, "from team.rules import LEGACY", '''
        @task
        def legacy() -> str:
            return LEGACY
        ''', "legacy()")
    _, ctx = _mapped(folder)["legacy"]
    assert "M269" in [f.code for f in ctx.findings]


def test_a_helper_python_cannot_parse_says_where_and_why(tmp_path):
    files = {"team/__init__.py": "", "team/broken.py": "def label(n):\n    return f'{n' \n"}
    folder = _repo(tmp_path, files, "from team.broken import label", '''
        @task
        def use() -> str:
            return label(1)
        ''', "use()")
    _, ctx = _mapped(folder)["use"]
    (message,) = [f.message for f in ctx.findings if f.code == "M264"]
    assert "team/broken.py: does not parse with Python 3." in message and "(line 2: " in message, message
