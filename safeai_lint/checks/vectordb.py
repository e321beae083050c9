"""SAI801 (vectors written without a NaN/Inf check) and SAI802 (declared embedding dimensions
disagree)."""
from __future__ import annotations

from collections import Counter
from typing import Iterable

from ..facts import DimensionDecl, VectorWrite
from ..findings import Finding
from ..policy import Policy
from ..project import Project
from . import Check


def check_writes(project: Project, policy: Policy) -> Iterable[Finding]:
    for write in project.all(VectorWrite):
        if write.validated:
            continue
        yield Finding(
            "SAI801",
            f"{write.store} {write.method} writes vectors that are never checked for NaN/Inf in this function, "
            "a same-module helper it calls, or its caller; a non-finite embedding poisons the index "
            "(check with np.isfinite(v).all() / math.isfinite and drop the request)",
            write.location,
        )


def check_dimensions(project: Project, policy: Policy) -> Iterable[Finding]:
    decls = project.all(DimensionDecl)
    if not decls:
        return
    wanted = policy.get("embedding-dimension")
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        for d in decls:
            if d.value != wanted:
                yield Finding("SAI802", f"{d.source} declares dimension {d.value}, but the policy's embedding-dimension is {wanted}", d.location)
        return
    counts = Counter(d.value for d in decls)
    if len(counts) < 2:
        return
    ranked = counts.most_common()
    top, top_count = ranked[0]
    tie = sum(1 for _, n in ranked if n == top_count) > 1
    summary = ", ".join(f"{value} ({n}x)" for value, n in sorted(counts.items()))
    for d in decls:
        if tie:
            yield Finding("SAI802", f"{d.source} declares dimension {d.value}; the repo's declarations disagree ({summary}) with no majority", d.location)
        elif d.value != top:
            yield Finding("SAI802", f"{d.source} declares dimension {d.value}, but most declarations in the repo use {top} ({summary})", d.location)


CHECKS = (
    Check(("SAI801",), check_writes),
    Check(("SAI802",), check_dimensions),
)
