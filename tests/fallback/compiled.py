"""Run a compiled fallback component's container here, exactly as KFP would start it.

The command, args and secret-to-env mapping are read from the compiled ``pipeline.yaml``;
only ``python`` becomes this venv's interpreter and the output placeholder a real file.
Secrets are filled from ``secrets`` (secret name -> value), as Kubernetes would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

__all__ = ["executors", "run_executor"]


def executors(pipeline_yaml: Path) -> dict[str, dict]:
    """Task name -> {"container": ..., "secrets": [...]} from a compiled pipeline."""
    docs = list(yaml.safe_load_all(pipeline_yaml.read_text()))
    spec, platform = docs[0], (docs[1] if len(docs) > 1 else {})
    tasks = spec["root"]["dag"]["tasks"]
    containers = spec["deploymentSpec"]["executors"]
    k8s = platform.get("platforms", {}).get("kubernetes", {}).get("deploymentSpec", {}).get("executors", {})
    found = {}
    for name, task in tasks.items():
        component = spec["components"][task["componentRef"]["name"]]
        executor = component["executorLabel"]
        found[task["taskInfo"]["name"]] = {"container": containers[executor]["container"],
                                           "secrets": k8s.get(executor, {}).get("secretAsEnv", [])}
    return found


def run_executor(executor: dict, secrets: dict[str, str], home: Path, output: Path | None = None,
                 extra_env: dict[str, str] | None = None,
                 inputs: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Start the container's command line as a subprocess with the venv's python; ``inputs`` fills the
    component's input parameters (``{{$.inputs.parameters['name']}}``) as KFP would (the run context's dates...)."""
    container = executor["container"]
    argv = [*container["command"], *container.get("args", [])]
    assert argv[0] == "python"
    argv[0] = sys.executable
    argv = [str(output) if a.startswith("{{$.outputs.") else a for a in argv]
    for name, value in (inputs or {}).items():
        argv = [a.replace(f"{{{{$.inputs.parameters['{name}']}}}}", value) for a in argv]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__UNIT_TEST_MODE": "True", **(extra_env or {})})
    for item in executor["secrets"]:
        for pair in item["keyToEnv"]:
            env[pair["envVar"]] = secrets[item["secretName"]]  # what the secret's `uri` key holds
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
