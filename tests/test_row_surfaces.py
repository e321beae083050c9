"""Every surface a rule's row in RULES.md names, SAI2xx-SAI8xx: one fixture per surface with
its exact findings for that rule, and a near miss beside it that must not fire."""
from __future__ import annotations

from conftest import hits

DIGEST = "@sha256:" + "a" * 64


# --- SAI205: container command/args, postStart, Compose command, final ENTRYPOINT/CMD ----------

def test_sai205_compose_command_as_a_string_and_as_a_list(repo):
    result = repo({"compose.yaml": f"""\
services:
  vllm:
    image: vllm/vllm-openai:v0.6.3{DIGEST}
    command: sh -c "pip install flash-attn && vllm serve org/m --max-model-len 4096"
  tgi:
    image: ghcr.io/huggingface/text-generation-inference:2.4.0{DIGEST}
    command: ["/bin/sh", "-c", "pip install peft; text-generation-launcher --model-id org/m"]
  web:
    image: python:3.11.4{DIGEST}
    command: bash -c "apt-get install -y curl && python app.py"
"""})
    assert hits(result, "SAI205") == {("SAI205", "compose.yaml", 4), ("SAI205", "compose.yaml", 7)}


# --- SAI405: a DestinationRule for an AI host without outlierDetection -------------------------

def test_sai405_destination_rule_without_outlier_detection(repo):
    rule = """\
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: {name}
spec:
  host: {name}.default.svc.cluster.local
  trafficPolicy:
    connectionPool:
      http: {{http1MaxPendingRequests: 100}}
"""
    result = repo({"vllm-dr.yaml": rule.format(name="vllm"), "web-dr.yaml": rule.format(name="web")})
    assert hits(result, "SAI405") == {("SAI405", "vllm-dr.yaml", 6)}


# --- SAI602: from_pretrained("s3://...") in both argument forms --------------------------------

def test_sai602_from_pretrained_of_object_storage(repo):
    code = (
        "from transformers import AutoModelForCausalLM\n"
        "a = AutoModelForCausalLM.from_pretrained('s3://bucket/llama', load_in_4bit=True)\n"
        "b = AutoModelForCausalLM.from_pretrained(pretrained_model_name_or_path='gs://b/m', load_in_4bit=True)\n"
        "WEIGHTS = 'az://container/m'\n"
        "c = AutoModelForCausalLM.from_pretrained(WEIGHTS, load_in_4bit=True)\n"
        "d = AutoModelForCausalLM.from_pretrained('/models/llama', load_in_4bit=True)\n"
    )
    assert hits(repo({"model.py": code}), "SAI602") == {("SAI602", "model.py", 2), ("SAI602", "model.py", 3), ("SAI602", "model.py", 5)}


# --- SAI801: pgvector INSERT through a DB-API execute -------------------------------------------

def test_sai801_pgvector_insert_through_db_api_execute(repo):
    code = '''\
import psycopg2
conn = psycopg2.connect("dbname=x")
INSERT = "INSERT INTO chunks (id, content_embedding) VALUES (%s, %s)"


def save(doc_id, embedding):
    cur = conn.cursor()
    cur.execute("INSERT INTO items (id, embedding) VALUES (%s, %s)", (doc_id, embedding))


def save_const(doc_id, embedding):
    conn.cursor().execute(INSERT, (doc_id, embedding))


def save_user(name):
    conn.cursor().execute("INSERT INTO users (id, name) VALUES (%s, %s)", (1, name))
'''
    assert hits(repo({"store.py": code}), "SAI801") == {("SAI801", "store.py", 8), ("SAI801", "store.py", 12)}


# --- SAI602 in every place a workload starts, and the build-time near miss ------------------

POD = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: vllm}}
spec:
  selector: {{matchLabels: {{app: vllm}}}}
  template:
    metadata: {{labels: {{app: vllm}}}}
    spec:
      initContainers:
        - name: fetch
          image: amazon/aws-cli:2.15.0{DIGEST}
          command: ["aws", "s3", "sync", "s3://bucket/llama", "/models"]
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.6.3{DIGEST}
          args: ["--model", "/models", "--max-model-len", "4096", "--quantization", "awq"]
          env:
            - {{name: MODEL_URI, value: "gs://bucket/model"}}
            - {{name: LOG_BUCKET, value: "gs://bucket/logs"}}
          lifecycle:
            postStart:
              exec:
                command: ["sh", "-c", "gsutil cp gs://b/tok /models/tok && pip install peft"]
          resources:
            limits: {{nvidia.com/gpu: 1}}
      volumes:
        - name: s3
          csi: {{driver: s3.csi.aws.com, volumeAttributes: {{bucketName: b}}}}
"""


def test_sai602_and_sai205_in_init_containers_env_post_start_and_csi_volumes(repo):
    result = repo({"pod.yaml": POD})
    assert hits(result, "SAI602") == {("SAI602", "pod.yaml", n) for n in (12, 18, 23, 27)}
    assert hits(result, "SAI205") == {("SAI205", "pod.yaml", 23)}


def test_sai602_compose_command_final_cmd_and_boto3_but_not_a_build_run(repo):
    result = repo({
        "compose.yaml": f"services:\n  llm:\n    image: vllm/vllm-openai:v0.6.3{DIGEST}\n"
                        "    command: sh -c \"s5cmd cp 's3://b/m/*' /models && vllm serve /models --max-model-len 4096 --quantization awq\"\n",
        "Dockerfile": f"FROM vllm/vllm-openai:v0.6.3{DIGEST}\nRUN aws s3 cp s3://b/tok /tok\n"
                      'CMD ["sh", "-c", "rclone copy remote:b/m /models && vllm serve /models --max-model-len 4096 --quantization awq"]\n',
        "dl.py": "import boto3\ns3 = boto3.client('s3')\ns3.download_file('bucket', 'models/llama/model.safetensors', '/m/x')\n"
                 "s3.download_file('bucket', 'data/users.csv', '/tmp/u.csv')\n",
    })
    assert hits(result, "SAI602") == {("SAI602", "compose.yaml", 4), ("SAI602", "Dockerfile", 3), ("SAI602", "dl.py", 3)}


# --- SAI404 / SAI401 / SAI405-SAI407 / SAI504 on routes and edges ------------------------------

ROUTES = """\
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: vllm.default.svc.cluster.local}
spec:
  routes:
    - name: POST /v1/completions
      condition: {method: POST, pathRegex: /v1/completions}
      timeout: 30s
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: llm}
spec:
  rules:
    - backendRefs: [{name: vllm, port: 8000}]
      timeouts: {request: 30s}
    - backendRefs: [{name: web, port: 8000}]
      timeouts: {request: 30s}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: llm}
spec:
  hosts: [vllm]
  http:
    - route: [{destination: {host: vllm}}]
      retries: {attempts: 10, perTryTimeout: 2s}
"""


def test_sai404_linkerd_httproute_and_istio_routes(repo):
    result = repo({"routes.yaml": ROUTES})
    assert hits(result, "SAI404") == {("SAI404", "routes.yaml", 8), ("SAI404", "routes.yaml", 16), ("SAI404", "routes.yaml", 26)}
    assert hits(result, "SAI401") == {("SAI401", "routes.yaml", 27)}


EDGE = """\
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: {name: rl}
plugin: rate-limiting
config: {minute: 60000, limit_by: ip}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: llm
  annotations:
    konghq.com/plugins: rl
    nginx.ingress.kubernetes.io/limit-rps: "500"
    nginx.ingress.kubernetes.io/proxy-body-size: "0"
spec:
  rules:
    - host: llm.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: vllm, port: {number: 80}}}}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: docs
  annotations:
    nginx.ingress.kubernetes.io/limit-rps: "500"
    nginx.ingress.kubernetes.io/proxy-body-size: "0"
spec:
  rules:
    - host: docs.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: docs, port: {number: 80}}}}]}
"""


def test_sai406_sai407_sai504_on_kong_and_ingress_nginx(repo):
    result = repo({"edge.yaml": EDGE})
    assert hits(result, "SAI406") == {("SAI406", "edge.yaml", 5), ("SAI406", "edge.yaml", 13)}
    assert hits(result, "SAI407") == {("SAI407", "edge.yaml", 5), ("SAI407", "edge.yaml", 13)}
    assert hits(result, "SAI504") == {("SAI504", "edge.yaml", 14)}


# --- SAI401-SAI403, SAI502, SAI802 in app configs and Python constants --------------------------

def test_app_config_keys_and_python_declarations(repo):
    result = repo({
        "app.yaml": "llm:\n  max_input_tokens: 32768\n  retries:\n    max_retries: 12\n    backoff: fixed\n    jitter: false\n"
                    "vector:\n  embedding_dim: 768\nui:\n  max_items: 50000\n",
        "decl.py": "from pymilvus import FieldSchema, DataType\nfrom qdrant_client.models import VectorParams\n"
                   "MAX_PROMPT_TOKENS = 16384\nMAX_PAGE_SIZE = 100000\nf = FieldSchema('v', DataType.FLOAT_VECTOR, dim=1024)\n"
                   "p = VectorParams(size=1536, distance='Cosine')\n",
        "schema.sql": "CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(1536));\n",
    })
    got = {h for h in hits(result) if h[0] in ("SAI401", "SAI402", "SAI403", "SAI502", "SAI802")}
    assert got == {
        ("SAI401", "app.yaml", 4), ("SAI402", "app.yaml", 5), ("SAI403", "app.yaml", 6),
        ("SAI502", "app.yaml", 2), ("SAI502", "decl.py", 3),
        ("SAI802", "app.yaml", 8), ("SAI802", "decl.py", 5),
    }  # 1536 is the most common dimension (pyproject-free repo, no policy value): the others differ


# --- SAI801 on every vector store the row names -----------------------------------------------

def test_sai801_every_store(repo):
    code = '''\
import chromadb, faiss, lancedb
import numpy as np
from pinecone import Pinecone
from qdrant_client import QdrantClient
from pymilvus import MilvusClient
client = chromadb.Client()
col = client.create_collection("docs")
index = faiss.IndexFlatL2(768)
tbl = lancedb.connect("/tmp/l").open_table("t")
pc = Pinecone(api_key="x").Index("i")
qd = QdrantClient("localhost")
mv = MilvusClient("http://localhost:19530")


def write(vecs, ids):
    col.add(ids=ids, embeddings=vecs)
    index.add(vecs)
    tbl.add([{"vector": v} for v in vecs])
    pc.upsert(vectors=list(zip(ids, vecs)))
    qd.upsert(collection_name="c", points=[])
    mv.insert(collection_name="c", data=[])


def checked(vecs, ids):
    if not np.isfinite(vecs).all():
        raise ValueError("non-finite embedding")
    col.add(ids=ids, embeddings=vecs)
    seen = set()
    seen.add(ids[0])
'''
    assert hits(repo({"stores.py": code}), "SAI801") == {("SAI801", "stores.py", n) for n in range(16, 22)}
