"""Reading specs: task order, what kfp.local may execute, package formats."""

from __future__ import annotations

from typing import Any

import pytest

from af2kfp.bridge.kfp_server.specs import SpecError, is_lightweight_python, load_package, root_tasks


def _spec(tasks: dict[str, Any], executors: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "pipelineInfo": {"name": "p"},
        "root": {"dag": {"tasks": tasks}},
        "deploymentSpec": {"executors": executors or {}},
    }


def test_root_tasks_in_topological_order() -> None:
    diamond = {
        "join": {"dependentTasks": ["left", "right"]},
        "right": {"dependentTasks": ["start"]},
        "left": {"dependentTasks": ["start"]},
        "start": {},
    }
    assert root_tasks(_spec(diamond)) == ["start", "left", "right", "join"]
    assert root_tasks({"pipeline_spec": _spec(diamond), "platform_spec": {}})[0] == "start"


def test_lightweight_python_detection(spec: dict[str, Any]) -> None:
    assert is_lightweight_python(spec)
    containerized = {"e": {"container": {"command": ["python3", "-m", "kfp.dsl.executor_main"]}}}
    assert not is_lightweight_python(_spec({}, containerized))
    assert not is_lightweight_python(_spec({}, {"e": {"importer": {}}}))
    assert not is_lightweight_python(_spec({}))


def test_load_package_errors_name_the_file() -> None:
    with pytest.raises(SpecError, match="upload.yaml: not a pipeline package"):
        load_package(b"\xff\xfe", "upload.yaml")
    with pytest.raises(SpecError, match="bundle.tgz: not a pipeline package"):
        load_package(b"not a tarball", "bundle.tgz")
