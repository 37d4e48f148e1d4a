"""The package's layers, checked from the source: no import cycles, no imports that run upward.

ARCHITECTURE.md draws these layers; this test is where their order is written down. A module
may import modules of its own package and of the layers below its own, never above. The
package's ``__init__`` (the flat public API) is the top: nothing inside imports it. Old import
paths kept for one release (``imagevars.decode`` ...) only forward to the new homes.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import imagevars

ROOT = Path(imagevars.__file__).parent

LAYERS = [  # bottom to top
    ["imagevars._version", "imagevars._env", "imagevars._extras", "imagevars._memory"],
    ["imagevars.io"],  # reading and writing: images, video frames, URLs, files, the table and its provenance
    ["imagevars.datasets"],
    ["imagevars.models"],  # cards, registry, weights, hub; one file per model family
    ["imagevars.train"],  # the Keras-like classifier, its networks and training runs
    ["imagevars.video"],  # objects over time: tracking and summaries of detection tables
    ["imagevars.engines"],  # where inputs are decoded and preprocessed
    ["imagevars.pipeline"],  # the runner (driver), the sink: resume, schema, provenance
    ["imagevars.tasks"],  # what is measured; plug into the runner
    ["imagevars.draw", "imagevars.search", "imagevars.duplicates", "imagevars.testing"],
    ["imagevars.explainers", "imagevars.generation", "imagevars.learn", "imagevars.validate", "imagevars.report"],
    ["imagevars.cli"],
]

FORWARDERS = {"imagevars"}  # the public API on top


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Modules of imagevars this file imports, at the top or inside functions (not under TYPE_CHECKING)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    skip = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for child in node.body
        for n in ast.walk(child)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "imagevars"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "imagevars":
                continue
            for alias in node.names:  # `from . import x` imports the module x when there is one
                sub = f"{target}.{alias.name}"
                found.add(sub if _is_module(sub) else target)
    return found


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (ROOT / rel).with_suffix(".py").exists() or (ROOT / rel / "__init__.py").exists()


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in ROOT.rglob("*.py")}


def layer(name: str) -> int:
    matches = [
        (len(prefix), i)
        for i, group in enumerate(LAYERS)
        for prefix in group
        if name == prefix or name.startswith(prefix + ".")
    ]
    if not matches:
        raise AssertionError(f"{name} is in no layer: add its package to LAYERS (and to ARCHITECTURE.md)")
    return max(matches)[1]


def package_of(name: str) -> str:
    return next(p for group in LAYERS for p in group if name == p or name.startswith(p + "."))


def test_every_module_is_in_a_layer_and_imports_only_its_own_package_or_below():
    upward = []
    for mod, deps in graph().items():
        if mod in FORWARDERS:
            continue
        for dep in deps:
            if dep == "imagevars":
                upward.append(f"{mod} imports the package's __init__")
            elif dep in FORWARDERS:
                upward.append(f"{mod} imports the old path {dep}")
            elif package_of(dep) != package_of(mod) and layer(dep) >= layer(mod):
                upward.append(f"{mod} (layer {layer(mod)}) imports {dep} (layer {layer(dep)})")
    assert not upward, "imports that run upward or sideways:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    g = {m: {d for d in deps if d != m} for m, deps in graph().items() if m not in FORWARDERS}
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in g:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(g):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_checker_sees_an_upward_import(tmp_path):
    """The walk finds imports inside functions and resolves relative ones (a cycle here would be caught)."""
    deps = graph()
    assert "imagevars.engines.local" in deps["imagevars.pipeline.runner"]
    assert "imagevars.train.mnist_cnn" in deps["imagevars.train.mnist_cards"]  # imported inside the builder
    assert layer("imagevars.io.decode") < layer("imagevars.tasks.detect") < layer("imagevars.cli.run")


def _sources() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def test_no_python_file_passes_400_lines():
    """A file past ~400 lines is two concepts (STYLE); data (label lists) lives in data files instead."""
    long = {str(p.relative_to(ROOT)): n for p in _sources() if (n := len(p.read_text().splitlines())) > 400}
    assert not long, f"files over 400 lines: {long}"


def test_no_function_passes_80_lines():
    long = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 80:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})")
    assert not long, "functions over 80 lines:\n" + "\n".join(long)


def test_at_most_eight_public_top_level_modules_and_no_forwarders():
    public = sorted(p.stem for p in ROOT.glob("*.py") if not p.stem.startswith("_"))
    assert len(public) <= 8, public
    forwarders = [
        str(p.relative_to(ROOT))
        for p in _sources()
        if "DeprecationWarning" in p.read_text() or '"""Deprecated' in p.read_text()
    ]
    assert not forwarders, f"nothing was released before 0.2.0: no deprecated forwarders, got {forwarders}"


def test_the_label_lists_are_package_data():
    from imagevars.models.labels import COCO_LABELS, IMAGENET_LABELS

    assert len(COCO_LABELS) == 80 and COCO_LABELS[0] == "person"
    assert len(IMAGENET_LABELS) == 1000 and IMAGENET_LABELS[285] == "Egyptian cat"


def test_the_version_is_one_across_package_changelog_and_citation():
    import re

    from imagevars._version import __version__

    root = ROOT.parents[1]
    citation = (root / "CITATION.cff").read_text()
    assert re.search(rf"^version: {re.escape(__version__)}$", citation, re.M), "CITATION.cff's version"
    assert f"## [{__version__}]" in (root / "CHANGELOG.md").read_text(), "CHANGELOG.md has no entry for it"
    out = __import__("subprocess").run(
        [sys.executable, "-m", "imagevars.cli", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"imagevars {__version__}"
