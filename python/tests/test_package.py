"""The package's surface: the stubs, the namespaces and the docstrings agree with the extension."""

import ast
from pathlib import Path

import hlsk
from hlsk import _hlsk, conv, tlmm

STUB = Path(hlsk.__file__).with_name("_hlsk.pyi")
# Stub-only names: TypedDicts describing the dicts the functions return, and aliases.
STUB_ONLY = {"Breakdown", "Audit", "WuResult", "Tiling", "Stats", "Magnitudes", "Plan", "Op"}


def stub_names() -> set[str]:
    names = set()
    for node in ast.parse(STUB.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def public(module) -> set[str]:
    return {n for n in dir(module) if not n.startswith("_")}


def test_stubs_cover_exactly_the_extension():
    assert stub_names() - STUB_ONLY - {"__version__"} == public(_hlsk)


def test_namespaces_partition_the_extension():
    assert set(tlmm.__all__) | set(conv.__all__) == public(_hlsk)
    assert not set(tlmm.__all__) & set(conv.__all__)
    assert set(hlsk.__all__) == public(_hlsk) | {"tlmm", "conv", "engine", "__version__"}
    assert (STUB.parent / "py.typed").exists()


def test_every_function_and_method_is_documented():
    for name in public(_hlsk):
        obj = getattr(_hlsk, name)
        if callable(obj):
            assert obj.__doc__ and len(obj.__doc__) > 20, name
        if isinstance(obj, type):
            for attr in public(obj):
                assert getattr(obj, attr).__doc__, f"{name}.{attr}"
