"""Shell splitting and package-install reading, the parts other rules build on."""
from __future__ import annotations

import pytest

from safeai_lint.sources.shell import Install, package_installs, split_commands


def installs(text: str) -> list[Install]:
    return [i for argv in split_commands(text) for i in package_installs(argv)]


def packages(text: str) -> list[tuple[str, str, str]]:
    return [(i.manager, i.package, i.spec) for i in installs(text) if not i.option]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a && b || c; d | e & f\ng", [["a"], ["b"], ["c"], ["d"], ["e"], ["f"], ["g"]]),
        ("echo 'a && b' \"c; d\"", [["echo", "a && b", "c; d"]]),
        ("pip install \\\n  torch", [["pip", "install", "torch"]]),
        ("sh -c \"pip install x && vllm serve m\"", [["pip", "install", "x"], ["vllm", "serve", "m"]]),
        ("bash -lc 'bash -c \"exec vllm serve m\"'", [["vllm", "serve", "m"]]),
        ("/bin/sh -ec 'a; b'", [["a"], ["b"]]),
        ("DEBIAN_FRONTEND=noninteractive sudo -E apt-get install -y x", [["apt-get", "install", "-y", "x"]]),
        ("env A=1 B=2 nohup exec python -m app 2>&1 >/dev/null", [["python", "-m", "app"]]),
        ("if [ -f x ]; then pip install a; fi", [["[", "-f", "x", "]"], ["pip", "install", "a"]]),
        ("(cd /x && make) # pip install commented", [["cd", "/x"], ["make"]]),
        ("echo $(pip install x) done", [["echo", "$(pip install x)", "done"]]),
        ("timeout 5 curl x", [["curl", "x"]]),
    ],
)
def test_split_commands(text, expected):
    assert split_commands(text) == expected


@pytest.mark.parametrize("bad", [None, 42, "", "'unterminated", '"also', "\\", "$(", "a &&& b ||| ;;;", "(((", "\x00"])
def test_split_never_raises(bad):
    assert isinstance(split_commands(bad), list)


def test_deep_sh_c_nesting_is_bounded():
    text = "x"
    for _ in range(50):
        text = "sh -c " + repr(text).replace("\\'", "'")
    assert isinstance(split_commands(text), list)


def test_pip_packages_and_what_is_not_a_package():
    got = packages(
        "python3 -m pip install --no-cache-dir -r req.txt -c c.txt -e . ./pkg dist/x-1.0-py3-none-any.whl "
        "sdist.tar.gz . 'transformers[torch]>=4.34' torch==2.1.0+cu118 numpy --target /opt/x -U pip"
    )
    assert got == [
        ("pip", "transformers", ">=4.34"),
        ("pip", "torch", "==2.1.0+cu118"),
        ("pip", "numpy", ""),
        ("pip", "pip", ""),
    ]


def test_pip_options_give_sources():
    found = installs(
        "pip install x==1 --index-url https://idx/simple --extra-index-url=https://extra/simple "
        "--trusted-host idx -f https://links/ -f ./wheels"
    )
    options = [(i.option, i.spec) for i in found if i.option]
    assert options == [
        ("--index-url", "https://idx/simple"),
        ("--extra-index-url", "https://extra/simple"),
        ("--trusted-host", "idx"),
        ("--find-links", "https://links/"),
    ]


def test_url_and_vcs_requirements():
    found = installs("uv pip install git+https://github.com/a/b.git@v1 'pkg @ https://x/pkg.zip' other @ https://y/o.whl -e git+https://g/c#egg=c")
    assert [(i.manager, i.package, i.spec, i.option) for i in found] == [
        ("uv", "", "git+https://github.com/a/b.git@v1", "url-requirement"),
        ("uv", "pkg", "https://x/pkg.zip", "url-requirement"),
        ("uv", "other", "https://y/o.whl", "url-requirement"),
        ("uv", "c", "git+https://g/c#egg=c", "url-requirement"),
    ]


def test_conda_apt_apk():
    assert packages("conda install -y -c pytorch -n base pytorch=2.1.0 conda-forge::numpy --file env.txt") == [
        ("conda", "pytorch", "=2.1.0"),
        ("conda", "numpy", ""),
    ]
    assert packages("mamba create -n x python=3.11.4 && micromamba install -f env.yaml nccl") == [
        ("conda", "python", "=3.11.4"),
        ("conda", "nccl", ""),
    ]
    assert packages("apt-get update && apt-get -q install -y -o Dpkg::Options::=--force-confold git libnccl2=2.18.3-1+cuda12.2 ./x.deb") == [
        ("apt", "git", ""),
        ("apt", "libnccl2", "=2.18.3-1+cuda12.2"),
    ]
    assert packages("apk add --no-cache --virtual .deps -X https://mirror/x gcc musl-dev=1.2.4-r2") == [
        ("apk", "gcc", ""),
        ("apk", "musl-dev", "=1.2.4-r2"),
    ]


@pytest.mark.parametrize(
    "text",
    ["pip download torch", "pip uninstall -y torch", "apt-get remove git", "conda env create -f e.yml", "apk del x",
     "echo pip install x", "pipx install x", "pip install", "pip install $(cat reqs) ${PKGS}"],
)
def test_not_installs(text):
    assert packages(text) == []


def test_package_installs_rejects_bad_input():
    assert package_installs(None) == []  # type: ignore[arg-type]
    assert package_installs(["pip", 3]) == []  # type: ignore[list-item]
    assert package_installs([]) == []
