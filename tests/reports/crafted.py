"""Small hand-made ``report.json`` documents for tests that need an exact shape."""

from __future__ import annotations

from typing import Any

from af2kfp.converters.report_json import summarize


def task(task_id: str, fate: str = "converted", *, operator: str = "airflow.providers.standard.operators.bash.BashOperator",
         label: str = "BashOperator", group: list[str] | None = None, line: int = 10) -> dict[str, Any]:
    return {"task_id": task_id, "operator": operator, "label": label, "line": line, "group": group or [], "fate": fate,
            "kfp_task": None if fate == "folded" else task_id.replace("_", "-").replace(".", "-")}


def kfp_task(t: dict[str, Any], *, kind: str = "container", image: str | None = "bash:5.2",
             secrets: list[str] | None = None) -> dict[str, Any]:
    return {"name": t["kfp_task"], "display_name": t["task_id"], "airflow_task_ids": [t["task_id"]], "component": t["kfp_task"],
            "kind": kind, "rule": t["label"], "image": image, "command": [], "args": [], "env": {}, "secrets": secrets or [],
            "arguments": {}, "lines": {}}


def dag(dag_id: str, tasks: list[dict[str, Any]], edges: list[tuple[str, str]], *, file: str = "dags/x.py",
        compiled: bool = True, kfp_tasks: list[dict[str, Any]] | None = None, schedule: Any = None) -> dict[str, Any]:
    kfp = kfp_tasks if kfp_tasks is not None else [kfp_task(t) for t in tasks if t["fate"] != "folded"]
    names = {t["task_id"]: t["kfp_task"] for t in tasks}
    return {
        "dag_id": dag_id, "file": file, "line": 1, "folder": dag_id,
        "airflow": {"tasks": tasks, "edges": [list(e) for e in edges]},
        "kfp": {"pipeline_name": dag_id.replace("_", "-"), "tasks": kfp,
                "edges": [[names[u], names[v]] for u, v in edges if names.get(u) and names.get(v)],
                "python": None, "yaml": None, "compiled": compiled},
        "graph": {"dag": {"dag_id": dag_id, "file": file, "line": 1, "schedule": schedule}, "tasks": [], "edges": [], "findings": []},
    }


def finding(code: str, severity: str, *, dag_id: str | None = "d", task_id: str | None = None, file: str = "dags/x.py",
            line: int | None = 3, message: str = "something", suggestion: str = "do something") -> dict[str, Any]:
    return {"code": code, "severity": severity, "message": message, "suggestion": suggestion, "file": file, "line": line,
            "dag_id": dag_id, "task_id": task_id}


def report(dags: list[dict[str, Any]], findings: list[dict[str, Any]], files: list[str] | None = None) -> dict[str, Any]:
    files = files if files is not None else sorted({d["file"] for d in dags})
    return {"schema_version": 1, "tool": "af2kfp", "summary": summarize(dags, files, findings), "files": files,
            "dags": dags, "findings": findings}
