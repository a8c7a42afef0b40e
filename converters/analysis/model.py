"""What the symbolic interpreter builds while it "runs" a DAG file: DAGs, tasks, groups.

These mirror Airflow's objects just enough to name tasks and wire dependencies exactly
as Airflow does (group prefixes, TaskFlow ``__N`` suffixes, group roots and leaves at the
moment a dependency is set). They never hold user code, only resolved values and nodes.
"""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import PurePath
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from af2kfp.converters.analysis.deferred import untagged
from af2kfp.converters.findings import Finding
from af2kfp.converters.graph import Inherits, Mapped, PythonCallable
from af2kfp.converters.values import Call, DateTime, Duration, Lambda, Symbolic, TaskRef

__all__ = [
    "DagObj",
    "TaskObj",
    "GroupObj",
    "XComArgObj",
    "xcom_pull_template",
    "LabelObj",
    "Ref",
    "ModuleObj",
    "FunctionObj",
    "ClassObj",
    "DecoratorObj",
    "TaskFlowObj",
    "DagFactoryObj",
    "GroupFactoryObj",
    "PartialObj",
    "BoundMethod",
    "InstanceObj",
    "BaseInit",
    "ConnectionObj",
    "EnumMember",
    "PartialCall",
    "SuperObj",
    "unique_taskflow_id",
    "to_value",
]


@dataclass(eq=False)
class Ref:
    """A name imported from outside the scanned files, by canonical qualified name."""

    qualname: str
    imported_as: str


@dataclass(eq=False)
class GroupObj:
    """A TaskGroup; ``raw_id`` is the id as given, :meth:`group_id` adds parent prefixes."""

    raw_id: str | None
    dag: "DagObj"
    parent: "GroupObj | None" = None
    prefix_group_id: bool = True
    default_args: dict[str, Any] = field(default_factory=dict)
    tasks: list["TaskObj"] = field(default_factory=list)
    children: list["GroupObj"] = field(default_factory=list)
    # A mapped @task_group (``.expand``): (loop variable, items) per expanded parameter.
    loops: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def group_id(self) -> str | None:
        parent = self.parent
        if self.raw_id and parent is not None and parent.prefix_group_id and parent.raw_id:
            return parent.child_id(self.raw_id)
        return self.raw_id

    def child_id(self, label: str) -> str:
        if self.prefix_group_id and self.group_id:
            return f"{self.group_id}.{label}"
        return label

    def path(self) -> list[str]:
        out: list[str] = []
        group: GroupObj | None = self
        while group is not None and group.raw_id is not None:
            out.append(group.group_id or "")
            group = group.parent
        return list(reversed(out))

    def all_tasks(self) -> list["TaskObj"]:
        found = list(self.tasks)
        for child in self.children:
            found.extend(child.all_tasks())
        return found

    def roots(self) -> list["TaskObj"]:
        members = self.all_tasks()
        ids = {id(t) for t in members}
        return [t for t in members if not any(id(u) in ids for u in t.upstream)]

    def leaves(self) -> list["TaskObj"]:
        """Airflow's ``get_leaves``: teardowns hand over to their first non-teardown upstream."""
        members = self.all_tasks()
        ids = {id(t) for t in members}

        def has_non_teardown_downstream(node: TaskObj, exclude: TaskObj) -> bool:
            return any(d is not exclude and id(d) in ids and not d.is_teardown for d in node.downstream)

        def first_non_teardown(node: TaskObj) -> list[TaskObj]:
            out: list[TaskObj] = []
            for up in node.upstream:
                if id(up) not in ids:
                    continue
                if up.is_teardown:
                    out.extend(first_non_teardown(up))
                elif node.is_teardown and up.is_setup:
                    continue
                elif not has_non_teardown_downstream(up, exclude=node):
                    out.append(up)
            return out

        leaves: list[TaskObj] = []
        for member in members:
            if not any(id(d) in ids for d in member.downstream):
                leaves.extend([member] if not member.is_teardown else first_non_teardown(member))
        return leaves


@dataclass(eq=False)
class TaskObj:
    """One task; ``upstream``/``downstream`` are kept here to compute group roots/leaves."""

    task_id: str
    operator: str
    imported_as: str
    file: str
    line: int | None
    end_line: int | None
    args: dict[str, Any] = field(default_factory=dict)
    from_default_args: list[str] = field(default_factory=list)
    call_args: list[Any] = field(default_factory=list)
    call_kwargs: dict[str, Any] = field(default_factory=dict)
    python: PythonCallable | None = None
    mapped: Mapped | None = None
    dag: "DagObj | None" = None
    group: GroupObj | None = None
    upstream: list["TaskObj"] = field(default_factory=list)
    downstream: list["TaskObj"] = field(default_factory=list)
    data_upstream: set[int] = field(default_factory=set)
    is_setup: bool = False
    is_teardown: bool = False
    subdag: "DagObj | None" = None  # the DAG a SubDagOperator runs, flattened into this task's place
    inherits: Inherits | None = None  # a repository operator: the classes it derives from


@dataclass(eq=False)
class DagObj:
    """A DAG under construction; ``registered`` once Airflow would collect it."""

    dag_id: str
    file: str
    line: int | None
    kwargs: dict[str, Any]
    default_args: dict[str, Any]
    tasks: dict[str, TaskObj] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    registered: bool = False
    root: GroupObj | None = None
    used_group_ids: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.root = GroupObj(raw_id=None, dag=self)


@dataclass(eq=False)
class XComArgObj:
    """A task's output (TaskFlow return value, ``.output``), optionally one key of it."""

    task: TaskObj
    key: str = "return_value"


def xcom_pull_template(xcom: XComArgObj) -> str | None:
    """What ``str(xcom_arg)`` (an f-string too) gives in Airflow: the Jinja ``xcom_pull`` of that task's
    output, for old-style templated fields; ``None`` for a task of no DAG (no dag_id to name)."""
    if xcom.task.dag is None:
        return None
    return (f"{{{{ task_instance.xcom_pull(task_ids='{xcom.task.task_id}', dag_id='{xcom.task.dag.dag_id}', "
            f"key='{xcom.key}') }}}}")


@dataclass(eq=False)
class LabelObj:
    """``Label("x")`` between tasks: remembers both sides and wires them when both are known."""

    text: Any
    ups: list[TaskObj] = field(default_factory=list)
    downs: list[TaskObj] = field(default_factory=list)


@dataclass(eq=False)
class ModuleObj:
    """A module of the scanned repository, executed once; attributes are its globals."""

    name: str
    file: str
    scope: dict[str, Any]


@dataclass(eq=False)
class FunctionObj:
    """A ``def`` (or lambda) of a scanned file with the scope it closes over."""

    node: cst.FunctionDef | cst.Lambda
    name: str
    source: Any  # the SourceFile it was defined in
    closure: Any  # the Scope it was defined in
    defaults: dict[str, Any] = field(default_factory=dict)
    owner: Any = None  # the ClassObj of a method, for ``super()``


@dataclass(eq=False)
class ClassObj:
    """A ``class`` of a scanned file; calling one that subclasses an operator creates a task."""

    name: str
    qualname: str
    bases: list[Any]
    source: Any
    node: cst.ClassDef
    attrs: dict[str, Any] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)  # annotated class attributes, in order (dataclasses)
    static: set[str] = field(default_factory=set)  # @staticmethod / @classmethod names
    properties: set[str] = field(default_factory=set)

    def lookup(self, name: str, depth: int = 0) -> tuple["ClassObj | None", Any]:
        """The class in the (scanned) hierarchy defining ``name``, and the value; (None, None) if absent."""
        if name in self.attrs:
            return self, self.attrs[name]
        for base in self.bases:
            if isinstance(base, ClassObj) and depth < 20:
                owner, value = base.lookup(name, depth + 1)
                if owner is not None:
                    return owner, value
        return None, None

    def is_enum(self, depth: int = 0) -> bool:
        for base in self.bases:
            if isinstance(base, Ref) and base.qualname in ("enum.Enum", "enum.StrEnum", "enum.IntEnum"):
                return True
            if isinstance(base, ClassObj) and depth < 20 and base.is_enum(depth + 1):
                return True
        return False


@dataclass(eq=False)
class InstanceObj:
    """An instance of a scanned class (a helper object building tasks); kept as its constructor call.

    For a repository operator under construction, ``base_call`` is what its ``__init__`` passed to the
    operator class it derives from (``super().__init__(...)``) and ``after_base`` the attributes it set
    on ``self`` after that call.
    """

    klass: ClassObj
    args: list[Any]
    kwargs: dict[str, Any]
    attrs: dict[str, Any] = field(default_factory=dict)
    base_call: tuple[list[Any], dict[str, Any], bool] | None = None  # (args, kwargs, **unknown unpacked)
    after_base: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] | None = None  # the default_args each __init__ in the hierarchy is given


@dataclass(eq=False)
class ConnectionObj:
    """``BaseHook.get_connection("id")`` read when the DAG file is parsed: its fields as supplied
    (``--connections``), or Deferred values rendering ``{{ conn.id.field }}``."""

    conn_id: str


@dataclass(eq=False)
class BaseInit:
    """``super().__init__`` reaching the (external) operator class a repository operator derives from."""

    instance: InstanceObj


@dataclass(eq=False)
class SuperObj:
    """``super()`` inside a method of a scanned class: lookups start after ``owner``."""

    owner: ClassObj
    instance: Any


@dataclass(eq=False)
class EnumMember:
    """A member of an ``Enum`` defined in a scanned file."""

    name: str
    value: Any


@dataclass(eq=False)
class PartialCall:
    """``functools.partial(func, *args, **kwargs)``."""

    func: Any
    args: list[Any]
    kwargs: dict[str, Any]


@dataclass(eq=False)
class DecoratorObj:
    """``@task.docker(image=...)`` and friends before they get their function."""

    name: str
    imported_as: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class TaskFlowObj:
    """A ``@task``-decorated function: calling it creates a task and returns its output."""

    name: str
    imported_as: str
    function: FunctionObj
    kwargs: dict[str, Any] = field(default_factory=dict)
    partial: dict[str, Any] | None = None
    role: str | None = None  # "setup" / "teardown" from @setup / @teardown


@dataclass(eq=False)
class DagFactoryObj:
    """A ``@dag``-decorated function: calling it creates the DAG and runs the body inside it."""

    function: FunctionObj
    kwargs: dict[str, Any]


@dataclass(eq=False)
class GroupFactoryObj:
    """A ``@task_group``-decorated function; ``partial`` holds ``.partial(...)`` arguments."""

    function: FunctionObj
    kwargs: dict[str, Any]
    partial: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class PartialObj:
    """``Operator.partial(...)`` waiting for ``.expand(...)``; ``klass`` when it is a repository operator."""

    operator: str
    imported_as: str
    kwargs: dict[str, Any]
    node: cst.Call
    klass: "ClassObj | None" = None


@dataclass(eq=False)
class BoundMethod:
    """``receiver.name`` before it is called."""

    receiver: Any
    name: str


def unique_taskflow_id(task_id: str, dag: DagObj, group: GroupObj | None) -> str:
    """Airflow's ``get_unique_task_id``: ``name``, ``name__1``, ``name__2``..."""
    full = group.child_id(task_id) if group is not None else task_id
    if full not in dag.tasks:
        return task_id
    prefix = re.split(r"__\d+$", full)[0]
    suffixes = [0]
    for existing in dag.tasks:
        match = re.match(rf"^{re.escape(prefix)}__(\d+)$", existing)
        if match:
            suffixes.append(int(match.group(1)))
    core = re.split(r"__\d+$", task_id)[0]
    return f"{core}__{max(suffixes) + 1}"


MAX_VALUE_DEPTH = 30
MAX_TEXT = 100_000  # characters of one string (a KFP spec lives in one Kubernetes object, ~1.5 MB)
MAX_VALUE_NODES = 20_000  # items of one value, counted each time they appear (a value shared N times in a
# tree of depth d expands to N**d); KFP keeps a whole run's spec in one Kubernetes object (about 1.5 MB)


def to_value(value: Any) -> Any:
    """The graph form of an interpreter value: plain data and ``af2kfp.converters.values`` tags only.

    A value that contains itself (``d["a"] = d``) becomes ``<cycle>`` where it recurs; one
    deeper than :data:`MAX_VALUE_DEPTH` or larger than :data:`MAX_VALUE_NODES` (shared parts
    counted each time they appear), or a string longer than :data:`MAX_TEXT`, is cut with
    ``<too deep>`` / ``<too large>`` / ``<text of N characters>``: unknown values that the
    mapping reports, never a hang.
    """
    return _Plain().walk(value, 0)


class _Plain:
    """One :func:`to_value` walk: the containers on the current path and the nodes made so far."""

    def __init__(self) -> None:
        self.path: set[int] = set()
        self.nodes = 0

    def walk(self, value: Any, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_VALUE_NODES:
            return Symbolic(source="<too large>")
        if value is None or isinstance(value, (bool, int, float, str, Symbolic, Call, Duration, DateTime, TaskRef)):
            if isinstance(value, str) and len(value) > MAX_TEXT:
                return Symbolic(source=f"<text of {len(value)} characters>")
            if type(value) is str or type(value) is int:
                return value
            return untagged(value)
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, PurePath):
            return value.as_posix()
        if depth > MAX_VALUE_DEPTH:
            return Symbolic(source="<too deep>")
        if id(value) in self.path:
            return Symbolic(source="<cycle>")
        self.path.add(id(value))
        try:
            return self._inner(value, depth + 1)
        finally:
            self.path.discard(id(value))

    def _inner(self, value: Any, depth: int) -> Any:
        if isinstance(value, (list, tuple)):
            return [self.walk(v, depth) for v in value]
        if isinstance(value, (set, frozenset)):
            return sorted((self.walk(v, depth) for v in value), key=repr)
        if isinstance(value, dict):
            return {k if isinstance(k, str) else str(k): self.walk(v, depth) for k, v in value.items()}
        if isinstance(value, XComArgObj):
            return TaskRef(task_id=value.task.task_id, key=value.key)
        if isinstance(value, EnumMember):
            return self.walk(value.value, depth)
        if isinstance(value, InstanceObj):
            return Call(
                func=value.klass.qualname,
                args=tuple(self.walk(a, depth) for a in value.args),
                kwargs={k: self.walk(v, depth) for k, v in value.kwargs.items()},
            )
        if isinstance(value, FunctionObj) and isinstance(value.node, cst.Lambda):
            return _lambda_value(value)
        return Symbolic(source=_describe(value))


_BUILTIN_NAMES = frozenset(dir(builtins))


def _lambda_value(function: FunctionObj) -> Symbolic:
    """A ``lambda`` as the graph keeps it: :class:`Lambda` with its text when it reads only its own
    parameters (and names it binds) and Python's builtins, so it means the same wherever it is compiled;
    else unknown (``<lambda>``): it closes over names of the DAG file the converter cannot carry here."""
    text = function.source.code(function.node)
    try:
        tree = ast.parse(f"({text})", mode="eval")
    except SyntaxError:
        return Symbolic(source="<lambda>")
    bound = {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)} | {
        node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return Lambda(source=text) if read - bound <= _BUILTIN_NAMES else Symbolic(source="<lambda>")


def _describe(value: Any) -> str:
    if isinstance(value, TaskObj):
        return value.task_id
    if isinstance(value, Ref):
        return value.imported_as
    if isinstance(value, (FunctionObj, ClassObj)):
        return value.name
    if isinstance(value, TaskFlowObj):
        return value.function.name
    if isinstance(value, DagObj):
        return value.dag_id
    if isinstance(value, GroupObj):
        return value.group_id or ""
    if isinstance(value, LabelObj):
        return f"Label({value.text!r})"
    return type(value).__name__
