"""Facts: what the extractors learn from a repository, one small frozen record each.

Every fact carries the `Location` of the exact key, flag, instruction or call it came from,
so a rule can point at it without knowing which file format produced it.
"""
from __future__ import annotations

from dataclasses import MISSING, FrozenInstanceError, dataclass, field


class Record:
    """Base of every fact: equality, hash, repr and pickling written once for all of them.

    Why: `@dataclass` generates these methods for each class by compiling source text, which
    for the ~45 fact classes costs ~25 ms at every start, a sixth of a pre-commit run; facts
    are declared `@fact` (see there) and share these. Equality and hash are the dataclass ones: same
    class, equal fields. Pickling is a call of the constructor with the field values: facts
    cross process boundaries (scan workers) and fill the cache of parsed files, and this loads
    ~40 % faster than the default `__setstate__` of a slotted dataclass.
    """

    __slots__ = ()

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)  # type: ignore[attr-defined]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.__class__.__name__, *self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__dataclass_fields__)  # type: ignore[attr-defined]
        return f"{self.__class__.__qualname__}({fields})"

    def __reduce__(self):  # noqa: ANN204
        return self.__class__, self._values()


class _Frozen(Record):
    """Records whose fields cannot be assigned after `__init__` (what `frozen=True` gives a
    dataclass, written once here instead of generated for each class)."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


_PENDING: list[type] = []


def fact(cls: type) -> type:
    """A frozen dataclass with slots whose `__init__` is generated later, together with those
    of every other fact, by `_make_inits()` at the end of this module.

    Why: `@dataclass` compiles the source of `__init__`, `__setattr__` and `__delattr__` for
    each class; for ~45 classes that was ~15 ms of every start (a tenth of a pre-commit run).
    One compile for all of them costs a fraction of that.
    """
    made = dataclass(init=False, slots=True, eq=False, repr=False)(cls)
    _PENDING.append(made)
    return made


def _make_inits() -> None:
    """The `__init__` of every `@fact` class, as `@dataclass(frozen=True)` would write it, from
    one source text compiled once. The text is made only of these classes' own field names
    (identifiers from this file), never of anything read from a scanned repository."""
    scope: dict[str, object] = {"_fact_setattr_": object.__setattr__, "_fact_missing_": MISSING}
    lines = []
    for n, cls in enumerate(_PENDING):
        params, body = [], []
        for name, f in cls.__dataclass_fields__.items():  # type: ignore[attr-defined]
            if not f.init or f.kw_only or not name.isidentifier():
                raise TypeError(f"{cls.__name__}.{name}: @fact supports plain positional fields only")
            if f.default is not MISSING:
                scope[f"_d{n}_{name}"] = f.default
                params.append(f"{name}=_d{n}_{name}")
                body.append(f"    _fact_setattr_(self, {name!r}, {name})")
            elif f.default_factory is not MISSING:
                scope[f"_f{n}_{name}"] = f.default_factory
                params.append(f"{name}=_fact_missing_")
                body.append(f"    _fact_setattr_(self, {name!r}, _f{n}_{name}() if {name} is _fact_missing_ else {name})")
            else:
                params.append(name)
                body.append(f"    _fact_setattr_(self, {name!r}, {name})")
        if hasattr(cls, "__post_init__"):
            body.append("    self.__post_init__()")
        lines.append(f"def _init{n}(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass"))
    exec(compile("\n".join(lines), __name__ + " (generated __init__)", "exec"), scope)  # noqa: S102
    for n, cls in enumerate(_PENDING):
        init = scope[f"_init{n}"]
        init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
        cls.__init__ = init  # type: ignore[misc]
    _PENDING.clear()


@dataclass(frozen=True, slots=True, order=True)
class Location(Record):
    """A span in a scanned file.

    `path` is relative to the scan root, POSIX separators. Lines and columns are 1-based;
    columns count Unicode code points; `end_column` is exclusive.
    """

    path: str
    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0

    def __post_init__(self) -> None:
        if self.end_line < self.line:
            object.__setattr__(self, "end_line", self.line)
        if self.end_line == self.line and self.end_column < self.column:
            object.__setattr__(self, "end_column", self.column)


# --- versions (SAI1xx) -------------------------------------------------------------------


@fact
class VersionDecl(_Frozen):
    """One declaration of a package or platform component version.

    `component` is a normalised name: a PEP 503 package name (`torch`, `transformers`,
    `nvidia-nccl-cu12`) or a platform component (`python`, `cuda`, `nccl`, `cuda-driver`).
    `specifier` is a PEP 440 specifier set string ("" admits any version); surface syntaxes
    (Poetry caret, conda match specs, image tags) are translated by the extractor.
    `local` is a local version label (`cu118`) when one was written.
    """

    component: str
    specifier: str
    location: Location
    surface: str
    resolved: bool = False
    local: str = ""


@fact
class PolicySource(_Frozen):
    """A safeai-lint config file in the scanned tree and where it writes each version-lock
    key: (component, value as written, location of the key). SAI005 points at these."""

    path: str
    version_lock: tuple[tuple[str, str, Location], ...]


@fact
class CudaBuild(_Frozen):
    """A package build tied to one CUDA release (`torch==2.1.0+cu118`, `/whl/cu121`)."""

    package: str
    cuda: str  # "11.8", "12.1"
    location: Location
    surface: str


@fact
class PackageSource(_Frozen):
    """Where packages come from: an index/find-links URL, a trusted host, a VCS/URL requirement."""

    url: str
    option: str  # "--index-url", "--extra-index-url", "--find-links", "--trusted-host", "url-requirement"
    location: Location


# --- images (SAI2xx) ---------------------------------------------------------------------


@fact
class ImageRef(_Frozen):
    """A place that names a container image: a Dockerfile FROM, a container or initContainer
    `image:`, a Compose `image:`, a KServe runtime image.

    `reference` is the image after build-arg substitution ("" when it cannot be resolved, and
    then `unresolved` says why: an ARG without default, a template placeholder).
    `surface`: "dockerfile", "kubernetes", "compose", "kserve". `stage` is the Dockerfile
    stage index (or -1); `final` is True for the final stage or any non-Dockerfile image.
    `variables` names the build args the reference was built from, through other args too
    (`ARG BASE=python:${PYTHON_VERSION}-slim` then `FROM ${BASE}`: BASE and PYTHON_VERSION).
    """

    reference: str
    written: str
    location: Location
    surface: str
    unresolved: str = ""
    stage: int = -1
    final: bool = True
    variables: tuple[str, ...] = ()


@fact
class PackageInstall(_Frozen):
    """One package a build step installs (`RUN pip install torch==2.1.0 numpy` gives two).

    `manager`: "pip", "uv", "conda", "apt", "apk". `package` is the name as written, `version`
    the version part as written ("==2.1.0", "=7.88.1-10", ">=2"; "" when none), located at the
    package's word.
    """

    manager: str
    package: str
    version: str
    location: Location
    surface: str = "dockerfile"
    stage: int = -1
    final: bool = True

# --- workloads and serving launches (SAI3xx, SAI5xx, SAI6xx) -----------------------------

# (value, where it was written) - one command/args word, one port, one postStart word.
Located = tuple[str, Location]
# (key, value, where it was written) - one resources entry, one nodeSelector entry, one flag.
Entry = tuple[str, str, Location]


@fact
class EnvVar(_Frozen):
    """One container environment variable; `value` is None when it comes from `valueFrom`
    (unknown to us: rules stay silent on it)."""

    name: str
    value: str | None
    location: Location


@fact
class Container(_Frozen):
    """One container of a pod template or Compose service, every part with its own line.

    `limits`/`requests` hold (resource, value as written, location); Compose
    `deploy.resources.limits` / `mem_limit` / `cpus` become `memory`/`cpu` limits and GPU
    `devices` become `nvidia.com/gpu` limits (value "all" for `count: all`).
    `env_from` is True when `envFrom` / `env_file` may add variables we cannot see.
    `first_line`/`last_line` span the container's YAML (for per-container suppressions).
    """

    name: str
    location: Location  # the `name:` line (Compose: the service key)
    image: str = ""
    image_location: Location | None = None
    init: bool = False
    command: tuple[Located, ...] = ()
    args: tuple[Located, ...] = ()
    command_location: Location | None = None  # the `command:` key (else `args:`)
    env: tuple[EnvVar, ...] = ()
    env_from: bool = False
    limits: tuple[Entry, ...] = ()
    requests: tuple[Entry, ...] = ()
    resources_location: Location | None = None  # the `resources:` key, if written
    readiness_probe: Location | None = None
    liveness_probe: Location | None = None
    startup_probe: Location | None = None
    ports: tuple[Located, ...] = ()
    post_start: tuple[Located, ...] = ()  # lifecycle.postStart.exec.command, as shell words
    shell: tuple[Located, ...] = ()  # command + args as shell words (`sh -c` bodies split)
    first_line: int = 0
    last_line: int = 0


@fact
class AffinityExpr(_Frozen):
    """One match expression of a required nodeAffinity term (`term` is the term's index:
    terms are ORed, expressions of one term ANDed)."""

    term: int
    key: str
    operator: str
    values: tuple[str, ...]
    location: Location


@fact
class Volume(_Frozen):
    """A pod volume that matters to a rule: `kind` is "emptyDir-memory", "csi" (with the
    driver in `detail`), "pvc", "hostPath"...; `detail` holds the driver or claim name."""

    name: str
    kind: str
    detail: str
    location: Location
    size_limit: str = ""


@fact
class Workload(_Frozen):
    """One pod template (or Compose service): a Deployment, a CronJob's job template, one of
    a LeaderWorkerSet's two templates, a Ray worker group, a KServe predictor...

    `id` is unique per scan: "path#docindex/Kind/name" plus "/part" for multi-pod objects.
    `location` is the `metadata.name` line (Compose: the service key).
    `labels` are the pod labels (what a Service selector matches); `object_labels` those of
    the object itself; `annotations` merges object and pod-template annotations (the pod
    template wins), `pod_annotations` are the template's alone.
    `node_selector` holds (key, value, location); `node_affinity` the required nodeAffinity
    match expressions.
    `storage_uri` is a KServe predictor's `storageUri` ("" if none). A KServe predictor also
    names its `runtime` and `model_format`; a (Cluster)ServingRuntime lists the
    `model_formats` it serves. The deployed view (`link/`) merges the two.
    """

    id: str
    kind: str
    name: str
    namespace: str
    surface: str  # "kubernetes", "compose", "kserve"
    location: Location
    containers: tuple[Container, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    object_labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    pod_annotations: tuple[tuple[str, str], ...] = ()
    long_running: bool = True
    node_selector: tuple[Entry, ...] = ()
    node_affinity: tuple[AffinityExpr, ...] = ()
    volumes: tuple[Volume, ...] = ()
    storage_uri: str = ""
    storage_location: Location | None = None
    model_format: str = ""  # KServe predictor.model.modelFormat.name
    part: str = ""  # "leader", "worker", "head", "worker:<group>", "predictor", "transformer"
    restart_policy: str = ""  # the pod's `restartPolicy` as written ("" when absent)
    runtime: str = ""  # KServe predictor.model.runtime: the (Cluster)ServingRuntime it names
    model_formats: tuple[tuple[str, bool, int], ...] = ()  # a runtime's supportedModelFormats (name, autoSelect, priority)
    protocols: tuple[str, ...] = ()  # a runtime's protocolVersions; a predictor's protocolVersion
    multi_node: bool = False  # a KServe predictor or runtime with a `workerSpec`
    first_line: int = 0
    last_line: int = 0

    def annotation(self, key: str) -> str | None:
        for k, v in self.annotations:
            if k == key:
                return v
        return None


@fact
class Service(_Frozen):
    """A Kubernetes Service: what it selects and exposes. `ports` holds (port, location)."""

    name: str
    namespace: str
    selector: tuple[tuple[str, str], ...]
    ports: tuple[Located, ...]
    location: Location  # the metadata.name line
    labels: tuple[tuple[str, str], ...] = ()  # its own labels (what a ServiceMonitor selects)


@fact
class ServingLaunch(_Frozen):
    """One start of an inference engine, whatever surface wrote it.

    `engine`: "vllm", "tgi", "sglang", "llama.cpp", "ollama", "nim", "kserve-hf".
    `flags` holds (canonical flag, value, location) with canonical long names ("--max-model-len";
    Python keyword arguments are mapped onto the same names); a flag without value has "".
    The last occurrence wins (`flag()` returns it). `env` holds (name, value|None, location).
    `location` is where an absent flag is reported: the command/args line, the Compose
    `command`, the Dockerfile instruction or the Python call.
    `workload` is the Workload id ("" for a Dockerfile or Python launch); `opaque` is True when
    settings may come from somewhere we cannot read (`envFrom`, `env_file`, a `--config` file,
    `**kwargs`), so rules about absent settings stay silent.
    """

    engine: str
    location: Location
    surface: str  # "kubernetes", "compose", "kserve", "dockerfile", "python"
    workload: str = ""
    container: str = ""
    model: str = ""
    model_location: Location | None = None
    flags: tuple[Entry, ...] = ()
    env: tuple[tuple[str, str | None, Location], ...] = ()
    opaque: bool = False

    def flag(self, *names: str) -> Entry | None:
        """The last of `names` written (flags first, in order), or None."""
        found = None
        for entry in self.flags:
            if entry[0] in names:
                found = entry
        return found

    def env_value(self, *names: str) -> tuple[str, str | None, Location] | None:
        found = None
        for entry in self.env:
            if entry[0] in names:
                found = entry
        return found


@fact
class KustomizePatch(_Frozen):
    """A file a kustomization.yaml lists as a patch: a partial object, not a workload."""

    path: str
    location: Location


@fact
class GpuSharing(_Frozen):
    """A GPU sharing setting of an NVIDIA device-plugin / GPU-operator config:
    `mode` "timeSlicing" (with its `replicas`) or "mps"."""

    mode: str
    replicas: int
    location: Location


@fact
class InstancePool(_Frozen):
    """A Karpenter NodePool that provisions GPU nodes, and the instance types its
    requirements allow (`operator` In/NotIn/Exists on an instance-type key)."""

    name: str
    key: str
    operator: str
    values: tuple[str, ...]
    location: Location


@fact
class TokenBudget(_Frozen):
    """An app-level token budget: a config key or Python module constant named like
    MAX_INPUT_TOKENS / max_prompt_tokens / token_budget, with its literal value."""

    name: str
    value: int
    location: Location


@fact
class StartCommand(_Frozen):
    """A command a container runs when it starts, outside Kubernetes/Compose containers:
    a Dockerfile final stage's ENTRYPOINT/CMD. `base_image` is the final stage's FROM;
    `launches` is True when the stage runs a serving launch."""

    text: str
    location: Location
    surface: str
    base_image: str = ""
    launches: bool = False


@fact
class ModelLoad(_Frozen):
    """Python: a model loaded for inference (`AutoModelForCausalLM.from_pretrained(...)`),
    or `.half()` applied to one (`via` "half"). `quantized` is True when a
    quantization_config / load_in_4bit / load_in_8bit argument is given (or `**kwargs` hides it)."""

    call: str
    model: str
    location: Location
    quantized: bool = False
    via: str = "from_pretrained"


@fact
class MemoryFraction(_Frozen):
    """Python: `torch.cuda.set_per_process_memory_fraction(x)` with a literal x."""

    value: float
    location: Location


@fact
class WeightDownload(_Frozen):
    """Python: weights fetched from object storage at run time (boto3 `download_file` of a
    model/weight/checkpoint key, `from_pretrained("s3://...")`)."""

    what: str
    location: Location

# --- resilience (SAI4xx) -----------------------------------------------------------------
# Numbers use math.inf for "no limit at all" (retry forever, wait forever) and None for
# "unknown" (a variable, a template): rules judge only what they can read.


@fact
class RetryPolicy(_Frozen):
    """One retry mechanism: a tenacity/backoff decorator, a urllib3 Retry, a `while True`
    loop, a client's `max_retries`, a mesh route's retries, an app config retry block.

    `attempts` is the limit as written (attempts or retries, whichever the surface counts),
    math.inf when unbounded, None when unknown; `attempts_note` says how it was derived
    ("tenacity retries forever without stop="). `backoff` is "exponential", "none", "fixed",
    "linear" or "" (unknown / built in, not judged); `jitter` is True/False or None (unknown).
    """

    surface: str
    location: Location
    attempts: float | None = None
    attempts_location: Location | None = None
    attempts_note: str = ""
    backoff: str = ""
    backoff_location: Location | None = None
    backoff_note: str = ""
    jitter: bool | None = None
    jitter_location: Location | None = None
    jitter_note: str = ""


@fact
class Timeout(_Frozen):
    """A timeout on a call or route: `seconds` (math.inf = none, None = unknown).

    `targets` are the hosts, service or cluster names and URLs it reaches; `ai` is True when
    the extractor already knows the call is inference (an OpenAI client, a URL ending in
    /v1/chat/completions). `always` marks a wait-forever that is judged wherever it is
    (a `requests` call without timeout). `note` names the engine default when absent.
    """

    surface: str
    seconds: float | None
    location: Location
    targets: tuple[str, ...] = ()
    ai: bool = False
    always: bool = False
    note: str = ""


@fact
class CircuitBreaker(_Frozen):
    """A circuit breaker / outlier detection for `targets` (empty = every call of the app,
    e.g. a pybreaker breaker). `error_rate` is the failure percentage that trips it,
    `enforcing` the share of ejections enforced (Envoy), `window` the evaluation interval in
    seconds; each None when not written (engine default applies, see `defaults`)."""

    surface: str
    location: Location
    targets: tuple[str, ...] = ()
    error_rate: float | None = None
    error_rate_location: Location | None = None
    enforcing: float | None = None
    enforcing_location: Location | None = None
    window: float | None = None
    window_location: Location | None = None


@fact
class RateLimit(_Frozen):
    """An explicit rate limit: `rps` requests per second (None unknown), keyed by `key`
    ("consumer", "credential", "header", "ip", "service", "path", ...). `name` is the plugin
    or zone name (Kong plugins attach by name); `targets` as for Timeout, empty = global."""

    surface: str
    location: Location
    rps: float | None = None
    rps_location: Location | None = None
    rps_written: str = ""
    key: str = ""
    key_location: Location | None = None
    name: str = ""
    targets: tuple[str, ...] = ()


@fact
class Route(_Frozen):
    """A mesh/gateway/ingress route: requests for `hosts` (or paths) go to `destinations`
    (service names or hosts). `plugins` are Kong plugins attached by annotation."""

    surface: str
    location: Location
    hosts: tuple[str, ...] = ()
    destinations: tuple[str, ...] = ()
    namespace: str = ""
    plugins: tuple[str, ...] = ()


@fact
class BodySizeLimit(_Frozen):
    """A request body cap at the edge: nginx `client_max_body_size`, ingress-nginx
    `proxy-body-size`. `limit_bytes` 0 means unlimited; None when unreadable."""

    surface: str
    written: str
    limit_bytes: float | None
    location: Location
    targets: tuple[str, ...] = ()

# --- service code and observability (SAI5xx/SAI6xx/SAI7xx/SAI8xx) ------------------------


@fact
class TokenizerCall(_Frozen):
    """A Hugging Face tokenizer call (`tok(...)`, `.encode`, `.encode_plus`,
    `.batch_encode_plus`, `.apply_chat_template` that tokenizes).

    `truncation` is None when it cannot be known (`**kwargs`, a variable); `max_length` is the
    literal (or module-constant) cap, None when absent or unknown (`max_length_known` tells).
    """

    method: str
    truncation: bool | None
    max_length: int | None
    max_length_known: bool
    location: Location


@fact
class OfflineCode(_Frozen):
    """A Python module that works on models offline - trains, quantizes, merges LoRA adapters,
    exports or saves them - rather than serving them: the Python serving rules (SAI503, SAI601)
    do not judge it. `reason` names the evidence (`.merge_and_unload()`, `import datasets`)."""

    reason: str
    location: Location


@fact
class TokenCountCheck(_Frozen):
    """Evidence that a module counts tokens itself: tiktoken encoding, or a `len()` of token
    ids compared with something."""

    how: str
    location: Location


@fact
class GenerationCall(_Frozen):
    """A `.generate(` call in a torch-importing module, inside a request handler or a loop."""

    context: str  # "request handler" or "loop"
    location: Location


@fact
class CudaCacheRelease(_Frozen):
    """A `torch.cuda.empty_cache()` call."""

    location: Location


@fact
class WebApp(_Frozen):
    """A Python web/RPC app created in a module (`app = FastAPI()`, `grpc.server(...)`)."""

    framework: str
    location: Location


@fact
class AiUsage(_Frozen):
    """Something in a Python module that makes its package serve AI: a `.generate()` call, a
    `vllm.LLM(...)`/`sglang.Engine(...)`, a URL of an AI service."""

    what: str
    location: Location


@fact
class MetricExport(_Frozen):
    """A metric this repo exports: a `prometheus_client` constructor (namespace/subsystem/unit
    joined as the library does) or a Prometheus recording rule.

    `prefix_known` is False when a namespace/subsystem could not be resolved; `name` is then
    only the known tail of the exported name.
    """

    name: str
    kind: str  # "gauge", "histogram", "summary", "counter", "info", "enum", "recording-rule"
    source: str  # "prometheus_client" or "recording-rule"
    location: Location
    prefix_known: bool = True


@fact
class PromComparison(_Frozen):
    """One comparison with a number in a PromQL alert expression, read with a real parser.

    `op` is normalised so the number is on the right (`0.9 < x` becomes `x > 0.9`).
    `metrics` are the metric names on the other side; `scale` the product of the numbers that
    side is multiplied by at its top level (`* 100` -> 100, `/ 1000` -> 0.001); `ratio` True
    when that side divides two series; `quantile` the φ of `histogram_quantile`/`quantile`/a
    `quantile=` label, if any; `status_5xx` True when a matcher selects 5xx status codes.
    """

    op: str
    threshold: float
    metrics: tuple[str, ...]
    scale: float
    ratio: bool
    quantile: float | None
    status_5xx: bool
    location: Location  # where `<op> <number>` is written (best effort: the expr line)


@fact
class AlertRule(_Frozen):
    """A Prometheus alerting rule (PrometheusRule CRD or a plain rule file).

    `for_seconds` is None when `for` is absent; `severity` is "" when the label is absent.
    `parsed` is False when the expression could not be parsed (then nothing is judged).
    """

    name: str
    expr: str
    location: Location  # the `alert:` value
    expr_location: Location
    for_seconds: float | None
    for_text: str
    for_location: Location | None
    severity: str
    severity_location: Location | None
    comparisons: tuple[PromComparison, ...]
    parsed: bool


@fact
class LabelSelector(_Frozen):
    """A Kubernetes label selector: matchLabels pairs and matchExpressions triples."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()


@fact
class MetricsMonitor(_Frozen):
    """A Prometheus Operator ServiceMonitor or PodMonitor.

    `namespaces` are the namespaces it looks in: () means its own (`namespace`, "" when not
    written); `any_namespace` is `namespaceSelector.any: true`.
    """

    kind: str  # "ServiceMonitor" or "PodMonitor"
    name: str
    namespace: str
    selector: LabelSelector
    namespaces: tuple[str, ...]
    any_namespace: bool
    location: Location


@fact
class DcgmExporter(_Frozen):
    """A deployed NVIDIA dcgm-exporter (an image, or a GPU Operator ClusterPolicy enabling it)."""

    location: Location


@fact
class VectorWrite(_Frozen):
    """A write of vectors to a vector store; `validated` when a NaN/Inf check guards it (same
    function, a same-module helper it calls, or a same-module caller)."""

    store: str
    method: str
    validated: bool
    location: Location


@fact
class DimensionDecl(_Frozen):
    """A declared index/embedding dimension (`dimension=1536`, `VectorParams(size=)`,
    `vector(1536)`, `dim=`, config `embedding_dim`)."""

    value: int
    source: str
    location: Location


@fact
class Suppression(_Frozen):
    """One rule silenced by a comment (`# safeai-lint: ignore[SAI101] -- reason`,
    `file-ignore[...]`) or a Kubernetes annotation (`safeai-lint.io/ignore`).

    It covers findings on lines `first_line`..`last_line` of its file (the whole file when
    `whole_file`). A comment naming two rules gives two suppressions.
    """

    rule: str
    reason: str
    location: Location
    first_line: int
    last_line: int
    whole_file: bool = False
    origin: str = "comment"  # "comment" or "annotation"


@fact
class Diagnostic(_Frozen):
    """A problem with the input itself (SAI001/SAI002), found while reading or parsing."""

    rule: str
    message: str
    location: Location
    level: str = ""  # "" = the rule's level; "note" when the cause is the environment


@fact
class FileFacts(_Frozen):
    """Everything learnt from one file, as handed from the worker to the checks."""

    path: str
    kind: str
    facts: tuple[object, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    lines: dict[int, str] = field(default_factory=dict)  # text of the lines facts point at


_make_inits()
