"""The fallback's runner as a file of its own: it needs nothing of af2kfp, reads what af2kfp's JSON
encodes, and the module that carries it stays safe to import."""

from __future__ import annotations

import ast
import datetime as dt
import sys

import pytest

from af2kfp.converters.emit.safety import check_module
from af2kfp.converters.runtime import FILES, RUNNER_FILE, airflow_operator_runner, file_text
from af2kfp.converters.values import Call, DateTime, Duration, Symbolic, to_json

RUNNER = airflow_operator_runner()


def _runner_module():
    namespace = {"__name__": "airflow_operator_runner"}  # not "__main__": define, do not run
    exec(compile(RUNNER, RUNNER_FILE, "exec"), namespace)
    return namespace


def test_the_runner_imports_only_the_standard_library_and_airflow():
    imported = set()
    for node in ast.walk(ast.parse(RUNNER)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"airflow"}


def test_the_runner_decodes_what_af2kfp_encodes():
    module = _runner_module()
    decode = module["decode"]
    value = {"every": Duration(seconds=90), "since": DateTime(iso="2024-03-05T02:30:00+00:00"),
             "window": Call(func="datetime.timedelta", kwargs={"hours": 2}), "odd": {"$ref": [1, "a"]}}
    assert decode(to_json(value)) == {
        "every": dt.timedelta(seconds=90), "since": dt.datetime(2024, 3, 5, 2, 30, tzinfo=dt.timezone.utc),
        "window": dt.timedelta(hours=2), "odd": {"$ref": [1, "a"]}}
    with pytest.raises(module["RunnerError"], match="pass it with --set"):
        decode(to_json({"sql": Symbolic(source="build_sql(table)")}))


def test_the_runner_puts_run_values_at_json_pointers():
    module = _runner_module()
    document = {"sql": {"$symbolic": "x"}, "parameters": {"limit": None}, "a/b": [0, 1]}
    done = module["apply_values"](document, [["/sql", "select 1"], ["/a~1b/1", "z"]], [["/parameters/limit", "5"]])
    assert done == {"sql": "select 1", "parameters": {"limit": 5}, "a/b": [0, "z"]}
    with pytest.raises(module["RunnerError"], match="no such argument"):
        module["apply_values"]({"sql": "x"}, [["/nope", "1"]], [])


def test_only_the_runners_file_may_be_read_at_import():
    read = 'Path(__file__).with_name("{}").read_text(encoding="utf-8")'
    head = "from pathlib import Path\n\nfrom kfp import dsl\n\n"
    assert check_module(head + f"AIRFLOW_OPERATOR_RUNNER = {read.format(RUNNER_FILE)}\n") == []
    problems = check_module(head + f"OTHER = {read.format('secrets.txt')}\n")
    assert problems == ["line 5: Assign at module level"]
    with pytest.raises(ValueError, match="not a file af2kfp ships"):
        file_text("secrets.txt")
    assert FILES == (RUNNER_FILE,)
