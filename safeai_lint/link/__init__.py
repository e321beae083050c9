"""link: the deployed view (RULES.md, "The deployed view").

Facts of all files -> what the repository deploys: KServe predictors merged with their
runtimes, `$(VAR)` resolved, operator-injected labels and probes added, and each workload's
role (serving / batch / client / other) decided with its evidence. Checks and
`safeai-lint inventory` read this view; no check re-derives it.
"""
from __future__ import annotations

__all__ = ["Deployed", "View", "deployed_view", "once_per_shared_place"]


def __getattr__(name: str) -> object:
    # the view is imported when first asked for: a scan of one Dockerfile reads only roles.py
    if name in __all__:
        from . import view

        return getattr(view, name)
    raise AttributeError(name)
