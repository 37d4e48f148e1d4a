"""How the local engine starts its worker processes: the start method, chosen on purpose.

:func:`imagevars._env.start_method` names the default (a fork server on Linux, spawn elsewhere). Spawned and
fork-server workers start from a fresh interpreter: they import the main script again and unpickle what they
are sent by importing the modules it was defined in. Two kinds of callers cannot work that way, and their
workers are forked instead where the platform can fork (elsewhere they get a one-line error naming the fix):

- a script that starts the run from top-level code outside ``if __name__ == "__main__":`` (every worker would
  run the script again);
- tasks or functions defined where a fresh interpreter cannot import them: a notebook's cells, ``python -c``,
  the interactive prompt, or a module loaded from a file path that is not on ``sys.path``.
"""

from __future__ import annotations

import ast
import importlib.machinery
import io
import os
import pickle
import sys

from .._env import start_method


def chosen_start_method(*payload) -> str:
    """The start method for workers that are sent ``payload`` (their initializer's arguments, the function they
    run): :func:`imagevars._env.start_method`, or ``fork`` for the callers above.

    Example:
        >>> chosen_start_method(len) in ("fork", "forkserver", "spawn")
        True
    """
    import multiprocessing

    method = start_method()
    if method == "fork":
        return method
    why = _why_not_fresh(payload)
    if why is None:
        return method
    if "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    raise RuntimeError(f"{why}, or pass workers=0")


def _why_not_fresh(payload) -> str | None:
    script = unguarded_script()
    if script:
        return (
            f'{script}: put the code that starts the run under `if __name__ == "__main__":` (its worker '
            "processes import the script again)"
        )
    for module in sorted(defined_in(payload)):
        if not importable(module):
            return (
                f"{module}: a fresh worker process cannot import what was defined there (a notebook, "
                "`python -c`, a file outside sys.path): move those tasks and functions into a module it can "
                "import"
            )
    return None


def unguarded_script() -> str | None:
    """The main script, when the call that reached here runs in its top-level code outside an
    ``if __name__ == "__main__":`` block; None otherwise (a guarded script, a notebook, the command line)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or not os.path.exists(path):
        return None
    frame = sys._getframe(1)
    while frame is not None and not (frame.f_globals is vars(main) and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    guarded = any(
        isinstance(node, ast.If)
        and "__name__" in ast.unparse(node.test)
        and node.lineno <= frame.f_lineno <= node.end_lineno
        for node in tree.body
    )
    return None if guarded else path


class _Modules(pickle.Pickler):
    """A pickler that notes the module of every class and function it meets by reference."""

    def __init__(self):
        super().__init__(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL)
        self.modules: set[str] = set()

    def reducer_override(self, obj):
        if isinstance(obj, type) or callable(obj) and hasattr(obj, "__qualname__"):
            module = getattr(obj, "__module__", None)
            if isinstance(module, str):
                self.modules.add(module)
        return NotImplemented


def defined_in(payload) -> set[str]:
    """The modules whose classes and functions pickling ``payload`` refers to (what a worker must import).

    Example:
        >>> sorted(defined_in([ast.parse]))
        ['ast']
    """
    pickler = _Modules()
    try:
        pickler.dump(payload)
    except Exception:  # noqa: BLE001 - unpicklable: the pool itself says so, with the object's name
        pass
    return pickler.modules


def importable(module: str) -> bool:
    """Whether a fresh interpreter with this one's ``sys.path`` can import ``module``.

    Example:
        >>> importable("imagevars.engines.start"), importable("__main__") == hasattr(sys.modules["__main__"], "__file__")
        (True, True)
    """
    if module == "__main__":  # a script's workers import it again (as __mp_main__); a notebook's cannot
        return bool(getattr(sys.modules.get("__main__"), "__file__", None))
    top, *rest = module.split(".")
    if top in sys.builtin_module_names or top in getattr(sys, "stdlib_module_names", ()):
        return True
    spec = importlib.machinery.PathFinder.find_spec(top, sys.path)
    for part in rest:
        if spec is None or not spec.submodule_search_locations:
            return False
        spec = importlib.machinery.PathFinder.find_spec(f"{spec.name}.{part}", list(spec.submodule_search_locations))
    return spec is not None


def worker_context(method: str):
    """The multiprocessing context the pool starts workers with; a fork server imports the local engine and what
    it needs (NumPy, Pillow, the decoders) once, so its workers start warm."""
    import multiprocessing

    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["imagevars.engines.local"])
    return context
