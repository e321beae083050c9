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
