"""A real headless Chromium opens hostile pages against a local server started with every power on
(--control, --run-fates, --execute) and no credentials: only the request checks stand between
the page and code execution on this machine.

Each attack is first shown to work against the same server with its checks switched off (so the
test cannot pass because the browser, not the server, blocked it), then to fail with them on.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from kfp import compiler

from af2kfp.bridge.kfp_server import RunningServer, guard, start_server

from .pipelines import drive_by

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
# Chromium's own Private/Local Network Access checks are off: other browsers have none, and the
# server must defend itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP rebind.test 127.0.0.1",
    "--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,"
    "PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks",
]


# Every way a page can send a write without the server's consent: simple requests (no CORS
# preflight: text/plain, form encodings), a form post into a frame, a JSON request that needs a
# preflight, each to the control API and to run creation.
ATTACK = """
async function attack(base, run) {
  const results = {};
  const settings = JSON.stringify({run_seconds: 42});
  const script = JSON.stringify({fate: {kind: "execute"}, count: 5});
  const body = JSON.stringify(run);
  const tries = {
    settings_text: [base + "/af2kfp/v1/settings", settings, "text/plain"],
    scripts_text: [base + "/af2kfp/v1/scripts", script, "text/plain"],
    run_text: [base + "/apis/v2beta1/runs", body, "text/plain"],
    run_form: [base + "/apis/v2beta1/runs", body, "application/x-www-form-urlencoded"],
  };
  for (const [name, [url, data, type]] of Object.entries(tries)) {
    try {
      await fetch(url, {method: "POST", mode: "no-cors", headers: {"Content-Type": type}, body: data});
      results[name] = "sent";
    } catch (e) { results[name] = "blocked: " + e; }
  }
  try {
    const answer = await fetch(base + "/apis/v2beta1/runs", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: body});
    results.run_json = answer.status;
  } catch (e) { results.run_json = "blocked: " + e; }
  const frame = document.createElement("iframe");
  frame.name = "sink";
  document.body.appendChild(frame);
  const form = document.createElement("form");
  form.method = "POST"; form.action = base + "/apis/v2beta1/runs"; form.enctype = "text/plain"; form.target = "sink";
  const field = document.createElement("input");
  field.name = body.slice(0, -1) + ',"x":"'; field.value = '"}';
  form.appendChild(field); document.body.appendChild(form); form.submit();
  await new Promise(r => setTimeout(r, 1500));
  results.form = "submitted";
  return results;
}
"""

# DNS rebinding: the page's own origin (rebind.test:PORT) resolves to 127.0.0.1, so to the browser
# the server is same-origin: JSON is allowed and answers are readable.
REBIND = """
async function rebind(run) {
  const results = {};
  const control = await fetch("/af2kfp/v1/settings", {method: "PATCH",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({run_seconds: 42})});
  results.settings = control.status;
  const created = await fetch("/apis/v2beta1/runs", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(run)});
  results.run = created.status;
  results.listed = (await fetch("/apis/v2beta1/runs")).status;
  return results;
}
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(f"{CHROMIUM} is not installed (Debian package 'chromium'; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def attacker_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another origin on this machine (another port) serving the hostile page."""
    root = tmp_path_factory.mktemp("attacker")
    (root / "index.html").write_text("<!doctype html><title>cute cats</title><p>cats</p>")
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{site.server_address[1]}/index.html"
    site.shutdown()
    site.server_close()


@pytest.fixture
def powerful(tmp_path: Path) -> Iterator[RunningServer]:
    server = start_server(
        tmp_path / "kfp.db", control=True, run_fates=True, execute=True, run_seconds=0.5, pending_seconds=0.0
    )
    yield server
    server.stop()


def _run_body(tmp_path: Path, marker: Path) -> dict[str, Any]:
    package = tmp_path / "drive_by.yaml"
    compiler.Compiler().compile(drive_by, str(package))
    import yaml

    spec = yaml.safe_load(package.read_text())
    return {
        "display_name": "drive-by",
        "pipeline_spec": spec,
        "runtime_config": {"parameters": {"path": str(marker), "af2kfp.fate": "execute"}},
    }


def _state(server: RunningServer) -> dict[str, Any]:
    store = server.api.store
    return {
        "runs": store.one("SELECT COUNT(*) AS n FROM runs")["n"],
        "scripts": store.one("SELECT COUNT(*) AS n FROM scripts")["n"],
        "run_seconds": server.api.settings.run_seconds,
    }


def _wait_for(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.2)
    return path.exists()


def _cross_origin(browser: Any, site: str, server: RunningServer, run: dict[str, Any]) -> dict[str, Any]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(site)
        return page.evaluate(f"(async () => {{ {ATTACK}; return await attack({json.dumps(server.url)}, {json.dumps(run)}); }})()")
    finally:
        context.close()


def _rebound(browser: Any, server: RunningServer, run: dict[str, Any]) -> dict[str, Any]:
    context = browser.new_context()
    try:
        page = context.new_page()
        origin = f"http://rebind.test:{server.port}"
        # the attacker's DNS answered with its own web server first: its page, then 127.0.0.1
        page.route(origin + "/cats.html", lambda route: route.fulfill(content_type="text/html", body="<p>cats</p>"))
        page.goto(origin + "/cats.html")
        return page.evaluate(f"(async () => {{ {REBIND}; return await rebind({json.dumps(run)}); }})()")
    finally:
        context.close()


def _guard_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("check_host", "check_origin", "check_content_type"):
        monkeypatch.setattr(guard, name, lambda *args, **kwargs: None)


def test_a_page_on_another_origin_can_neither_control_nor_run(
    browser: Any, attacker_site: str, powerful: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _state(powerful)

    with monkeypatch.context() as unguarded:  # the same page against a server without the checks
        _guard_off(unguarded)
        shown = tmp_path / "unguarded"
        _cross_origin(browser, attacker_site, powerful, _run_body(tmp_path, shown))
        assert _wait_for(shown, 60), "the attack page must work against an unguarded server"
        assert _state(powerful)["runs"] >= 1 and _state(powerful)["run_seconds"] == 42
    powerful.api.store.run("DELETE FROM runs")
    powerful.api.store.run("DELETE FROM scripts")
    powerful.api.update_settings({"run_seconds": before["run_seconds"]}, trusted=True)

    marker = tmp_path / "pwned"
    results = _cross_origin(browser, attacker_site, powerful, _run_body(tmp_path, marker))
    assert results["run_json"] != 200  # the preflight is never granted
    assert not _wait_for(marker, 5)
    assert _state(powerful) == before
    assert powerful.server.stats().get("request refused", 0) >= 5


def test_dns_rebinding_is_refused_by_the_host_check(
    browser: Any, powerful: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _state(powerful)

    with monkeypatch.context() as unguarded:
        _guard_off(unguarded)
        shown = tmp_path / "unguarded"
        opened = _rebound(browser, powerful, _run_body(tmp_path, shown))
        assert opened == {"settings": 200, "run": 200, "listed": 200}, opened
        assert _wait_for(shown, 60)
    powerful.api.store.run("DELETE FROM runs")
    powerful.api.update_settings({"run_seconds": before["run_seconds"]}, trusted=True)

    marker = tmp_path / "pwned"
    assert _rebound(browser, powerful, _run_body(tmp_path, marker)) == {"settings": 403, "run": 403, "listed": 403}
    assert not _wait_for(marker, 5)
    assert _state(powerful) == before
