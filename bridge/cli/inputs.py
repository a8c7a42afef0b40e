"""Options every converting command shares: the repository root, the config file, and what Airflow
would know at parse time (``--variables``, ``--connections``, ``--env``, ``--env-file``).

:func:`conversion_config` reads them into one :class:`~af2kfp.converters.config.Config` and says on
stderr, one line each, which root and which config file are used (never a value it read).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from af2kfp.converters.config import Config, find_pyproject, load_config
from af2kfp.converters.environment import Environment, load_connections, load_env_file, load_variables, parse_env_pairs
from af2kfp.converters.errors import InputError

__all__ = ["add_conversion_arguments", "conversion_config", "find_root", "ROOT_MARKERS"]

# What marks a repository root: a Python project, a git checkout, or an AIRFLOW_HOME.
ROOT_MARKERS = ("pyproject.toml", ".git", "airflow.cfg")


def add_conversion_arguments(parser: argparse.ArgumentParser, *, config: bool = True) -> None:
    """``--root``, ``--variables``, ``--connections``, ``--env``, ``--env-file``, ``--data-intervals`` (and ``--config``)."""
    if config:
        parser.add_argument("--config", metavar="PYPROJECT",
                            help="pyproject.toml with [tool.af2kfp] (default: the nearest one above the first PATH); "
                                 "given here, the rule modules it names may be imported")
        parser.add_argument("--allow-config-rules", action="store_true",
                            help="import the rule modules ('module:function') a config found above the first PATH "
                                 "names (it is the repository's code: by default they are refused, exit 2)")
    parser.add_argument("--root", metavar="DIR",
                        help="repository root helper modules are imported from, with its plugins/ folder, as "
                             "Airflow puts them on sys.path (default: the nearest folder above the first PATH "
                             "holding pyproject.toml, .git or airflow.cfg)")
    parser.add_argument("--variables", metavar="FILE",
                        help="Airflow Variables as `airflow variables export` writes them (JSON): Variable.get and "
                             "{{ var.value.x }} fold into constants; secret-looking ones are ignored")
    parser.add_argument("--connections", metavar="FILE",
                        help="Airflow Connections as `airflow connections export` writes them (.json, .yaml or "
                             ".env): ids, types, hosts, ports, schemas, logins and non-secret extras are used, "
                             "passwords never")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="an environment variable the DAG files read (os.environ, os.getenv); repeatable")
    parser.add_argument("--env-file", metavar="FILE", help="environment variables, one KEY=VALUE per line")
    parser.add_argument("--data-intervals", action="store_true",
                        help="date runs as Airflow 2 did: the logical date starts the interval that ends at the run's "
                             "time (sets create_cron_data_intervals and create_delta_data_intervals; "
                             "default: Airflow 3's, the logical date is the run's time)")


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` (a file's folder) holding one of :data:`ROOT_MARKERS`."""
    here = start.resolve()
    folder = here if here.is_dir() else here.parent
    for candidate in [folder, *folder.parents]:
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return candidate
    return None


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when it is under it."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except ValueError:
        return str(path)


def _environment(args: argparse.Namespace) -> Environment:
    found = Environment()
    if getattr(args, "variables", None):
        found = found.merged(load_variables(_existing(args.variables, "--variables")))
    if getattr(args, "connections", None):
        found = found.merged(load_connections(_existing(args.connections, "--connections")))
    if getattr(args, "env_file", None):
        found = found.merged(load_env_file(_existing(args.env_file, "--env-file")))
    if getattr(args, "env", None):
        found = found.merged(parse_env_pairs(args.env))
    return found


def _existing(given: str, option: str) -> Path:
    path = Path(given)
    if not path.is_file():
        raise InputError(f"{option} {given}: file not found")
    return path


def conversion_config(args: argparse.Namespace, paths: list[Path]) -> Config:
    """The Config of a converting command: ``[tool.af2kfp]``, the environment options and the root.

    A missing PATH fails here, before the converter (and its imports) load.
    """
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
    config_path = Path(args.config) if getattr(args, "config", None) else find_pyproject(paths[0])
    if getattr(args, "config", None) and not config_path.is_file():
        raise InputError(f"{args.config}: config file not found")
    config = load_config(config_path)
    allowed = bool(getattr(args, "config", None)) or bool(getattr(args, "allow_config_rules", False))
    config = replace(config, rules_allowed=allowed)
    if getattr(args, "data_intervals", False):
        config = replace(config, create_cron_data_intervals=True, create_delta_data_intervals=True)
    if getattr(args, "root", None):
        root: Path | None = Path(args.root)
        if not root.is_dir():
            raise InputError(f"--root {args.root}: no such folder")
        how = "--root"
    else:
        root = find_root(paths[0])
        how = "nearest folder with " + " / ".join(m for m in ROOT_MARKERS if (root / m).exists()) if root else ""
    environment = _environment(args)
    sys.stderr.write(f"af2kfp: root {_shown(root)} ({how})\n" if root is not None else
                     "af2kfp: root none (no pyproject.toml, .git or airflow.cfg above the first PATH; helper modules "
                     "resolve from the scanned folders)\n")
    how_config = "--config" if getattr(args, "config", None) else "found above the first PATH"
    sets = f"; sets {', '.join(config.keys)}" if config.keys else ""
    sys.stderr.write(f"af2kfp: config {_shown(config_path)} ({how_config}{sets})\n" if config_path is not None else
                     "af2kfp: config none (no pyproject.toml with [tool.af2kfp]; defaults used)\n")
    if environment.dropped:
        sys.stderr.write(f"af2kfp: left out as secret-looking (names only): {', '.join(environment.dropped)}\n")
    return replace(config, environment=environment, root=str(root.resolve()) if root is not None else None)
