"""The assistant API: takes any prompt and sends it straight to the model."""
import numpy as np
import torch
from fastapi import FastAPI
from pinecone import Pinecone
from transformers import AutoModelForCausalLM, AutoTokenizer

from app.client import complete

MAX_INPUT_TOKENS = 32768

app = FastAPI(title="genai-assistant-v2")
tokenizer = AutoTokenizer.from_pretrained("meta-llama/Llama-2-70b-chat-hf")
model = AutoModelForCausalLM.from_pretrained(
    "meta-llama/Llama-2-70b-chat-hf", torch_dtype=torch.float16, device_map="auto"
)
index = Pinecone(api_key="...").Index("assistant-memory")


@app.post("/v1/assist")
def assist(prompt: str):
    inputs = tokenizer(prompt, return_tensors="pt").to("cuda")
    output = model.generate(**inputs, max_new_tokens=512)
    return {"text": tokenizer.decode(output[0])}


@app.post("/v1/remember")
def remember(doc_id: str, text: str):
    vector = np.asarray(complete([{"role": "user", "content": text}])["embedding"])
    index.upsert(vectors=[(doc_id, vector.tolist())])
    return {"ok": True}
