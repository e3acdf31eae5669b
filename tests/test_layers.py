"""The layers of the product, read from its import statements (every one, also inside functions).

What ships (engine/, explain/, cli.py) never imports the tests; modules do not import each
other's private names; no two modules import each other, directly or round about; pyDatalog is
imported by one module only; and the evaluators and the answer services never reach into the
tools that check the rule base (engine/checks/), which may come and go without changing an answer.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.graph import strongly_connected
from tests.conftest import ROOT


@dataclass(frozen=True)
class Import:
    importer: str
    line: int
    module: str  # the product module imported (or the outside package, for pyDatalog and tests)
    name: str | None  # the name taken from it (`from module import name`), if any


def product_modules() -> dict[str, Path]:
    found = {}
    for path in sorted([*(ROOT / "engine").rglob("*.py"), *(ROOT / "explain").rglob("*.py"), ROOT / "cli.py"]):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = product_modules()


def _resolve(name: str) -> str:
    """The product module a dotted name lies in (a name taken from a module resolves to the module)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def imports() -> list[Import]:
    out = []
    for importer, path in MODULES.items():
        package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                out += [Import(importer, node.lineno, _resolve(a.name), None) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                for a in node.names:
                    full = f"{base}.{a.name}"
                    if full in MODULES:  # `from engine.checks import coverage`: a module, not a name
                        out.append(Import(importer, node.lineno, full, None))
                    else:
                        out.append(Import(importer, node.lineno, _resolve(base), a.name))
    return out


IMPORTS = imports()


def where(i: Import) -> str:
    return f"{MODULES[i.importer].relative_to(ROOT)}:{i.line}"


def test_the_product_never_imports_the_tests():
    found = [where(i) for i in IMPORTS if i.module.split(".")[0] == "tests"]
    assert found == [], "the product imports tests/ at " + ", ".join(found)


def test_no_module_imports_a_private_name_of_another():
    found = [
        f"{where(i)} {i.module}.{i.name}"
        for i in IMPORTS
        if i.name and i.name.startswith("_") and i.module in MODULES and i.module != i.importer
    ]
    assert found == [], "private names imported across modules: " + ", ".join(found)


def test_no_modules_import_each_other_directly_or_round_about():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in IMPORTS:
        if i.module in MODULES and i.module != i.importer:
            graph[i.importer].add(i.module)
    cycles = [group for group in strongly_connected({m: sorted(v) for m, v in graph.items()}) if len(group) > 1]
    assert cycles == [], f"import cycles: {cycles}"


def test_only_the_datalog_evaluator_imports_pydatalog():
    found = sorted({i.importer for i in IMPORTS if i.module.split(".")[0] == "pyDatalog"})
    assert found == ["engine.evaluate.datalog"]


# explain/ is left out: it renders every document, the audit report among them.
ANSWERING = (
    "engine.rules",
    "engine.applicant",
    "engine.evaluate",
    "engine.answer",
    "engine.graph",
    "engine.tijd",
    "engine.errors",
)


def test_what_answers_never_imports_the_tools_that_check_the_rule_base():
    """Only cli.py (the audit, coverage and mutate commands), explain/ (the audit report), engine/web/
    (the audit it serves) and the tests load engine/checks/."""
    answering = [i for i in IMPORTS if i.importer.startswith(ANSWERING)]
    assert len([m for m in MODULES if m.startswith(ANSWERING)]) >= 20  # the layers are there to be checked
    found = [f"{where(i)} {i.module}" for i in answering if i.module.startswith("engine.checks")]
    assert found == [], "what answers imports a rule-base tool: " + ", ".join(found)


def test_nothing_is_imported_by_a_name_in_a_string():
    """An importlib call with a module name in a string would hide a layer crossing from the checks above."""
    found = [
        f"{MODULES[m].relative_to(ROOT)}" for m in MODULES if "import_module(" in MODULES[m].read_text(encoding="utf-8")
    ]
    assert found == []


def test_the_test_of_layers_sees_a_planted_import(tmp_path, monkeypatch):
    """The checks above read what they claim to read: a planted private import and cycle are found."""
    planted = {"engine.een": "from engine.twee import _geheim\n", "engine.twee": "import engine.een\n_geheim = 1\n"}
    paths = {}
    for name, text in planted.items():
        path = tmp_path / f"{name.split('.')[-1]}.py"
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    monkeypatch.setitem(globals(), "MODULES", paths)
    monkeypatch.setitem(globals(), "IMPORTS", imports())
    with pytest.raises(AssertionError, match="engine.twee._geheim"):
        test_no_module_imports_a_private_name_of_another()
    with pytest.raises(AssertionError, match="import cycles"):
        test_no_modules_import_each_other_directly_or_round_about()


def test_the_test_of_layers_sees_an_answer_reaching_into_the_checks(tmp_path, monkeypatch):
    path = tmp_path / "assess.py"
    path.write_text("def f():\n    from engine.checks.coverage import recorder\n", encoding="utf-8")
    modules = {**MODULES, "engine.answer.assess": path}
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    monkeypatch.setitem(
        globals(), "MODULES", {m: p if m == "engine.answer.assess" else tmp_path / "x.py" for m, p in modules.items()}
    )
    (tmp_path / "x.py").write_text("", encoding="utf-8")
    monkeypatch.setitem(globals(), "IMPORTS", imports())
    with pytest.raises(AssertionError, match="engine.checks.coverage"):
        test_what_answers_never_imports_the_tools_that_check_the_rule_base()
