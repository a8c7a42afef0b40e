"""A Python task's imports are satisfied: the package table, ``[tool.af2kfp.packages]`` and the findings.

Third-party modules become ``packages_to_install`` through the built-in table
(``converters/mappings/packages.toml``) or the user's; a module nothing knows (M260) or
one of the repository's own (M261, found by the analyzer) keeps the task from ``converted``.
"""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import pytest

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config, load_config
from af2kfp.converters.errors import InputError
from af2kfp.converters.graph import PythonCallable, tasks
from af2kfp.converters.mappings import map_task
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.mappings.packages import builtin_table, requirement_name, resolve_modules

TASK = "airflow.sdk.task"


@pytest.mark.parametrize(("module", "distribution"), [
    ("sklearn.linear_model", "scikit-learn"),
    ("yaml", "pyyaml"),
    ("PIL.Image", "pillow"),
    ("bs4", "beautifulsoup4"),
    ("cv2", "opencv-python"),
    ("google.cloud.bigquery", "google-cloud-bigquery"),
    ("google.cloud.storage.blob", "google-cloud-storage"),  # the longest dotted prefix wins
    ("dateutil.parser", "python-dateutil"),
    ("psycopg2.extras", "psycopg2-binary"),
    ("pandas", "pandas"),
])
def test_builtin_table_names_the_distribution(module, distribution):
    assert resolve_modules([module], user={}).packages == [distribution]


def test_builtin_table_is_data_with_valid_requirement_names():
    data = tomllib.loads(Path("converters/mappings/packages.toml").read_text(encoding="utf-8"))
    assert len(data) > 150 and data == {k: v for k, v in data.items() if isinstance(v, str) or v is False}
    assert builtin_table()["kfp"] is None  # KFP installs itself in every component


def test_standard_library_future_and_provided_modules_need_nothing():
    found = resolve_modules(["os.path", "json", "__future__", "kfp.dsl", "collections.abc"], user={})
    assert (found.packages, found.local, found.unknown) == ([], [], [])


def test_user_table_extends_overrides_and_provides():
    user = {"sklearn": "scikit-learn==1.5.2", "inhouse_sdk": "acme-inhouse-sdk>=3", "pandas": False, "numpy": ""}
    found = resolve_modules(["sklearn", "inhouse_sdk.client", "pandas", "numpy", "polars"], user=user)
    assert found.packages == ["scikit-learn==1.5.2", "acme-inhouse-sdk>=3", "polars"]
    assert found.unknown == []


def test_unknown_and_repository_modules_are_not_satisfied():
    found = resolve_modules(["acme_internal.jobs", "helpers", ".sibling", "requests"], user={}, local=["helpers"])
    assert found.packages == ["requests"]
    assert found.local == ["helpers", ".sibling"] and found.unknown == ["acme_internal.jobs"]
    # The user says the image has the repository's package: satisfied.
    assert resolve_modules(["helpers"], user={"helpers": False}, local=["helpers"]).local == []


def test_requirements_of_the_task_win_and_satisfy_their_modules():
    found = resolve_modules(["pandas", "colorama"], user={}, requirements=["Pandas==2.2.2", "colorama>=0.4"])
    assert (found.packages, found.unknown) == ([], [])
    assert requirement_name("Foo_Bar[extra]>=1; python_version>'3'") == "foo-bar"


def _task(source: str, imports: list[str], local: list[str] | None = None, operator: str = TASK, **args):
    fn = PythonCallable(name="work", source=textwrap.dedent(source).lstrip(), file="f.py", line=1,
                        imports=imports, local_modules=local or [])
    return example_task(operator, "work", python=fn, **args)


def test_imports_become_packages_to_install_with_an_info_finding():
    task = _task("def work():\n    import cv2\n    frame = yaml.safe_load('a: 1')\n    print(cv2, frame)\n",
                 ["import yaml", "import os"])
    kfp, ctx = map_task(task, dag_id="d", config=Config())
    assert kfp.python.packages == ["pyyaml", "opencv-python"]
    assert [(f.code, f.message) for f in ctx.findings] == [("M218", "`work` installs pyyaml, opencv-python "
                                                                   "(packages_to_install)")]
    assert kfp.fate == "converted"


def test_unsatisfied_imports_keep_the_task_from_converted():
    task = _task("def work():\n    from mycompany.utils import clean\n    return clean(acme.x)\n",
                 ["import acme_sdk as acme"], local=["mycompany.utils"])
    kfp, ctx = map_task(task, dag_id="d", config=Config())
    found = {f.code: f for f in ctx.findings}
    assert set(found) == {"M260", "M261"} and kfp.fate == "review"
    assert "`acme_sdk`" in found["M260"].message and '`acme_sdk = "<distribution>"`' in found["M260"].suggestion
    assert "`mycompany.utils`" in found["M261"].message and "`mycompany = false`" in found["M261"].suggestion
    config = Config(packages={"acme_sdk": "acme-sdk==4.1", "mycompany": False})
    kfp, ctx = map_task(task, dag_id="d", config=config)
    assert kfp.python.packages == ["acme-sdk==4.1"] and [f.code for f in ctx.findings] == ["M218"]


def test_airflow_imports_stay_a_finding():
    task = _task("def work():\n    return BaseHook.get_connection('x').host\n", ["from airflow.hooks.base import BaseHook"])
    _, ctx = map_task(task, dag_id="d", config=Config())
    assert [f.code for f in ctx.findings] == ["M221"]


def test_virtualenv_requirements_come_first_and_docker_images_are_the_users():
    task = _task("def work():\n    return pandas.__version__, requests.get\n", ["import pandas", "import requests"],
                 operator="airflow.sdk.task.virtualenv", requirements=["pandas==2.2.2"])
    kfp, _ = map_task(task, dag_id="d", config=Config())
    assert kfp.python.packages == ["pandas==2.2.2", "requests"]
    task = _task("def work():\n    return pandas.__version__\n", ["import pandas"],
                 operator="airflow.sdk.task.docker", image="acme/py:1")
    kfp, ctx = map_task(task, dag_id="d", config=Config())
    assert kfp.python.packages == [] and "M218" not in [f.code for f in ctx.findings]


def test_analyzer_records_the_repository_modules_a_callable_imports(tmp_path):
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "__init__.py").write_text("")
    (tmp_path / "helpers" / "clean.py").write_text("def clean(x):\n    return x\n")
    (tmp_path / "settings.py").write_text("BUCKET = 'b'\n")
    (tmp_path / "dag.py").write_text(textwrap.dedent('''
        from datetime import datetime
        import requests
        import settings
        from airflow.sdk import DAG, task

        @task
        def work():
            from helpers.clean import clean
            import pandas
            return clean(settings.BUCKET)

        with DAG("d", schedule=None, start_date=datetime(2024, 1, 1)):
            work()
        '''))
    (graph,) = analyze_paths([tmp_path], config=Config()).graphs
    (task,) = tasks(graph)
    assert task.python.local_modules == ["settings", "helpers.clean"]
    kfp, ctx = map_task(task, dag_id="d", config=Config())
    # helpers.clean's function travels with the task (M266), and so does a module used as an object (its namespace)
    (carried,) = [f for f in ctx.findings if f.code in ("M261", "M264", "M266")]
    assert carried.code == "M266" and "`settings`" in carried.message and "`clean`" in carried.message
    assert "settings = _settings_module()" in kfp.python.code
    assert "def clean(x):" in kfp.python.code and "helpers" not in kfp.python.code
    assert kfp.python.packages == ["pandas"]


def test_config_packages_table(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.af2kfp]\npython_base_image = "acme/py:3.11"\n[tool.af2kfp.packages]\n'
                    'sklearn = "scikit-learn==1.5.2"\n"google.cloud.bigquery" = "google-cloud-bigquery"\n'
                    'mycompany = false\n')
    config = load_config(path)
    assert config.packages == {"sklearn": "scikit-learn==1.5.2", "google.cloud.bigquery": "google-cloud-bigquery",
                               "mycompany": False}
    assert config.python_base_image == "acme/py:3.11"
    path.write_text("[tool.af2kfp.packages]\nmycompany = true\n")
    with pytest.raises(InputError, match=r"\[tool.af2kfp.packages\] must map import names"):
        load_config(path)
