"""The Markdown report: counts, findings, caps that say what they left out, nothing that breaks a table."""

from __future__ import annotations

import re

from af2kfp.converters.reports import MARKDOWN_NAME
from af2kfp.converters.reports.markdown import Limits, render_markdown
from af2kfp.converters.reports.model import BLOCKED, dag_views
from tests.reports import crafted as c


def test_samples_summary_and_findings(samples):
    out, report = samples
    text = (out / MARKDOWN_NAME).read_text()
    s = report["summary"]
    row = next(line for line in text.splitlines() if line.startswith(f"| {s['files']} |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:7] == [str(s[k]) for k in ("files", "dags", "tasks", "converted", "folded", "review", "unsupported")]
    assert cells[7] == f"{s['compiled']}/{s['dags']}"
    assert cells[11:] == [str(s["findings"][k]) for k in ("error", "warning", "info")]
    done = s["converted"] + s["folded"]
    assert f"Tasks that run as is (converted + folded): **{done} of {s['tasks']} ({100 * done / s['tasks']:.0f}%)**" in text
    assert "**review** = runs, but a person must check" in text
    blocked = [v.dag["dag_id"] for v in dag_views(report) if v.verdict == BLOCKED]
    assert blocked, "the samples keep at least one blocked DAG"
    assert all(f"| blocked | `{dag_id}` |" in text for dag_id in blocked)
    placeholder = next(f for f in report["findings"] if f["code"] == "M201")
    assert "**error** M201" in text and placeholder["task_id"] in text
    assert "`k8s_train_recommender`" not in text  # ready DAGs are only counted
    assert f"{s['findings']['info']} info findings only counted" in text
    assert len(text) < 20_000


def test_caps_say_how_much_was_left_out():
    dags = [c.dag(f"d{i}", [c.task("a")], [], file=f"dags/d{i}.py") for i in range(80)]
    findings = [c.finding("M205", "warning", dag_id=f"d{i}", task_id="a", file=f"dags/d{i}.py", message=f"w{i}-{j}")
                for i in range(80) for j in range(8)]
    text = render_markdown(c.report(dags, findings), Limits(dag_rows=50, findings_per_dag=5, findings=100, chars=60_000))
    assert text.count("\n- **warning**") == 100
    assert "30 more DAGs not ready are not listed" in text
    assert f"{80 * 8 - 100} warning/error findings left out" in text
    small = render_markdown(c.report(dags, findings), Limits(chars=3_000))
    assert len(small) <= 3_000
    shown = small.count("\n- **warning**")
    assert f"{80 * 8 - shown} warning/error findings left out" in small


def test_text_from_dags_cannot_break_the_table_or_inject_html():
    dag = c.dag("evil|`<script>`", [c.task("a")], [], file="dags/x.py")
    finding = c.finding("M205", "warning", dag_id="evil|`<script>`", task_id="a", message="<img src=x> | ok\nnext",
                        suggestion="[link](javascript:alert(1))")
    text = render_markdown(c.report([dag], [finding]))
    row = next(line for line in text.splitlines() if line.startswith("| needs review |"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 9  # 8 columns: no extra cell from the dag_id
    outside_code = re.sub(r"`[^`]*`", "", text)  # code spans show their text literally
    assert not re.search(r"(?<!\\)<", outside_code)
    assert "\\[link\\]" in text


def test_quoted_code_stays_a_code_span_without_stray_backslashes():
    """A code span shows a backslash as it is: what a message quotes in backticks is left
    unescaped (``\\_`` there would print a stray backslash); only a table cell escapes its
    pipes, which GFM removes there; text around it is still escaped."""
    dag = c.dag("my_dag", [c.task("a")], [], file="dags/my_dag.py")
    finding = c.finding("M202", "warning", dag_id="my_dag", task_id="a", file="dags/my_dag.py",
                        message="`image_pull_policy` is not mapped; `a|b*c` and *not_code*",
                        suggestion="set `resources={'cpu': 1}` on [the task]")
    text = render_markdown(c.report([dag], [finding]))
    line = next(line for line in text.splitlines() if line.startswith("- **warning** M202"))
    assert "`image_pull_policy` is not mapped; `a|b*c` and \\*not\\_code\\*" in line
    assert "→ set `resources={'cpu': 1}` on \\[the task\\]" in text
    spans = re.findall(r"(?<!\\)`([^`]*)(?<!\\)`", text)
    assert spans and not [s for s in spans if "\\" in s and "|" not in s]
    # in a table cell, a pipe inside a code span is escaped (GFM removes that backslash there)
    piped = c.dag("a|b", [c.task("a")], [], file="dags/a|b.py")
    warning = c.finding("M205", "warning", dag_id="a|b", task_id="a", file="dags/a|b.py")
    text = render_markdown(c.report([piped], [warning]))
    row = next(line for line in text.splitlines() if line.startswith("| needs review |"))
    assert "| `a\\|b` | `dags/a\\|b.py` |" in row
    assert "### `a|b` (needs review)" in text
