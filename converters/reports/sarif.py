"""SARIF 2.1.0 output, so findings show up in code-scanning tools (GitHub, GitLab, IDEs).

One run; its rules are every finding code (id = code, help = the code's help text from
:data:`af2kfp.converters.findings.CODES`); each finding becomes a result located at its DAG file
(URI relative to the source root, ``uriBaseId`` ``%SRCROOT%``) and line.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from af2kfp.converters.reports.model import finding_codes

__all__ = ["LEVELS", "render_sarif"]

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _version() -> str:
    try:
        return metadata.version("af2kfp")
    except metadata.PackageNotFoundError:
        return "0"


def _uri(file: str, root: Path) -> tuple[str, bool]:
    """``(uri, relative)``: a relative URI (``/`` separators, percent-encoded) when possible."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(root.resolve())
        except ValueError:
            return path.as_uri(), False
    return quote(PurePosixPath(*path.parts).as_posix()), True


def _rule(code: str, entry: Any) -> dict[str, Any]:
    title = entry.title if entry else code
    help_text = entry.help if entry else code
    return {
        "id": code,
        "name": "".join(word.capitalize() for word in title.replace("/", " ").split() if word.isalnum()) or code,
        "shortDescription": {"text": title},
        "fullDescription": {"text": help_text},
        "help": {"text": help_text, "markdown": f"**{code}: {title}**\n\n{help_text}"},
        "defaultConfiguration": {"level": LEVELS[entry.severity.value] if entry else "warning"},
    }


def render_sarif(report: dict[str, Any], source_root: Path | None = None) -> dict[str, Any]:
    """The SARIF log of a ``report.json`` document (a JSON-ready dict)."""
    root = Path(source_root) if source_root else Path.cwd()
    codes = finding_codes()
    used = sorted(set(codes) | {f["code"] for f in report["findings"]})
    index = {code: i for i, code in enumerate(used)}
    results = []
    for finding in report["findings"]:
        uri, relative = _uri(finding["file"], root)
        location: dict[str, Any] = {"artifactLocation": {"uri": uri, **({"uriBaseId": "%SRCROOT%"} if relative else {})}}
        if finding.get("line"):
            location["region"] = {"startLine": int(finding["line"])}
        properties = {k: finding[k] for k in ("dag_id", "task_id") if finding.get(k) is not None}
        results.append({
            "ruleId": finding["code"],
            "ruleIndex": index[finding["code"]],
            "level": LEVELS.get(finding["severity"], "warning"),
            "message": {"text": f"{finding['message']} Suggestion: {finding['suggestion']}"},
            "locations": [{"physicalLocation": location}],
            **({"properties": properties} if properties else {}),
        })
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "af2kfp", "version": _version(),
                                "rules": [_rule(code, codes.get(code)) for code in used]}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
