"""A local KFP API (v2beta1) server for tests and demos: ``af2kfp kfp-server``.

It keeps its state in SQLite, moves runs through realistic states over
time (simulated: nothing runs, and each run says so), lets callers script
each run's fate and inject transient faults (``--control``), and with
``--execute`` really runs lightweight Python components with ``kfp.local``.
See ``docs/kfp-server.md``.
"""

from af2kfp.bridge.kfp_server.api import KfpApi, Policy, Settings
from af2kfp.bridge.kfp_server.control import ControlError, KfpServerControl
from af2kfp.bridge.kfp_server.fates import Fate, FateError, parse_fate
from af2kfp.bridge.kfp_server.launch import RunningServer, ServerProcess, serve, start_server, start_server_process

__all__ = [
    "ControlError",
    "Fate",
    "FateError",
    "KfpApi",
    "KfpServerControl",
    "Policy",
    "RunningServer",
    "ServerProcess",
    "Settings",
    "parse_fate",
    "serve",
    "start_server",
    "start_server_process",
]
