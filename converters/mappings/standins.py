"""Small stand-ins for Airflow's value classes that repository helper modules build at import time.

A helper module that defines ``RAW_ORDERS = Dataset("gs://acme-raw/orders")`` or
``LIMIT = Param(100, type="integer")`` imports Airflow, which a component's image has not.
What tasks read of such objects is plain data, so the component defines a class of its own
under the name the code uses, before the copied code, and the definitions run unchanged:

- ``Asset`` (also ``Dataset``, Airflow 3's alias): ``name``, ``uri`` (normalised as Airflow
  does without providers: lower-case scheme, no password, trailing ``/`` and fragment dropped,
  query sorted), ``group``, ``extra``, ``os.fspath()``, equality and ``repr`` as Airflow's;
- ``Param``: ``value``, ``description``, ``schema``, ``has_value``, ``resolve()`` (validated
  with ``jsonschema`` when the image has it) and ``dump()``;
- ``TriggerRule``: the ``str`` enum with Airflow 3's members and values (``TriggerRule.ALL_DONE ==
  "all_done"``), ``is_valid()`` and ``all_triggers()``.

Anything else Airflow's classes offer (asset watchers and references, ``|``/``&`` conditions,
a provider's URI normaliser, Airflow 2's ``TriggerRule.DUMMY``) is not there: reading one of those attributes is ``M269``.
"""

from __future__ import annotations

import ast

from af2kfp.converters.findings import Severity, register_code

__all__ = ["stand_in", "stand_in_imports", "lacking", "STAND_IN_LACKS"]

STAND_IN_LACKS = register_code(
    "M269", Severity.WARNING, "Airflow class stand-in lacks what the task reads",
    "The component defines small stand-ins for Airflow's Asset/Dataset (name, uri, group, extra) and Param (value, "
    "description, schema, resolve, dump) that the repository's helper modules build; the code reads something "
    "only Airflow's class has. Read plain values in the task (the asset's uri, the param's value), or install "
    "Airflow in python_base_image and declare it in [tool.af2kfp.packages] (airflow = false).",
).code

_ASSET = '''class Asset:
    """Airflow's Asset (or Dataset) as a task reads it: name, uri, group, extra (af2kfp stand-in)."""

    def __init__(self, name=None, uri=None, *, group=None, extra=None, **kwargs):
        if name is None and uri is None:
            raise TypeError("Asset() requires either 'name' or 'uri'")
        self.name = str(uri) if name is None else name
        self.uri = self._normalised(str(name if uri is None else uri))
        self.group = group or "asset"
        self.extra = {} if extra is None else extra

    @staticmethod
    def _normalised(uri):
        import urllib.parse

        parts = urllib.parse.urlsplit(uri)
        scheme = parts.scheme.lower()
        if not scheme or scheme.startswith("x-"):
            return uri
        netloc = parts.netloc.rpartition("@")[2] if parts.password else parts.netloc
        pairs = sorted(urllib.parse.parse_qsl(parts.query))
        query = urllib.parse.urlencode(pairs) if parts.query else ""
        path = parts.path.rstrip("/") or "/"
        return urllib.parse.urlunsplit((scheme, netloc, path, query, ""))

    def __fspath__(self):
        return self.uri

    def __eq__(self, other):
        if not isinstance(other, Asset):
            return NotImplemented
        mine = (self.name, self.uri, self.group, self.extra)
        return mine == (other.name, other.uri, other.group, other.extra)

    def __hash__(self):
        return hash((self.name, self.uri, self.group))

    def __repr__(self):
        return (
            f"Asset(name={self.name!r}, uri={self.uri!r}, group={self.group!r}, extra={self.extra!r}, "
            "watchers=[], access_control=AssetAccessControl(producer_teams=[], consumer_teams=None, "
            "allow_global=True))"
        )'''

_PARAM = '''class Param:
    """Airflow's Param as a task reads it: value, description, schema, resolve() (af2kfp stand-in)."""

    _NOTSET = object()

    def __init__(self, default=_NOTSET, description=None, source=None, **kwargs):
        self.value = default
        self.description = description
        self.schema = kwargs.pop("schema") if "schema" in kwargs else kwargs
        self.source = source

    @property
    def has_value(self):
        return self.value is not self._NOTSET and self.value is not None

    def resolve(self, value=_NOTSET, suppress_exception=False):
        final = self.value if value is self._NOTSET else value
        try:
            if final is self._NOTSET:
                raise ValueError("No value passed and Param has no default value")
            try:
                import jsonschema
            except ImportError:
                jsonschema = None
            if jsonschema is not None:
                checker = jsonschema.FormatChecker()
                jsonschema.validate(final, self.schema, format_checker=checker)
        except Exception:
            if suppress_exception:
                return None
            raise
        self.value = final
        return final

    def dump(self):
        value = None if self.value is self._NOTSET else self.value
        dumped = {"__class": "airflow.sdk.definitions.param.Param", **vars(self)}
        return {**dumped, "value": value}'''

_TRIGGER_RULE = '''class TriggerRule(str, enum.Enum):
    """Airflow's TriggerRule: its values, as Airflow 3 defines them (af2kfp stand-in)."""

    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    ALL_DONE_MIN_ONE_SUCCESS = "all_done_min_one_success"
    ALL_DONE_SETUP_SUCCESS = "all_done_setup_success"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_SKIPPED = "none_skipped"
    ALWAYS = "always"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    ALL_SKIPPED = "all_skipped"

    @classmethod
    def is_valid(cls, trigger_rule):
        return trigger_rule in cls.all_triggers()

    @classmethod
    def all_triggers(cls):
        return set(cls.__members__.values())

    def __str__(self):
        return self.value'''

_SOURCES = {"Asset": _ASSET, "Param": _PARAM, "TriggerRule": _TRIGGER_RULE}
_IMPORTS = {"TriggerRule": "import enum"}

# What Airflow's classes offer and the stand-ins do not (read as ``x.<attribute>``)
_LACKS = {
    "Asset": frozenset({"ref", "normalized_uri", "watchers", "access_control", "asset_type", "iter_assets",
                        "iter_asset_aliases", "iter_asset_refs", "iter_dag_dependencies", "evaluate",
                        "as_expression", "asprofile", "to_asset_alias"}),
    "Param": frozenset({"serialize", "deserialize", "CLASS_IDENTIFIER"}),
    "TriggerRule": frozenset({"DUMMY", "NONE_FAILED_OR_SKIPPED"}),  # Airflow 2's, gone in Airflow 3
}


def stand_in(kind: str, names: set[str]) -> list[str]:
    """The stand-in class for ``kind`` (``Asset``, ``Param``, ``TriggerRule``), then one alias line per other name it is bound to."""
    return [_SOURCES[kind], *(f"{name} = {kind}" for name in sorted(names - {kind}))]


def stand_in_imports(kinds: set[str]) -> list[str]:
    """The import lines the stand-ins of ``kinds`` need at the top of the component (``enum`` for ``TriggerRule``)."""
    return sorted({_IMPORTS[kind] for kind in kinds if kind in _IMPORTS})


def lacking(kinds: set[str], code: list[ast.AST]) -> list[str]:
    """The attributes ``code`` reads that Airflow's classes of ``kinds`` have and their stand-ins lack."""
    lacks = frozenset().union(*(_LACKS.get(kind, frozenset()) for kind in kinds))
    return sorted({node.attr for tree in code for node in ast.walk(tree)
                   if isinstance(node, ast.Attribute) and node.attr in lacks})
