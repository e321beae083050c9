"""Where the Python serving rules (SAI503, SAI601 on Python code) apply: the files of a
deployable unit that holds a Python inference service (a web app beside code that generates,
runs an engine, calls an AI service, or loads a language model or tokenizer), except modules
that work on models offline (training, quantization, adapter merges, exports)."""
from __future__ import annotations

from typing import Callable

from ..facts import ModelLoad, OfflineCode, TokenizerCall, WebApp
from ..policy import Policy
from ..project import Project
from .observability import inference_apps


def serving_code(project: Project, policy: Policy) -> Callable[[str], bool]:
    """A predicate on file paths: is this file serving code of a Python inference service?"""
    return project.derived("python-serving-code", policy, lambda: _build(project, policy))


def _build(project: Project, policy: Policy) -> Callable[[str], bool]:
    units = {project.unit_of(app.location.path) for app in inference_apps(project, policy)}
    # a web app whose unit also loads a language model or a tokenizer serves it, even when it
    # generates through another call than `.generate()` (Neuron `.sample()`, a custom engine)
    model_units = {project.unit_of(f.location.path) for cls in (ModelLoad, TokenizerCall) for f in project.all(cls)}
    units |= {u for u in (project.unit_of(app.location.path) for app in project.all(WebApp)) if u in model_units}
    offline = {o.location.path for o in project.all(OfflineCode)}
    return lambda path: path not in offline and project.unit_of(path) in units
