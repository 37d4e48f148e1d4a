"""Learn a measure from a few hundred labels on a pretrained backbone, with the report a referee asks for.

Example:
    >>> from imagevars.learn import learn
    >>> report = learn("labels.csv", ["professional"], "pro-vs-amateur/")  # doctest: +SKIP
    >>> report.metrics["professional"]["accuracy"]  # doctest: +SKIP
"""

from .fit import cross_validate
from .session import LearnReport, learn

__all__ = ["LearnReport", "cross_validate", "learn"]
