"""The package shows the architecture and keeps its rules (DEVELOPERS.md, issue "One way in"):
settings enter once, no private Dagster or dbt API, no import circle, the product never imports
the tooling."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "dagster_project"
TOOLS = "dagster_project.tools"
SETTINGS_MODULE = PACKAGE / "settings.py"
PRIVATE_LIBRARIES = ("dagster", "dagster_dbt", "dagster_duckdb", "dagster_webserver", "dbt")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((module, [alias.name for alias in node.names]))
    return found


def _internal_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (a `from pkg import module` counts as the module)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for module, names in _imports(path):
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules] or [module]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _is_package_module(module: str) -> bool:
    return module == "dagster_project" or module.startswith("dagster_project.")


def test_the_package_has_no_import_circle():
    graph = _internal_graph()
    assert len(graph) > 20  # the walk found the package
    assert _cycles(graph) == []


def test_the_product_never_imports_the_tooling():
    graph = _internal_graph()
    product = [name for name in graph if not name.startswith(TOOLS)]
    assert "dagster_project.refresh" in product and "dagster_project.defs.ingest.loader" in product
    offenders = {name: sorted(t for t in graph[name] if t.startswith(TOOLS)) for name in product}
    assert {name: targets for name, targets in offenders.items() if targets} == {}
    # and the tooling does build on the product (the generator reads the source contract)
    assert any(t.startswith("dagster_project.defs.ingest.contract")
               for name in graph if name.startswith(TOOLS) for t in graph[name])


def test_the_folders_show_the_flow():
    """cli -> refresh -> defs -> settings: arrows point down only."""
    layer = {"cli": 3, "refresh": 2, "defs": 1, "instance": 1, "warehouse": 0, "settings": -1}
    graph = _internal_graph()
    for name, targets in graph.items():
        parts = name.split(".")
        if len(parts) < 2 or parts[1] not in layer:
            continue
        for target in targets:
            target_parts = target.split(".")
            if len(target_parts) > 1 and target_parts[1] in layer and target_parts[1] != parts[1]:
                assert layer[target_parts[1]] < layer[parts[1]], f"{name} imports {target} (upwards)"


ENVIRONMENT_READ = re.compile(r"os\.environ|getenv|env_var\(")


def test_only_the_settings_module_reads_the_environment():
    """No os.environ, getenv or dbt env_var( anywhere but settings.py (and profiles.yml's
    connection fields, which have none today: the profile reads --vars)."""
    checked = [p for p in ROOT.rglob("*") if p.suffix in (".py", ".sql", ".yml", ".yaml", ".toml")
               and p.is_file() and not {".venv", "target", "logs", ".git", "bench"} & set(p.relative_to(ROOT).parts)]
    assert any(p.name == "profiles.yml" for p in checked) and len(checked) > 50
    hits = []
    for path in checked:
        if path in (SETTINGS_MODULE, Path(__file__)):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if ENVIRONMENT_READ.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert hits == []


def _private(name: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in name.split("."))


def test_no_private_dagster_or_dbt_api():
    """No import of a _-prefixed module or name of Dagster or dbt, no _-prefixed attribute of them,
    and no override of a _-prefixed method in a subclass of one of their classes."""
    hits = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text())
        aliases = {}  # local name -> library module, e.g. dg -> dagster
        for module, names in _imports(path):
            if module.split(".")[0] not in PRIVATE_LIBRARIES:
                continue
            if _private(module) or any(_private(n) for n in names):
                hits.append(f"{name}: imports {module} {names}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in PRIVATE_LIBRARIES:
                        aliases[alias.asname or alias.name.split(".")[0]] = alias.name
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PRIVATE_LIBRARIES:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and _private(node.attr)):
                hits.append(f"{name}: {node.value.id}.{node.attr}")
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(base, (ast.Name, ast.Attribute))
                    and (getattr(base, "id", None) in aliases
                         or getattr(getattr(base, "value", None), "id", None) in aliases)
                    for base in node.bases):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and _private(item.name):
                        hits.append(f"{name}: {node.name}.{item.name} overrides a private method")
    assert hits == []


def test_no_dbt_macro_overrides_dbt_internals():
    """A macro named like one of dbt's own (default__get_where_subquery, ...) replaces it. Every
    default__x macro of the project must implement a macro x the project dispatches itself."""
    texts = [p.read_text() for p in (ROOT / "dbt" / "macros").rglob("*.sql")]
    defaults = {m for text in texts for m in re.findall(r"macro\s+default__(\w+)", text)}
    dispatched = {m for text in texts for m in re.findall(r"adapter\.dispatch\('(\w+)', 'c360'\)", text)}
    assert "parse_timestamp_utc" in defaults  # the scan found the portable macros
    assert defaults - dispatched == set()
    assert not any(re.search(r"macro\s+get_where_subquery\b", text) for text in texts)
