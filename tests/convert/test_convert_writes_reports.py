"""`af2kfp convert` writes the static reports beside report.json, as ordinary readable files."""

from __future__ import annotations

import stat
from pathlib import Path

from af2kfp.bridge.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_convert_writes_html_and_markdown_reports(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    out = tmp_path / "out"
    assert main(["convert", "samples/dags/k8s_train_recommender.py", "-o", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "k8s_train_recommender" in html and "<svg" in html
    assert "af2kfp migration report" in (out / "report.md").read_text()
    for name in ("report.json", "report.html", "report.md", "k8s_train_recommender/pipeline.py",
                 "k8s_train_recommender/pipeline.yaml"):
        mode = stat.S_IMODE((out / name).stat().st_mode)
        assert mode & stat.S_IRGRP, f"{name} is mode {oct(mode)}: others cannot read it"
    assert not list(out.rglob("*.tmp")), "no temp file is left behind"
