"""The morning dispatcher stays readable: no function in it (or in its pure decisions) longer
than 60 lines. Complexity (at most 12) is held by ruff's C901 in pyproject.toml."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 60


@pytest.mark.parametrize("path", ["bot/usecases/morning.py", "bot/domain/morning.py"])
def test_no_function_is_longer_than_60_lines(path: str) -> None:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    long = {
        node.name: (node.end_lineno or node.lineno) - node.lineno + 1
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_LINES
    }
    assert long == {}
