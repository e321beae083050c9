"""Parsers as lenient as the real tools: requirement lines pip accepts, Python syntax newer
than the running interpreter."""
from __future__ import annotations

import sys

from conftest import hits


def test_a_requirement_with_global_options_pip_accepts_is_read(repo):
    result = repo({"requirements.txt": "numpy==1.26.0\njax[tpu]==0.4.36 --pre\ntorch==2.0.1 --pre\nnot a requirement ==\n"})
    assert ("SAI001", "requirements.txt", 2) not in hits(result)
    assert hits(result, "SAI101") == {("SAI101", "requirements.txt", 3)}  # torch is judged, at its line
    assert hits(result, "SAI001") == {("SAI001", "requirements.txt", 4)}


PEP701 = '''\
import requests

def status(task_id):
    return requests.get(f"http://svc/{
        task_id
    }", timeout=3)

names = {"k": 1}
print(f"{names["k"]}")
'''


def test_newer_python_syntax_is_not_reported_as_broken_code(repo):
    result = repo({
        "pyproject.toml": '[project]\nname = "a"\nrequires-python = ">=3.12"\n',
        "app.py": PEP701,
        "broken.py": "import requests\n\ndef f(:\n    requests.get('http://x', timeout=1)\n",
    })
    got = {(f.rule, f.location.path, f.level) for f in result.findings if f.rule in ("SAI001", "SAI002")}
    older = sys.version_info < (3, 12)  # a Python that cannot read PEP 701 says so, as a note
    assert got == {("SAI001", "broken.py", "error"), *([("SAI002", "app.py", "note")] if older else [])}
    for note in (f for f in result.findings if f.location.path == "app.py" and f.rule == "SAI002"):
        assert f"running Python {sys.version_info.major}.{sys.version_info.minor}" in note.message
