"""The repository's own operator classes: ``class SparkOperator(KubernetesPodOperator)`` and its subclasses.

Calling one builds a task the way Airflow does: the class's ``__init__`` runs (symbolically) with
the call's arguments, after ``default_args`` filled its own named parameters (as Airflow's
``BaseOperatorMeta`` does); what it passes to ``super().__init__()`` of the operator class it derives
from (its defaults, ``kwargs.setdefault(...)``, class attributes it reads) becomes the task's
arguments, and so do attributes it sets on ``self`` after that call that are not its own parameters
(``self.arguments = [...]``). The task records the classes it derives from
(:class:`~af2kfp.converters.graph.Inherits`): the mapper takes the rule of the nearest one it maps. What its own
``execute`` sets on ``self`` before calling the parent's is walked by :mod:`af2kfp.converters.analysis.overrides`.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from af2kfp.converters.analysis import codes
from af2kfp.converters.analysis.model import (
    ClassObj, DagObj, FunctionObj, InstanceObj, PartialObj, Ref, TaskObj, to_value,
)
from af2kfp.converters.analysis.overrides import RunOutcome, method_label
from af2kfp.converters.analysis.source import descendants
from af2kfp.converters.graph import Inherits
from af2kfp.converters.values import Symbolic

__all__ = ["RepositoryOperators", "RUN_METHODS", "with_defaults"]

# Methods Airflow (or the operator's own execute) calls to run the task: overriding one changes what runs.
RUN_METHODS = frozenset({
    "execute", "pre_execute", "post_execute", "execute_callable", "execute_sync", "execute_async",
    "build_pod_request_obj", "get_or_create_pod", "_run_image", "_run_image_with_mounts", "get_env",
    "render_template_fields", "determine_kwargs",
})
# Of those, the ones whose override decides what runs even when it calls the parent's (it sets the
# command, the environment... on ``self`` first): never an extension.
_DECIDING = frozenset({"execute", "pre_execute", "execute_callable", "execute_sync", "build_pod_request_obj",
                       "_run_image", "_run_image_with_mounts", "get_env", "render_template_fields",
                       "determine_kwargs"})
_MAX_DEPTH = 20
# Arguments that name and place the task rather than configure the operator.
_IDENTITY = ("task_id", "dag", "task_group", "default_args")


def _root_name(node: cst.CSTNode) -> str | None:
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _is_super_call(node: cst.Call, name: str) -> bool:
    func = node.func
    return (isinstance(func, cst.Attribute) and func.attr.value == name and isinstance(func.value, cst.Call)
            and isinstance(func.value.func, cst.Name) and func.value.func.value == "super")


def extends_parent(method: FunctionObj) -> bool:
    """True when a run-method override calls the parent's with its own arguments untouched
    (``pod = super().get_or_create_pod(pod_request_obj, context)`` then Airflow-side extras): the KFP task
    still runs what the parent would. An override of a method in ``_DECIDING`` never is."""
    node = method.node
    if method.name in _DECIDING or not isinstance(node, cst.FunctionDef):
        return False
    params = {p.name.value for p in [*node.params.params, *node.params.kwonly_params]} - {"self"}
    passes_through = False
    for child in descendants(node.body):
        if isinstance(child, cst.Call) and _is_super_call(child, method.name):
            if not all(isinstance(a.value, cst.Name) and a.value.value in params for a in child.args):
                return False
            passes_through = True
        elif isinstance(child, cst.Call) and _root_name(child.func) in params:
            return False  # pod_request_obj.metadata.labels.update(...): the parent gets something else
        elif isinstance(child, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign)):
            if _root_name(child.target) in params:
                return False
    return passes_through


def _parameters(function: FunctionObj) -> list[str]:
    """Named parameters of a method after ``self`` (no ``*args``/``**kwargs``)."""
    params = function.node.params
    named = [p.name.value for p in [*params.posonly_params, *params.params]][1:]
    return named + [p.name.value for p in params.kwonly_params]


def with_defaults(init: FunctionObj, args: list[Any], kwargs: dict[str, Any], defaults: dict[str, Any]) -> dict:
    """As Airflow's ``BaseOperatorMeta`` wraps each operator class's ``__init__``: ``default_args`` fill the
    named parameters a call leaves out."""
    filled = dict(kwargs)
    for name in _parameters(init)[len(args):]:
        if name not in filled and name in defaults:
            filled[name] = defaults[name]
    return filled


class RepositoryOperators:
    """Mixin of :class:`~af2kfp.converters.analysis.semantics.AirflowSemantics`: repository operator classes."""

    def scanned_ancestry(self, klass: ClassObj) -> list[ClassObj]:
        """``klass`` and the scanned classes it derives from, nearest first, each once."""
        found: list[ClassObj] = []
        stack: list[tuple[ClassObj, int]] = [(klass, 0)]
        while stack:
            current, depth = stack.pop(0)
            if any(current is seen for seen in found) or depth > _MAX_DEPTH:
                continue
            found.append(current)
            stack.extend((base, depth + 1) for base in current.bases if isinstance(base, ClassObj))
        return found

    def inherits_of(self, klass: ClassObj, arguments: dict[str, Any] | None = None,
                    renamed: dict[str, str] | None = None, run: RunOutcome | None = None) -> Inherits:
        """What the class derives from (external operator classes last), the run methods it overrides and,
        from ``run``, what those the analyzer walked come to."""
        run = run if run is not None else RunOutcome()
        scanned = self.scanned_ancestry(klass)
        external = [base.qualname for cls in scanned for base in cls.bases if isinstance(base, Ref)]
        overrides: list[str] = []
        extends: list[str] = []
        applied: list[str] = []
        seen: set[str] = set()
        for cls in scanned:
            for name in sorted(RUN_METHODS & set(cls.attrs) - seen):
                method = cls.attrs[name]
                if isinstance(method, FunctionObj):
                    seen.add(name)
                    where = method_label(name, method)
                    if name in run.applied:
                        applied.append(where)
                    else:
                        (extends if name not in run.walked and extends_parent(method) else overrides).append(where)
        return Inherits(bases=list(dict.fromkeys([*(c.qualname for c in scanned[1:]), *external])),
                        overrides=overrides, extends=extends, arguments=dict(arguments or {}),
                        expanded_as=dict(renamed or {}), at_run=run.at_run, applied=applied,
                        notes=[list(note) for note in run.notes], guards=list(run.guards))

    def call_base_init(self, instance: InstanceObj, args: list[Any], kwargs: dict[str, Any], star: bool) -> None:
        """``super().__init__(...)`` reaching the external operator class: its arguments are the task's."""
        if instance.base_call is None:
            instance.base_call = (list(args), dict(kwargs), star)

    def construct_operator(
        self, klass: ClassObj, args: list[Any], kwargs: dict[str, Any], node: cst.CSTNode
    ) -> tuple[list[Any], dict[str, Any], bool, InstanceObj]:
        """``(args, kwargs, star_unknown)`` the class's ``__init__`` passes on to the operator it derives from,
        and the instance it built (what it set on ``self``)."""
        _, init = klass.lookup("__init__")
        dag = kwargs.get("dag") if isinstance(kwargs.get("dag"), DagObj) else self.current_dag()
        defaults = self.merged_default_args(dag, self.current_group(dag), kwargs.get("default_args"))
        if not isinstance(init, FunctionObj) or isinstance(init.node, cst.Lambda):
            return list(args), dict(kwargs), False, InstanceObj(klass=klass, args=list(args), kwargs=dict(kwargs),
                                                                defaults=defaults)
        kwargs = with_defaults(init, args, kwargs, defaults)
        instance = InstanceObj(klass=klass, args=list(args), kwargs=kwargs, defaults=defaults)
        self.call_function(init, [instance, *args], kwargs, node)
        if instance.base_call is None:
            self.finding(
                codes.UNSUPPORTED_CONSTRUCT,
                f"{klass.name}.__init__ does not call super().__init__() in a way the analyzer follows; the task "
                "gets the arguments of the call itself",
                "Call super().__init__(**kwargs) unconditionally in the operator's __init__.",
                node,
            )
            return list(args), kwargs, False, instance
        base_args, base_kwargs, star = instance.base_call
        own = self.own_parameters(klass)
        for name, value in instance.after_base.items():
            if not name.startswith("_") and (name in base_kwargs or name not in own):
                base_kwargs[name] = value  # self.arguments = [...] after super().__init__ sets the argument
        return base_args, base_kwargs, star, instance

    def own_parameters(self, klass: ClassObj) -> set[str]:
        """The named ``__init__`` parameters of the repository classes: theirs, not the operator's arguments."""
        return {p for cls in self.scanned_ancestry(klass) for p in self._init_parameters(cls)}

    @staticmethod
    def _init_parameters(cls: ClassObj) -> list[str]:
        init = cls.attrs.get("__init__")
        return _parameters(init) if isinstance(init, FunctionObj) and not isinstance(init.node, cst.Lambda) else []

    def create_operator(
        self, klass: ClassObj, args: list[Any], kwargs: dict[str, Any], node: cst.Call, star_unknown: bool
    ) -> Any:
        """A task of a repository operator class.

        Its arguments are the call's (what the class itself takes, for the fallback that runs it), and
        ``inherits.arguments`` what its __init__ passes to the operator it derives from (for that one's rule).
        """
        base_args, base_kwargs, star, instance = self.construct_operator(klass, args, kwargs, node)
        own = dict(kwargs)
        for key in _IDENTITY:  # computed by __init__ (``task_id=f"load_{table}"``): the task is named by it
            if key in base_kwargs:
                own[key] = base_kwargs[key]
        if "task_id" not in own and base_args and isinstance(base_args[0], str):
            own["task_id"] = base_args[0]
        # XComArgs either passes wire data edges, even those __init__ keeps to itself (``self.values``).
        task = self.create_task(klass.qualname, klass.qualname, list(args), own, node, star_unknown or star,
                                mapped_raw=[base_args, base_kwargs])
        if isinstance(task, TaskObj):
            run = self.run_overrides(klass, instance, base_kwargs, self.own_parameters(klass))
            task.inherits = self.inherits_of(klass, self.base_arguments(task, base_kwargs), run=run)
            self.report_decided(task, {k: v for k, v in base_kwargs.items() if k not in own}, node)
            self.report_decided(task, run.raw, node)
        return task

    def base_arguments(self, task: TaskObj, base_kwargs: dict[str, Any]) -> dict[str, Any]:
        """What reaches the operator class, with ``default_args`` merged as Airflow merges them."""
        arguments = {k: v for k, v in base_kwargs.items() if k not in _IDENTITY}
        defaults = self.merged_default_args(task.dag, task.group, base_kwargs.get("default_args"))
        for key, value in defaults.items():
            arguments.setdefault(key, value)
        return {key: to_value(value) for key, value in arguments.items()}

    def expand_operator(
        self, partial: PartialObj, name: str, args: list[Any], kwargs: dict[str, Any], node: cst.Call
    ) -> Any:
        """``RepoOperator.partial(...).expand(x=[...])``: __init__ runs with each expanded argument standing in;
        an argument it passes on under another name is expanded under that name for the parent's rule."""
        assert partial.klass is not None
        stand_ins = {key: Symbolic(source=f"<expanded {key}>") for key in kwargs} if name == "expand" else {}
        _, base_kwargs, _, instance = self.construct_operator(partial.klass, [], {**partial.kwargs, **stand_ins},
                                                              partial.node)
        renamed = {}
        for key, stand_in in stand_ins.items():
            target = next((k for k, v in base_kwargs.items() if v is stand_in), None)
            if target is not None:
                base_kwargs.pop(target)
                renamed[key] = target
        task = self.expand_partial(partial, name, args, kwargs, node, also=[base_kwargs])
        if isinstance(task, TaskObj):
            run = self.run_overrides(partial.klass, instance, base_kwargs, self.own_parameters(partial.klass))
            task.inherits = self.inherits_of(partial.klass, self.base_arguments(task, base_kwargs), renamed, run)
            self.report_decided(task, run.raw, node)
        return task
