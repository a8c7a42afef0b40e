"""BashOperator -> a container component running ``bash -c`` in ``Config.bash_image``."""

from __future__ import annotations

import ast
import textwrap

from af2kfp.converters.graph import PythonCallable
from af2kfp.converters.mappings import codes
from af2kfp.converters.mappings.base import apply_base, finish
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.dags_folder import DAGS_FOLDER_READ, dags_folder_reads
from af2kfp.converters.mappings.example import Example, example_task
from af2kfp.converters.mappings.model import KfpTask, SecretEnv
from af2kfp.converters.mappings.values import env_dict, text
from af2kfp.converters.values import Duration

__all__ = ["RULES", "OPERATORS", "map_task", "EXAMPLES", "XCOM_WRAPPER", "MAPPED_ARGS", "DROPPED_ARGS", "FLAGGED_ARGS"]

BASH = "airflow.providers.standard.operators.bash.BashOperator"
RULES = ("BashOperator", "task.bash")
OPERATORS = {
    BASH: "BashOperator",
    "airflow.sdk.task.bash": "task.bash",
    "airflow.decorators.task.bash": "task.bash",
    "airflow.operators.bash.BashOperator": "BashOperator",
    "airflow.operators.bash_operator.BashOperator": "BashOperator",
}
IGNORED = frozenset({"output_encoding", "append_env", "output_processor"})
_SCRIPT_SUFFIXES = (".sh", ".bash")
# bash -c SCRIPT OUTPUT_PATH: the command runs as written, its last stdout line becomes the output.
XCOM_WRAPPER = (
    'set -o pipefail\n{{ {command}\n}} | tee /tmp/af2kfp-stdout || exit $?\n'
    'mkdir -p "$(dirname "$0")" && tail -n 1 /tmp/af2kfp-stdout | tr -d "\\n" > "$0"'
)
MAPPED_ARGS = ("bash_command -> bash -c in Config.bash_image", "env -> set_env_variable (secret-looking literals -> use_secret_as_env, M246)",
               "do_xcom_push (read downstream) -> last stdout line as the task's output")
DROPPED_ARGS = tuple(sorted(IGNORED))
FLAGGED_ARGS = ("bash_command ending in .sh/.bash (a script file)", "bash_command reading the DAGs folder (M267)", "Jinja without a KFP translation (docs/templating.md)",
                "@task.bash computing its command at run time")


def _returned_command(ctx: MapContext) -> str | None:
    """The command a ``@task.bash`` function returns, when it returns one string literal."""
    source = ctx.task.python.source if ctx.task.python else None
    try:
        fn = ast.parse(textwrap.dedent(source)).body[0] if source else None
    except SyntaxError:
        fn = None
    body = [s for s in getattr(fn, "body", []) if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Constant):
        value = body[0].value.value
        return value if isinstance(value, str) else None
    return None


def map_task(ctx: MapContext, rule: str) -> KfpTask:
    """Map one BashOperator task; a ``.sh`` path is a Jinja template file in Airflow: flagged."""
    kfp = KfpTask(task_id=ctx.task.task_id, operator=ctx.task.operator, rule=rule, kind="container")
    apply_base(ctx, kfp)
    if rule == "task.bash":
        returned = _returned_command(ctx)
        if returned is None:
            ctx.add(codes.UNRESOLVED_VALUE, "the @task.bash function computes its command at run time; not converted",
                    "Return a literal command, or rewrite the task as a Python component.")
            kfp.kind = "placeholder"
            kfp.image, kfp.command = ctx.config.bash_image, ["sh", "-c"]
            kfp.args = [f"echo 'af2kfp placeholder: {ctx.task.task_id} builds its command at run time' >&2; exit 1"]
            ctx.used.update(ctx.task.args)
            return finish(ctx, kfp, IGNORED)
    source = returned if rule == "task.bash" else ctx.arg("bash_command", "")
    read = dags_folder_reads(source, ctx.task.file) if isinstance(source, str) else None
    if read is not None:
        ctx.add(DAGS_FOLDER_READ, f"bash_command reads `{read}` from the DAGs folder, which is not in the task's "
                                  f"image ({ctx.config.bash_image})")
    command = text(ctx, source, "bash_command")
    if isinstance(command, str) and command.strip().endswith(_SCRIPT_SUFFIXES):
        ctx.add(codes.ARGUMENT_DROPPED, f"bash_command {command.strip()!r} is a script file Airflow renders from the DAG folder",
                "Copy the script into the image (or inline it) and check its Jinja.")
    kfp.image = ctx.config.bash_image
    kfp.command = ["bash", "-c"]
    kfp.args = [command]
    if ctx.task.task_id in ctx.consumers and isinstance(command, str) and ctx.task.args.get("do_xcom_push", True):
        # Airflow pushes the last line of stdout; the wrapper writes it to the KFP output.
        kfp.args = [XCOM_WRAPPER.format(command=command)]
        kfp.output = "xcom"
    env_dict(ctx, kfp, ctx.arg("env"), "env")
    return finish(ctx, kfp, IGNORED)


EXAMPLES = [
    Example(
        title="bash_command runs with bash -c in the configured image",
        airflow='BashOperator(task_id="report", bash_command="echo done && date", env={"TZ": "UTC"})',
        task=example_task(BASH, "report", bash_command="echo done && date", env={"TZ": "UTC"}),
        fields={"image": "bash:5.2", "command": ["bash", "-c"], "args": ["echo done && date"], "env": {"TZ": "UTC"}},
        kfp=('image="bash:5.2"', 'command=["bash", "-c"]', 'args=["echo done && date"]'),
    ),
    Example(
        title="A literal DB_PASSWORD comes from the DAG's Secret (M246); KEY_PREFIX is not secret-looking",
        airflow='BashOperator(task_id="dump", bash_command="pg_dump > x", env={"DB_PASSWORD": "hunter2", "KEY_PREFIX": "raw/"})',
        task=example_task(BASH, "dump", bash_command="pg_dump > x", env={"DB_PASSWORD": "hunter2", "KEY_PREFIX": "raw/"}),
        fields={"env": {"KEY_PREFIX": "raw/"},
                "secret_env": [SecretEnv(secret_name="example-env", key_to_env={"DB_PASSWORD": "DB_PASSWORD"})]},
        kfp=('.set_env_variable(name="KEY_PREFIX", value="raw/")', 'secret_key_to_env={"DB_PASSWORD": "DB_PASSWORD"}'),
        codes=("M246",),
        fate="review",
    ),
    Example(
        title="retries without retry_delay use Airflow's default 300s; execution_timeout -> set_timeout",
        airflow='BashOperator(task_id="t", bash_command="true", retries=3, execution_timeout=timedelta(minutes=5))',
        task=example_task(BASH, "t", bash_command="true", retries=3, execution_timeout=Duration(seconds=300)),
        fields={"timeout_seconds": 300},
        kfp=('.set_retry(num_retries=3, backoff_duration="300s", backoff_factor=1.0)', "kubernetes.set_timeout("),
    ),
    Example(
        title="@task.bash returning a literal command runs it like BashOperator",
        airflow='@task.bash\ndef greet():\n    return "echo hello"',
        task=example_task("airflow.sdk.task.bash", "greet", python=PythonCallable(
            name="greet", source='def greet():\n    """Say hi."""\n    return "echo hello"\n', file="example.py", line=2)),
        fields={"command": ["bash", "-c"], "args": ["echo hello"]},
    ),
    Example(
        title="Scheduler-only settings are dropped with an info finding",
        airflow='BashOperator(task_id="t", bash_command="true", pool="db", priority_weight=5)',
        task=example_task(BASH, "t", bash_command="true", pool="db", priority_weight=5),
        codes=("M203", "M203"),
    ),
]
