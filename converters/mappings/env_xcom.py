"""Environment variables whose values come from another task (an XCom), usually a secrets loader.

Airflow renders ``environment``/``env_vars`` per run, so a task can take its environment from
an upstream task: the whole dict (``environment=load_secrets.output``), or one value per
key (``{"DB_URL": "{{ ti.xcom_pull('load_secrets')['DB_URL'] }}"}``, ``load.output["K"]``,
``XComArg``). KFP environment variables are constants, so each variable goes one of two ways:

- **a Kubernetes Secret** (``M290``) when the values are secrets: the variable's name says so
  (:func:`~af2kfp.converters.mappings.values.is_secret_name`), or the producing task is a secrets
  loader by its id (``load_secrets``, ``get_credentials``...). The task reads Secret
  ``<dag-id>-<producer>`` with the known keys; the finding gives the ``kubectl create secret``
  command (keys only), since the producer no longer feeds the values. Secret values never
  become KFP parameters (KFP stores those in plain text).
- **exported from a task input** (``M291``, see :mod:`af2kfp.converters.mappings.templates`) when the
  value is a whole output of a task and the command is known: the variable stays a template
  ``{{ ti.xcom_pull(...) }}`` that the template pass wires as an input and exports with
  ``sh -c 'export NAME="$1"; exec "$@"'`` before the command.

What neither way can carry (a key of a dict XCom that is not a secret, a whole dict whose keys
are not known statically) is finding ``M292`` naming the variables. Nothing is dropped silently.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from af2kfp.converters.findings import Severity, register_code
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.model import KfpTask, SecretEnv
from af2kfp.converters.mappings.templates import exportable
from af2kfp.converters.values import TaskRef

__all__ = ["ENV_FROM_XCOM_SECRET", "ENV_FROM_XCOM_LOST", "xcom_env_value", "xcom_env_dict",
           "subscripted_xcom", "returned_keys", "xcom_secret_name"]

ENV_FROM_XCOM_SECRET = register_code(
    "M290", Severity.WARNING, "Environment from a task's XCom is read from a Kubernetes Secret",
    "The values were computed by an upstream task at run time (a secrets loader); KFP environment variables are "
    "constants and secret values must not travel as pipeline parameters, so the task reads them from the named "
    "Secret. Create it with the command given (fill in the values the loader returned) and keep it current; the "
    "loader no longer feeds the task.",
).code
ENV_FROM_XCOM_LOST = register_code(
    "M292", Severity.WARNING, "Environment from a task's XCom cannot be passed",
    "KFP has no way to pass this value into the environment: it is a key of a dict another task returns (KFP passes "
    "whole outputs), the dict's keys are not known statically, or the command is not known so no wrapper can export "
    "it. Return the value on its own from a task, give the task its command (cmds / entrypoint), or read it from a "
    "Kubernetes Secret (kfp.kubernetes.use_secret_as_env).",
).code

_SECRET_SOURCE_WORDS = frozenset({"secret", "secrets", "credential", "credentials", "creds", "password",
                                  "passwords", "token", "tokens", "vault"})
# "{{ ti.xcom_pull('load')['KEY'] }}", "{{ task_instance.xcom_pull(task_ids='load')["KEY"] }}", ".get('KEY')"
_SUBSCRIPT = re.compile(
    r"""^\s*\{\{\s*(?:ti|task_instance)\.xcom_pull\(\s*(?:task_ids\s*=\s*)?(['"])([\w.-]+)\1\s*\)"""
    r"""\s*(?:\[\s*(['"])([^'"]+)\3\s*\]|\.get\(\s*(['"])([^'"]+)\5\s*\))\s*\}\}\s*$""")


def subscripted_xcom(value: Any) -> TaskRef | None:
    """``"{{ ti.xcom_pull('load')['KEY'] }}"`` as ``TaskRef('load', key='KEY')`` (a key of its dict XCom)."""
    match = _SUBSCRIPT.match(value) if isinstance(value, str) else None
    return TaskRef(task_id=match.group(2), key=match.group(4) or match.group(6)) if match else None


def _words(name: str) -> set[str]:
    return {w.lower() for w in re.split(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])", name) if w}


def _secret_source(task_id: str) -> bool:
    """A task whose id says it loads secrets (``load_secrets``, ``fetch_db_credentials``, ``vault_read``)."""
    return bool(_words(task_id.rsplit(".", 1)[-1]) & _SECRET_SOURCE_WORDS)


def xcom_secret_name(dag_id: str, task_id: str) -> str:
    """The Kubernetes Secret standing for the values task ``task_id`` returns."""
    name = re.sub(r"[^a-z0-9-]+", "-", f"{dag_id}-{task_id}".lower()).strip("-")
    return name[:253].rstrip("-") or "af2kfp-xcom"


def returned_keys(source: str | None) -> tuple[str, ...] | None:
    """The keys of the dict a callable returns, when every ``return`` is a dict literal with string keys."""
    if not source:
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    fn = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if fn is None:
        return None
    returns = sorted((n for n in ast.walk(fn) if isinstance(n, ast.Return)), key=lambda n: n.lineno)
    keys: dict[str, None] = {}
    for ret in returns:
        if not isinstance(ret.value, ast.Dict) or not all(
                isinstance(k, ast.Constant) and isinstance(k.value, str) for k in ret.value.keys):
            return None
        keys.update((k.value, None) for k in ret.value.keys)  # type: ignore[union-attr]
    return tuple(keys) if returns else None


def _use_secret(ctx: MapContext, kfp: KfpTask, producer: str, key_to_env: dict[str, str]) -> None:
    secret = xcom_secret_name(ctx.dag_id, producer)
    for i, existing in enumerate(kfp.secret_env):
        if existing.secret_name == secret:
            kfp.secret_env[i] = SecretEnv(secret_name=secret, key_to_env={**existing.key_to_env, **key_to_env})
            break
    else:
        kfp.secret_env.append(SecretEnv(secret_name=secret, key_to_env=dict(key_to_env)))
    literals = " ".join(f"--from-literal={key}='<{key} as {producer} returns it>'" for key in key_to_env)
    names = ", ".join(sorted(key_to_env.values()))
    ctx.add(ENV_FROM_XCOM_SECRET,
            f"env {names} came from the XCom of {producer!r} at run time; read from Kubernetes Secret {secret!r} "
            f"(keys {', '.join(key_to_env)}) instead",
            f"kubectl create secret generic {secret} {literals}")


def _template(ref: TaskRef) -> str:
    key = "" if ref.key == "return_value" else f", key={ref.key!r}"
    return f"{{{{ ti.xcom_pull(task_ids={ref.task_id!r}{key}) }}}}"


def xcom_env_value(ctx: MapContext, kfp: KfpTask, name: str, ref: TaskRef) -> None:
    """One variable whose value is task ``ref``'s XCom (``ref.key``: a key of a dict XCom, or a named XCom)."""
    if (_secret_source(ref.task_id) or _is_secret_name(name)) and ref.key != "return_value":
        _use_secret(ctx, kfp, ref.task_id, {ref.key: name})
    elif _secret_source(ref.task_id) or _is_secret_name(name):
        _use_secret(ctx, kfp, ref.task_id, {_data_key(name): name})
    elif ref.key != "return_value":
        ctx.add(ENV_FROM_XCOM_LOST, f"env {name} reads key {ref.key!r} of the XCom of {ref.task_id!r}, which KFP "
                                    "cannot pass on its own; not set")
    elif not exportable(kfp):
        ctx.add(ENV_FROM_XCOM_LOST, f"env {name} reads the XCom of {ref.task_id!r}, but the task's command is not "
                                    "known (or it is a Python component), so nothing can export it; not set")
    else:
        kfp.env[name] = _template(ref)  # wired and exported by the template pass (M291)


def xcom_env_dict(ctx: MapContext, kfp: KfpTask, ref: TaskRef, what: str) -> None:
    """A whole environment dict returned by task ``ref``: a Secret with the keys its callable returns."""
    keys = ctx.returned_keys.get(ref.task_id) if ref.key == "return_value" else None
    if keys is None:
        ctx.add(ENV_FROM_XCOM_LOST, f"{what} is the XCom of {ref.task_id!r}, a dict whose keys are not known "
                                    "statically; no variable is set")
        return
    if _secret_source(ref.task_id) or any(_is_secret_name(key) for key in keys):
        _use_secret(ctx, kfp, ref.task_id, {_data_key(key): key for key in keys})
        return
    ctx.add(ENV_FROM_XCOM_LOST, f"{what} is the dict {ref.task_id!r} returns (keys {', '.join(keys)}), whose "
                                "values KFP cannot pass one by one; not set")


def _is_secret_name(name: str) -> bool:
    from af2kfp.converters.mappings.values import is_secret_name  # values imports this module at its top

    return is_secret_name(name)


def _data_key(name: str) -> str:
    return re.sub(r"[^-._A-Za-z0-9]", "_", name)
