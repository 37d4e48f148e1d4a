"""Defend the number: a sample to code, agreement, estimates corrected for the model's errors, stability.

Example:
    >>> from imagevars import validate
    >>> drawn = validate.sample("vars.parquet", 300, strata="detect_person_any:10", out="coding/")  # doctest: +SKIP
    >>> validate.agree(["coding/coder_A.csv", "coding/coder_B.csv"])  # doctest: +SKIP
    >>> validate.estimate("vars.parquet", "gold.csv", "detect_person_any", "person_present",
    ...                   formula="sales ~ person_present + price", data="listings.csv")  # doctest: +SKIP
    >>> validate.stability("vars.parquet", n=200, out="stability/")  # doctest: +SKIP
"""

from .agree import agree
from .estimate import estimate
from .sample import sample
from .stability import stability

__all__ = ["agree", "estimate", "sample", "stability"]
