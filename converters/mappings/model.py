"""What a mapping rule produces: a KFP task description the emitters turn into code.

Plain data, no kfp import: rules fill it from an Airflow task, the emitter renders it.
Values are already KFP-shaped (``"500m"``, ``"2G"``, ``"300s"``); anything a rule could
not express is a finding on the task instead of a field here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from af2kfp.converters.findings import Finding
from af2kfp.converters.values import LOOP_PREFIX

__all__ = [
    "FATES",
    "SINGLE_OUTPUT",
    "Input",
    "Template",
    "FileText",
    "Retry",
    "SecretEnv",
    "ConfigMapEnv",
    "SecretVolume",
    "Toleration",
    "NodeAffinity",
    "Volume",
    "PythonFunction",
    "KfpTask",
    "MappedDag",
    "Arm",
    "Decision",
    "Loop",
    "LOOP_PREFIX",
]

# The fate of an Airflow task, as every report shows it.
FATES = ("converted", "folded", "review", "unsupported")
# KFP's name for a component's single output.
SINGLE_OUTPUT = "Output"


@dataclass(frozen=True, kw_only=True)
class Input:
    """A component input fed at run time by another task's output (an Airflow XCom)."""

    name: str
    task_id: str
    key: str = "return_value"


@dataclass(frozen=True, kw_only=True)
class Template:
    """A string Airflow rendered per run, built at run time in KFP (see ``af2kfp.converters.templating``).

    ``parts`` are literal text, ``ParamRef`` (pipeline parameter), ``PlaceholderRef`` (KFP
    placeholder) and :class:`Input` (another task's output). In a container's command/args
    it is the component input ``name`` (a str); in ``arguments`` ``name`` is the argument.
    """

    name: str
    parts: tuple[Any, ...]


@dataclass(frozen=True, kw_only=True)
class FileText:
    """A command item that is the text of a file af2kfp writes beside ``pipeline.py`` (the fallback's
    runner): ``pipeline.py`` reads it into the module-level constant ``name`` when it is imported, so
    the module stays readable and the compiled ``pipeline.yaml`` carries the text itself."""

    name: str
    file: str


@dataclass(frozen=True, kw_only=True)
class Retry:
    """``PipelineTask.set_retry`` arguments."""

    num_retries: int
    backoff_duration: str | None = None
    backoff_factor: float | None = None
    backoff_max_duration: str | None = None


@dataclass(frozen=True, kw_only=True)
class SecretEnv:
    """``kfp.kubernetes.use_secret_as_env``: secret data key -> environment variable; ``optional``: the
    task starts without it when the Secret does not exist."""

    secret_name: str
    key_to_env: dict[str, str]
    optional: bool = False


@dataclass(frozen=True, kw_only=True)
class ConfigMapEnv:
    """``kfp.kubernetes.use_config_map_as_env``: ConfigMap data key -> environment variable."""

    config_map_name: str
    key_to_env: dict[str, str]
    optional: bool = False


@dataclass(frozen=True, kw_only=True)
class SecretVolume:
    """``kfp.kubernetes.use_secret_as_volume``."""

    secret_name: str
    mount_path: str


@dataclass(frozen=True, kw_only=True)
class Toleration:
    """``kfp.kubernetes.add_toleration`` arguments."""

    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = None


@dataclass(frozen=True, kw_only=True)
class NodeAffinity:
    """``kfp.kubernetes.add_node_affinity``: one node selector term; ``weight`` set = preferred."""

    match_expressions: list[dict[str, Any]] = field(default_factory=list)
    match_fields: list[dict[str, Any]] = field(default_factory=list)
    weight: int | None = None


@dataclass(frozen=True, kw_only=True)
class Volume:
    """A volume mounted into the task: ``kind`` is ``pvc``, ``config_map`` or ``empty_dir``."""

    kind: str
    name: str
    mount_path: str
    sub_path: str = ""
    medium: str | None = None
    size_limit: str | None = None


@dataclass(kw_only=True)
class PythonFunction:
    """A lightweight Python component: a generated signature around the user's body.

    ``params`` are ``(name, carrier, default_source)``: the carrier is a KFP parameter type
    or how a JSON value travels (:mod:`~af2kfp.converters.mappings.pytypes`, ``kfp_type`` gives its
    annotation), ``default_source`` a literal's ``repr`` or ``None`` (no default).
    ``code`` is the whole ``def`` (signature generated here, body the user's).
    ``returns``: the KFP type of the single output, ``carrier`` how it travels (``None``: as
    ``returns`` says). ``outputs``: Airflow's ``multiple_outputs``, one output per XCom key
    read downstream and ``return_value``: key -> ``(output name, carrier)``; the component
    then returns a ``NamedTuple`` and ``returns`` is ``None``.
    ``skip_output``: the bool output that is True when the task ran, False when it raised
    ``AirflowSkipException`` (Airflow then marks it skipped): the last ``NamedTuple`` field after
    ``outputs``, or :data:`SINGLE_OUTPUT` when it is the only output (``returns`` is ``bool``).
    """

    code: str
    params: list[tuple[str, str, str | None]] = field(default_factory=list)
    returns: str | None = None
    base_image: str = "python:3.11"
    packages: list[str] = field(default_factory=list)
    carrier: str | None = None
    outputs: dict[str, tuple[str, str]] = field(default_factory=dict)
    skip_output: str | None = None
    # pipeline parameters its inputs read that the mapping adds (Airflow Variables the body reads)
    parameters: list[Any] = field(default_factory=list)

    def xcoms(self) -> dict[str, str]:
        """XCom key -> carrier of each value the component outputs."""
        if self.skip_output == SINGLE_OUTPUT:
            return {}
        if self.outputs:
            return {key: carrier for key, (_, carrier) in self.outputs.items()}
        return {"return_value": self.carrier or self.returns} if self.returns else {}


@dataclass(frozen=True, kw_only=True)
class Arm:
    """One condition a task runs under: ``decider``'s output equals ``value`` (``dsl.If``).

    For a branch in ``choice`` mode ``output`` is ``None`` (the task's single output) and
    ``value`` the chosen task id; in ``set`` mode ``output`` names the boolean output of
    that target; for a short circuit ``value`` is ``True``.
    """

    decider: str
    value: Any
    output: str | None = None


@dataclass(kw_only=True)
class Decision:
    """What a branch or short-circuit task decides, as its component reports it.

    ``mode``: ``choice`` (returns one task or TaskGroup id, ``dsl.If``/``dsl.Elif``/``dsl.Else``),
    ``set`` (one boolean output per target, a ``dsl.If`` each) or ``short_circuit``
    (returns a bool). ``targets`` are the values it may return (task ids, or in ``choice`` mode
    TaskGroup ids too), in order;
    ``outputs`` the output name of each target in ``set`` mode; ``exhaustive`` says every
    run follows exactly one of the targets (so the last arm may be ``dsl.Else``, and a join
    of all the arms runs whatever was chosen).
    ``skip_all_downstream``: a short circuit skips every downstream task, whatever its
    trigger rule (Airflow's ``ignore_downstream_trigger_rules=True``).
    ``skip``: a task that may raise ``AirflowSkipException``; its bool output ``flag``
    (``None``: its single output) is True when it ran. Airflow marks only the task skipped;
    each task after it decides by its own trigger rule (:mod:`.conditions`).
    """

    mode: str
    targets: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    exhaustive: bool = False
    skip_all_downstream: bool = True
    # ``choice`` mode: direct downstream task id -> the value that follows it, when that is
    # a TaskGroup id around it (Airflow follows a returned group id into its root tasks).
    selects: dict[str, str] = field(default_factory=dict)
    flag: str | None = None


@dataclass(frozen=True, kw_only=True)
class Loop:
    """One ``dsl.ParallelFor`` around a mapped task (Airflow ``.expand()``).

    ``items`` is a JSON list literal or an :class:`Input` (another task's list output);
    ``variable`` the loop variable the task's arguments read (``TaskRef`` ids
    ``LOOP_PREFIX + variable`` stand for it, ``.field`` for a key of a dict item);
    ``parallelism`` Airflow's ``max_active_tis_per_dagrun``/``max_active_tis_per_dag``.
    """

    variable: str
    items: Any
    parallelism: int | None = None
    # What the loop repeats: the mapped task's id, or the mapped task group's (shared by its tasks).
    scope: str = ""

    def __hash__(self) -> int:  # items may be a list: equal loops share variable and scope
        return hash((self.variable, self.scope))




@dataclass(kw_only=True)
class KfpTask:
    """One KFP task (and its component) standing for one or more Airflow tasks.

    ``kind``: ``container`` (``ContainerSpec``), ``python`` (``@dsl.component``) or
    ``placeholder`` (keeps the pipeline's shape for a task no rule converts).
    ``arguments`` are the task's call arguments: JSON literals, :class:`Input` or :class:`Template`.
    ``parameters`` are the pipeline parameters its templates read (``af2kfp.converters.templating``).
    """

    task_id: str
    operator: str
    rule: str
    kind: str
    component: str = ""
    image: str | None = None
    command: list[Any] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)
    python: PythonFunction | None = None
    # Name of a container's string output (``dsl.OutputPath(str)``), passed as the last arg.
    output: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    secret_env: list[SecretEnv] = field(default_factory=list)
    secret_volumes: list[SecretVolume] = field(default_factory=list)
    config_map_env: list[ConfigMapEnv] = field(default_factory=list)
    # ``kfp.kubernetes.use_field_path_as_env``: environment variable -> the pod's field (``metadata.name``).
    field_env: dict[str, str] = field(default_factory=dict)
    volumes: list[Volume] = field(default_factory=list)
    cpu_request: str | None = None
    cpu_limit: str | None = None
    memory_request: str | None = None
    memory_limit: str | None = None
    accelerator_type: str | None = None
    accelerator_limit: str | None = None
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[Toleration] = field(default_factory=list)
    node_affinity: list[NodeAffinity] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    image_pull_secrets: list[str] = field(default_factory=list)
    image_pull_policy: str | None = None
    # ``kfp.kubernetes.set_security_context``: run_as_user, run_as_group, run_as_non_root.
    security: dict[str, Any] = field(default_factory=dict)
    retry: Retry | None = None
    timeout_seconds: int | None = None
    parameters: list[Any] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    fate: str = "converted"
    # Control flow (:mod:`af2kfp.converters.mappings.control`): conditions outermost first,
    # what this task decides, the loops around it, and how it treats failed upstream tasks.
    arms: tuple[Arm, ...] = ()
    decision: Decision | None = None
    loops: tuple[Loop, ...] = ()
    ignore_upstream_failure: bool = False
    exit_handler: bool = False
    # Outputs of the run context this task reads (output name -> its Python; af2kfp.converters.run_context).
    run_context: dict[str, str] = field(default_factory=dict)

    def inputs(self) -> set[Input]:
        """Every output this task reads: an argument, inside a template, or the items it loops over."""
        values = list(self.arguments.values()) + self.command + self.args + [loop.items for loop in self.loops]
        found = {i for i in values if isinstance(i, Input)}
        return found | {p for t in values if isinstance(t, Template) for p in t.parts if isinstance(p, Input)}

    def reads(self) -> set[str]:
        """Tasks whose output this task reads: an argument, inside a template, or the items it loops over."""
        return {i.task_id for i in self.inputs()}

    def uses_kubernetes(self) -> bool:
        """True when the emitted code needs ``from kfp import kubernetes``."""
        return bool(
            self.secret_env
            or self.secret_volumes
            or self.config_map_env
            or self.field_env
            or self.volumes
            or self.node_selector
            or self.tolerations
            or self.node_affinity
            or self.labels
            or self.annotations
            or self.image_pull_secrets
            or self.image_pull_policy
            or self.security
            or self.timeout_seconds
        )


@dataclass(kw_only=True)
class MappedDag:
    """A whole DAG after mapping: KFP tasks in emit order, edges after folding, every fate.

    ``edges`` are ``(upstream_task_id, downstream_task_id)`` between tasks of ``tasks``;
    ``fates`` covers every Airflow task of the graph, folded ones included.
    ``parameters`` are the pipeline function's parameters (``af2kfp.converters.templating.PipelineParameter``):
    the DAG's params, then what the templates read, in order of first use.
    """

    graph: Any
    tasks: list[KfpTask]
    edges: list[tuple[str, str]]
    fates: dict[str, str]
    findings: list[Finding]
    parameters: list[Any] = field(default_factory=list)
    # Deciders whose arms are emitted as a sub-pipeline (a task outside them waits for them).
    subpipelines: set[str] = field(default_factory=set)
    # The run context the tasks read their dates from (af2kfp.converters.run_context.RunContextPlan), if any.
    run_context: Any = None
