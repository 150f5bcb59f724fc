"""The docs stay true: docs/hooks.md documents exactly the hooks in ``egorag_core.hookspecs``
with their signatures, every Python block in README.md and CONTRIBUTING.md runs, and the
template plugin shown in CONTRIBUTING.md is the one in ``plugins/_template``."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import PLUGINS, REPO

from egorag_core import hookspecs

HOOKS_DOC = REPO / "docs" / "hooks.md"
TEMPLATE = REPO / "plugins" / "_template"
#: A fenced block right after this line is not run (keep these rare).
NOT_RUN = "<!-- not run -->"
#: ``<!-- template: PATH -->`` right before a fenced block: the block is ``plugins/_template/PATH``.
TEMPLATE_MARK = re.compile(r"<!-- template: (\S+) -->")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _annotation(annotation: Any) -> str:
    """An annotation as written (strings under ``from __future__ import annotations``)."""
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def signature_line(name: str, fn: Callable[..., Any]) -> str:
    """``name(param: type = default, ...) -> return``, as written in the source."""
    params = []
    for p in inspect.signature(fn).parameters.values():
        if p.name == "self":
            continue
        text = p.name if p.annotation is p.empty else f"{p.name}: {_annotation(p.annotation)}"
        if p.default is not p.empty:
            default = json.dumps(p.default) if isinstance(p.default, str) else repr(p.default)
            text += f" = {default}"
        params.append(text)
    returns = _annotation(inspect.signature(fn).return_annotation)
    return f"{name}({', '.join(params)}) -> {returns}"


def hookspec_functions() -> dict[str, Callable[..., Any]]:
    """The hook specifications (pluggy-marked functions) of ``egorag_core.hookspecs``."""
    marker = f"{hookspecs.PROJECT}_spec"
    return {n: f for n, f in vars(hookspecs).items() if callable(f) and hasattr(f, marker)}


def documented_signatures() -> dict[str, str]:
    """Section name -> the signature in its ``### `...` `` heading."""
    text = HOOKS_DOC.read_text(encoding="utf-8")
    found = re.findall(r"^### `((\w+)\(.*\) -> .*)`$", text, re.MULTILINE)
    return {name: line for line, name in found}


def fenced_blocks(path: Path) -> list[tuple[int, str, str, str]]:
    """(line, language, code, the line before the fence) for each fenced block of ``path``."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for m in FENCE.finditer(text):
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        blocks.append((text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2), before))
    return blocks


def test_every_hook_has_a_section_with_its_exact_signature() -> None:
    specs = hookspec_functions()
    assert set(specs) == set(hookspecs.HOOK_GROUPS)
    documented = documented_signatures()
    for name, fn in specs.items():
        assert name in documented, f"docs/hooks.md has no section for {name}"
        assert documented[name] == signature_line(name, fn)


def test_no_section_for_a_hook_that_does_not_exist() -> None:
    text = HOOKS_DOC.read_text(encoding="utf-8")
    sections = set(re.findall(r"^## (.+)$", text, re.MULTILINE))
    assert sections == {*hookspec_functions(), "register", "embed_query"}
    assert set(documented_signatures()) == sections


def test_the_docs_name_only_things_that_exist() -> None:
    """Every ``egorag_core.<module>[.<name>...]`` the docs mention can be imported."""
    docs = [REPO / "README.md", REPO / "CONTRIBUTING.md", HOOKS_DOC, TEMPLATE / "README.md"]
    names = {n for d in docs for n in re.findall(r"\b(egorag_core(?:\.\w+)+)", d.read_text())}
    assert names
    for name in sorted(names):
        module, _, rest = name.partition(".")
        obj: Any = importlib.import_module(module)
        for part in rest.split("."):
            if hasattr(obj, part):
                obj = getattr(obj, part)
            else:  # a submodule not imported yet; ModuleNotFoundError when there is none
                obj = importlib.import_module(f"{obj.__name__}.{part}")


def test_the_register_callback_is_documented_with_its_signature() -> None:
    expected = signature_line("register", hookspecs.Register.__call__)
    assert documented_signatures().get("register") == expected


def test_the_optional_query_method_is_documented_with_its_signature() -> None:
    expected = signature_line("embed_query", hookspecs.QueryEmbedder.embed_query)
    assert documented_signatures().get("embed_query") == expected


@pytest.mark.parametrize("doc", ["README.md", "CONTRIBUTING.md"])
def test_every_python_block_runs(doc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each block in a fresh namespace, in order, in one empty folder (a later block may read
    what an earlier one wrote, as a reader following along would)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EGORAG_PLUGINS", f"{PLUGINS},template,whisper")
    blocks = [b for b in fenced_blocks(REPO / doc) if b[1] == "python"]
    assert blocks, f"{doc} has no python blocks"
    for line, _, code, before in blocks:
        if before.strip() == NOT_RUN:
            continue
        module = types.ModuleType(f"doc_block_{line}")  # a fresh namespace, importable
        monkeypatch.setitem(sys.modules, module.__name__, module)
        try:
            exec(compile(code, f"{doc}:{line}", "exec"), module.__dict__)
        except Exception as exc:
            pytest.fail(f"the python block at {doc}:{line} fails: {type(exc).__name__}: {exc}")


def test_few_blocks_are_not_run() -> None:
    for doc in ("README.md", "CONTRIBUTING.md"):
        skipped = [b for b in fenced_blocks(REPO / doc) if b[3].strip() == NOT_RUN]
        assert len(skipped) <= 1, f"{doc}: {len(skipped)} python blocks are marked not run"


def test_every_vector_search_shown_uses_cosine() -> None:
    """Stored vectors are unit length and meant for cosine; LanceDB's default metric is L2."""
    docs = [REPO / "README.md", REPO / "CONTRIBUTING.md", HOOKS_DOC,
            *sorted(REPO.glob("plugins/*/README.md"))]  # fmt: skip
    searches = 0
    for doc in docs:
        for line, _, code, _ in fenced_blocks(doc):
            calls = code.count(".search(")
            cosine = len(re.findall(r"\.(?:distance_type|metric)\(\"cosine\"\)", code))
            assert cosine >= calls, f"{doc.name}:{line}: a vector search without cosine"
            searches += calls
    assert searches >= 1


def template_files() -> set[str]:
    """The template's source files, relative to ``plugins/_template`` (README.md aside)."""
    skip = ("build", "dist", "__pycache__", ".pytest_cache")
    files = set()
    for path in TEMPLATE.rglob("*"):
        rel = path.relative_to(TEMPLATE)
        if (
            path.is_file()
            and path.suffix in (".py", ".toml", ".yaml")
            and not any(part in skip or part.endswith(".egg-info") for part in rel.parts)
        ):
            files.add(rel.as_posix())
    return files


def test_contributing_shows_the_template_files_verbatim() -> None:
    shown = {}
    for _, _, code, before in fenced_blocks(REPO / "CONTRIBUTING.md"):
        m = TEMPLATE_MARK.fullmatch(before.strip())
        if m:
            shown[m.group(1)] = code
    assert set(shown) == template_files()
    for rel, code in shown.items():
        assert code == (TEMPLATE / rel).read_text(encoding="utf-8"), f"{rel} differs from the doc"


def test_the_template_stays_small() -> None:
    """The issue's promise: a plugin is <= 30 lines of Python and a pyproject of <= 12 lines."""
    code = (TEMPLATE / "egorag_template" / "__init__.py").read_text(encoding="utf-8")
    assert len([line for line in code.splitlines() if line.strip()]) <= 30
    assert len((TEMPLATE / "pyproject.toml").read_text(encoding="utf-8").splitlines()) <= 12
