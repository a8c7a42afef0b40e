"""What a repository operator's own ``execute`` does before it calls the parent's, evaluated.

Airflow renders the templates, then calls ``pre_execute(context)`` and ``execute(context)``; the
KubernetesPodOperator's ``execute`` builds the pod from what is on ``self`` at that moment. So a class
such as::

    class SparkOperator(KubernetesPodOperator):
        def execute(self, context):
            if self.skip:
                raise AirflowSkipException()
            self.cmds = ["/opt/entrypoint.sh"]
            self.env_vars = [k8s.V1EnvVar(name="JAR", value=self.jar)]
            super().execute(context)

runs the parent with those attributes: they are the task's arguments as much as the constructor's.
:meth:`RunOverrides.run_overrides` walks such a method symbolically (nothing runs) on the state its
``__init__`` left: assignments to ``self.<attr>``, appends, ``if`` on values known at conversion, up to
the call of the parent's method (``super().execute(context)``, ``return super()...``,
``Parent.execute(self, context)``; a repository class in between is walked in turn). What it sets
is the task's :attr:`~af2kfp.converters.graph.Inherits.at_run`.

Airflow renders the parent operator's arguments and the names the class lists in ``template_fields`` before
``execute``: a string holding Jinja there is a value known when the task runs (a Deferred whose template is
that text), so conditions and string methods on it stay open; Jinja in any other attribute is text as written.

What the KFP task would not do is said, never dropped (:attr:`~af2kfp.converters.graph.Inherits.notes`):

- a ``raise`` or ``return`` under a condition before the hand-over: known false, nothing; known true,
  the task never runs in Airflow (M285); not known (a Variable not supplied, a value Airflow renders
  when the task runs), M284 names the condition;
- another ``if`` on a value not known: both branches run from the same state and what they set takes
  the branch where it holds, tagged (A120), as anywhere else;
- a call the analyzer cannot evaluate before the hand-over (or a loop over a value not known), code after it
  (reading logs, deleting pods, failing on a status; logging is not counted), exception handlers around it,
  no hand-over at all, or Jinja Airflow passes on as written: M281 says what, with the lines.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from af2kfp.converters.analysis import codes
from af2kfp.converters.analysis.branches import restore, snapshot
from af2kfp.converters.analysis.deferred import Decision
from af2kfp.converters.analysis.interpreter import RAISES, ReturnSignal, Scope
from af2kfp.converters.analysis.model import (
    BoundMethod, ClassObj, FunctionObj, InstanceObj, PartialCall, Ref, TaskObj, XComArgObj, to_value,
)
from af2kfp.converters.analysis.run_code import (
    LOGGING, body, calls_method, describe, else_body, exception, is_logging, leaves, listed, names_read, skips,
    template_fields, value_call, writes_jinja,
)
from af2kfp.converters.analysis.safe_ops import PURE_FUNCTIONS, is_plain
from af2kfp.converters.environment import supply_hint
from af2kfp.converters.values import Call, Deferred, Symbolic

__all__ = ["RunOverrides", "RunOutcome", "EVALUATED", "NOT_CARRIED", "GUARD", "ALWAYS_ENDS", "method_label"]

log = logging.getLogger(__name__)

# What a note says (the mapper reports each with its finding code): code the KFP task does not run (M281), a skip
# or fail on a condition not known at conversion (M284), a task Airflow never runs (M285).
NOT_CARRIED, GUARD, ALWAYS_ENDS = "not_carried", "guard", "always_ends"
_PARENT = object()  # the operator class's own method, reached by a call of the parent's
_MISSING = object()

# The run methods walked, in the order Airflow calls them (the pod operator's execute builds the pod).
EVALUATED = ("pre_execute", "execute", "build_pod_request_obj")
# What the operator class Airflow ships keeps on ``self`` for a collection argument not given
# (KubernetesPodOperator.__init__: ``self.cmds = cmds or []``): what an override appending to it finds.
_POD = {
    "cmds": list, "arguments": list, "env_vars": list, "env_from": list, "ports": list, "volumes": list,
    "volume_mounts": list, "secrets": list, "image_pull_secrets": list, "tolerations": list,
    "init_containers": list, "labels": dict, "node_selector": dict, "annotations": dict,
    "security_context": dict,
}
_DOCKER = {"environment": dict, "private_environment": dict, "mounts": list}
_V1 = "kubernetes.client.models."
_BASES = ("BaseOperator", "BaseSensorOperator")  # no parent's execute to hand over to, no rule to map with


def method_label(name: str, method: FunctionObj) -> str:
    """``"execute (dags/lib/spark.py:55)"``: how findings name a method."""
    line = method.source.def_lines.get(id(method.node))
    return f"{name} ({method.source.display}:{line})" if line else name


def _collections(parent: str) -> dict[str, type]:
    last = parent.rsplit(".", 1)[-1]
    return _POD if last.endswith("PodOperator") else _DOCKER if last == "DockerOperator" else {}


def _fresh(value: Any, depth: int = 0) -> Any:
    """A copy of the containers in ``value`` (the task's own, as each Airflow task has its own instance);
    the analyzer's objects inside are kept as they are."""
    if depth > 20:
        return value
    if isinstance(value, list):
        return [_fresh(item, depth + 1) for item in value]
    if isinstance(value, tuple):
        return tuple(_fresh(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return {key: _fresh(item, depth + 1) for key, item in value.items()}
    if isinstance(value, set):
        return set(value)
    return value


def _jinja(text: str) -> bool:
    return "{{" in text or "{%" in text


def _rendered(value: Any, source: str, depth: int = 0) -> Any:
    """``value`` as ``execute`` finds it after Airflow rendered it: each string holding Jinja a run-time value
    (a Deferred whose template is that text), so conditions and string operations on it stay open."""
    if isinstance(value, str):
        return Deferred(source=source, template=value) if type(value) is str and _jinja(value) else value
    return _each(value, lambda item: _rendered(item, source, depth + 1), depth)


def _unrendered(value: Any, depth: int = 0) -> Any:
    """The Jinja text back where the walk kept a rendered value whole: what the mapper translates."""
    if isinstance(value, Deferred) and value.template is not None and not value.needs:
        return value.template
    return _each(value, lambda item: _unrendered(item, depth + 1), depth)


def _each(value: Any, step: Any, depth: int) -> Any:
    """``step`` over the items of a container; the container itself when no item changed (lists and dicts an
    unknown condition decided are known by identity)."""
    if depth > 20:
        return value
    if isinstance(value, (list, tuple)):
        items = [step(item) for item in value]
        changed = any(new is not old for new, old in zip(items, value))
        return value if not changed else items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        found = {key: step(item) for key, item in value.items()}
        return value if all(found[key] is item for key, item in value.items()) else found
    if isinstance(value, Call):
        args, kwargs = _each(value.args, step, depth), _each(value.kwargs, step, depth)
        return value if args is value.args and kwargs is value.kwargs else dataclasses.replace(
            value, args=args, kwargs=kwargs)
    return value


def _texts(value: Any, depth: int = 0) -> list[str]:
    """The plain strings in ``value`` (a rendered one is a Deferred, not plain)."""
    if isinstance(value, str):
        return [str(value)]
    if depth > 20:
        return []
    if isinstance(value, Call):
        return _texts([*value.args, *value.kwargs.values()], depth + 1)
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple, set)) else ()
    return [text for item in items for text in _texts(item, depth + 1)]


def _at_run_time(value: Any, depth: int = 0) -> bool:
    """A value Airflow only knows when the task runs: a Jinja template it renders, a task's output."""
    if isinstance(value, str):
        return _jinja(value)
    if isinstance(value, Deferred):
        return value.template is not None and not value.needs
    if isinstance(value, (XComArgObj, TaskObj)):
        return True
    if depth < 3 and isinstance(value, (list, tuple, set)):
        return any(_at_run_time(item, depth + 1) for item in value)
    if depth < 3 and isinstance(value, dict):
        return any(_at_run_time(item, depth + 1) for item in value.values())
    return False


class _Return(Exception):
    """The method walked returned."""


class _End(Exception):
    """A ``raise`` ended the run before the hand-over: Airflow never runs the parent's method."""


@dataclass
class _Walk:
    """One run method walked on the task's instance, with the methods it reaches through ``super()``."""

    name: str
    instance: InstanceObj
    methods: list[FunctionObj] = field(default_factory=list)  # the method being walked, innermost last
    handed_over: bool = False
    ended: str = ""  # why the run ended before the hand-over (M285)
    raised: str = ""  # and the exception it raised
    known: list[str] = field(default_factory=list)  # conditions known around the statement walked
    unevaluated: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)  # returns before the hand-over
    guards: list[str] = field(default_factory=list)  # M284 messages
    after: list[tuple[Any, cst.CSTNode]] = field(default_factory=list)  # (source, statement) after the hand-over
    handlers: list[str] = field(default_factory=list)  # what exception handlers around the hand-over do
    literal_jinja: list[str] = field(default_factory=list)  # where it writes Jinja Airflow does not render


@dataclass
class RunOutcome:
    """What the run-method overrides of one task come to (see the module docstring)."""

    walked: set[str] = field(default_factory=set)
    applied: set[str] = field(default_factory=set)  # walked methods carried over whole
    raw: dict[str, Any] = field(default_factory=dict)  # attributes set for the parent, as evaluated (rendered)
    notes: list[list[str]] = field(default_factory=list)  # [kind, method label, message]

    @property
    def at_run(self) -> dict[str, Any]:
        return {key: to_value(_unrendered(value)) for key, value in self.raw.items()}


class RunOverrides:
    """Mixin of :class:`~af2kfp.converters.analysis.semantics.AirflowSemantics`: run-method overrides, walked."""

    def run_overrides(self, klass: ClassObj, instance: InstanceObj, base_kwargs: dict[str, Any],
                      own: set[str]) -> RunOutcome:
        """Walk ``pre_execute``, ``execute`` and ``build_pod_request_obj`` of ``klass`` on the state its
        ``__init__`` left; ``own``: the repository classes' own ``__init__`` parameters (not the parent's)."""
        outcome = RunOutcome()
        parents = self._parents(klass)
        if not parents or parents[-1].rsplit(".", 1)[-1] in _BASES:
            return outcome  # only Airflow's own code runs after the hand-over: there is no pod to set up
        methods = []
        for name in EVALUATED:
            _, method = klass.lookup(name)
            if isinstance(method, FunctionObj) and isinstance(method.node, cst.FunctionDef):
                methods.append((name, method))
        if not methods:
            return outcome
        attrs = self._run_state(parents[-1], instance, base_kwargs)
        templated = {name for cls in self.scanned_ancestry(klass) for name in template_fields(cls.node)}
        as_written: dict[str, list[str]] = {}  # Jinja in attributes Airflow does not render, by attribute
        for attr, value in attrs.items():
            # What Airflow renders before execute: the parent operator's arguments, the listed template fields.
            if attr in templated or attr in base_kwargs or attr in (instance.defaults or {}):
                attrs[attr] = _rendered(value, f"self.{attr}")
            elif not attr.startswith("_"):
                as_written[attr] = [text for text in _texts(value) if _jinja(text)]
        runner = InstanceObj(klass=klass, args=list(instance.args), kwargs=dict(instance.kwargs), attrs=attrs)
        start = _fresh(attrs)
        saved = (self.watched, self.captured, list(self.frames), self.depth)
        try:
            for name, method in methods:
                before = _fresh(attrs)
                walk = _Walk(name=name, instance=runner)
                self.watched, self.captured = [], []
                try:
                    self._walk_method(walk, method)
                except _End:
                    pass
                self._drain(walk)
                if not walk.ended and name != "pre_execute" and not walk.handed_over:
                    restore(attrs, snapshot(before))  # the parent never runs with what it set
                changed = [k for k, v in attrs.items() if not k.startswith("_") and before.get(k, _MISSING) != v
                           and (k in base_kwargs or k not in own)]
                outcome.walked.add(name)
                self._verdict(outcome, walk, klass, method_label(name, method), changed)
                if walk.ended or (name != "pre_execute" and not walk.handed_over):
                    break  # the parent's method never runs: nothing after it does either
        except Exception as exc:  # noqa: BLE001 - an analyzer bug here costs the evaluation, not the file
            log.debug("run-method overrides of %s not evaluated", klass.qualname, exc_info=True)
            self.frames[:] = saved[2]
            self.depth = saved[3]
            label = method_label(name, method)
            return RunOutcome(walked={name}, notes=[[NOT_CARRIED, label, (
                f"{klass.name} overrides {label}: the analyzer failed to evaluate it ({type(exc).__name__}: {exc}); "
                "the KFP task runs what its arguments describe, without that code")]])
        finally:
            self.watched, self.captured = saved[0], saved[1]
        outcome.raw = {k: v for k, v in attrs.items() if not k.startswith("_") and start.get(k, _MISSING) != v
                       and (k in base_kwargs or k not in own)}
        self._as_written(outcome, klass, as_written, name, method)  # the last method walked
        return outcome

    @staticmethod
    def _as_written(outcome: RunOutcome, klass: ClassObj, as_written: dict[str, list[str]], name: str,
                    method: FunctionObj) -> None:
        """M281 for Jinja of an attribute Airflow does not render that reaches what the parent runs with."""
        passed = [text for value in outcome.raw.values() for text in _texts(value)]
        for attr, jinja in as_written.items():
            found = [text for text in jinja if any(text in value for value in passed)]
            if found:
                outcome.notes.append([NOT_CARRIED, method_label(name, method), (
                    f"{klass.name}: `self.{attr}` is not among its template_fields, so Airflow passes `{found[0]}` to "
                    f"the parent's {name} as written; the KFP task renders it (list '{attr}' in template_fields "
                    "if it should be rendered)")])

    def _parents(self, klass: ClassObj) -> list[str]:
        """The classes from outside the scanned files the class derives from, the operator Airflow ships last."""
        return [base.qualname for cls in self.scanned_ancestry(klass) for base in cls.bases if isinstance(base, Ref)]

    def _run_state(self, parent: str, instance: InstanceObj, base_kwargs: dict[str, Any]) -> dict[str, Any]:
        """What is on ``self`` when Airflow runs the task: ``default_args``, what the repository classes set,
        what reached the ``parent`` operator (which keeps it, an empty collection for one not given)."""
        attrs = _fresh({**(instance.defaults or {}), **instance.attrs, **base_kwargs, **instance.after_base})
        collections = _collections(parent)
        for name, kind in collections.items():
            if attrs.get(name) is None:
                attrs[name] = kind()
        if collections is _POD:  # as KubernetesPodOperator converts them
            if isinstance(attrs.get("env_vars"), dict):
                attrs["env_vars"] = [self._model("V1EnvVar", name=k, value=v) for k, v in attrs["env_vars"].items()]
            if isinstance(attrs.get("image_pull_secrets"), str):
                names = [n.strip() for n in attrs["image_pull_secrets"].split(",") if n.strip()]
                attrs["image_pull_secrets"] = [self._model("V1LocalObjectReference", name=n) for n in names]
        return attrs

    @staticmethod
    def _model(kind: str, **kwargs: Any) -> Call:
        return Call(func=_V1 + kind, kwargs={k: to_value(v) for k, v in kwargs.items()})

    # ----------------------------------------------------------------- walking
    def _walk_method(self, walk: _Walk, method: FunctionObj) -> None:
        """``method``'s body on the task's instance; Airflow passes ``context``, unknown here."""
        scope = Scope(parent=method.closure)
        params = method.node.params
        positional = [p.name.value for p in [*params.posonly_params, *params.params, *params.kwonly_params]]
        for index, name in enumerate(positional):
            scope.vars[name] = walk.instance if index == 0 else method.defaults.get(name, Symbolic(source=name))
            if name == "context":
                scope.vars[name] = Symbolic(source="context")
        if isinstance(params.star_arg, cst.Param):
            scope.vars[params.star_arg.name.value] = ()
        if params.star_kwarg is not None:
            scope.vars[params.star_kwarg.name.value] = {"context": Symbolic(source="context")}
        walk.methods.append(method)
        try:
            with self.inside(method, walk.instance):
                self._block(walk, method.node.body.body, scope)
        except (_Return, ReturnSignal):
            pass
        finally:
            walk.methods.pop()

    def _block(self, walk: _Walk, stmts: Any, scope: Scope) -> None:
        for stmt in stmts:
            if walk.handed_over:
                walk.after.append((self.source, stmt))
            else:
                self._statement(walk, stmt, scope)

    def _statement(self, walk: _Walk, stmt: cst.CSTNode, scope: Scope) -> None:
        self._tick()
        line = self.source.line(stmt)
        if line is not None:
            self.frames[-1].line = line
        if isinstance(stmt, cst.SimpleStatementLine):
            self._block(walk, stmt.body, scope)
        elif isinstance(stmt, cst.If):
            self._if(walk, stmt, scope)
        elif isinstance(stmt, cst.Try):
            self._try(walk, stmt, scope)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            self.exec_stmt(stmt, scope)
        elif isinstance(stmt, cst.For) and not self._leaves_or_calls_parent(walk, stmt):
            self.set_root(stmt.iter)
            if self.iterate(self._evaluated(walk, lambda: self.eval(stmt.iter, scope))) is None:
                walk.unevaluated.append(f"loops over `{self.source.code(stmt.iter)}`, not known ({self.where(stmt)})")
            else:
                self._evaluated(walk, lambda: self.exec_stmt(stmt, scope))
        elif isinstance(stmt, cst.BaseSmallStatement):
            self._small(walk, stmt, scope)
        else:
            head = self.source.code(stmt).splitlines()[0].rstrip(":")
            walk.unevaluated.append(f"runs `{head}` ({self.where(stmt)})")

    def _small(self, walk: _Walk, small: cst.BaseSmallStatement, scope: Scope) -> None:
        self.set_root(small)
        if isinstance(small, cst.Pass):
            return
        if writes_jinja(small):
            walk.literal_jinja.append(self.where(small))
        call = value_call(small)
        if call is not None:
            reached = self._parent_call(walk, call, scope)
            if reached is not None:
                self._hand_over(walk, reached, small, scope)
                return
            if isinstance(small, cst.Expr) and is_logging(call):
                return
        if isinstance(small, cst.Raise):
            name = exception(small)
            what = f"raises {name}" if name else "re-raises the error"
            known = f" ({'; '.join(walk.known)})" if walk.known else ""
            walk.raised = name
            walk.ended = f"{self._method_name(walk)} {what} at {self.where(small)}{known}" + (
                ": Airflow always skips this task" if skips(name) else ": Airflow always fails this task")
            raise _End()
        if isinstance(small, cst.Return):
            walk.returned.append(self.where(small))
            raise _Return()
        if isinstance(small, (cst.Global, cst.Nonlocal, cst.Del, cst.Break, cst.Continue)):
            walk.unevaluated.append(f"runs `{self.source.code(small)}` ({self.where(small)})")
            return
        self._evaluated(walk, lambda: self.exec_small(small, scope))

    def _evaluated(self, walk: _Walk, action: Any) -> Any:
        """``action()``, then what it could not evaluate (calls, raises in helpers, findings) is the walk's."""
        result = action()
        self._drain(walk)
        return result

    def _drain(self, walk: _Walk) -> None:
        for callee, code, where in self.watched or []:
            if callee is RAISES:
                walk.unevaluated.append(f"may `{code}` ({where})")
            elif self._not_evaluated(callee) and not LOGGING.match(" ".join(code.split())):
                walk.unevaluated.append(f"calls `{' '.join(code.split())}` ({where})")
        for code, message in self.captured or []:
            # A call not followed: the watch says so. A helper's condition not known: both sides were followed
            # and what it decides is tagged (A120 on the task), as for an ``if`` of the method itself.
            if code not in (codes.UNKNOWN_CALL, codes.UNKNOWN_CONDITION):
                walk.unevaluated.append(f"reaches what the analyzer reports as {code}: {message}")
        if self.watched:
            self.watched.clear()
        if self.captured:
            self.captured.clear()

    def _not_evaluated(self, callee: Any) -> bool:
        """A callee whose unknown result may hide what it does (an outside function, a hook's method), not a
        pure function given unknown arguments nor the repository's own code (its calls are watched)."""
        if isinstance(callee, Ref):
            return callee.qualname not in PURE_FUNCTIONS and callee.qualname not in self.ref_handlers
        if isinstance(callee, BoundMethod):
            return callee.receiver is not None and not is_plain(callee.receiver)
        return not isinstance(callee, (FunctionObj, PartialCall, ClassObj))

    def _method_name(self, walk: _Walk) -> str:
        method = walk.methods[-1]
        owner = method.owner.name if isinstance(method.owner, ClassObj) else ""
        return f"{owner}.{method.name}" if owner else method.name

    # ----------------------------------------------------------------- the hand-over
    def _parent_call(self, walk: _Walk, call: cst.Call, scope: Scope) -> Any:
        """For ``super().execute(context)``, ``super(Cls, self).execute(context)`` or
        ``Parent.execute(self, context)``: the repository method it reaches, or ``_PARENT`` for the operator's
        own; ``None`` for any other call."""
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == walk.name):
            return None
        owner = walk.methods[-1].owner
        receiver = func.value
        if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Name) and receiver.func.value == "super":
            if len(receiver.args) == 2:
                given = self.eval(receiver.args[0].value, scope)
                owner = given if isinstance(given, ClassObj) else owner
            if not isinstance(owner, ClassObj):
                return None
            for base in owner.bases:
                found = base.lookup(walk.name)[1] if isinstance(base, ClassObj) else None
                if isinstance(found, FunctionObj):
                    return found
            return _PARENT
        first = call.args[0].value if call.args else None
        if not (isinstance(first, cst.Name) and first.value == "self"):
            return None
        target = self.eval(receiver, scope)
        if isinstance(target, ClassObj):
            found = target.lookup(walk.name)[1]
            return found if isinstance(found, FunctionObj) else _PARENT
        return _PARENT if isinstance(target, Ref) else None

    def _hand_over(self, walk: _Walk, reached: Any, small: cst.BaseSmallStatement, scope: Scope) -> None:
        if isinstance(reached, FunctionObj):
            self._walk_method(walk, reached)  # a repository class in between: its override runs in turn
        elif walk.name != "pre_execute":  # BaseOperator.pre_execute only runs Airflow-side hooks
            walk.handed_over = True
        if isinstance(small, cst.Return):
            raise _Return()
        if isinstance(small, cst.Assign):
            for target in small.targets:
                self.assign(target.target, Symbolic(source=self.source.code(small.value)), scope)

    # ----------------------------------------------------------------- conditions
    def _if(self, walk: _Walk, node: cst.If, scope: Scope) -> None:
        self.set_root(node.test)
        value = self._evaluated(walk, lambda: self.eval(node.test, scope))
        code = self.source.code(node.test)
        truth, why = self._decide(node.test, value, scope)
        if truth is None:
            self._unknown_if(walk, node, scope, code, why, value)
            return
        walk.known.append(f"`{code}` is {'true' if truth else 'false'} here")
        try:
            self._block(walk, body(node) if truth else else_body(node), scope)
        finally:
            walk.known.pop()

    def _decide(self, test: cst.BaseExpression, value: Any, scope: Scope) -> tuple[bool | None, str]:
        """Whether the condition holds when Airflow runs the task, and when not known, why."""
        truth = self.truth(value)
        if truth is None and isinstance(value, Deferred) and value.needs:
            return None, f"it reads {supply_hint(value.needs)}"
        for node in names_read(test):
            if _at_run_time(self.eval(node, scope)):
                return None, f"`{self.source.code(node)}` is only known when the task runs"
        return truth, ""

    def _unknown_if(self, walk: _Walk, node: cst.If, scope: Scope, code: str, why: str, value: Any) -> None:
        then, other = body(node), else_body(node)
        where = self.where(node)
        if calls_method(node, walk.name):
            walk.unevaluated.append(f"calls the parent's {walk.name} only when `{code}`, not known ({where}); the "
                                    "branch where it holds was followed")
            self._block(walk, then, scope)
            return
        # Each side runs from the same state. A side that raises or returns before the parent's method is a guard
        # (M284); else what the sides set differently takes the side where the condition holds (A120).
        note = Decision(source=code, file=self.source.display, line=self.line_of(node),
                        needs=value.needs if isinstance(value, Deferred) else ())
        names, attrs = scope.vars, walk.instance.attrs
        before = (snapshot(names), snapshot(attrs))
        left_then = self._side(walk, then, scope)
        after_then = (snapshot(names), snapshot(attrs))
        restore(names, before[0])
        restore(attrs, before[1])
        left_else = self._side(walk, other, scope)
        for left, condition in ((left_then, code), (left_else, f"not ({code})")):
            if left is not None:
                self._guard(walk, condition, why, left, where)
        if left_then is not None and left_else is not None:
            if left_then and left_else:  # both raise
                walk.ended = f"{self._method_name(walk)} raises {left_then} or {left_else} either way at {where}"
                raise _End()
            walk.returned.append(where)
            raise _Return()
        if left_else is not None:
            restore(names, after_then[0])
            restore(attrs, after_then[1])
        elif left_then is None:
            self.merge_branches(names, after_then[0], snapshot(names), note)
            self.merge_branches(attrs, after_then[1], snapshot(attrs), note)

    def _side(self, walk: _Walk, stmts: list[cst.CSTNode], scope: Scope) -> str | None:
        """One side of an ``if`` not known: ``None`` when it goes on; else how it leaves before the parent's
        method, the exception it raises or ``""`` for a ``return``."""
        try:
            self._block(walk, stmts, scope)
        except _End:
            raised, walk.ended, walk.raised = walk.raised, "", ""
            return raised or "the error"
        except _Return:
            if walk.handed_over:
                raise
            walk.returned.pop()
            return ""
        return None

    def _leaves_or_calls_parent(self, walk: _Walk, node: cst.CSTNode) -> bool:
        return calls_method(node, walk.name) or leaves(node)

    def _guard(self, walk: _Walk, code: str, why: str, left: str, where: str) -> None:
        """M284: before the hand-over, the run ends (``left``: what it raises, ``""`` for a return) on a condition
        not known at conversion."""
        if left:
            what = f"raises {left}"
            then = "Airflow skips the task then" if skips(left) else "Airflow fails the task then"
        else:
            what = f"returns without calling the parent's {walk.name}"
            then = "the task then succeeds in Airflow without running"
        reason = f" ({why})" if why else ""
        walk.guards.append(f"{self._method_name(walk)} ({where}) {what} when `{code}`, which is not known at "
                           f"conversion{reason}: {then}; the KFP task always runs")

    # ----------------------------------------------------------------- try
    def _try(self, walk: _Walk, node: cst.Try, scope: Scope) -> None:
        around = calls_method(node.body, walk.name)
        self._block(walk, node.body.body, scope)
        if not around:
            for part in (node.orelse, node.finalbody):
                if part is not None:
                    self._block(walk, part.body.body, scope)
            return
        for handler in node.handlers:
            effect = self._handler(walk, handler, scope)
            if effect:
                walk.handlers.append(effect)
        for part in (node.orelse, node.finalbody):
            if part is not None:
                walk.after.extend((self.source, stmt) for stmt in part.body.body)

    def _handler(self, walk: _Walk, handler: cst.ExceptHandler, scope: Scope) -> str:
        """What an ``except`` around the parent's method does when it fails; ``""`` when it only fails too."""
        ends = self._ends(list(handler.body.body), scope)
        described = describe([(self.source, stmt) for stmt in handler.body.body])
        if ends == {"fail"} and (described is None or not described[0].startswith("calls")):
            return ""
        caught = self.source.code(handler.type) if handler.type is not None else "an error"
        what, lines = described if described is not None else ("goes on", self.where(handler))
        if ends & {"return", "falls"}:
            what += " and the task succeeds" if what != "goes on" else ": the task succeeds"
        return f"when the parent's {walk.name} raises {caught}, it {what} ({lines})"

    def _ends(self, stmts: list[cst.CSTNode], scope: Scope) -> set[str]:
        """How a block can end: ``fail`` or ``skip`` (a raise), ``return``, ``falls`` (off its end)."""
        for index, stmt in enumerate(stmts):
            if isinstance(stmt, cst.If):
                truth, _ = self._decide(stmt.test, self.eval(stmt.test, scope), scope)
                sides = ([body(stmt)] if truth is not False else []) + ([else_body(stmt)] if truth is not True else [])
                found = set().union(*(self._ends(side, scope) for side in sides))
                if "falls" in found:
                    return (found - {"falls"}) | self._ends(stmts[index + 1:], scope)
                return found
            for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
                if isinstance(small, cst.Raise):
                    return {"skip" if skips(exception(small)) else "fail"}
                if isinstance(small, cst.Return):
                    return {"return"}
        return {"falls"}

    # ----------------------------------------------------------------- verdicts
    def _verdict(self, outcome: RunOutcome, walk: _Walk, klass: ClassObj, label: str, changed: list[str]) -> None:
        """The notes of one walked method; carried over whole, it is ``applied``."""
        outcome.notes.extend([GUARD, label, message] for message in dict.fromkeys(walk.guards))
        if walk.ended:
            outcome.notes.append([ALWAYS_ENDS, label, f"{walk.ended}; the KFP task runs it"])
            return
        problems = []
        if walk.unevaluated:
            problems.append(f"before calling the parent's {walk.name} it {listed(walk.unevaluated)}, which the "
                            "analyzer cannot evaluate and the KFP task does not run")
        if walk.name != "pre_execute" and not walk.handed_over:
            returns = f" (it returns at {listed(walk.returned)})" if walk.returned else ""
            problems.append(f"it never calls the parent's {walk.name}{returns}: it replaces what the parent runs, "
                            "and the KFP task runs the parent's instead, without what it sets")
        after = describe(walk.after)
        if after is not None:
            problems.append(f"after the parent's {walk.name} returns, it {after[0]} ({after[1]}), which the KFP "
                            "task does not do")
        problems.extend(f"{handler}, which the KFP task does not do" for handler in walk.handlers)
        if walk.literal_jinja:
            problems.append(f"it writes Jinja ({listed(walk.literal_jinja)}) that Airflow passes as it is (it "
                            f"renders templated fields before {walk.name} runs) and the KFP task renders")
        if not problems:
            outcome.applied.add(walk.name)
            return
        settings = (f"what it sets before calling the parent's {walk.name} is applied ({', '.join(changed)}); "
                    if changed and walk.handed_over else "")
        outcome.notes.append([NOT_CARRIED, label, f"{klass.name} overrides {label}: {settings}" + "; ".join(problems)])
