"""SAI105: every place an index is set, and local paths that are not remote sources;
SAI103 for the CUDA build of a PyTorch wheel index named in pyproject."""
from __future__ import annotations

from conftest import hits

DIGEST = "@sha256:" + "a" * 64


def test_local_paths_are_not_remote_sources(repo):
    result = repo({
        "requirements.txt": "mypkg @ file:///${PROJECT_ROOT}/../mypkg\n./libs/other\n-e ../shared\n--find-links ./wheels\nnumpy==1.26.0\n",
        "pyproject.toml": '[project]\nname = "a"\ndependencies = ["helper @ file:///opt/src/helper", "numpy==1.26.0"]\n',
        "Dockerfile": f"FROM python:3.11.4{DIGEST}\nRUN pip install --no-cache-dir 'mypkg @ file:///src/mypkg' ./local/pkg\n",
    })
    assert hits(result, "SAI105") == set()


def test_remote_direct_urls_still_fire(repo):
    result = repo({
        "requirements.txt": "mypkg @ https://example.com/mypkg-1.0.tar.gz\ngit+https://github.com/org/lib.git#egg=lib\n",
    })
    assert hits(result, "SAI105") == {("SAI105", "requirements.txt", 1), ("SAI105", "requirements.txt", 2)}


def test_pip_config_set_in_a_dockerfile(repo):
    result = repo({
        "Dockerfile": (
            f"FROM python:3.11.4{DIGEST}\n"
            "RUN pip config set global.index-url https://mirror.example.com/simple\n"
            "RUN python -m pip config --global set global.extra-index-url https://pypi.org/simple\n"
            "RUN pip3 config set global.extra-index-url https://private.example.org/simple && pip install --no-cache-dir -r requirements.txt\n"
            "RUN pip config set global.timeout 60\n"
        ),
    })
    assert hits(result, "SAI105") == {("SAI105", "Dockerfile", 2), ("SAI105", "Dockerfile", 4)}


def test_index_environment_variables(repo):
    result = repo({
        "Dockerfile": (
            f"FROM python:3.11.4{DIGEST}\n"
            "ENV PIP_INDEX_URL=https://mirror.example.com/simple\n"
            "ARG PIP_EXTRA_INDEX_URL=https://pypi.org/simple\n"
            "ENV UV_EXTRA_INDEX_URL=https://private.example.org/simple\n"
            "ENV PIP_NO_CACHE_DIR=1\n"
        ),
        "deploy.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: builder
spec:
  selector: {matchLabels: {app: b}}
  template:
    metadata: {labels: {app: b}}
    spec:
      containers:
        - name: b
          image: python:3.11.4@sha256:%s
          env:
            - name: PIP_EXTRA_INDEX_URL
              value: https://private.example.org/simple
            - name: PIP_INDEX_URL
              value: https://pypi.org/simple
""" % ("a" * 64),
        "compose.yaml": "services:\n  app:\n    image: python:3.11.4@sha256:%s\n    environment:\n      PIP_INDEX_URL: https://mirror.example.com/simple\n" % ("a" * 64),
    })
    assert hits(result, "SAI105") == {
        ("SAI105", "Dockerfile", 2), ("SAI105", "Dockerfile", 4),
        ("SAI105", "deploy.yaml", 14), ("SAI105", "compose.yaml", 5),
    }


def test_pyproject_indexes_and_their_cuda_build(repo):
    result = repo({
        "pyproject.toml": (
            '[project]\nname = "a"\ndependencies = ["numpy==1.26.0"]\n\n'
            '[[tool.uv.index]]\nname = "pytorch-cu128"\nurl = "https://download.pytorch.org/whl/cu128"\n\n'
            '[[tool.uv.index]]\nname = "internal"\nurl = "https://pkgs.example.com/simple"\n\n'
            '[tool.uv]\nextra-index-url = ["https://other.example.com/simple"]\n\n'
            '[tool.poetry]\nname = "a"\n\n'
            '[[tool.poetry.source]]\nname = "corp"\nurl = "https://corp.example.com/simple"\npriority = "supplemental"\n'
        ),
    })
    assert hits(result, "SAI105") == {("SAI105", "pyproject.toml", 11), ("SAI105", "pyproject.toml", 14), ("SAI105", "pyproject.toml", 21)}
    assert hits(result, "SAI103") == {("SAI103", "pyproject.toml", 7)}
    assert [f.level for f in result.findings if f.rule == "SAI103"] == ["note"]  # 12.8 under a 12.2 lock


def test_a_pytorch_index_of_another_major_cuda_is_an_error(repo):
    result = repo({"pyproject.toml": '[project]\nname = "a"\n\n[[tool.uv.index]]\nname = "cu118"\nurl = "https://download.pytorch.org/whl/cu118"\n'})
    assert [(f.rule, f.location.line, f.level) for f in result.findings if f.rule in ("SAI103", "SAI105")] == [("SAI103", 6, "error")]
