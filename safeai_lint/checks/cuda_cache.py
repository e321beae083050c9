"""SAI604: a torch module that generates per request or in a loop but never releases the CUDA
caching allocator's free blocks (`torch.cuda.empty_cache()`)."""
from __future__ import annotations

from typing import Iterable

from ..facts import CudaCacheRelease, GenerationCall
from ..findings import Finding
from ..policy import Policy
from ..project import Project
from . import Check


def check_cache_release(project: Project, policy: Policy) -> Iterable[Finding]:
    releasing = {r.location.path for r in project.all(CudaCacheRelease)}
    reported: set[str] = set()
    for call in project.all(GenerationCall):
        path = call.location.path
        if path in releasing or path in reported:
            continue
        reported.add(path)  # one finding per module, at its first generation call
        yield Finding(
            "SAI604",
            f"this module runs `.generate()` in a {call.context} but never calls torch.cuda.empty_cache(); "
            "cached blocks freed by one request are not returned between requests, which fragments VRAM "
            "as context lengths vary",
            call.location,
        )


CHECKS = (Check(("SAI604",), check_cache_release),)
