"""Facts: what the extractors learn from a repository, one small frozen record each.

Every fact carries the `Location` of the exact key, flag, instruction or call it came from,
so a rule can point at it without knowing which file format produced it.
"""
from __future__ import annotations

from dataclasses import field

from .records import Frozen, Ordered, record


@record
class Location(Ordered):
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


@record
class VersionDecl(Frozen):
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


@record
class PolicySource(Frozen):
    """A safeai-lint config file in the scanned tree and where it writes each version-lock
    key: (component, value as written, location of the key). SAI005 points at these."""

    path: str
    version_lock: tuple[tuple[str, str, Location], ...]


@record
class CudaBuild(Frozen):
    """A package build tied to one CUDA release (`torch==2.1.0+cu118`, `/whl/cu121`)."""

    package: str
    cuda: str  # "11.8", "12.1"
    location: Location
    surface: str


@record
class PackageSource(Frozen):
    """Where packages come from: an index/find-links URL, a trusted host, a VCS/URL requirement."""

    url: str
    option: str  # "--index-url", "--extra-index-url", "--find-links", "--trusted-host", "url-requirement"
    location: Location


# --- images (SAI2xx) ---------------------------------------------------------------------


@record
class ImageRef(Frozen):
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


@record
class PackageInstall(Frozen):
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


@record
class EnvVar(Frozen):
    """One container environment variable; `value` is None when it comes from `valueFrom`
    (unknown to us: rules stay silent on it)."""

    name: str
    value: str | None
    location: Location


@record
class Container(Frozen):
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


@record
class AffinityExpr(Frozen):
    """One match expression of a required nodeAffinity term (`term` is the term's index:
    terms are ORed, expressions of one term ANDed)."""

    term: int
    key: str
    operator: str
    values: tuple[str, ...]
    location: Location


@record
class Volume(Frozen):
    """A pod volume that matters to a rule: `kind` is "emptyDir-memory", "csi" (with the
    driver in `detail`), "pvc", "hostPath"...; `detail` holds the driver or claim name."""

    name: str
    kind: str
    detail: str
    location: Location
    size_limit: str = ""


@record
class Workload(Frozen):
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


@record
class Service(Frozen):
    """A Kubernetes Service: what it selects and exposes. `ports` holds (port, location)."""

    name: str
    namespace: str
    selector: tuple[tuple[str, str], ...]
    ports: tuple[Located, ...]
    location: Location  # the metadata.name line
    labels: tuple[tuple[str, str], ...] = ()  # its own labels (what a ServiceMonitor selects)


@record
class ServingLaunch(Frozen):
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


@record
class KustomizePatch(Frozen):
    """A file a kustomization.yaml lists as a patch: a partial object, not a workload."""

    path: str
    location: Location


@record
class GpuSharing(Frozen):
    """A GPU sharing setting of an NVIDIA device-plugin / GPU-operator config:
    `mode` "timeSlicing" (with its `replicas`) or "mps"."""

    mode: str
    replicas: int
    location: Location


@record
class InstancePool(Frozen):
    """A Karpenter NodePool that provisions GPU nodes, and the instance types its
    requirements allow (`operator` In/NotIn/Exists on an instance-type key)."""

    name: str
    key: str
    operator: str
    values: tuple[str, ...]
    location: Location


@record
class TokenBudget(Frozen):
    """An app-level token budget: a config key or Python module constant named like
    MAX_INPUT_TOKENS / max_prompt_tokens / token_budget, with its literal value."""

    name: str
    value: int
    location: Location


@record
class StartCommand(Frozen):
    """A command a container runs when it starts, outside Kubernetes/Compose containers:
    a Dockerfile final stage's ENTRYPOINT/CMD. `base_image` is the final stage's FROM;
    `launches` is True when the stage runs a serving launch."""

    text: str
    location: Location
    surface: str
    base_image: str = ""
    launches: bool = False


@record
class ModelLoad(Frozen):
    """Python: a model loaded for inference (`AutoModelForCausalLM.from_pretrained(...)`),
    or `.half()` applied to one (`via` "half"). `quantized` is True when a
    quantization_config / load_in_4bit / load_in_8bit argument is given (or `**kwargs` hides it)."""

    call: str
    model: str
    location: Location
    quantized: bool = False
    via: str = "from_pretrained"


@record
class MemoryFraction(Frozen):
    """Python: `torch.cuda.set_per_process_memory_fraction(x)` with a literal x."""

    value: float
    location: Location


@record
class WeightDownload(Frozen):
    """Python: weights fetched from object storage at run time (boto3 `download_file` of a
    model/weight/checkpoint key, `from_pretrained("s3://...")`)."""

    what: str
    location: Location

# --- resilience (SAI4xx) -----------------------------------------------------------------
# Numbers use math.inf for "no limit at all" (retry forever, wait forever) and None for
# "unknown" (a variable, a template): rules judge only what they can read.


@record
class RetryPolicy(Frozen):
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


@record
class Timeout(Frozen):
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


@record
class CircuitBreaker(Frozen):
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


@record
class RateLimit(Frozen):
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


@record
class Route(Frozen):
    """A mesh/gateway/ingress route: requests for `hosts` (or paths) go to `destinations`
    (service names or hosts). `plugins` are Kong plugins attached by annotation."""

    surface: str
    location: Location
    hosts: tuple[str, ...] = ()
    destinations: tuple[str, ...] = ()
    namespace: str = ""
    plugins: tuple[str, ...] = ()


@record
class BodySizeLimit(Frozen):
    """A request body cap at the edge: nginx `client_max_body_size`, ingress-nginx
    `proxy-body-size`. `limit_bytes` 0 means unlimited; None when unreadable."""

    surface: str
    written: str
    limit_bytes: float | None
    location: Location
    targets: tuple[str, ...] = ()

# --- service code and observability (SAI5xx/SAI6xx/SAI7xx/SAI8xx) ------------------------


@record
class TokenizerCall(Frozen):
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


@record
class OfflineCode(Frozen):
    """A Python module that works on models offline - trains, quantizes, merges LoRA adapters,
    exports or saves them - rather than serving them: the Python serving rules (SAI503, SAI601)
    do not judge it. `reason` names the evidence (`.merge_and_unload()`, `import datasets`)."""

    reason: str
    location: Location


@record
class TokenCountCheck(Frozen):
    """Evidence that a module counts tokens itself: tiktoken encoding, or a `len()` of token
    ids compared with something."""

    how: str
    location: Location


@record
class GenerationCall(Frozen):
    """A `.generate(` call in a torch-importing module, inside a request handler or a loop."""

    context: str  # "request handler" or "loop"
    location: Location


@record
class CudaCacheRelease(Frozen):
    """A `torch.cuda.empty_cache()` call."""

    location: Location


@record
class WebApp(Frozen):
    """A Python web/RPC app created in a module (`app = FastAPI()`, `grpc.server(...)`)."""

    framework: str
    location: Location


@record
class AiUsage(Frozen):
    """Something in a Python module that makes its package serve AI: a `.generate()` call, a
    `vllm.LLM(...)`/`sglang.Engine(...)`, a URL of an AI service."""

    what: str
    location: Location


@record
class MetricExport(Frozen):
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


@record
class PromComparison(Frozen):
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


@record
class AlertRule(Frozen):
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


@record
class LabelSelector(Frozen):
    """A Kubernetes label selector: matchLabels pairs and matchExpressions triples."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()


@record
class MetricsMonitor(Frozen):
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


@record
class DcgmExporter(Frozen):
    """A deployed NVIDIA dcgm-exporter (an image, or a GPU Operator ClusterPolicy enabling it)."""

    location: Location


@record
class VectorWrite(Frozen):
    """A write of vectors to a vector store; `validated` when a NaN/Inf check guards it (same
    function, a same-module helper it calls, or a same-module caller)."""

    store: str
    method: str
    validated: bool
    location: Location


@record
class DimensionDecl(Frozen):
    """A declared index/embedding dimension (`dimension=1536`, `VectorParams(size=)`,
    `vector(1536)`, `dim=`, config `embedding_dim`)."""

    value: int
    source: str
    location: Location


@record
class Suppression(Frozen):
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


@record
class Diagnostic(Frozen):
    """A problem with the input itself (SAI001/SAI002), found while reading or parsing."""

    rule: str
    message: str
    location: Location
    level: str = ""  # "" = the rule's level; "note" when the cause is the environment


@record
class FileFacts(Frozen):
    """Everything learnt from one file, as handed from the worker to the checks."""

    path: str
    kind: str
    facts: tuple[object, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    lines: dict[int, str] = field(default_factory=dict)  # text of the lines facts point at


