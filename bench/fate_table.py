"""Benchmark: how much of a repository converts, as one table.

Runs ``af2kfp convert`` (the console script beside this Python) on each given folder as a whole process (a crash, a signal or
an exit code other than 0/1 is counted, never hidden), reads the ``report.json`` it
wrote and prints, per folder and in total: files, DAGs, pipelines compiled, tasks by
fate, ``converted + folded`` as a share of all tasks, and which findings keep the
other tasks from ``converted`` (the most severe finding of each such task, by code).

Run: ``.venv/bin/python bench/fate_table.py REPO [REPO ...] [--keep DIR] [--json]``.
Extra ``af2kfp convert`` options go after ``--`` (``-- --variables vars.json``).
Not a test: it prints figures and exits 0 unless a conversion crashed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

FATES = ("converted", "folded", "review", "unsupported")
_RANK = {"error": 2, "warning": 1, "info": 0}
EXAMPLES: dict[str, str] = {}  # finding code -> the first message seen, to show what it is about


@dataclass
class Row:
    """One folder's figures; ``crash`` holds why the conversion did not finish."""

    name: str
    files: int = 0
    dags: int = 0
    compiled: int = 0
    fates: Counter[str] = field(default_factory=Counter)
    blockers: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    crash: str = ""

    @property
    def tasks(self) -> int:
        return sum(self.fates[f] for f in FATES)

    def share(self) -> str:
        done = self.fates["converted"] + self.fates["folded"]
        return f"{100 * done / self.tasks:.1f}%" if self.tasks else "-"


def _blockers(report: dict) -> Counter[str]:
    """The most severe finding of each task that is not converted or folded, by code (with one example)."""
    by_task: dict[tuple[str, str], dict] = {}
    for finding in report.get("findings", []):
        key = (finding.get("dag_id") or "", finding.get("task_id") or "")
        if not key[1] or finding["severity"] == "info":
            continue
        kept = by_task.get(key)
        if kept is None or _RANK[finding["severity"]] > _RANK[kept["severity"]]:
            by_task[key] = finding
    found: Counter[str] = Counter()
    for dag in report.get("dags", []):
        for task in dag["airflow"]["tasks"]:
            if task["fate"] in ("review", "unsupported"):
                finding = by_task.get((dag["dag_id"], task["task_id"]))
                code = finding["code"] if finding else "(none)"
                found[code] += 1
                EXAMPLES.setdefault(code, finding["message"][:90] if finding else "no task finding")
    return found


def convert(folder: Path, out: Path, extra: list[str]) -> Row:
    """Convert one folder in a child process and read its report."""
    import time

    row = Row(name=folder.name)
    command = [str(Path(sys.executable).with_name("af2kfp")), "convert", str(folder), "-o", str(out), "--fail-on", "none", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    row.seconds = time.perf_counter() - started
    report_path = out / "report.json"
    if done.returncode not in (0, 1) or not report_path.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        row.crash = f"exit {done.returncode}: " + " | ".join(tail)
        return row
    report = json.loads(report_path.read_text(encoding="utf-8"))
    summary = report["summary"]
    row.files, row.dags, row.compiled = summary["files"], summary["dags"], summary["compiled"]
    row.fates.update({fate: summary[fate] for fate in FATES})
    row.blockers = _blockers(report)
    return row


def _table(rows: list[Row]) -> str:
    head = ("folder", "files", "DAGs", "compiled", *FATES, "conv+fold", "time")
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for row in rows:
        if row.crash:
            lines.append(f"{row.name} | CRASH {row.crash}")
            continue
        compiled = f"{row.compiled}/{row.dags}"
        lines.append(" | ".join([row.name, str(row.files), str(row.dags), compiled,
                                 *(str(row.fates[f]) for f in FATES), row.share(), f"{row.seconds:.1f} s"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--keep", type=Path, help="write each conversion under DIR/<folder name> and keep it")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--blockers", type=int, default=12, help="how many blocking finding codes to list")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="af2kfp-fates-"))
    rows: list[Row] = []
    try:
        for folder in args.folders:
            out = (args.keep or scratch) / folder.resolve().name
            shutil.rmtree(out, ignore_errors=True)
            rows.append(convert(folder, out, extra))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    total = Row(name="TOTAL")
    for row in rows:
        if not row.crash:
            total.files, total.dags, total.compiled = total.files + row.files, total.dags + row.dags, (
                total.compiled + row.compiled)
            total.fates.update(row.fates)
            total.blockers.update(row.blockers)
            total.seconds += row.seconds
    print(_table([*rows, total]))
    crashes = sum(1 for row in rows if row.crash)
    print(f"\ncrashes: {crashes}; DAGs without a compiled pipeline: {total.dags - total.compiled}")
    print("\nwhat keeps tasks from converted (most severe finding per task):")
    for code, count in total.blockers.most_common(args.blockers):
        print(f"  {count:6d}  {code}  e.g. {EXAMPLES[code]}")
    if args.json:
        print(json.dumps([{"folder": r.name, "files": r.files, "dags": r.dags, "compiled": r.compiled,
                           "fates": dict(r.fates), "crash": r.crash} for r in rows], indent=2))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
