"""The black-free layout against black itself: random shapes of the statements the emitter writes."""

from __future__ import annotations

import ast
import random

import black
import pytest

from af2kfp.converters.emit.layout import Atom, Chain, Group, layout, number, string, value, width

MODE = black.Mode()
ALPHABET = "abc xyz_-./:'\"\\\t\n\x00é€😀中"


def _text(rng: random.Random, longest: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, longest)))


def _name(rng: random.Random) -> str:
    return "n" + "".join(rng.choice("abcdefghij_") for _ in range(rng.randint(0, 30)))


def _data(rng: random.Random, depth: int = 0):
    kind = rng.choice(["str", "str", "int", "float", "bool", "none"] + (["list", "dict"] if depth < 3 else []))
    if kind == "str":
        return _text(rng, rng.choice([3, 12, 40, 100]))
    if kind == "int":
        return rng.randint(-10**12, 10**12)
    if kind == "float":
        return rng.choice([0.5, 1e20, -2.5e-7, 3.0, 1e16, 123456.789])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "list":
        return [_data(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {_text(rng, 15): _data(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _call(rng: random.Random, head: str, positional: int = 0) -> Group:
    items = [("", Atom(_name(rng))) for _ in range(positional)]
    items += [(f"{_name(rng)}=", value(_data(rng))) for _ in range(rng.randint(0, 4))]
    return Group(head, tuple(items))


def _black_stable(code: str) -> None:
    assert black.format_str(code, mode=MODE) == code


@pytest.mark.parametrize("seed", range(60))
def test_generated_statements_are_laid_out_as_black_does(seed):
    rng = random.Random(seed)
    var = _name(rng)
    component = _call(rng, _name(rng))
    chain = Chain(component, (Group(".set_display_name", (("", value(_text(rng, 80))),)),
                              Group(".set_caching_options", (("", Atom("False")),))))
    params = tuple((f"{_name(rng)}: str = ", value(_data(rng))) for _ in range(rng.randint(0, 5)))
    lone = (("", Atom(f"{_name(rng)}: dsl.OutputPath(str)")),)
    body = [
        *layout(_call(rng, "dsl.ContainerSpec"), 4, "return "),
    ]
    code = "\n".join([
        *layout(_call(rng, "@dsl.component")),
        *layout(Group(f"def {_name(rng)}", params, "def"), 0, "", " -> dict:"),
        "    pass",
        "",
        "",
        "@dsl.container_component",
        *layout(Group(f"def {_name(rng)}", lone if seed % 2 else params, "def"), 0, "", ":"),
        *body,
        "",
        "",
        "def pipeline():",
        *layout(chain, 4, f"{var} = "),
        *layout(_call(rng, f"{var}.set_env_variable"), 4),
        *layout(_call(rng, "kubernetes.use_secret_as_env", positional=1), 4),
        *layout(Group(f"{var}.after", tuple(("", Atom(_name(rng))) for _ in range(rng.randint(1, 8)))), 4),
    ]) + "\n"
    _black_stable(code)


@pytest.mark.parametrize("seed", range(200))
def test_strings_and_numbers_keep_their_value_and_black_quotes(seed):
    rng = random.Random(seed)
    text = _text(rng, 20)
    source = string(text)
    assert ast.literal_eval(source) == text
    _black_stable(f"x = {source}\n")
    item = _data(rng)
    flat = value(item).flat()
    assert ast.literal_eval(flat) == item
    if width(f"x = {flat}") <= 88:
        _black_stable(f"x = {flat}\n")


def test_numbers_as_black_writes_them():
    assert number(1e20) == "1e20" and number(-2.5e-07) == "-2.5e-07" and number(3) == "3"
    assert string("it's") == '"it\'s"' and string('say "hi"') == "'say \"hi\"'" and string("both ' \"") == "\"both ' \\\"\""


def test_wide_characters_count_twice():
    assert width("中中") == 4 and width("é") == 1 and width("ascii") == 5
