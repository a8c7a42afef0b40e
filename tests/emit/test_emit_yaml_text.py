"""The fast YAML writer against PyYAML itself: same bytes for every shape a pipeline spec can hold."""

from __future__ import annotations

import random

import pytest
import yaml

from af2kfp.converters.emit.yaml_text import dump_all

PIECES = ["a", "b c", " ", "  ", "\n", "\n\n", "\t", "'", '"', "\\", ":", ": ", "#", " #", "-", "- ", "?", "? ",
          ",", "[", "]", "{", "}", "&", "*", "!", "|", ">", "%", "@", "`", "---", "...", "é", "€", "😀", "\x00",
          "\x07", "\x85", "\u2028", "\ufeff", "\xa0", "true", "no", "null", "~", "1", "0x1F", "1.5", "1e3",
          "2024-01-01", "=", "<<", "python3 -m pip install --quiet", "x" * 30, "word " * 12]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.choice([0, 1, 1, 2, 3, 6, 20])))


def _data(rng: random.Random, depth: int = 0):
    kind = rng.choice(["str", "str", "str", "int", "float", "bool", "none"] + (["list", "dict", "dict"] if depth < 4 else []))
    if kind == "str":
        return _text(rng)
    if kind == "int":
        return rng.choice([0, -1, 7, 10**20, -(2**63)])
    if kind == "float":
        return rng.choice([0.5, 1e20, -2.5e-7, 3.0, 1e16, float("inf"), -float("inf"), 1e-300])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "list":
        return [_data(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {_text(rng): _data(rng, depth + 1) for _ in range(rng.randint(0, 5))}


@pytest.mark.parametrize("seed", range(400))
def test_same_bytes_as_pyyaml(seed):
    rng = random.Random(seed)
    documents = [{"root": _data(rng), **{_text(rng): _data(rng) for _ in range(3)}}]
    if seed % 3 == 0:
        documents.append({"platforms": _data(rng)})
    assert dump_all(documents) == yaml.dump_all(documents, sort_keys=True)


def test_long_strings_fold_as_pyyaml_folds_them():
    command = "\nif ! [ -x \"$(command -v pip)\" ]; then\n    python3 -m ensurepip || python3 -m ensurepip --user\n"
    documents = [{"a": {"b": [command * 3, "word " * 40, "'" + "x " * 60, "y" * 200]}}, {"k": "v"}]
    assert dump_all(documents) == yaml.dump_all(documents, sort_keys=True)


def test_shared_containers_and_odd_keys_are_left_to_pyyaml():
    shared = {"x": 1}
    assert dump_all([{"a": shared, "b": shared}]) is None
    assert dump_all([{1: "a"}]) is None
    assert dump_all([{"t": (1, 2)}]) is None
