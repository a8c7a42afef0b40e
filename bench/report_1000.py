"""Benchmark: the HTML report of a 1,000-file DAG repository stays small and paints fast.

Generates N DAG files (default 1,000) in a scratch folder by copying ``samples/dags`` files
round-robin with renamed dag_ids (``<dag_id>_<n>``; factory f-strings get the number too),
converts them with ``af2kfp``'s own ``convert_paths``, builds ``report.html`` with
``af2kfp.converters.reports.write_reports``, and loads it in headless Chromium (Debian's
``/usr/bin/chromium`` through Playwright) to read ``first-contentful-paint`` from the
Performance API. Targets: **< 20 MB** and **first paint < 2 s**.

    .venv/bin/python bench/report_1000.py                 # 1,000 files, 3 page loads
    .venv/bin/python bench/report_1000.py --files 200 --loads 5 --strict --keep build/bench-report
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "dags"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# Resolves with first-contentful-paint's start time once Chromium has recorded it (null after 30 s).
_FCP_SCRIPT = """() => new Promise(resolve => {
  new PerformanceObserver(list => {
    const entry = list.getEntriesByName('first-contentful-paint')[0];
    if (entry) { resolve(entry.startTime); }
  }).observe({type: 'paint', buffered: true});
  setTimeout(() => resolve(null), 30000);
})"""
SIZE_TARGET = 20 * 1024 * 1024
PAINT_TARGET = 2.0


def _renamed(source: str, dag_ids: list[str], n: int) -> str:
    """``source`` with each dag_id made unique: the literal, or the f-string prefix that builds it."""
    for dag_id in dag_ids:
        source = re.sub(rf"\b{re.escape(dag_id)}\b", f"{dag_id}_{n:04d}", source)
        for cut in range(len(dag_id) - 1, 0, -1):  # a factory: f"customer_sync_{name}"
            prefix = dag_id[:cut]
            if f'f"{prefix}{{' in source:
                source = source.replace(f'f"{prefix}{{', f'f"{prefix}{n:04d}_{{')
                break
    return source


def generate(root: Path, files: int) -> Path:
    """A DAG repository of ``files`` DAG files under ``root/dags`` (helpers and config copied)."""
    from af2kfp.converters.config import find_pyproject, load_config
    from af2kfp.converters.convert import convert_paths

    probe = convert_paths([SAMPLES], root / "probe", config=load_config(find_pyproject(SAMPLES)), jobs=1)
    shutil.rmtree(root / "probe")
    ids: dict[str, list[str]] = {}
    for dag in probe["dags"]:
        ids.setdefault(Path(dag["file"]).name, []).append(dag["dag_id"])
    dags = root / "dags"
    shutil.copytree(SAMPLES / "common", dags / "common")
    shutil.copy(SAMPLES / ".airflowignore", dags / ".airflowignore")
    shutil.copy(SAMPLES.parent / "pyproject.toml", root / "pyproject.toml")
    sources = sorted(p for p in SAMPLES.glob("*.py"))
    for n in range(files):
        sample = sources[n % len(sources)]
        text = _renamed(sample.read_text(encoding="utf-8"), ids.get(sample.name, []), n)
        (dags / f"{sample.stem}_{n:04d}.py").write_text(text, encoding="utf-8")
    return dags


def first_paint(html: Path, loads: int) -> list[tuple[float, float]]:
    """``(first-contentful-paint, load event end)`` in seconds, for each fresh page load."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                page.goto(html.as_uri(), wait_until="load", timeout=120_000)
                fcp = page.evaluate(_FCP_SCRIPT)
                loaded = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
                context.close()
                times.append((float(fcp) / 1000 if fcp is not None else float("inf"), float(loaded) / 1000))
        finally:
            browser.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="DAG files to generate (default 1000)")
    parser.add_argument("--loads", type=int, default=3, help="page loads in Chromium; the median counts (default 3)")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR (kept) instead of a temporary folder")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    from af2kfp.converters.config import find_pyproject, load_config
    from af2kfp.converters.convert import convert_paths, default_jobs
    from af2kfp.converters.reports import write_reports

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="af2kfp-report-bench-"))
    if args.keep and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        dags = generate(work, args.files)
        print(f"generated {args.files} DAG files in {time.perf_counter() - start:.1f} s -> {dags}")
        start = time.perf_counter()
        report = convert_paths([dags], work / "out", config=load_config(find_pyproject(dags)), jobs=default_jobs())
        s = report["summary"]
        print(f"converted in {time.perf_counter() - start:.1f} s: {s['files']} files, {s['dags']} DAGs, {s['tasks']} tasks, "
              f"{s['compiled']} compiled, {s['findings']['total']} findings")
        start = time.perf_counter()
        html, markdown = write_reports(report, work / "out")
        build = time.perf_counter() - start
        size = html.stat().st_size
        print(f"report.html built in {build:.1f} s: {size / 1024 / 1024:.1f} MB "
              f"({size / max(s['dags'], 1) / 1024:.1f} KB per DAG); report.md {markdown.stat().st_size / 1024:.1f} KB")
        size_ok = size < SIZE_TARGET
        print(f"size target < {SIZE_TARGET // 1024 // 1024} MB: {'MET' if size_ok else 'MISSED'}")
        if not Path(CHROMIUM).exists():
            print(f"first paint: NOT MEASURED ({CHROMIUM} is not installed)")
            return 1 if args.strict else 0
        times = first_paint(html, args.loads)
        median = statistics.median(t for t, _ in times)
        paint_ok = median < PAINT_TARGET
        print(f"first-contentful-paint in headless Chromium: median {median:.2f} s of {', '.join(f'{t:.2f}' for t, _ in times)} s; "
              f"target < {PAINT_TARGET:.0f} s: {'MET' if paint_ok else 'MISSED'}")
        print(f"whole page loaded (load event end, for information): median {statistics.median(t for _, t in times):.2f} s")
        return 1 if args.strict and not (size_ok and paint_ok) else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
