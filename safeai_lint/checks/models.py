"""SAI6xx: model precision and weight loading (SAI601-SAI603, SAI605; SAI604 is added by a
colleague to CHECKS below)."""
from __future__ import annotations

import re
from typing import Iterator

from ..extract.serving import OBJECT_STORE, UNKNOWN, commands
from ..facts import EnvVar, Location, ModelLoad, StartCommand, WeightDownload, Workload
from ..findings import Finding
from ..policy import Policy
from ..project import Project
from . import Check
from .aiscope import cuda_launches, deployed_view, image_repository, matches_ai_image, serving_launches, serving_workloads
from .pyscope import serving_code

_QUANT_FLAG = {"vllm": "--quantization", "tgi": "--quantize", "sglang": "--quantization", "kserve-hf": "--quantization"}
_NAMES = {"vllm": "vLLM", "tgi": "TGI", "sglang": "SGLang", "kserve-hf": "KServe's Hugging Face runtime",
          "llama.cpp": "llama.cpp", "ollama": "Ollama", "nim": "NIM"}
_FP8 = re.compile(r"(?<![a-z0-9])fp8(?![a-z0-9])", re.I)
_HALF = re.compile(r"(?<![a-z0-9])(fp16|f16|bf16)(?![a-z0-9])", re.I)
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_MODELISH = re.compile(r"MODEL|WEIGHT|CHECKPOINT|CKPT|STORAGE_URI", re.I)
_TRUE = {"1", "true", "yes", "on"}
_TORCH_ENGINES = {"vllm", "sglang", "tgi", "kserve-hf"}
_ALLOC_VARS = ("PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_ALLOC_CONF")


def _known(text: str) -> bool:
    return bool(text) and text != UNKNOWN and "$" not in text and "{{" not in text


def quantized_name(model: str, policy: Policy) -> bool:
    lower = model.lower()
    return any(isinstance(m, str) and m.lower() in lower for m in policy.get("quantized-checkpoint-markers") or ())


# --- SAI601 ----------------------------------------------------------------------------------


def unquantized(project: Project, policy: Policy) -> Iterator[Finding]:
    allowed = {str(a).lower() for a in policy.get("allowed-quantization") or ()}
    shown = ", ".join(sorted(allowed)) or "none"
    for s in serving_launches(project, policy):
        name = _NAMES.get(s.engine, s.engine)
        if s.engine == "ollama":
            if _HALF.search(s.model):
                yield Finding("SAI601", f"Ollama model tag {s.model!r} is a 16-bit build; pull a 4-bit/8-bit tag (q4_K_M, q8_0)",
                              s.model_location or s.location, subject=s.model)
            continue
        if s.engine == "nim":
            profile = s.env_value("NIM_MODEL_PROFILE")
            if profile and profile[1] and _HALF.search(profile[1]):
                yield Finding("SAI601", f"NIM profile {profile[1]!r} serves 16-bit weights; pick an INT8/INT4 profile", profile[2])
            continue
        flag = _QUANT_FLAG.get(s.engine)
        if flag is None:
            continue
        entry = s.flag(flag, "-q") if s.engine == "vllm" else s.flag(flag)
        if entry is not None and (not _known(entry[1]) or entry[1].lower() in allowed):
            continue
        if not _known(s.model) or quantized_name(s.model, policy):
            continue
        if entry is None and s.opaque:
            continue
        shown_flag = flag if s.surface != "python" else flag[2:]
        if entry is not None:
            yield Finding("SAI601", f"{name} serves {s.model!r} with {shown_flag} {entry[1]}, which is not INT8/4-bit "
                          f"(policy allowed-quantization: {shown})", entry[2], subject=s.model)
        elif _FP8.search(s.model):
            yield Finding("SAI601", f"{name} serves {s.model!r}, an FP8 checkpoint: FP8 is not INT8/4-bit quantization "
                          f"(allowed: {shown}; a policy that accepts FP8 adds fp8 to quantized-checkpoint-markers)",
                          s.model_location or s.location, subject=s.model)
        else:
            yield Finding("SAI601", f"{name} serves {s.model!r} unquantized: no {shown_flag} and the name marks no quantized "
                          f"checkpoint, so it loads the checkpoint's own FP16/BF16 weights (allowed: {shown})",
                          s.model_location or s.location, subject=s.model)
    serving = serving_code(project, policy)
    for m in project.all(ModelLoad):
        if not serving(m.location.path):
            continue  # not a Python inference service, or a script that quantizes/merges/exports
        if m.via == "half":
            yield Finding("SAI601", ".half() converts the model to FP16; load it quantized (BitsAndBytesConfig, GPTQ, AWQ) instead", m.location)
        elif m.model == UNKNOWN:
            continue  # a model reference we cannot read (a variable) is not judged
        elif not m.quantized and not quantized_name(m.model, policy):
            yield Finding("SAI601", f"{m.call} {m.model!r} without quantization_config / load_in_4bit / load_in_8bit loads "
                          "unquantized weights", m.location, subject=m.model)


# --- SAI602 ----------------------------------------------------------------------------------

_COPY_TOOLS = (("aws", "s3"), ("s5cmd",), ("gsutil",), ("rclone",), ("azcopy",))


def _download(cmd: list[tuple[str, Location]]) -> str:
    words = [w for w, _ in cmd]
    prog = words[0].rsplit("/", 1)[-1] if words else ""
    if prog == "aws" and len(words) > 2 and words[1] == "s3" and words[2] in ("cp", "sync"):
        return f"aws s3 {words[2]}"
    if prog == "s5cmd" and any(w in ("cp", "sync") for w in words[1:]):
        return "s5cmd"
    if prog == "gsutil" and any(w in ("cp", "rsync") for w in words[1:]):
        return "gsutil cp"
    if prog == "rclone" and len(words) > 1 and words[1] in ("copy", "sync", "copyto"):
        return f"rclone {words[1]}"
    if prog == "azcopy" and len(words) > 1 and words[1] in ("copy", "cp", "sync"):
        return "azcopy copy"
    return ""


def _workload_downloads(w: Workload) -> Iterator[Finding]:
    if w.storage_uri and OBJECT_STORE.match(w.storage_uri):
        yield Finding("SAI602", f"storageUri {w.storage_uri!r}: KServe's storage initializer downloads the weights at every pod "
                      "start; pre-load them onto local NVMe (pvc:// or a local model cache)", w.storage_location or w.location, subject=w.name)
    for c in w.containers:
        for words in (c.shell, c.post_start):
            for cmd in commands(words):
                tool = _download(cmd)
                if tool:
                    yield Finding("SAI602", f"container {c.name!r} fetches files from object storage at start ({tool}); pre-load "
                                  "the weights onto the node's NVMe instead", cmd[0][1], subject=c.name)
        for e in c.env:
            if e.value and OBJECT_STORE.match(e.value) and _MODELISH.search(e.name):
                yield Finding("SAI602", f"container {c.name!r} points {e.name} at {e.value!r}: weights are downloaded at start",
                              e.location, subject=c.name)
    for v in w.volumes:
        if v.kind == "csi" and v.detail == "s3.csi.aws.com":
            yield Finding("SAI602", f"volume {v.name!r} mounts S3 through mountpoint-s3 (s3.csi.aws.com): weights stream from "
                          "S3 at run time", v.location, subject=w.name)


def runtime_download(project: Project, policy: Policy) -> Iterator[Finding]:
    found: dict[tuple[str, int, int], Finding] = {}

    def add(f: Finding) -> None:
        found.setdefault((f.location.path, f.location.line, f.location.column), f)

    for w in serving_workloads(project, policy):
        for f in _workload_downloads(w):
            add(f)
    for s in serving_launches(project, policy):
        if OBJECT_STORE.match(s.model):
            add(Finding("SAI602", f"{_NAMES.get(s.engine, s.engine)} loads its model from {s.model!r} at start; pre-load it "
                        "onto local NVMe", s.model_location or s.location, subject=s.model))
    for sc in project.all(StartCommand):
        if not (sc.launches or matches_ai_image(sc.base_image, policy)):
            continue
        from ..extract.serving import expand_words, split_script

        for cmd in commands(expand_words(None, split_script(None, sc.text, sc.location))):
            tool = _download(cmd)
            if tool:
                add(Finding("SAI602", f"the final stage's ENTRYPOINT/CMD fetches files from object storage at start ({tool}); "
                            "download in a build RUN or pre-load onto NVMe", sc.location))
    for d in project.all(WeightDownload):
        add(Finding("SAI602", f"{d.what} downloads weights from object storage at run time", d.location))
    yield from found.values()


# --- SAI603 ----------------------------------------------------------------------------------


def hub_download(project: Project, policy: Policy) -> Iterator[Finding]:
    for w in serving_workloads(project, policy):
        if w.storage_uri.lower().startswith("hf://") and not _offline(e for c in w.containers for e in c.env):
            yield Finding("SAI603", f"storageUri {w.storage_uri!r}: KServe's storage initializer downloads the weights from the "
                          "Hugging Face Hub at every pod start", w.storage_location or w.location, subject=w.storage_uri)
    for s in serving_launches(project, policy):
        if s.engine not in ("vllm", "tgi", "sglang", "kserve-hf", "llama.cpp"):
            continue
        model, loc = s.model, s.model_location
        if s.engine == "llama.cpp":
            entry = s.flag("--hf-repo")
            if entry is None:
                continue
            model, loc = entry[1], entry[2]
        if s.engine == "kserve-hf" and not s.flag("--model_id"):
            continue
        if not _known(model) or not _HUB_ID.match(model) or model.startswith((".", "/", "~")):
            continue
        if _offline(EnvVar(n, v, loc) for n, v, loc in s.env):
            continue
        if s.opaque and s.surface != "python":
            continue
        yield Finding("SAI603", f"{_NAMES.get(s.engine, s.engine)} names hub model {model!r} without HF_HUB_OFFLINE=1, so it "
                      "downloads the weights from the Hugging Face Hub at cold start", loc or s.location, subject=model)


def _offline(env) -> bool:
    return any(e.name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE") and str(e.value).strip().lower() in _TRUE for e in env)


# --- SAI605 ----------------------------------------------------------------------------------


def allocator(project: Project, policy: Policy) -> Iterator[Finding]:
    torch_containers = {(s.workload, s.container) for s in cuda_launches(project, policy) if s.engine in _TORCH_ENGINES}
    view = deployed_view(project, policy)
    for w in serving_workloads(project, policy):
        deployed = view.of(w.id)
        if deployed is not None and not deployed.cuda:
            continue  # a TPU or Neuron workload: no CUDA allocator
        for c in w.containers:
            if c.init or c.env_from:
                continue
            repo = image_repository(c.image)
            if (w.id, c.name) not in torch_containers and not repo.endswith("pytorch"):
                continue
            conf = [e for e in c.env if e.name in _ALLOC_VARS]
            if any(e.value is None or "expandable_segments" in e.value or "max_split_size_mb" in e.value for e in conf):
                continue
            where = conf[-1].location if conf else c.location
            yield Finding("SAI605", f"torch container {c.name!r} sets no PYTORCH_CUDA_ALLOC_CONF with expandable_segments:True or "
                          "max_split_size_mb; the CUDA caching allocator then fragments VRAM under long contexts", where, subject=c.name)


CHECKS = (
    Check(("SAI601",), unquantized),
    Check(("SAI602",), runtime_download),
    Check(("SAI603",), hub_download),
    Check(("SAI605",), allocator),
)
