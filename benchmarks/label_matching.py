"""Cross-file matching at scale: N GPU Deployments, N Services selecting them and a few
ServiceMonitors that select none of them (so every Service is tried for every workload).

    python benchmarks/label_matching.py [N]      # default 2,000

Writes the repository to a temporary folder, scans it once without the cache and prints the
wall time and the number of findings. Matching Services to workloads by testing every pair
made this 10.2 s for N = 2,000; indexed by label it is 1.7 s (2026-11-27, 2-core machine).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = 20


def documents(n: int) -> list[str]:
    docs = []
    for i in range(n):
        docs.append(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: llm-{i}, namespace: ai}}\nspec:\n"
            f"  template:\n    metadata: {{labels: {{app: llm-{i}, tier: inference}}}}\n    spec:\n      containers:\n"
            f"        - name: server\n          image: vllm/vllm-openai:v0.2.7\n"
            f"          args: [\"--model\", \"TheBloke/Llama-2-7B-AWQ\", \"--quantization\", \"awq\"]\n"
            f"          resources: {{limits: {{nvidia.com/gpu: 1, memory: 16Gi, cpu: 4}}}}"
        )
        docs.append(
            f"apiVersion: v1\nkind: Service\nmetadata: {{name: llm-{i}, namespace: ai, labels: {{app: llm-{i}}}}}\n"
            f"spec: {{selector: {{app: llm-{i}, tier: inference}}, ports: [{{port: 80}}]}}"
        )
    for j in range(3):
        docs.append(
            f"apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {{name: mon-{j}, namespace: ai}}\n"
            f"spec: {{selector: {{matchLabels: {{team: other-{j}}}}}, endpoints: [{{port: metrics}}]}}"
        )
    return docs


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 2000
    docs = documents(n)
    with tempfile.TemporaryDirectory(prefix="safeai-lint-selectors-") as tmp:
        root = Path(tmp)
        (root / "k8s").mkdir()
        for k in range(FILES):
            part = docs[k * len(docs) // FILES:(k + 1) * len(docs) // FILES]
            (root / "k8s" / f"part{k}.yaml").write_text("\n---\n".join(part) + "\n", encoding="utf-8")
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "safeai_lint", "check", ".", "--no-cache", "--format", "json"],
                             cwd=root, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
    total = json.loads(out.stdout)["summary"]["total"] if out.stdout else -1
    print(f"{n} Deployments, {n} Services, 3 ServiceMonitors: {wall:.2f} s, {total} findings")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
