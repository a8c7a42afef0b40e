"""Run a compiled fallback component's container here, exactly as KFP would start it.

The command, args and secret-to-env mapping are read from the compiled ``pipeline.yaml``;
only ``python`` becomes this venv's interpreter and the output placeholder a real file.
Secrets are filled from ``secrets`` (secret name -> value), as Kubernetes would. The child
is the official ``apache/airflow`` image as far as this machine can be: Airflow and its
providers import, af2kfp does not (a ``sitecustomize`` refuses ``converters``, ``bridge``
and ``airflow_plugins``, and the child runs in an empty folder), so the runner carried by
``pipeline.yaml`` must work on its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

__all__ = ["executors", "run_executor", "without_af2kfp"]

# Loaded first by the child's interpreter: af2kfp's packages are not there, as in the official image.
_SITECUSTOMIZE = """
import importlib.metadata
import sys

_BLOCKED = ("converters", "bridge", "airflow_plugins")


class _NotInstalled:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (af2kfp is not in the official image)", name=name)
        return None


def _hide(finder):
    # Nor its distribution: Airflow loads every installed provider's entry point.
    found = finder.find_distributions

    def find_distributions(*args, **kwargs):
        return (d for d in found(*args, **kwargs) if (d.metadata["Name"] or "").lower() != "af2kfp")

    finder.find_distributions = staticmethod(find_distributions)


sys.meta_path.insert(0, _NotInstalled)
_hide(importlib.metadata.MetadataPathFinder)
try:
    import importlib_metadata
except ImportError:
    pass
else:
    _hide(importlib_metadata.MetadataPathFinder)
"""


def without_af2kfp(folder: Path) -> dict[str, str]:
    """Environment variables that make a child interpreter refuse af2kfp's packages (``folder`` holds the hook)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    return {"PYTHONPATH": str(folder)}


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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "PYTHON"))}
    env.update({"AIRFLOW_HOME": str(home / "airflow-home"), **without_af2kfp(home / "image-site"), **(extra_env or {})})
    for item in executor["secrets"]:
        for pair in item["keyToEnv"]:
            if item["secretName"] in secrets or not item.get("optional"):  # a missing optional Secret: no variable
                env[pair["envVar"]] = secrets[item["secretName"]]  # what the secret's `uri` key holds
    work = home / "container-workdir"
    work.mkdir(parents=True, exist_ok=True)
    return subprocess.run(argv, env=env, cwd=work, capture_output=True, text=True, timeout=120, check=False)
