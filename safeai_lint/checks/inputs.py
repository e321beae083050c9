"""SAI503 (Hugging Face tokenization without a cap, in a module that never counts tokens) and
SAI504 (an edge that accepts request bodies of any size for an AI route). SAI501/SAI502 live
in `tokens.py`."""
from __future__ import annotations

from typing import Iterable

from ..facts import BodySizeLimit, Service, TokenCountCheck, TokenizerCall
from ..findings import Finding
from ..policy import Policy
from ..project import Project
from . import Check
from .aiscope import pods_selected_by, serving_workloads
from .observability import ai_service_name
from .pyscope import serving_code


def check_tokenization(project: Project, policy: Policy) -> Iterable[Finding]:
    budget = policy.get("max-input-tokens")
    if not isinstance(budget, int) or isinstance(budget, bool):
        return
    counting = {c.location.path for c in project.all(TokenCountCheck)}
    serving = serving_code(project, policy)
    for call in project.all(TokenizerCall):
        if call.location.path in counting or call.truncation is None:
            continue  # the module counts tokens itself, or truncation is set indirectly
        if not serving(call.location.path):
            continue  # not a Python inference service, or training/conversion code
        name = "tokenizer(...)" if call.method == "__call__" else f"tokenizer.{call.method}(...)"
        if not call.truncation:
            message = (f"{name} tokenizes request text without truncation=True (transformers defaults truncation "
                       f"to False) and this module never counts tokens: a prompt of any length reaches the model; "
                       f"pass truncation=True, max_length={budget} (policy max-input-tokens) or reject longer input")
        elif call.max_length is None:
            if not call.max_length_known:
                continue  # max_length is a variable we cannot read
            message = (f"{name} truncates without max_length, so only to the tokenizer's model_max_length (often "
                       f"unset: 1e30), not to the token budget {budget} (policy max-input-tokens)")
        elif call.max_length > budget:
            message = (f"{name} truncates at max_length={call.max_length}, above the token budget {budget} "
                       f"(policy max-input-tokens)")
        else:
            continue
        yield Finding("SAI503", message, call.location)


def _ai_targets(project: Project, policy: Policy) -> set[str]:
    """Names of Services that route to an AI workload."""
    names = set()
    selected = pods_selected_by([w for w in serving_workloads(project, policy) if w.surface != "compose"])
    for service in project.all(Service):
        if any(not w.namespace or not service.namespace or w.namespace == service.namespace for w in selected(service.selector)):
            names.add(service.name)
    return names


def check_body_size(project: Project, policy: Policy) -> Iterable[Finding]:
    ai_services = None
    for limit in project.all(BodySizeLimit):
        if limit.limit_bytes != 0:
            continue
        if ai_services is None:
            ai_services = _ai_targets(project, policy)
        targets = [t for t in limit.targets if isinstance(t, str)]
        hit = next((t for t in targets if t in ai_services or ai_service_name(t, policy)), None)
        if hit is None:
            continue  # not an AI route as far as we can tell
        what = "proxy-body-size" if limit.surface == "ingress-nginx" else "client_max_body_size"
        yield Finding(
            "SAI504",
            f"{what} {limit.written!r} accepts request bodies of any size for the AI route {hit}: an unbounded "
            "prompt reaches the tokenizer and the model; set a limit sized to the token budget (e.g. 1m)",
            limit.location,
        )


CHECKS = (
    Check(("SAI503",), check_tokenization),
    Check(("SAI504",), check_body_size),
)
