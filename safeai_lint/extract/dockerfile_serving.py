"""Serving launches of a Dockerfile: the final stage's ENTRYPOINT + CMD + ENV (with the base
image, whose entrypoint they may extend) as a serving launch, and its start commands (for
SAI205/SAI602)."""
from __future__ import annotations

import shlex
from typing import Any, Iterator

from ..facts import Location, StartCommand
from ..sources.base import SourceText
from .serving import build_launch, split_script


def _words(src: SourceText, instr: Any) -> list[tuple[str, Location]]:
    where = Location(src.rel, instr.start_line, 1, instr.end_line, len(src.line_text(instr.end_line)) + 1)
    if instr.json:
        out = []
        for arg in instr.args:
            found = split_script(src, arg, where) if arg and not any(ch.isspace() for ch in arg) else []
            out.append((arg, found[0][1] if len(found) == 1 else where))
        return out
    # shell form: Docker runs `/bin/sh -c "<text>"`
    return [("sh", where), ("-c", where), (" ".join(instr.args), where)]


def _root_image(model: Any, stage: Any) -> str:
    seen = 0
    while stage is not None and stage.parent >= 0 and seen < 64:
        stage = model.stages[stage.parent]
        seen += 1
    return stage.base_resolved if stage is not None else ""


def dockerfile_launches(src: SourceText) -> Iterator[object]:
    try:
        from ..sources.dockerfile import dockerfile
    except ImportError:
        return
    model = dockerfile(src)
    stage = model.final_stage if model is not None else None
    if stage is None:
        return
    entry, cmd = stage.entrypoint, stage.cmd
    if entry is None and cmd is None:
        return
    image = _root_image(model, stage)
    words = [*(_words(src, entry) if entry else []), *(_words(src, cmd) if cmd else [])]
    env = [(name, value, Location(src.rel, line, 1, line, len(src.line_text(line)) + 1)) for name, value, line in stage.env_items]
    last = cmd or entry
    where = Location(src.rel, last.start_line, 1, last.start_line, len(src.line_text(last.start_line)) + 1)
    launch = build_launch(src, words, env, image=image, only_args=entry is None, location=where, surface="dockerfile")
    if launch is not None:
        yield launch
    for instr in (entry, cmd):
        if instr is not None and instr.start_line > 0:
            loc = Location(src.rel, instr.start_line, 1, instr.start_line, len(src.line_text(instr.start_line)) + 1)
            text = shlex.join(instr.args) if instr.json else " ".join(instr.args)
            yield StartCommand(text, loc, "dockerfile", image, launch is not None)
