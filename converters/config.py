"""User settings for conversion, read from ``[tool.af2kfp]`` in the user's ``pyproject.toml``.

Example::

    [tool.af2kfp]
    bash_image = "bash:5.2"                      # image BashOperator tasks run in
    python_base_image = "python:3.11"            # base image of lightweight Python components
    airflow_image = "apache/airflow:3.3.2"       # image of the run-the-original-operator fallback
    airflow_image_providers = ["postgres"]       # providers a custom airflow_image has (or "all")
    fallback = "auto"                            # "auto": unmapped operators run as they are; "off": placeholders
    sensors = "fallback"                         # "fallback": sensors poke in the Airflow image; "skip": folded
    ignore_syntax = "glob"                       # .airflowignore syntax: "glob" (Airflow 3) or "regexp" (Airflow 2)
    create_cron_data_intervals = false           # as Airflow's [scheduler] settings: true = Airflow 2's dates
    create_delta_data_intervals = false          # (the logical date starts the interval before the run)
    [tool.af2kfp.operators]                      # user classes -> built-in rule, or "module:function"
    "mycompany.operators.GKEPodOperator" = "KubernetesPodOperator"
    "mycompany.operators.ReportOperator" = "mycompany_af2kfp.rules:report_rule"
    [tool.af2kfp.packages]                       # import name -> pip requirement a Python task installs
    sklearn = "scikit-learn==1.5.2"              # overrides the built-in table (converters/mappings/packages.toml)
    "google.cloud.bigquery" = "google-cloud-bigquery"
    mycompany = false                            # false or "": python_base_image already has it

Python tasks run on ``python_base_image``; each third-party module their callable imports is
installed through ``packages_to_install`` from the built-in table or ``[tool.af2kfp.packages]``
(longest dotted prefix wins). A module found in neither, or one of the repository's own
modules that the image does not have, keeps the task from ``converted`` (M260, M261) until it
is listed here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from af2kfp.converters.environment import Environment
from af2kfp.converters.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Config", "load_config", "find_pyproject", "CHOICES"]

# Settings with a fixed set of values: key -> allowed values (the first is the default).
CHOICES: dict[str, tuple[str, ...]] = {"fallback": ("auto", "off"), "sensors": ("fallback", "skip")}
CHOICES["ignore_syntax"] = ("glob", "regexp")  # .airflowignore: Airflow's [core] dag_ignore_file_syntax
_FLAGS = ("create_cron_data_intervals", "create_delta_data_intervals")


@dataclass(frozen=True, kw_only=True)
class Config:
    """Conversion settings; every field has a default that works without a config file."""

    bash_image: str = "bash:5.2"
    python_base_image: str = "python:3.11"
    airflow_image: str = "apache/airflow:3.3.2"
    # Providers a custom airflow_image has (ids as ``postgres``, ``cncf-kubernetes``), or "all"; None: the
    # official image's own list (af2kfp.converters.mappings.airflow_image), unknown for any other image.
    airflow_image_providers: tuple[str, ...] | str | None = None
    # Operators without a rule: "auto" runs the original operator in airflow_image, "off" a placeholder.
    fallback: str = "auto"
    # Sensors without a rule: "fallback" pokes in airflow_image, "skip" folds them into the edges.
    sensors: str = "fallback"
    # .airflowignore syntax, Airflow's [core] dag_ignore_file_syntax: "glob" (Airflow 3) or "regexp" (Airflow 2).
    ignore_syntax: str = "glob"
    # Qualified class name of a user operator -> a rule name, or "module:function" (a user rule).
    operators: dict[str, str] = field(default_factory=dict)
    # Airflow's [scheduler] settings of the same names: a cron / timedelta schedule makes data
    # intervals (Airflow 2's default: the logical date starts the interval ending at the run's
    # time) instead of trigger runs (Airflow 3's default: the logical date is the run's time).
    create_cron_data_intervals: bool = False
    create_delta_data_intervals: bool = False
    # Import name -> pip requirement for Python tasks; False / "" means the base image has it.
    packages: dict[str, str | bool] = field(default_factory=dict)
    source: str | None = None
    # May rules named "module:function" in ``operators`` be imported (run)? A config found in the
    # repository being converted is that repository's code: the CLI allows it only when given with
    # --config or --allow-config-rules. The keys [tool.af2kfp] set, in file order (what the CLI prints).
    rules_allowed: bool = True
    keys: tuple[str, ...] = ()
    # Given on the command line, not in pyproject.toml: what Airflow would know when it parses the DAGs
    # (--variables, --connections, --env, --env-file) and the repository root helper modules resolve
    # from (--root; None: only the scanned folders).
    environment: Environment = field(default_factory=Environment)
    root: str | None = None


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that has a ``[tool.af2kfp]`` table."""
    here = start.resolve()
    for folder in [here, *here.parents] if here.is_dir() else [here.parent, *here.parent.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if "af2kfp" in data.get("tool", {}):
                return candidate
    return None


def load_config(path: Path | None) -> Config:
    """Read ``[tool.af2kfp]`` from ``path``; ``None`` gives the defaults."""
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read config: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from exc
    table: dict[str, Any] = data.get("tool", {}).get("af2kfp", {})
    known = {"bash_image", "python_base_image", "airflow_image", "airflow_image_providers", "operators",
             "packages", *CHOICES, *_FLAGS}
    unknown = sorted(set(table) - known)
    if unknown:
        raise InputError(f"{path}: unknown [tool.af2kfp] keys: {', '.join(unknown)}")
    for key in _FLAGS:
        if key in table and not isinstance(table[key], bool):
            raise InputError(f"{path}: [tool.af2kfp] {key} = {table[key]!r}; expected true or false")
    for key, allowed in CHOICES.items():
        if key in table and table[key] not in allowed:
            raise InputError(f"{path}: [tool.af2kfp] {key} = {table[key]!r}; expected one of {', '.join(allowed)}")
    operators = table.get("operators", {})
    if not isinstance(operators, dict) or not all(isinstance(v, str) for v in operators.values()):
        raise InputError(f"{path}: [tool.af2kfp.operators] must map class names to rule names")
    packages = table.get("packages", {})
    if not isinstance(packages, dict) or not all(isinstance(v, str) or v is False for v in packages.values()):
        raise InputError(f"{path}: [tool.af2kfp.packages] must map import names to a pip requirement or false")
    if "airflow_image_providers" in table:
        table["airflow_image_providers"] = _providers(path, table["airflow_image_providers"])
    rest = {k: v for k, v in table.items() if k not in ("operators", "packages")}
    return Config(**rest, operators=dict(operators), packages=dict(packages), source=str(path), keys=tuple(table))


def _providers(path: Path, given: Any) -> tuple[str, ...] | str:
    """``airflow_image_providers``: "all", or provider ids, also written as distributions or module paths
    (``apache-airflow-providers-cncf-kubernetes``, ``cncf.kubernetes``), read as ids (``cncf-kubernetes``)."""
    if given == "all":
        return "all"
    if not isinstance(given, list) or not all(isinstance(item, str) and item.strip() for item in given):
        raise InputError(f'{path}: [tool.af2kfp] airflow_image_providers = {given!r}; expected "all" or a list of '
                         'provider names such as ["postgres", "cncf-kubernetes"]')
    names = (item.strip().lower().removeprefix("apache-airflow-providers-") for item in given)
    return tuple(sorted({name.replace(".", "-").replace("_", "-") for name in names}))
