"""Running a renderer (helm, kubectl kustomize, our Helm SDK worker) as a contained child.

A renderer gets an empty environment (no credentials, no kubeconfig), a fresh temporary HOME
and caches, proxies that lead nowhere (any network attempt fails fast), a time cap and an
output cap. It reads only the sanitised copy of a chart or overlay that `copy.py` made, and
what it can do is produce text on stdout.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

TIME_CAP_SECONDS = 30.0
OUTPUT_CAP_BYTES = 20 * 1024 * 1024
CAP_PREFIXES = ("rendering ran over the time cap", "rendered output reached the cap")
_DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, connections fail at once


@dataclass(frozen=True)
class Outcome:
    ok: bool
    stdout: str
    error: str  # a short reason when not ok (never more than the renderer's first lines)


def find_program(name: str) -> str | None:
    """The absolute path of an executable on PATH, or None."""
    return shutil.which(name)


def contained_env(home: str) -> dict[str, str]:
    cache = os.path.join(home, "cache")
    return {
        "HOME": home, "TMPDIR": home, "PATH": "/usr/bin:/bin",
        "XDG_CACHE_HOME": cache, "XDG_CONFIG_HOME": os.path.join(home, "config"),
        "XDG_DATA_HOME": os.path.join(home, "data"),
        "HELM_CACHE_HOME": cache, "HELM_CONFIG_HOME": os.path.join(home, "config"),
        "HELM_DATA_HOME": os.path.join(home, "data"), "HELM_PLUGINS": os.path.join(home, "plugins"),
        "KUBECONFIG": os.path.join(home, "no-kubeconfig"),
        "HTTP_PROXY": _DEAD_PROXY, "HTTPS_PROXY": _DEAD_PROXY, "NO_PROXY": "",
        "http_proxy": _DEAD_PROXY, "https_proxy": _DEAD_PROXY, "no_proxy": "",
        "LC_ALL": "C", "GOMAXPROCS": "1",
    }


def time_cap() -> float:
    """Seconds one rendering may take: SAFEAI_LINT_RENDER_SECONDS, else 30."""
    try:
        return max(float(os.environ.get("SAFEAI_LINT_RENDER_SECONDS", TIME_CAP_SECONDS)), 0.1)
    except ValueError:
        return TIME_CAP_SECONDS


def run_renderer(argv: list[str], stdin: str = "", timeout: float = 0.0, cap: int = OUTPUT_CAP_BYTES) -> Outcome:
    """Run one renderer; `argv[0]` is an absolute path we chose (a program found on PATH or
    our own Python), never a name taken from a scanned repository."""
    timeout = timeout or time_cap()
    with tempfile.TemporaryDirectory(prefix="safeai-render-") as home:
        out_path, err_path = os.path.join(home, ".out"), os.path.join(home, ".err")
        with open(out_path, "wb") as out_file, open(err_path, "wb") as err_file:
            try:
                proc = subprocess.Popen(  # noqa: S603 - argv is ours, no shell
                    argv, stdin=subprocess.PIPE, stdout=out_file, stderr=err_file,
                    cwd=home, env=contained_env(home), start_new_session=True,
                    preexec_fn=lambda: _limit_output(cap),  # noqa: PLW1509 - sets one rlimit only
                )
            except OSError as exc:
                return Outcome(False, "", f"cannot start {os.path.basename(argv[0])}: {exc.strerror or exc}")
            try:
                proc.communicate(stdin.encode(), timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill(proc)
                return Outcome(False, "", f"rendering ran over the time cap of {timeout:g} s")
        size = os.path.getsize(out_path)
        if size >= cap:
            return Outcome(False, "", f"rendered output reached the cap of {cap:,} bytes")
        with open(out_path, "rb") as f:
            out = f.read()
        with open(err_path, "rb") as f:
            err = f.read(8192)
    if proc.returncode != 0:
        return Outcome(False, "", _first_lines(err.decode("utf-8", "replace")))
    return Outcome(True, out.decode("utf-8", "replace"), "")


def _limit_output(cap: int) -> None:
    """In the child: no file it writes (its stdout included) may grow past `cap` bytes."""
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))


def _kill(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the renderer's own session: itself and its children
    except OSError:
        pass
    proc.communicate()


def _first_lines(text: str, limit: int = 3) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return "; ".join(lines[:limit])[:600] or "the renderer failed without saying why"
