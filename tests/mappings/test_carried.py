"""The repository's own helper code travels with a Python task (af2kfp.converters.analysis.carry, af2kfp.converters.mappings.carried).

A repository laid out as teams do (a ``common`` package next to the DAGs) is analyzed; the
component of each task must hold what the callable reads from it, transitively, and run:
its code is executed here as kfp.local's executor would (the function alone, in a fresh
namespace, with its parameters), and must return what the callable returns in Airflow.
What cannot travel is a finding that says why and where.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.graph import tasks
from af2kfp.converters.mappings import map_task

DAG = '''
from datetime import datetime
from airflow.sdk import DAG, task
{imports}

{body}

with DAG("d", schedule=None, start_date=datetime(2024, 1, 1)):
    {calls}
'''


def _repo(tmp_path: Path, files: dict[str, str], imports: str, body: str, calls: str) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    (tmp_path / "dag.py").write_text(DAG.format(imports=imports, body=textwrap.dedent(body), calls=calls))
    return tmp_path


def _mapped(folder: Path) -> dict[str, tuple]:
    (graph,) = analyze_paths([folder], config=Config()).graphs
    return {task.task_id: map_task(task, dag_id="d", config=Config()) for task in tasks(graph)}


def _run(function, **arguments):
    """The component's function alone, as the KFP executor runs it."""
    namespace: dict = {}
    exec(function.code.replace("__AF2KFP_NAME__", "component"), namespace)  # noqa: S102 - our generated code
    return namespace["component"](**arguments)


def _codes(ctx) -> list[str]:
    return sorted(f.code for f in ctx.findings if f.code.startswith("M26"))


COMMON = {
    "common/__init__.py": "from .text import slug\n",
    "common/text.py": '''
        from __future__ import annotations

        import re
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from collections.abc import Iterable

        SEPARATOR = "-"
        _WORD = re.compile(r"[a-z0-9]+")


        def slug(text: str) -> str:
            return SEPARATOR.join(_WORD.findall(text.lower()))


        def slugs(items: Iterable[str]) -> list[str]:
            return [slug(item) for item in items]
        ''',
    "common/utils.py": '''
        import json
        from collections import Counter

        from common.text import slugs as _slugs
        from . import text

        TOP = 2


        class Tally:
            def __init__(self, words):
                self.counts = Counter(_slugs(words))

            def top(self):
                return [word for word, _ in self.counts.most_common(TOP)]


        def summary(words):
            return json.loads(json.dumps({"top": Tally(words).top(), "n": len(words)}))


        def uses_module(words):
            return text.slug(words[0])
        ''',
}


def test_helper_functions_travel_transitively_and_run(tmp_path):
    folder = _repo(tmp_path, COMMON, "from common.utils import summary\nfrom common import slug as make_slug", '''
        @task
        def count(words: list) -> dict:
            return summary(words)

        @task
        def title(name: str) -> str:
            from common.text import slugs
            return make_slug(name) + "/" + ",".join(slugs([name, name.upper()]))
        ''', 'count(["A b", "a-b", "c", "C", "c"])\n    title("Hello World")')
    mapped = _mapped(folder)
    count, ctx = mapped["count"]
    assert _codes(ctx) == ["M266"], [f.message for f in ctx.findings]
    code = count.python.code
    assert "from common" not in code and "import common" not in code  # no import of the repository is left
    assert code.index("SEPARATOR = ") < code.index("def slug(") < code.index("class Tally:") < code.index("def summary(")
    assert "def slug(text):" in code  # annotations of a `from __future__ import annotations` module left out
    assert "uses_module" not in code  # only what is read
    assert json.loads(_run(count.python, words=["A b", "a-b", "c", "C", "c"])) == {
        "top": ["c", "a-b"], "n": 5}
    title, ctx = mapped["title"]
    assert _codes(ctx) == ["M266"]
    assert "make_slug = slug" in title.python.code
    assert _run(title.python, name="Hello World") == "hello-world/hello-world,hello-world"


def test_what_cannot_travel_is_named_with_its_reason(tmp_path):
    files = {
        **COMMON,
        "common/settings.py": '''
            import os
            from airflow.hooks.base import BaseHook

            WAREHOUSE = BaseHook.get_connection("warehouse").host
            HERE = os.path.dirname(__file__)
            with open("limits.txt") as handle:
                LIMIT = handle.read()
            ''',
    }
    folder = _repo(tmp_path, files,
                   "from common.settings import WAREHOUSE, HERE, LIMIT\nfrom common import utils\n"
                   "from common.utils import summary", '''
        @task
        def warehouse():
            return WAREHOUSE

        @task
        def here():
            return HERE

        @task
        def limit():
            return LIMIT

        @task
        def whole_module():
            return sorted(vars(utils))

        @task
        def clash(words):
            TOP = 3
            return summary(words), TOP
        ''', "warehouse()\n    here()\n    limit()\n    whole_module()\n    clash([])")
    mapped = _mapped(folder)
    messages = {task_id: [(f.code, f.message) for f in ctx.findings if f.code.startswith("M26")]
                for task_id, (_, ctx) in mapped.items()}
    ((code, message),) = messages["warehouse"]
    assert code == "M264" and "comes from Airflow" in message and "common/settings.py:3" in message
    ((code, message),) = messages["here"]
    assert code == "M264" and "reads `__file__`" in message and "common/settings.py:6" in message
    ((code, message),) = messages["limit"]
    assert code == "M264" and "With statement" in message and "common/settings.py:7" in message
    ((code, message),) = messages["whole_module"]
    assert code == "M264" and "other than by reading its attributes" in message
    assert [code for code, _ in messages["clash"]] == ["M265"] and "`TOP`" in messages["clash"][0][1]
    for task_id in messages:  # never both the precise finding and the generic one
        assert "M261" not in [f.code for f in mapped[task_id][1].findings]
