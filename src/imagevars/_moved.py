"""Old import paths of the modules that moved when the package was regrouped (0.2).

Each old path is a two-line module that calls :func:`alias`: importing it warns once with a
DeprecationWarning and hands back the module at its new home, so old code keeps working for one
release. The old paths go in 0.3.
"""

from __future__ import annotations

import importlib
import sys
import warnings

REMOVED_IN = "0.3"


def alias(old: str, new: str) -> None:
    """Make ``old`` another name of module ``new`` (the same object), with a DeprecationWarning.

    Example:
        >>> import sys, warnings
        >>> with warnings.catch_warnings(record=True) as seen:
        ...     warnings.simplefilter("always")
        ...     alias("imagevars.an_old_name", "imagevars._memory")
        >>> sys.modules["imagevars.an_old_name"].__name__, seen[0].category.__name__
        ('imagevars._memory', 'DeprecationWarning')
        >>> del sys.modules["imagevars.an_old_name"]
    """
    warnings.warn(f"{old} moved to {new}; import it from there ({old} goes in imagevars {REMOVED_IN})",
                  DeprecationWarning, stacklevel=3)
    sys.modules[old] = importlib.import_module(new)
