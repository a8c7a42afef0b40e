"""Type inference of a Python callable's values, and the carriers they travel in.

A native KFP type is used only where the type is certain: every ``return`` proves it,
or an annotation nothing contradicts. Everything else travels as JSON text, which
keeps any JSON value exactly.
"""

from __future__ import annotations

import ast
import json
import textwrap

import pytest

from af2kfp.converters.mappings.pytypes import (
    INT_ITEMS,
    JSON,
    JSON_ITEMS,
    collected,
    decode_source,
    dict_value_kinds,
    ends,
    kfp_type,
    literal_carrier,
    output_carrier,
    return_kinds,
)


def _fn(source: str) -> ast.FunctionDef:
    node = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    return node


def kinds(source: str, params: dict | None = None, **options) -> set[str]:
    return set(return_kinds(_fn(source), params or {}, **options))


@pytest.mark.parametrize(("source", "params", "expected"), [
    ("def f(x):\n    return x + 1\n", {"x": "int"}, {"int"}),
    ("def f(x):\n    return x + 1\n", {}, {"?"}),  # x could be anything
    ("def f(x):\n    return x / 2\n", {"x": "int"}, {"float"}),
    ("def f(x):\n    return x ** 2\n", {"x": "int"}, {"int"}),
    ("def f(x):\n    return x ** -1\n", {"x": "int"}, {"float"}),
    ("def f(x):\n    return 2 ** x\n", {"x": "int"}, {"?"}),  # a negative x gives a float
    ("def f(x):\n    return True + 1\n", {}, {"int"}),
    ("def f(a, b):\n    return a & b\n", {"a": "bool", "b": "bool"}, {"bool"}),
    ("def f():\n    return f'{1}'\n", {}, {"str"}),
    ("def f(s):\n    return s.upper().strip()\n", {"s": "str"}, {"str"}),
    ("def f(s):\n    return s.startswith('a')\n", {"s": "str"}, {"bool"}),
    ("def f(s):\n    return '-'.join(s)\n", {}, {"str"}),
    ("def f(s):\n    return 'x=%s' % s\n", {}, {"str"}),
    ("def f(s):\n    return s[1:]\n", {"s": "str"}, {"str"}),
    ("def f(rows):\n    return len(rows)\n", {}, {"int"}),
    ("def f(d):\n    return d.strftime('%Y')\n", {}, {"str"}),
    ("def f(x):\n    return x in (1, 2)\n", {}, {"bool"}),
    ("def f(x):\n    return x == 1\n", {}, {"?"}),  # a numpy array compares to an array
    ("def f(x):\n    return x == 1\n", {"x": "int"}, {"bool"}),
    ("def f(x):\n    return 'a' if x else 'b'\n", {}, {"str"}),
    ("def f(x):\n    return 'a' if x else 1\n", {}, {"?"}),
    ("def f():\n    return [1, 2]\n", {}, {"container"}),
    ("def f():\n    return 1, 2\n", {}, {"container"}),
    ("def f():\n    print('x')\n", {}, {"none"}),
    ("def f():\n    return print('x')\n", {}, {"none"}),
    ("def f(x):\n    if x:\n        return 'a'\n", {}, {"str", "none"}),  # falls through: None
    ("def f(x):\n    if x:\n        return 'a'\n    return\n", {}, {"str", "none"}),
    ("def f():\n    yield 1\n", {}, {"?"}),
    ("def f():\n    n = 0\n    for i in range(3):\n        n += 1\n    return n\n", {}, {"int"}),
    ("def f():\n    n = 0\n    for i in range(3):\n        n += i\n    return n\n", {}, {"?"}),  # i unknown
    ("def f(x):\n    y = x\n    z = y\n    return z\n", {"x": "float"}, {"float"}),  # through two names
    ("def f(x):\n    x = str(x)\n    return x\n", {}, {"?"}),  # x also the unknown argument
    ("def f():\n    str = lambda v: 1\n    return str(2)\n", {}, {"?"}),  # not the builtin
    ("def f():\n    global n\n    n = 1\n    return n\n", {}, {"?"}),
    ("def f():\n    try:\n        return int('1')\n    except ValueError:\n        return 0\n", {}, {"int"}),
    ("def f():\n    try:\n        return 1\n    except ValueError:\n        pass\n", {}, {"int", "none"}),
    ("def f():\n    def g():\n        return 'x'\n    return 1\n", {}, {"int"}),  # nested returns are g's
    ("async def f():\n    return 'x'\n", {}, {"str"}),
])
def test_return_kinds(source, params, expected):
    assert kinds(source, params) == expected


def test_json_dumps_is_text_only_when_json_is_the_json_module():
    source = "def f(x):\n    return json.dumps(x)\n"
    assert kinds(source, json_names=["json"]) == {"str"}
    assert kinds(source) == {"?"}
    assert kinds("def f(x):\n    import json\n    return json.dumps(x)\n") == {"str"}
    assert kinds(source, json_names=["json"], shadowed=["json"]) == {"str"}  # json_names wins: it is the module


def test_a_module_level_name_is_not_the_builtin():
    assert kinds("def f(x):\n    return str(x)\n", shadowed=["str"]) == {"?"}
    assert kinds("def f(x):\n    return str(x)\n") == {"str"}


@pytest.mark.parametrize(("body", "expected"), [
    ("return 1", True),
    ("raise ValueError()", True),
    ("if x:\n    return 1\nelse:\n    return 2", True),
    ("if x:\n    return 1\nelif y:\n    return 2", False),
    ("while True:\n    return 1", True),
    ("while True:\n    break", False),
    ("with open('f') as f:\n    return f.read()", True),
    ("try:\n    pass\nfinally:\n    return 1", True),
    ("for i in x:\n    return i", False),
    ("pass", False),
])
def test_ends(body, expected):
    assert ends(_fn("def f(x, y):\n" + textwrap.indent(body, "    ") + "\n").body) is expected


def test_dict_value_kinds_only_for_keys_every_return_holds():
    source = """
    def f(a):
        if a:
            return {"n": 1, "s": "x", "v": a, "only": 1}
        return {"n": 2, "s": f"{a}", "v": 3}
    """
    assert dict_value_kinds(_fn(source), {}) == {"n": "int", "s": "str"}
    assert dict_value_kinds(_fn("def f():\n    d = {'n': 1}\n    return d\n"), {}) == {}
    assert dict_value_kinds(_fn("def f(a):\n    if a:\n        return {'n': 1}\n"), {}) == {}  # may return None


@pytest.mark.parametrize(("kinds_", "annotation", "expected"), [
    ({"int"}, None, "int"),
    ({"int"}, "float", "int"),  # what the function returns wins over a wrong annotation
    ({"?"}, "str", "str"),  # nothing contradicts the annotation: KFP checks it at run time
    ({"?"}, "int", "int"),
    ({"?"}, "float", JSON),  # KFP would turn a returned 1 into 1.0
    ({"float"}, "float", "float"),
    ({"str", "none"}, "str", JSON),  # None is no str
    ({"container"}, "dict", JSON),  # ints inside a KFP dict become floats
    ({"?"}, None, JSON),
    ({"int", "str"}, None, JSON),
])
def test_output_carrier(kinds_, annotation, expected):
    assert output_carrier(frozenset(kinds_), annotation) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("a", "str"), (1, "int"), (1.5, "float"), (True, "bool"), (None, None),
    (["a", 1.5, None, True], "list"), ({"a": ["x"], "b": {"c": 0.5}}, "dict"),  # no int inside: native
    ([1, 2], JSON), ({"a": {"b": 1}}, JSON), ({1: "a"}, JSON),  # an int inside, or a key KFP cannot keep
])
def test_literal_carrier(value, expected):
    assert literal_carrier(value) == expected


def test_carriers_map_to_kfp_types_and_decode_back():
    assert [kfp_type(c) for c in ("str", "int", JSON, JSON_ITEMS, INT_ITEMS, "dsl.OutputPath(bool)")] == [
        "str", "int", "str", "list", "list", "dsl.OutputPath(bool)"]
    assert [collected(c) for c in (JSON, "int", "str", "float", "bool")] == [JSON_ITEMS, INT_ITEMS, "list", "list",
                                                                              "list"]
    namespace = {"json": json, "a": json.dumps({"n": 1, "x": None}), "b": ['{"k": 2}', "3"], "c": [1.0, 2.0]}
    for name, carrier in (("a", JSON), ("b", JSON_ITEMS), ("c", INT_ITEMS)):
        exec(decode_source(name, carrier), namespace)  # generated statements, not DAG code
    assert namespace["a"] == {"n": 1, "x": None} and namespace["b"] == [{"k": 2}, 3] and namespace["c"] == [1, 2]
    assert all(isinstance(v, int) for v in namespace["c"])
    assert decode_source("x", "str") is None and decode_source("x", "list") is None
