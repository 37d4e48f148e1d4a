"""Column names for formats with rules of their own (Stata, SPSS): one deterministic rule, never a silent rename.

A name the format accepts is kept. Any other name becomes its letters, digits and underscores (every other
character an underscore), cut so that ``_`` and the first 7 hex digits of the SHA-1 of the whole original
name fit the format's limit. The new name depends only on the old one, so the same column gets the same name
in every file and every run (and merges line up); two different long names get different short ones. The
writer puts the original name in the variable label and reports every change.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# Stata's reserved words (help reswords) and its rule: 1-32 characters, letters, digits, _, not a digit first.
STATA_RESERVED = frozenset(
    "_all _b byte _coef _cons double float if in int long _n _N _pi _pred _rc _skip str strL using with".split()
) | frozenset(f"str{n}" for n in range(1, 2046))
# SPSS: 1-64 bytes, a letter first, then letters, digits, _ . (not ending in .); ALL AND BY EQ GE GT LE LT NE NOT
# OR TO WITH are reserved.
SPSS_RESERVED = frozenset("ALL AND BY EQ GE GT LE LT NE NOT OR TO WITH".split())


@dataclass(frozen=True)
class NameRule:
    """A format's naming rule: the longest name, a pattern a kept name matches, reserved words."""

    format: str
    limit: int
    valid: re.Pattern
    reserved: frozenset
    case_insensitive: bool = False
    prefix: str = "_"  # what a name that cannot start as it does gets in front

    def ok(self, name: str) -> bool:
        word = name.upper() if self.case_insensitive else name
        return len(name.encode()) <= self.limit and bool(self.valid.fullmatch(name)) and word not in self.reserved


STATA = NameRule("Stata", 32, re.compile(r"[A-Za-z_][A-Za-z0-9_]*"), STATA_RESERVED)
SPSS = NameRule("SPSS", 64, re.compile(r"[A-Za-z][A-Za-z0-9_.]*(?<!\.)"), SPSS_RESERVED, True, prefix="v")


def short_name(name: str, rule: NameRule = STATA) -> str:
    """``name`` as ``rule``'s format accepts it (unchanged when it already does).

    Example:
        >>> short_name("detect_person_max")
        'detect_person_max'
        >>> short_name("classify_probability_of_a_golden_retriever")
        'classify_probability_of__f4c1d3e'
        >>> short_name("2nd place"), short_name("if")
        ('_2nd_place_06868c1', 'if_958f57f')
    """
    if rule.ok(name):
        return name
    digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:7]
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not rule.valid.fullmatch(clean[:1] or "0"):
        clean = rule.prefix + clean
    return f"{clean[: rule.limit - 8]}_{digest}"


def format_names(columns: list[str], rule: NameRule = STATA) -> dict[str, str]:
    """``{old: new}`` for the columns ``rule`` renames (empty when none); a clash is an error, never a silent
    second rename.

    Example:
        >>> format_names(["source", "a b", "a_b"])
        {'a b': 'a_b_7dbde93'}
    """
    renamed = {c: short_name(c, rule) for c in columns if not rule.ok(c)}
    final = [renamed.get(c, c) for c in columns]
    seen: dict[str, str] = {}
    for old, new in zip(columns, final):
        key = new.upper() if rule.case_insensitive else new  # SPSS does not tell names apart by case
        if key in seen:
            raise ValueError(
                f"columns {seen[key]!r} and {old!r} both become {new!r} in {rule.format}: rename one of them first"
            )
        seen[key] = old
    return renamed


def label_for(old: str, limit: int = 80) -> str:
    """The variable label that keeps a renamed column's whole name (Stata labels hold 80 characters).

    Example:
        >>> label_for("x" * 90)[-2:], len(label_for("x" * 90))
        ('x…', 80)
    """
    return old if len(old) <= limit else old[: limit - 1] + "…"
