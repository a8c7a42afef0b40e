"""The wheel installs one import package, ``af2kfp``, and a user's own top-level packages named
like our folders (``bridge/``, ``converters/``, ``airflow_plugins/`` on Airflow's ``sys.path``)
cannot shadow it: the provider imports, Airflow's ProvidersManager lists it, and ``af2kfp
convert`` works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from af2kfp import __version__

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from the checkout (setuptools in an isolated build environment, as pip does)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=600,
    )
    (built,) = out.glob("af2kfp-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel unpacked as pip installs it, in a folder of its own (put first on PYTHONPATH)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return target


def test_the_wheel_holds_only_af2kfp_with_its_type_marker_and_license(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = f"af2kfp-{__version__}.dist-info/"
    assert {name.split("/")[0] + "/" for name in names} == {"af2kfp/", dist_info}
    assert "af2kfp/py.typed" in names
    assert "af2kfp/__main__.py" in names
    assert "af2kfp/converters/mappings/packages.toml" in names
    assert f"{dist_info}licenses/LICENSE" in names
    # every package folder of the checkout is in the wheel (the package list in pyproject.toml)
    for folder in ("converters", "bridge", "airflow_plugins"):
        for init in (ROOT / folder).rglob("__init__.py"):
            assert f"af2kfp/{init.relative_to(ROOT).as_posix()}" in names
    metadata = zipfile.ZipFile(wheel).read(f"{dist_info}METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "Classifier: Framework :: Apache Airflow :: Provider" in metadata
    entry_points = zipfile.ZipFile(wheel).read(f"{dist_info}entry_points.txt").decode()
    assert "af2kfp = af2kfp.bridge.cli:main" in entry_points
    assert "provider_info = af2kfp.airflow_plugins.get_provider_info:get_provider_info" in entry_points


def _user_folder(root: Path) -> Path:
    """A DAGs folder whose team has packages named like ours, as Airflow puts it on sys.path."""
    for name in ("bridge", "converters", "airflow_plugins"):
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text(f"TEAM_PACKAGE = {name!r}\n")
    return root


def test_a_users_own_bridge_converters_and_airflow_plugins_packages_do_not_shadow_ours(
    installed: Path, tmp_path: Path
) -> None:
    user = _user_folder(tmp_path / "dags")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(user), str(installed)]),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
    }
    script = textwrap.dedent(
        """
        import json, sys
        team = [__import__(name).TEAM_PACKAGE for name in ("bridge", "converters", "airflow_plugins")]  # the team's own
        from af2kfp.airflow_plugins.operators.kfp import KfpRunPipelineOperator
        from af2kfp.bridge.kfp import KfpClient
        from airflow.providers_manager import ProvidersManager
        import af2kfp
        print(json.dumps({
            "team": team,
            "ours": af2kfp.__file__,
            "provider": ProvidersManager().providers["af2kfp"].data["name"],
            "operator": KfpRunPipelineOperator.__module__,
        }))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["team"] == ["bridge", "converters", "airflow_plugins"]
    assert seen["ours"].startswith(str(installed))
    assert seen["provider"] == "Kubeflow Pipelines (af2kfp)"
    assert seen["operator"] == "af2kfp.airflow_plugins.operators.kfp"

    out = tmp_path / "out"
    convert = subprocess.run(
        [sys.executable, "-m", "af2kfp", "convert", str(ROOT / "samples" / "dags" / "docker_sales_etl.py"), "-o", str(out)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert convert.returncode == 0, convert.stderr
    assert (out / "report.json").is_file()
    assert list(out.glob("*/pipeline.yaml"))


def test_version_is_one_value_everywhere() -> None:
    from importlib import metadata

    version = subprocess.run([sys.executable, "-m", "af2kfp", "--version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert version == f"af2kfp {__version__}" == f"af2kfp {metadata.version('af2kfp')}"
