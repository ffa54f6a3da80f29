"""Architecture rules, read from every import in ftptui/ (lazy ones inside functions too):

1. only ui/ imports textual or rich; nothing but the front ends (cli/, ui/) imports ui/, and ui/
   never imports cli/ (the command line starts the browser in one place, cli/browser.py);
2. the packages form a DAG: no package imports one that imports it back, directly or around;
3. no module cycle inside a package.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "ftptui"
FRONT_ENDS = {"cli", "ui", "__main__"}

def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports_of(name: str, path: Path) -> set[str]:
    """Every module name `name` imports (for `from a import b`, both a and a.b)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - (node.level - 1)]
                target = ".".join(parts + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            out |= {f"{target}.{alias.name}" for alias in node.names}
    return out


def top(name: str) -> str:
    """ftptui.store.index -> store"""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def breaches() -> set[str]:
    mods = modules()
    out = set()
    packages: dict[str, set[str]] = {}
    inner: dict[str, set[str]] = {}
    for name, path in mods.items():
        src = top(name)
        for target in imports_of(name, path):
            root = target.split(".")[0]
            if root in ("textual", "rich") and src != "ui":
                out.add(f"{name} imports {root} (only ui/ may)")
            if root != "ftptui" or target not in mods:
                continue
            dst = top(target)
            if dst == "ui" and src not in FRONT_ENDS:
                out.add(f"{name} imports {target} (the core knows no screen)")
            if src == "ui" and dst in ("cli", "__main__"):
                out.add(f"{name} imports {target} (screens do not reach back into the command line)")
            if src == "cli" and dst == "ui" and name != "ftptui.cli.browser":
                out.add(f"{name} imports {target} (only cli/browser.py starts the browser)")
            if src != dst:
                packages.setdefault(src, set()).add(dst)
            elif target != name and target != f"ftptui.{src}":
                inner.setdefault(name, set()).add(target)
    for component in cycles(packages):
        if len(component) == 2:
            out.add(f"packages {component[0]} and {component[1]} import each other")
        else:
            out.add("package cycle: " + " -> ".join(component))
    for component in cycles(inner):
        out.add("module cycle: " + " -> ".join(component))
    return out


def test_no_layer_breaches():
    found = breaches()
    assert not found, "\n".join(sorted(found))


def test_the_rules_see_lazy_imports(tmp_path):
    """The reader finds imports inside functions and relative ones (the ones that hide cycles)."""
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from ..store.index import PacketIndex\n    import textual.app\n")
    found = imports_of("ftptui.dissect.x", source)
    assert {"ftptui.store.index", "ftptui.store.index.PacketIndex", "textual.app"} <= found
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
