"""bridge/kfp/client.py is what the generator writes: typed methods, both faces, never stale."""

from __future__ import annotations

import ast
import subprocess
import sys
import typing
from pathlib import Path

from af2kfp.bridge.kfp import AsyncKfpClient, KfpClient
from af2kfp.bridge.kfp.codegen import COMMAND, TARGET, render

REPO = Path(__file__).resolve().parents[2]


def test_committed_client_is_not_stale():
    assert TARGET.read_text(encoding="utf-8") == render(), f"bridge/kfp/client.py is stale; regenerate: {COMMAND}"


def test_documented_command_rewrites_even_a_broken_client(tmp_path):
    """The command reads the sources without importing the package, so a client.py that no
    longer imports (an operation renamed) does not stop its own regeneration."""
    package = tmp_path / "bridge" / "kfp"
    package.mkdir(parents=True)
    for source in (REPO / "bridge" / "kfp").glob("*.py"):
        (package / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (package / "client.py").write_text("raise ImportError('stale')\n", encoding="utf-8")
    command = COMMAND.split()
    assert command[:1] == ["python"]
    done = subprocess.run([sys.executable, "-I", *command[1:]], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (package / "client.py").read_text(encoding="utf-8") == TARGET.read_text(encoding="utf-8")


def test_every_method_is_written_out_with_types():
    """No method is built at run time: each is a def in the source, and its hints resolve."""
    tree = ast.parse(TARGET.read_text(encoding="utf-8"))
    for face in (KfpClient, AsyncKfpClient):
        [node] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == face.__name__]
        written = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        assert written == {n for n, v in vars(face).items() if callable(v) and not n.startswith("_")}
        for name in written:
            hints = typing.get_type_hints(getattr(face, name))
            assert "return" in hints, f"{face.__name__}.{name} has no return type"
    assert len(written) > 40


def test_a_new_core_operation_appears_on_both_faces(tmp_path, monkeypatch):
    """What a contributor does: an Op method on KfpCore, then the command; both faces get it."""
    import af2kfp.bridge.kfp.codegen as codegen

    package = tmp_path / "kfp"
    package.mkdir()
    for source in codegen.PACKAGE.glob("*.py"):
        (package / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    core = package / "core.py"
    core.write_text(core.read_text(encoding="utf-8").replace(
        "    def healthz(self) -> Op[dict]:",
        '    def get_run_count(self, experiment_id: str, *, limit: int = 5) -> Op[int]:\n'
        '        """How many runs the experiment has."""\n'
        '        return (yield from self._get("/runs", experiment_id=experiment_id))["total_size"]\n\n'
        "    def healthz(self) -> Op[dict]:",
    ), encoding="utf-8")
    monkeypatch.setattr(codegen, "PACKAGE", package)
    codegen._tree.cache_clear()
    try:
        text = codegen.render()
    finally:
        codegen._tree.cache_clear()
    assert "    def get_run_count(self, experiment_id: str, *, limit: int = 5) -> int:\n" in text
    assert "    async def get_run_count(self, experiment_id: str, *, limit: int = 5) -> int:\n" in text
    assert "return await self._drive(self.core.get_run_count(experiment_id, limit=limit))" in text
