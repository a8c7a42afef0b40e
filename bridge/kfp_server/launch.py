"""Start the local KFP server: in this process (a background thread) or as a
separate process (``python -m af2kfp.bridge.kfp_server``), for tests and demos."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from af2kfp.bridge.kfp_server.api import KfpApi, Policy, Settings
from af2kfp.bridge.kfp_server.control import KfpServerControl
from af2kfp.bridge.kfp_server.scheduler import DEFAULT_TICK
from af2kfp.bridge.kfp_server.server import KfpHttpServer
from af2kfp.bridge.kfp_server.store import Store

__all__ = ["RunningServer", "ServerProcess", "serve", "start_server", "start_server_process"]


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    db_path: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
    policy: Policy | None = None,
    control: bool = False,
    allow_hosts: Sequence[str] = (),
    work_dir: Path | None = None,
    tls_cert: str | os.PathLike[str] | None = None,
    tls_key: str | os.PathLike[str] | None = None,
    schedule_tick: float | None = DEFAULT_TICK,
    clock: Callable[[], float] = time.time,
) -> KfpHttpServer:
    """Bind the server (not yet serving); the caller runs ``serve_forever``.
    ``tls_cert`` (PEM, may hold the key too) makes it answer HTTPS; ``control``
    turns the ``/af2kfp/v1`` control API on; ``policy`` says whether code may run.
    While it serves, recurring runs are looked at every ``schedule_tick`` seconds
    (0 or None: never); ``clock`` is the server's time (a test may make it fast)."""
    tls = None
    if tls_cert is not None:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(tls_cert, tls_key)
    store = Store(str(db_path) if db_path else None)
    api = KfpApi(store, settings=settings, policy=policy, work_dir=work_dir, clock=clock)
    return KfpHttpServer(
        (host, port), api, tls=tls, control=control, allow_hosts=tuple(allow_hosts), schedule_tick=schedule_tick
    )


def _credentials(settings: Settings | None) -> dict[str, str]:
    """What a control client of this process sends (the secrets the caller gave)."""
    if settings is None:
        return {}
    given = {"token": settings.bearer_token, "cookie": settings.session_cookie}
    return {k: v for k, v in given.items() if v}


@dataclasses.dataclass
class RunningServer:
    """A server answering in a background thread of this process."""

    server: KfpHttpServer
    thread: threading.Thread
    credentials: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def api(self) -> KfpApi:
        return self.server.api

    _control: KfpServerControl | None = dataclasses.field(default=None, init=False, repr=False)

    def control(self) -> KfpServerControl:
        """The control API of this server (one client, closed by :meth:`stop`), with the
        credentials it was started with; the server must have been started with ``control=True``."""
        if not self.server.control:
            raise RuntimeError("this server's control API is off: start it with control=True")
        if self._control is None:
            # verify=False only for the certificate of this very server, started by this process
            self._control = KfpServerControl(self.url, verify=self.server.tls is None, **self.credentials)
        return self._control

    def stop(self) -> None:
        """Stop answering and close the database (its file keeps everything)."""
        if self._control is not None:
            self._control.close()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        self.server.api.store.close()

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(
    db_path: str | os.PathLike[str] | None = None,
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    settings: Settings | None = None,
    control: bool = False,
    execute: bool = False,
    run_fates: bool = False,
    allow_hosts: Sequence[str] = (),
    work_dir: Path | None = None,
    tls_cert: str | os.PathLike[str] | None = None,
    tls_key: str | os.PathLike[str] | None = None,
    schedule_tick: float | None = DEFAULT_TICK,
    clock: Callable[[], float] = time.time,
    **setting_values: Any,
) -> RunningServer:
    """Start a server in a daemon thread; ``db_path=None`` keeps state in memory.

    ``settings`` (or keyword values such as ``run_seconds=0.5``) replace the
    stored defaults; without them a reused database keeps its own. ``control``,
    ``execute`` and ``run_fates`` are the ``--control``, ``--execute`` and
    ``--run-fates`` flags (all off by default). ``tls_cert`` and ``tls_key``
    (PEM files) make it answer HTTPS. ``schedule_tick`` (seconds; 0: off) is how
    often recurring runs are looked at, and ``clock`` the server's time: a test of a
    1-minute cron gives a fast clock, or calls ``server.api.recurring.trigger_due()``.
    """
    if setting_values:
        settings = dataclasses.replace(settings or Settings(), **setting_values)
    server = serve(
        host=host,
        port=port,
        db_path=db_path,
        settings=settings,
        policy=Policy(execute=execute, run_fates=run_fates),
        control=control,
        allow_hosts=allow_hosts,
        work_dir=work_dir,
        tls_cert=tls_cert,
        tls_key=tls_key,
        schedule_tick=schedule_tick,
        clock=clock,
    )
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"af2kfp-kfp-server:{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return RunningServer(server=server, thread=thread, credentials=_credentials(settings))


@dataclasses.dataclass
class ServerProcess:
    """``af2kfp kfp-server`` running as a child process."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    credentials: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    _control: KfpServerControl | None = dataclasses.field(default=None, init=False, repr=False)

    def control(self) -> KfpServerControl:
        """The control API of this server (one client, closed by :meth:`stop`); the
        process must have been started with ``--control``."""
        if self._control is None:
            verify = not self.url.startswith("https:")  # the certificate of the server this process started
            self._control = KfpServerControl(self.url, verify=verify, **self.credentials)
        return self._control

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit code."""
        if self._control is not None:
            self._control.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.returncode == 0:  # keep the log only when something went wrong
            shutil.rmtree(self.log_path.parent, ignore_errors=True)
        return int(self.process.returncode)

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server_process(
    db_path: str | os.PathLike[str] | None = None,
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    args: Sequence[str] = (),
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
    credentials: dict[str, str] | None = None,
) -> ServerProcess:
    """Run ``python -m af2kfp.bridge.kfp_server`` (the ``af2kfp kfp-server`` command) and
    wait until it listens; ``args`` adds command-line options (``--run-seconds 1``,
    ``--control``); ``credentials`` (``token``, ``cookie``) are what :meth:`ServerProcess.control` sends."""
    work = Path(tempfile.mkdtemp(prefix="af2kfp-kfp-server-"))
    port_file, log_path = work / "url", work / "server.log"
    command = [
        sys.executable,
        "-m",
        "af2kfp.bridge.kfp_server",
        "--host",
        host,
        "--port",
        str(port),
        "--url-file",
        str(port_file),
        *args,
    ]
    if db_path:
        command += ["--db", str(db_path)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=log,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            url = port_file.read_text().strip()
            return ServerProcess(process=process, url=url, log_path=log_path, credentials=dict(credentials or {}))
        if process.poll() is not None:
            raise RuntimeError(
                f"af2kfp kfp-server exited with {process.returncode}: {log_path.read_text()[-2000:]}"
            )
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError(f"af2kfp kfp-server did not listen within {timeout}s: {log_path.read_text()[-2000:]}")
