"""SAI801 (unvalidated vector writes) and SAI802 (embedding dimensions), beyond the rule docs."""
from __future__ import annotations

from conftest import hits, scan


def test_caller_that_validates_before_calling_the_writer(tmp_path):
    code = """import numpy as np
import faiss
index = faiss.IndexFlatL2(1536)

def _write(vecs):
    index.add(vecs)

def ingest(vecs):
    if not np.isfinite(vecs).all():
        raise ValueError
    _write(vecs)
"""
    assert hits(scan(tmp_path, {"a.py": code}, select=["SAI801"])) == set()


def test_weaviate_chain_lancedb_and_module_level_write(tmp_path):
    code = """import weaviate
import lancedb

client = weaviate.connect_to_local()
db = lancedb.connect("/data")
tbl = db.open_table("docs")
tbl.add([{"vector": [0.1, 0.2]}])

def put(obj, vec):
    client.collections.get("Doc").data.insert(properties=obj, vector=vec)
"""
    assert hits(scan(tmp_path, {"a.py": code}, select=["SAI801"])) == {("SAI801", "a.py", 7), ("SAI801", "a.py", 10)}


def test_torch_isnan_method_and_annotated_parameter(tmp_path):
    code = """import torch
from qdrant_client import QdrantClient

def store(client: QdrantClient, emb: torch.Tensor, pts):
    if emb.isnan().any():
        return
    client.upsert(collection_name="c", points=pts)

def store_unchecked(client: QdrantClient, pts):
    client.upsert(collection_name="c", points=pts)
"""
    assert hits(scan(tmp_path, {"a.py": code}, select=["SAI801"])) == {("SAI801", "a.py", 10)}


def test_faiss_search_and_unknown_receivers_are_not_writes(tmp_path):
    code = """import faiss
index = faiss.read_index("i.faiss")
def q(v, other):
    index.search(v, 5)
    other.upsert(v)
    index.reconstruct(0)
"""
    assert hits(scan(tmp_path, {"a.py": code}, select=["SAI801"])) == set()


def test_dimension_majority_and_yaml_config(tmp_path):
    files = {
        "a.py": "from pymilvus import FieldSchema, DataType\nf = FieldSchema(name='v', dtype=DataType.FLOAT_VECTOR, dim=768)\n",
        "b.py": "from qdrant_client.models import VectorParams\np = VectorParams(size=1536, distance='Cosine')\n",
        "conf/app.yaml": "rag:\n  embedding_dimension: 1536\n",
    }
    assert hits(scan(tmp_path, files, select=["SAI802"])) == {("SAI802", "a.py", 2)}


def test_single_declaration_or_none_is_silent(tmp_path):
    assert hits(scan(tmp_path, {"a.py": "EMBEDDING_DIM = 384\n"}, select=["SAI802"])) == set()


def test_policy_dimension_checks_every_declaration(tmp_path):
    files = {"a.py": "EMBEDDING_DIM = 1536\n", ".safeai-lint.yaml": "embedding-dimension: 768\n"}
    result = scan(tmp_path, files, select=["SAI802"])
    assert hits(result) == {("SAI802", "a.py", 1)}
    assert "768" in result.findings[0].message
