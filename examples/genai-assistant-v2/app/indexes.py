"""Vector indexes of the assistant. The docs index was created for a different embedding model."""
from pinecone import Pinecone, ServerlessSpec

pc = Pinecone(api_key="...")
spec = ServerlessSpec(cloud="aws", region="us-east-1")

pc.create_index(name="assistant-memory", dimension=1536, metric="cosine", spec=spec)
pc.create_index(name="assistant-feedback", dimension=1536, metric="cosine", spec=spec)
pc.create_index(name="assistant-docs", dimension=768, metric="cosine", spec=spec)
