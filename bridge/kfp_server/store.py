"""SQLite state of the local KFP server: one connection behind one lock.

Every statement is short (a row read or write), so one serialised
connection is both the simplest thread-safe design and fast enough for
hundreds of concurrent pollers; it also works for ``:memory:`` databases.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

__all__ = ["Store"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pipelines (
    pipeline_id TEXT PRIMARY KEY, name TEXT NOT NULL, display_name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', namespace TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL, tags TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS versions (
    pipeline_version_id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL, name TEXT NOT NULL,
    display_name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL,
    spec TEXT NOT NULL, package_url TEXT NOT NULL DEFAULT '', code_source_url TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS experiments (
    experiment_id TEXT PRIMARY KEY, display_name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    namespace TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL,
    storage_state TEXT NOT NULL DEFAULT 'AVAILABLE', last_run_created_at REAL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, experiment_id TEXT NOT NULL, namespace TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    storage_state TEXT NOT NULL DEFAULT 'AVAILABLE', pipeline_spec TEXT, pipeline_id TEXT,
    pipeline_version_id TEXT, runtime_config TEXT NOT NULL DEFAULT '{}',
    service_account TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL, origin REAL NOT NULL,
    fate TEXT NOT NULL, tasks TEXT NOT NULL, run_seconds REAL NOT NULL, cancel_seconds REAL NOT NULL,
    terminated_at REAL, exec_dir TEXT, exec_pid INTEGER, pipeline_name TEXT NOT NULL DEFAULT '',
    recurring_run_id TEXT, scheduled_at REAL);
CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs (experiment_id);
CREATE TABLE IF NOT EXISTS recurring_runs (
    recurring_run_id TEXT PRIMARY KEY, display_name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    experiment_id TEXT NOT NULL, namespace TEXT NOT NULL DEFAULT '', pipeline_spec TEXT,
    pipeline_id TEXT, pipeline_version_id TEXT, runtime_config TEXT NOT NULL DEFAULT '{}',
    service_account TEXT NOT NULL DEFAULT '', trigger TEXT NOT NULL, schedule TEXT NOT NULL,
    max_concurrency INTEGER NOT NULL, no_catchup INTEGER NOT NULL, enabled INTEGER NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, last_triggered INTEGER,
    last_index INTEGER NOT NULL DEFAULT 0, error TEXT);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scripts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, display_name TEXT, fate TEXT NOT NULL, remaining INTEGER);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, status INTEGER NOT NULL DEFAULT 503,
    delay REAL NOT NULL DEFAULT 0, path TEXT NOT NULL DEFAULT '*', method TEXT NOT NULL DEFAULT '*',
    remaining INTEGER NOT NULL, after INTEGER NOT NULL DEFAULT 0);
"""
# Columns added since the first release: a database written by an older server gets them.
_ADDED_COLUMNS = (
    ("runs", "recurring_run_id", "TEXT"),
    ("runs", "scheduled_at", "REAL"),
    ("faults", "after", "INTEGER NOT NULL DEFAULT 0"),
)
_LATE_INDEXES = "CREATE INDEX IF NOT EXISTS runs_by_recurring_run ON runs (recurring_run_id);"


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only (SQLite's journal and WAL
    files take its mode); tighten an existing one; warn about a folder others may write."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        info = path.stat()
        mode = info.st_mode
        if mode & 0o077 and info.st_uid == os.getuid():
            log.warning("%s was readable by others (mode %o); making it 0600", path, stat.S_IMODE(mode))
            os.chmod(path, 0o600)
            for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
                if extra.exists():
                    os.chmod(extra, 0o600)
    folder = path.resolve().parent.stat()
    if folder.st_mode & stat.S_IWOTH and not folder.st_mode & stat.S_ISVTX:
        log.warning(
            "%s is in a folder every user may write to (without the sticky bit): another user "
            "could replace the database; keep it in a private folder",
            path,
        )


class Store:
    """Serialised access to the server's SQLite database."""

    def __init__(self, path: str | None) -> None:
        self.path = path or ":memory:"
        self._lock = threading.RLock()
        if self.path != ":memory:":
            _private_file(Path(self.path))
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        for table, column, declaration in _ADDED_COLUMNS:
            present = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        self._db.executescript(_LATE_INDEXES)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and one SQLite transaction (read-modify-write safety)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(row) for row in self._db.execute(sql, params).fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one statement; return the number of rows it changed."""
        with self._lock:
            return self._db.execute(sql, params).rowcount

    def insert(self, table: str, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.run(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))

    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self.one("SELECT value FROM settings WHERE key = ?", (key,))
        return row["value"] if row else default

    def set_setting(self, key: str, value: str) -> None:
        self.run("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        with self._lock:
            self._db.close()
