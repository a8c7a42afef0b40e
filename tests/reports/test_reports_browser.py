"""The HTML report in headless Chromium: graphs, highlight on click, code panes, findings, no injected script."""

from __future__ import annotations

import pytest

from af2kfp.converters.reports import HTML_NAME
from af2kfp.converters.reports.model import BLOCKED, dag_views

pytestmark = pytest.mark.slow


def _dag_index(report, dag_id):
    return next(i for i, d in enumerate(report["dags"], 1) if d["dag_id"] == dag_id)


def _external_requests(page):
    requests = []
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file://", "data:")) else None)
    return requests


def test_dag_graphs_highlight_code_and_findings(samples, page, artifacts, tmp_path):
    out, report = samples
    external = _external_requests(page)
    page.goto((out / HTML_NAME).as_uri())
    dag = next(d for d in report["dags"] if d["dag_id"] == "default_args_taskgroups")
    section = page.locator(f"#dag-{_dag_index(report, dag['dag_id'])}")
    page.get_by_role("link", name="default_args_taskgroups", exact=True).click()  # the DAG list opens the section
    assert section.evaluate("d => d.open")
    assert section.locator("svg.airflow .node").count() == len(dag["airflow"]["tasks"])
    assert section.locator("svg.kfp .node").count() == len(dag["kfp"]["tasks"])
    assert section.locator("svg.kfp .ghost").count() == sum(t["kfp_task"] is None for t in dag["airflow"]["tasks"])
    assert section.locator("svg .group").count() >= 2  # TaskGroups drawn on both sides

    task = next(t for t in dag["airflow"]["tasks"] if t["group"] and t["kfp_task"])
    node = section.locator("svg.airflow .node").filter(has=page.locator("title", has_text=task["task_id"]))
    node.click()
    key = node.get_attribute("data-k")
    counterpart = section.locator(f'svg.kfp .node[data-k="{key}"]')
    assert "hl" in counterpart.get_attribute("class").split()
    assert section.locator(".hl").count() == 3  # both nodes and the task's code panes
    assert section.locator("svg.airflow .node.hl").count() == 1
    other = section.locator("svg.kfp .node").last
    other.click()  # and back from the KFP side
    assert "hl" in section.locator(f'svg.airflow .node[data-k="{other.get_attribute("data-k")}"]').get_attribute("class")
    assert "hl" not in counterpart.get_attribute("class").split()

    panes = section.locator(f'.task[data-ks="{key}"] div.code')
    assert panes.count() == 2
    assert "KubernetesPodOperator(" in panes.nth(0).inner_text()
    assert "@dsl.container_component" in panes.nth(1).inner_text()
    assert section.locator("ul.findings li").filter(has_text="M202").count() >= 1
    assert section.locator("ul.check li").count() >= 2
    for target in (artifacts / "report-dag.png", tmp_path / "report-dag.png"):
        section.screenshot(path=str(target))
    page.screenshot(path=str(artifacts / "report-top.png"))
    assert external == []


def test_dag_list_sorts_and_filters(samples, page):
    out, report = samples
    page.goto((out / HTML_NAME).as_uri())
    rows = page.locator("#daglist tbody tr")
    assert rows.count() == len(report["dags"])
    page.fill("#filter", "customer_sync")
    assert page.locator("#daglist tbody tr:not([hidden])").count() == 3
    page.fill("#filter", "")
    page.select_option("#verdict", "blocked")
    visible = page.locator("#daglist tbody tr:not([hidden])")
    blocked = sum(1 for v in dag_views(report) if v.verdict == BLOCKED)
    assert blocked and visible.count() == blocked and all(v == "blocked" for v in visible.evaluate_all("rs => rs.map(r => r.dataset.verdict)"))
    page.select_option("#verdict", "")
    page.locator("#daglist th", has_text="tasks").click()
    page.locator("#daglist th", has_text="tasks").click()  # descending
    first = rows.first.locator("td").nth(1).inner_text()
    assert first == max(report["dags"], key=lambda d: len(d["airflow"]["tasks"]))["dag_id"]


def test_hostile_task_ids_run_no_script(hostile, page):
    out, report = hostile
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto((out / HTML_NAME).as_uri())
    page.click("[data-all=open]")
    for node in page.locator("svg .node").all():
        node.click()
        node.hover()
    page.locator("svg .group").first.hover(force=True)
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert page.locator("svg.airflow .node").count() == 3
    assert page.get_by_text("<script>window.__pwned=1</script>", exact=True).count() >= 1
    assert page.locator("img").count() == 0 and page.locator("b[onmouseover]").count() == 0


def test_print_opens_every_dag(samples, page):
    out, _ = samples
    page.goto((out / HTML_NAME).as_uri())
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.locator("details.dag:not([open])").count() == 0
    assert page.pdf(format="A4")[:4] == b"%PDF"
