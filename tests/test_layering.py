"""The layers stay where the folders say: a test fails as soon as an import points the wrong way.

- ``bot/domain`` is pure: it imports nothing of the app (``rakuten.models``, the client's plain types, aside).
- ``bot/services`` never imports ``bot/ui`` (services return domain and result types; the UI renders them
  through the ports in ``bot/services/notices.py``) nor ``handlers``.
- ``rakuten/`` is the client only: nothing of ``bot``, ``handlers`` or ``devkit``.
- Only the composition root imports ``handlers`` from ``bot/``.
- Nothing in ``bot/``, ``handlers/`` or ``rakuten/`` imports the development kit (``devkit/``), except the CLI's
  ``demo`` command, which loads it lazily and says so when it is not installed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSITION_ROOT = "bot/app.py"
LAZY_DEVKIT = frozenset({"bot/cli.py"})  # `rakuten-bot demo` imports devkit inside the function, with a clear message


def imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(module, at_top_level) for every import in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, id(node) in top


def modules_under(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def violations(
    folder: str, forbidden: tuple[str, ...], *, allowed: tuple[str, ...] = (), skip: set[str] = frozenset()
) -> list[str]:
    found = []
    for path in modules_under(folder):
        relative = path.relative_to(ROOT).as_posix()
        if relative in skip:
            continue
        for module, _top in imports(path):
            if module.startswith(allowed):
                continue
            if module in forbidden or module.startswith(tuple(f"{name}." for name in forbidden)):
                found.append(f"{relative} imports {module}")
    return found


def test_the_domain_imports_nothing_of_the_app() -> None:
    assert (
        violations(
            "bot/domain",
            ("bot", "handlers", "devkit", "rakuten"),
            allowed=("bot.domain", "rakuten.models", "rakuten.after_sale_models"),
        )
        == []
    )


def test_services_never_import_the_ui_or_the_listeners() -> None:
    assert violations("bot/services", ("bot.ui", "handlers")) == []


def test_the_rakuten_client_imports_nothing_of_the_bot() -> None:
    assert violations("rakuten", ("bot", "handlers", "devkit")) == []


def test_only_the_composition_root_imports_the_listeners() -> None:
    assert violations("bot", ("handlers",), skip={COMPOSITION_ROOT}) == []


@pytest.mark.parametrize("folder", ["bot", "handlers", "rakuten"])
def test_the_product_never_imports_the_development_kit(folder: str) -> None:
    found = violations(folder, ("devkit",), skip=LAZY_DEVKIT if folder == "bot" else set())
    assert found == []
    if folder == "bot":
        lazy = [module for path in LAZY_DEVKIT for module, top in imports(ROOT / path) if module.startswith("devkit")]
        assert lazy, "the CLI's demo command loads devkit lazily"
        assert all(
            not top for path in LAZY_DEVKIT for module, top in imports(ROOT / path) if module.startswith("devkit")
        )


def test_the_rule_catches_a_wrong_import(tmp_path: Path) -> None:
    """The checker itself: an import of the UI from a service module is seen."""
    module = tmp_path / "bad.py"
    module.write_text("from bot.ui.messages import notice\nimport handlers.deps\n")
    assert [name for name, _ in imports(module)] == ["bot.ui.messages", "handlers.deps"]
