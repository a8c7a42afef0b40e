"""Reading resolved Airflow values as KFP wants them: strings, lists, Kubernetes models.

Kubernetes model calls arrive as ``Call(func="kubernetes.client.models.V1Toleration")``
under whatever module path the file imported; they are matched by the class name only
and turned into plain snake_case dicts, the same shape as the dict form Airflow accepts.
"""

from __future__ import annotations

import functools
import inspect
import re
import shlex
from typing import Any

from af2kfp.converters.mappings import codes
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.env_xcom import subscripted_xcom, xcom_env_dict, xcom_env_value
from af2kfp.converters.mappings.model import KfpTask, SecretEnv
from af2kfp.converters.environment import supply_hint, template_needs
from af2kfp.converters.templating import PipelineParameter, has_template
from af2kfp.converters.values import Call, DateTime, Deferred, Duration, Symbolic, TaskRef

__all__ = [
    "class_name",
    "model_dict",
    "text",
    "string",
    "items",
    "unexpected",
    "model",
    "describe",
    "string_list",
    "command_list",
    "string_dict",
    "duration_seconds",
    "check_templates",
    "short",
    "is_plain",
    "is_secret_name",
    "is_secret_env",
    "env_secret_name",
    "env_dict",
    "set_env",
]

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_JINJA = re.compile(r"{{.*?}}|{%.*?%}", re.S)


def is_plain(value: Any) -> bool:
    """JSON data all the way down: what a literal in the emitted code may hold."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and is_plain(item) for key, item in value.items())
    return False


def short(source: str, limit: int = 60) -> str:
    """Source text for a one-line message: first line, at most ``limit`` characters."""
    first = source.strip().splitlines()[0] if source.strip() else ""
    return first if len(first) <= limit and first == source.strip() else first[:limit].rstrip() + " ..."


def class_name(value: Any) -> str | None:
    """Last segment of a call's qualified name (``V1Toleration``), else ``None``."""
    return value.func.rsplit(".", 1)[-1] if isinstance(value, Call) else None


def _snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


@functools.lru_cache(maxsize=None)
def _model_params(name: str) -> tuple[str, ...]:
    """Constructor parameter names of a Kubernetes client model (positional order), if it is one."""
    try:
        import kubernetes.client as k8s_client  # the client's models only; never runs user code
    except ImportError:  # pragma: no cover - kfp-kubernetes depends on it
        return ()
    model = getattr(k8s_client, name, None)
    if not isinstance(model, type):
        return ()
    params = inspect.signature(model.__init__).parameters
    return tuple(p for p in params if p not in ("self", "local_vars_configuration"))


def model_dict(value: Any) -> Any:
    """A Kubernetes model call or its dict form as nested snake_case dicts; other values as they are.

    Positional arguments are bound by the model's own constructor signature.
    """
    if isinstance(value, Call):
        fields = dict(zip(_model_params(class_name(value) or ""), value.args)) if value.args else {}
        fields.update(value.kwargs)
        return {key: model_dict(item) for key, item in fields.items()}
    if isinstance(value, dict):
        return {_snake(str(key)): model_dict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [model_dict(item) for item in value]
    return value


def _unbound_calls(value: Any) -> list[Call]:
    if isinstance(value, Call):
        own = [value] if value.args and len(value.args) > len(_model_params(class_name(value) or "")) else []
        return own + _unbound_calls(list(value.args)) + _unbound_calls(value.kwargs)
    if isinstance(value, (list, tuple)):
        return [c for item in value for c in _unbound_calls(item)]
    if isinstance(value, dict):
        return [c for item in value.values() for c in _unbound_calls(item)]
    return []


def model(ctx: MapContext, value: Any, what: str) -> Any:
    """:func:`model_dict`, with a finding for calls whose positional arguments cannot be bound."""
    for call in _unbound_calls(value):
        ctx.add(codes.UNRESOLVED_VALUE, f"{what}: positional arguments of {describe(call)} are not understood; dropped")
    return model_dict(value)


def describe(value: Any) -> str:
    """A short description of a resolved value for a finding message."""
    if isinstance(value, Symbolic):
        return f"`{short(value.source)}`"
    if isinstance(value, TaskRef):
        return f"the XCom of {value.task_id!r}"
    if isinstance(value, Call):
        return f"a {value.func.rsplit('.', 1)[-1]}(...) call"
    return short(repr(value))


def unexpected(ctx: MapContext, value: Any, what: str) -> None:
    """A value of a shape this argument cannot have here: a finding, and it is dropped."""
    ctx.add(codes.UNRESOLVED_VALUE, f"{what}: {describe(value)} is not a value af2kfp can map; dropped")


def _value_parameter(ctx: MapContext, source: str) -> str:
    """The pipeline parameter (kind ``value``) standing for expression ``source``: one per expression and DAG."""
    base = re.sub(r"\W+", "_", source).strip("_").lower() or "value"
    base = f"value_{base}" if base[0].isdigit() else base
    name, n = base, 2
    while name in ctx.params and ctx.params[name].description != source:
        name, n = f"{base}_{n}", n + 1
    if name not in ctx.params:
        ctx.params[name] = PipelineParameter(name=name, kind="value", type="str", description=source)
    return name


def _partial_text(ctx: MapContext, value: Symbolic, what: str) -> str:
    """An f-string with unknown expressions as a template: each unknown one reads a pipeline parameter
    (``{{ params.name }}``, translated like any template), the known text stays as it is."""
    pieces, named = [], []
    for part in value.parts:
        if isinstance(part, Symbolic):
            name = _value_parameter(ctx, part.source)
            hint = f" (or supply {supply_hint(part.needs)})" if isinstance(part, Deferred) and part.needs else ""
            named.append(f"`{short(part.source)}` -> pipeline parameter `{name}`{hint}")
            pieces.append(f"{{{{ params.{name} }}}}")
        else:
            pieces.append(str(part))
    ctx.add(codes.UNRESOLVED_VALUE, f"{what}: `{short(value.source)}` is not known statically; "
                                    f"{', '.join(named)} (the run must supply it)",
            "Supply the parameter when running the pipeline, or make the expression known to the converter "
            "(a literal or a module constant).")
    return "".join(pieces)


def text(ctx: MapContext, value: Any, what: str, partial: bool = True) -> Any:
    """A scalar as a string for KFP; a :class:`TaskRef` is returned as it is for the caller.

    ``partial``: an f-string with unknown expressions reads them from pipeline parameters
    (where KFP renders arguments per run); otherwise its source text is used."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(value, TaskRef):
        return value
    if isinstance(value, Symbolic) and value.parts and partial:
        return _partial_text(ctx, value, what)
    if isinstance(value, Deferred) and value.needs:
        ctx.add(codes.UNRESOLVED_VALUE, f"{what}: `{short(value.source)}` is only known when Airflow parses the DAG "
                                        f"(supply {supply_hint(value.needs)}); its source text is used")
        return value.source
    if isinstance(value, Symbolic):
        ctx.add(codes.UNRESOLVED_VALUE, f"{what}: `{short(value.source)}` is not known statically; its source text is used")
        return value.source
    rendered = str(value.seconds) if isinstance(value, Duration) else value.iso if isinstance(value, DateTime) else (
        value.func if isinstance(value, Call) else repr(value))
    ctx.add(codes.UNRESOLVED_VALUE, f"{what}: {describe(value)} is not a plain value; `{short(rendered)}` is used")
    return rendered


def string(ctx: MapContext, value: Any, what: str) -> str:
    """Like :func:`text`, for settings that cannot take another task's output (image...)."""
    converted = text(ctx, value, what, partial=False)
    if isinstance(converted, TaskRef):
        ctx.add(codes.XCOM_UNAVAILABLE, f"{what} reads XCom of {converted.task_id!r}; KFP needs it when compiling")
        return f"<xcom {converted.task_id}.{converted.key}>"
    return converted


def items(ctx: MapContext, value: Any, what: str) -> list[Any]:
    """The items of a list argument; anything else (unknown, a single value) is a finding and no items."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    source = value.source if isinstance(value, Symbolic) else repr(value)
    ctx.add(codes.UNRESOLVED_VALUE, f"{what}: `{short(source)}` is not a known list; nothing is mapped from it")
    return []


def string_list(ctx: MapContext, value: Any, what: str) -> list[Any]:
    """A list of strings (a single string becomes one item)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [text(ctx, item, what) for item in value]
    return [text(ctx, value, what)]


def command_list(ctx: MapContext, value: Any, what: str) -> list[Any]:
    """A Docker command or entrypoint: a string is shell-split the way docker-py does it.

    Jinja spans (``{{ ds }}``) stay whole, since Airflow renders them before Docker splits.
    """
    if isinstance(value, str):
        spans: list[str] = []

        def hold(match: re.Match[str]) -> str:
            spans.append(match.group(0))
            return f"\x00{len(spans) - 1}\x00"

        try:
            parts = shlex.split(_JINJA.sub(hold, value))
            return [re.sub("\x00([0-9]+)\x00", lambda m: spans[int(m.group(1))], part) for part in parts]
        except ValueError:
            ctx.add(codes.UNRESOLVED_VALUE, f"{what}: cannot shell-split {value!r}; kept as one argument")
            return [value]
    return string_list(ctx, value, what)


def string_dict(ctx: MapContext, value: Any, what: str) -> dict[str, Any]:
    """A dict of strings (labels, annotations, node selectors); environments go through :func:`env_dict`."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        unexpected(ctx, value, what)
        return {}
    out = {}
    for key, item in value.items():
        converted = text(ctx, item, f"{what}[{key}]")
        if isinstance(converted, TaskRef):
            ctx.add(codes.XCOM_UNAVAILABLE, f"{what}[{key}] reads XCom of {converted.task_id!r}; dropped")
        else:
            out[str(key)] = converted
    return out


# Secret-looking environment variable names, documented in docs/secrets.md.
# A name is split into lower-case words (``DB_PASSWORD`` -> db, password; ``apiKey`` -> api, key).
_SECRET_WORDS = frozenset({"password", "passwd", "passphrase", "secret", "secrets", "token", "credential",
                           "credentials", "apikey", "privatekey"})
_SECRET_LAST_WORDS = frozenset({"pass", "pwd"})  # ``DB_PASS``, ``MYSQL_PWD``; not ``PASS_THROUGH``
_KEY_QUALIFIERS = frozenset({"api", "private", "secret", "access", "auth", "signing", "encryption", "ssh",
                             "master", "client", "account", "license"})  # ``<q>_KEY``; not ``S3_KEY``, ``KEY_PREFIX``
# A last word that makes the variable name or describe a secret rather than hold it: ``SECRET_NAME``,
# ``TOKEN_URL``, ``PASSWORD_FILE``, ``AWS_ACCESS_KEY_ID``, ``MAX_TOKENS``-like limits and switches.
_REFERENCE_LAST_WORDS = frozenset({
    "name", "names", "id", "ids", "arn", "path", "file", "dir", "url", "uri", "endpoint", "host", "prefix",
    "suffix", "type", "kind", "mode", "enabled", "enable", "disabled", "required", "version", "header", "field",
    "env", "var", "ref", "mount", "location", "region", "limit", "count", "size", "length", "len", "ttl", "expiry",
    "expires", "lifetime", "timeout", "seconds", "minutes", "hours", "days",
})
_SECRET_PREFIXES = ("AIRFLOW_CONN_",)  # an Airflow connection URI carries its password
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_SECRET_DATA_KEY = re.compile(r"[^-._A-Za-z0-9]")


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD_SPLIT.split(name) if w]


def is_secret_name(name: str) -> bool:
    """True when an environment variable's name says it holds a secret (``LOADER_API_KEY``, ``DB_PASSWORD``).

    Words decide, not substrings: ``TOKENIZER_NAME``, ``KEY_PREFIX``, ``MAX_TOKENS``, ``SECRET_NAME`` and
    ``AWS_ACCESS_KEY_ID`` are not secrets.
    """
    if name.upper().startswith(_SECRET_PREFIXES):
        return True
    words = _words(name)
    if not words or words[-1] in _REFERENCE_LAST_WORDS:
        return False
    if words[-1] in _SECRET_LAST_WORDS or any(w in _SECRET_WORDS for w in words):
        return True
    return any(a in _KEY_QUALIFIERS and b == "key" for a, b in zip(words, words[1:]))


def env_secret_name(dag_id: str) -> str:
    """The Kubernetes Secret holding a DAG's secret-looking environment values: ``<dag-id-kebab>-env``."""
    name = re.sub(r"[^a-z0-9-]+", "-", dag_id.lower()).strip("-")[:249].rstrip("-")
    return f"{name}-env" if name else "af2kfp-env"


_FILE_PATH = re.compile(r"(?:~|\.{1,2})?/[^\s:;|&$`'\"]+")


def is_file_path(value: Any) -> bool:
    """An absolute or relative file path (``/var/secrets/google/key.json``): it names a secret, it is none."""
    return isinstance(value, str) and bool(_FILE_PATH.fullmatch(value)) and not value.startswith("//")


def is_secret_env(name: str, value: Any) -> bool:
    """A variable that must not be written: a secret-looking name given a literal (a non-empty
    string without Jinja, or a number). Templates, XComs and unknown values are not literals, and
    a file path is where a secret is, not a secret (``GOOGLE_APPLICATION_CREDENTIALS``)."""
    if not is_secret_name(name):
        return False
    if isinstance(value, str):
        return bool(value) and not has_template(value) and not is_file_path(value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def set_env(ctx: MapContext, kfp: KfpTask, name: str, value: Any, what: str) -> None:
    """Set one environment variable; a literal under a secret-looking name comes from a Secret instead.

    The value is never written: the variable reads key ``name`` of :func:`env_secret_name`
    (``kubernetes.use_secret_as_env``) and an M246 finding says how to create it.
    Another task's XCom goes through :mod:`af2kfp.converters.mappings.env_xcom` (a Secret or a task input);
    templates and values unknown statically keep the plain path (:func:`text`).
    """
    ref = value if isinstance(value, TaskRef) else subscripted_xcom(value)
    if ref is not None:
        xcom_env_value(ctx, kfp, name, ref)
        return
    if not is_secret_env(name, value):
        kfp.env[name] = text(ctx, value, what)
        if is_secret_name(name) and is_file_path(value):
            ctx.add(codes.SECRET_FILE_ENV, f"env {name}={value!r} names a credential file; kept as an environment "
                                           "variable, the file must be in the container")
        return
    kfp.env.pop(name, None)
    secret, key = env_secret_name(ctx.dag_id), _SECRET_DATA_KEY.sub("_", name)
    for i, existing in enumerate(kfp.secret_env):
        if existing.secret_name == secret:
            kfp.secret_env[i] = SecretEnv(secret_name=secret, key_to_env={**existing.key_to_env, key: name})
            break
    else:
        kfp.secret_env.append(SecretEnv(secret_name=secret, key_to_env={key: name}))
    ctx.add(
        codes.SECRET_ENV_VALUE,
        f"env {name} looks like a secret: its literal value is not written; it is read from Kubernetes Secret "
        f"{secret!r}, key {key!r}",
        f"kubectl create secret generic {secret} --from-literal={key}='<value of {name}>' "
        "(one command per DAG: add a --from-literal for every M246 variable of the DAG), then remove the "
        "value from the DAG file.",
    )


def env_dict(ctx: MapContext, kfp: KfpTask, value: Any, what: str) -> None:
    """An environment dict (``environment``, ``env_vars``, ``env``) into ``kfp.env`` through :func:`set_env`;
    a whole dict from another task's XCom through :mod:`af2kfp.converters.mappings.env_xcom`."""
    if value is None:
        return
    if isinstance(value, TaskRef):
        xcom_env_dict(ctx, kfp, value, what)
        return
    if not isinstance(value, dict):
        unexpected(ctx, value, what)
        return
    for key, item in value.items():
        set_env(ctx, kfp, str(key), item, f"{what}[{key}]")


def duration_seconds(ctx: MapContext, value: Any, what: str) -> float | None:
    """Seconds of a ``timedelta`` (or a number of seconds); unknown -> finding, ``None``."""
    if value is None:
        return None
    if isinstance(value, Duration):
        return value.seconds
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    unexpected(ctx, value, what)
    return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, Call):
        return _strings(list(value.args)) + _strings(value.kwargs)
    return []


def check_templates(ctx: MapContext, names: list[str], values: dict[str, Any] | None = None) -> None:
    """One ``review`` finding per argument whose strings hold Jinja (``{{ }}`` or ``{% %}``).

    ``values`` defaults to the task's arguments (a TaskFlow call's arguments are passed explicitly).
    """
    source = ctx.task.args if values is None else values
    for name in names:
        strings = [s for s in _strings(source.get(name)) if "{{" in s or "{%" in s]
        needs = [need for s in strings for need in template_needs(s)]
        if needs:
            ctx.add(codes.NEEDS_CONSTANT, f"argument `{name}` depends on {supply_hint(needs)}, which was not "
                                          "supplied; KFP needs it when the pipeline is compiled, so it is kept "
                                          f"verbatim ({short(strings[0])})")
        elif strings:
            ctx.add(
                codes.JINJA_TEMPLATE,
                f"argument `{name}` holds a Jinja template, kept verbatim",
                "Replace the template by a pipeline parameter or a KFP placeholder.",
            )

