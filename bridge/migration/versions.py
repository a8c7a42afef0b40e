"""A pipeline version named after the content it holds.

The content is the compiled spec and its platform spec (``pipeline.yaml``'s documents) as
canonical JSON (sorted keys, no spaces), so layout, key order and YAML comments do not count
and any change of what KFP would run does. The pipeline's description
(``pipelineInfo.description``) is left out: it is display text, and ``af2kfp convert``
writes the DAG file's path into it as it was given (``dags/x.py`` or ``./dags/x.py``), which
must not make a new version. ``af2kfp deploy`` uploads a version named
``sha256-<first 12 hex digits>`` and writes the whole digest in its description.

Why the name holds the hash (rather than the description or tags): every KFP release has
version names, a name is unique in its pipeline (KFP refuses a second version of that name,
so two deploys racing cannot upload the same content twice) and a name is what the v2beta1
list filter finds in one call; a description is free text a person may edit, and version
``tags`` exist only on recent KFP releases.
"""

from __future__ import annotations

import hashlib
import json

from af2kfp.bridge.kfp import PipelinePackage

__all__ = ["content_sha256", "version_name", "version_description"]

PREFIX = "sha256-"


def content_sha256(package: PipelinePackage) -> str:
    """The hex SHA-256 of the package's spec (less its description) and platform spec as canonical JSON."""
    spec = dict(package.pipeline_spec)
    spec["pipelineInfo"] = {k: v for k, v in (spec.get("pipelineInfo") or {}).items() if k != "description"}
    canonical = json.dumps(
        {"pipeline_spec": spec, "platform_spec": package.platform_spec},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def version_name(digest: str) -> str:
    """``sha256-`` and the first 12 hex digits (48 bits: no clash among one pipeline's versions)."""
    return PREFIX + digest[:12]


def version_description(dag_id: str, digest: str) -> str:
    return f"af2kfp deploy of Airflow DAG {dag_id}; content sha256:{digest}"
