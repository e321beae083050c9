"""Middleware client for the LLM: the "smart retry" that DDoS'd the cluster."""
import time

import requests
from tenacity import retry, wait_fixed

LLM_URL = "http://genai-assistant-v2.ai-services/v1/chat/completions"


@retry(wait=wait_fixed(0.1))
def complete(messages):
    response = requests.post(LLM_URL, json={"model": "llama-2-70b", "messages": messages})
    response.raise_for_status()
    return response.json()


def complete_until_it_works(messages):
    while True:
        try:
            return requests.post(LLM_URL, json={"messages": messages}, timeout=120).json()
        except requests.RequestException:
            time.sleep(0.05)
