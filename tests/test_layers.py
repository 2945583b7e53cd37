"""The import direction of the layers (README, "Architecture"): read with ``ast``, so a wrong
import fails here before anyone runs the bot.

    domain < rendering < telegram < context < db < usecases < handlers < runtime < app, cli
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """Every module of bot/ and db/ with the modules of bot/ and db/ it imports."""
    found: dict[str, set[str]] = {}
    for top in ("bot", "db"):
        for path in (ROOT / top).rglob("*.py"):
            name = _module(path)
            package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            names: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                        base = ".".join([*anchor, base] if base else anchor)
                    names.add(base)
                    names.update(f"{base}.{alias.name}" for alias in node.names)
            found[name] = {n for n in names if n.split(".")[0] in ("bot", "db")}
    modules = set(found)
    # ``from bot.x import y`` names module bot.x.y only when that module exists.
    return {m: {n for n in names if n in modules and n != m} for m, names in found.items()}


IMPORTS = _imports()


def _in(module: str, *layers: str) -> bool:
    return any(module == layer or module.startswith(layer + ".") for layer in layers)


def _offending(layer: str, *forbidden: str) -> list[str]:
    return sorted(
        f"{m} imports {n}"
        for m, names in IMPORTS.items()
        if _in(m, layer)
        for n in names
        if _in(n, *forbidden)
    )


def test_the_parser_sees_the_imports() -> None:
    # A test that cannot fail proves nothing: the reader does find imports.
    assert "bot.telegram.ratelimit" in IMPORTS["bot.telegram.delivery"]
    assert "bot.rendering.buttons" in IMPORTS["bot.usecases.conversation"]


def test_the_domain_imports_no_layer_above_it() -> None:
    above = ("bot.telegram", "bot.runtime", "bot.usecases", "bot.rendering", "bot.handlers", "db")
    assert _offending("bot.domain", *above, "bot.app", "bot.cli", "bot.context") == []


def test_rendering_imports_neither_telegram_nor_what_runs_the_bot() -> None:
    above = ("bot.telegram", "bot.runtime", "bot.usecases", "bot.handlers", "db")
    assert _offending("bot.rendering", *above, "bot.app", "bot.cli", "bot.context") == []


def test_telegram_is_a_leaf_that_knows_only_the_plain_reply_types() -> None:
    outside = [
        f"{m} imports {n}"
        for m, names in IMPORTS.items()
        if _in(m, "bot.telegram")
        for n in names
        if not _in(n, "bot.telegram", "bot.rendering.replies")
    ]
    assert outside == []


def test_use_cases_never_call_telegram_nor_the_runtime() -> None:
    above = ("bot.telegram", "bot.runtime", "bot.handlers", "bot.app", "bot.cli")
    assert _offending("bot.usecases", *above) == []


def test_db_knows_nothing_of_the_bot_above_the_domain() -> None:
    above = ("bot.telegram", "bot.runtime", "bot.usecases", "bot.rendering", "bot.handlers")
    assert _offending("db", *above, "bot.app", "bot.cli") == []


def test_handlers_do_not_reach_into_the_runtime() -> None:
    assert _offending("bot.handlers", "bot.runtime", "bot.app", "bot.cli") == []


def test_no_import_circle() -> None:
    def cycle_from(start: str) -> list[str] | None:
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        seen: set[str] = set()
        while stack:
            module, path = stack.pop()
            for name in IMPORTS.get(module, ()):
                if name == start:
                    return [*path, name]
                if name not in seen:
                    seen.add(name)
                    stack.append((name, [*path, name]))
        return None

    circles = [c for m in sorted(IMPORTS) if (c := cycle_from(m)) is not None]
    assert circles == []
