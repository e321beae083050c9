"""The Dockerfile model: stages, ARG substitution into FROM, ENV inheritance, RUN text."""
from __future__ import annotations

import textwrap

import pytest

from safeai_lint.sources.base import SourceText
from safeai_lint.sources.dockerfile import dockerfile, expand, run_commands


def model_of(text: str):
    src = SourceText("Dockerfile", "dockerfile", textwrap.dedent(text).lstrip("\n"))
    return dockerfile(src), src


def test_stages_aliases_and_global_args():
    model, src = model_of(
        """
        # syntax=docker/dockerfile:1
        ARG CUDA=12.2.2
        ARG OS=ubuntu22.04
        ARG BASE=nvidia/cuda:${CUDA}-devel-${OS}
        FROM --platform=$BUILDPLATFORM ${BASE} AS Build
        RUN echo hi
        FROM build AS final
        FROM scratch
        """
    )
    assert src.diagnostics == []
    build, final, empty = model.stages
    assert (build.index, build.name, build.base, build.from_line) == (0, "build", "${BASE}", 5)
    assert build.base_resolved == "nvidia/cuda:12.2.2-devel-ubuntu22.04"
    assert build.platform == "$BUILDPLATFORM" and build.parent == -1
    assert (final.parent, final.base_resolved) == (0, "build")
    assert empty.scratch and model.final_stage is empty
    assert [(n, v, line) for n, v, line in model.global_args] == [
        ("CUDA", "12.2.2", 2), ("OS", "ubuntu22.04", 3), ("BASE", "nvidia/cuda:12.2.2-devel-ubuntu22.04", 4)
    ]


def test_arg_without_default_is_unresolved_with_a_reason():
    model, _ = model_of("ARG BASE\nFROM $BASE\nFROM ${NOPE}\nFROM python:${TARGETARCH}\nFROM ${BASE:-python:3.11.4}\n")
    reasons = [s.unresolved for s in model.stages]
    assert "BASE has no default" in reasons[0]
    assert "not declared" in reasons[1]
    assert "BuildKit" in reasons[2]
    assert reasons[3] == "" and model.stages[3].base_resolved == "python:3.11.4"


def test_arg_loops_and_self_references_end():
    model, _ = model_of("ARG A=$B\nARG B=$A\nARG C=${C}x\nFROM ${A}\nFROM $C\n")
    assert [s.base_resolved for s in model.stages] == ["", ""]
    assert all(s.unresolved for s in model.stages)


@pytest.mark.parametrize(
    "text, value",
    [("$A", "1"), ("${A}-x", "1-x"), ("${E:-d}", "d"), ("${E-d}", ""), ("${A:+y}", "y"), ("${U:-a${A}}", "a1"), ("\\$A", "$A")],
)
def test_expand(text, value):
    assert expand(text, {"A": "1", "E": ""}) == (value, "")


def test_env_inheritance_entrypoint_and_cmd():
    model, _ = model_of(
        """
        FROM python:3.11.4 AS base
        ARG V=2.1.0
        ENV TORCH=${V} A="x y"
        ENTRYPOINT ["python"]
        CMD ["a.py"]
        FROM base AS final
        ENV B=1
        ENTRYPOINT ["vllm", "serve"]
        """
    )
    base, final = model.stages
    assert base.env() == {"TORCH": ("2.1.0", 3), "A": ("x y", 3)}
    assert final.env() == {"TORCH": ("2.1.0", 3), "A": ("x y", 3), "B": ("1", 7)}
    assert base.cmd.args == ("a.py",) and base.entrypoint.json
    assert final.entrypoint.args == ("vllm", "serve") and final.cmd is None  # a new ENTRYPOINT resets CMD


def test_instructions_keep_lines_flags_and_forms():
    model, _ = model_of(
        """
        FROM python:3.11.4
        RUN --mount=type=cache,target=/root/.cache pip install \\
              torch==2.1.0 \\
              numpy
        RUN ["pip", "install", "x y"]
        RUN <<EOF
        pip install a
        EOF
        RUN python3 <<EOF
        import os
        EOF
        RUN <<-EOT bash
        	pip install b
        EOT
        """
    )
    runs = [i for i in model.stages[0].instructions if i.cmd == "RUN"]
    assert [(r.start_line, r.end_line) for r in runs] == [(2, 4), (5, 5), (6, 8), (9, 11), (12, 14)]
    assert runs[0].flag("mount") == "type=cache,target=/root/.cache"
    assert "torch==2.1.0" in run_commands(runs[0])
    assert run_commands(runs[1]) == "pip install 'x y'"
    assert run_commands(runs[2]).strip() == "pip install a"
    assert run_commands(runs[3]) == "python3 <<EOF"  # data for python, not shell
    assert "pip install b" in run_commands(runs[4])


@pytest.mark.parametrize(
    "text, line",
    [
        ("FROM python:3.11\nENV ONLYKEY\n", 2),
        ("FROM python:3.11\nRUN echo\nRUN <<EOF\nnever closed\n", 3),
        ("RUN pip install x\nFROM python:3.11\n", 1),
        ("FROM a b c\n", 1),
        ("FROM\n", 1),
        ("FROM python:3.11\nFROBNICATE now\n", 2),
    ],
)
def test_bad_dockerfiles_give_sai001_at_the_line(text, line):
    _, src = model_of(text)
    assert [(d.rule, d.location.line) for d in src.diagnostics] == [("SAI001", line)]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "# escape=`\nFROM a\nRUN x `\n  y\n", "\ufeffFROM a\r\nRUN b\r\n"])
def test_odd_but_harmless_files(text):
    model, src = model_of(text)
    assert model is not None and src.diagnostics == []


def test_model_is_built_once():
    src = SourceText("Dockerfile", "dockerfile", "FROM python:3.11.4\n")
    assert dockerfile(src) is dockerfile(src)
