"""The serving-launch model: engines, flag spellings, shell strings, env twins, entrypoints."""
from __future__ import annotations

from safeai_lint.extract.k8s import kubernetes
from safeai_lint.extract.python_serving import python_launches
from safeai_lint.facts import ServingLaunch
from safeai_lint.sources.base import SourceText

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: llm
spec:
  template:
    spec:
      containers:
        - name: main
          image: {image}
{body}
"""


def launches(body: str, image: str = "vllm/vllm-openai:v0.10.0") -> list[ServingLaunch]:
    text = DEPLOY.format(image=image, body=body)
    return [f for f in kubernetes(SourceText("d.yaml", "yaml", text)) if isinstance(f, ServingLaunch)]


def flags(launch: ServingLaunch) -> dict[str, tuple[str, int]]:
    return {name: (value, loc.line) for name, value, loc in launch.flags}


def test_equals_and_space_forms_and_prefixes():
    (s,) = launches('          args: ["--max-model-l=4096", "--gpu-memory-util", "0.8", "--model", "/m"]')
    assert s.engine == "vllm" and s.model == "/m"
    assert flags(s)["--max-model-len"][0] == "4096"
    assert flags(s)["--gpu-memory-utilization"][0] == "0.8"


def test_one_string_with_many_flags_keeps_each_flag_location():
    (s,) = launches('          args:\n            - "--model m --max-model-len 4096"\n            - --quantization=awq')
    assert flags(s) == {"--model": ("m", 12), "--max-model-len": ("4096", 12), "--quantization": ("awq", 13)}


def test_sh_c_block_script_locates_flags_on_their_lines():
    body = (
        '          command: ["/bin/sh", "-c"]\n'
        "          args:\n"
        "            - |\n"
        "              echo start\n"
        "              python3 -m vllm.entrypoints.openai.api_server \\\n"
        "                --model /models/x \\\n"
        "                --gpu-memory-utilization 0.95\n"
    )
    (s,) = launches(body)
    assert s.engine == "vllm" and s.model == "/models/x"
    assert flags(s)["--gpu-memory-utilization"] == ("0.95", 17)


def test_last_flag_wins():
    (s,) = launches('          args: ["--max-model-len", "8192", "--max-model-len=4096"]')
    assert s.flag("--max-model-len")[1] == "4096"


def test_tgi_env_twins_and_cli_override():
    body = (
        "          args: [--max-input-tokens, '2048']\n"
        "          env:\n"
        "            - {name: MAX_INPUT_TOKENS, value: '8192'}\n"
        "            - {name: MODEL_ID, value: org/model}\n"
    )
    (s,) = launches(body, "ghcr.io/huggingface/text-generation-inference:2.4.0")
    assert s.engine == "tgi" and s.model == "org/model"
    assert s.flag("--max-input-tokens", "--max-input-length")[1] == "2048"


def test_value_from_is_unknown():
    body = "          env:\n            - name: MAX_INPUT_TOKENS\n              valueFrom: {configMapKeyRef: {name: c, key: k}}\n"
    (s,) = launches(body, "ghcr.io/huggingface/text-generation-inference:2.4.0")
    assert s.flag("--max-input-tokens")[1] == "?"


def test_unknown_engine_gives_no_launch():
    assert launches('          args: ["--port", "8000"]', "ghcr.io/acme/server:1.0") == []
    # an overridden command on a vLLM image that is not an engine
    assert launches('          command: ["python", "app.py"]') == []


def test_other_engines_recognised():
    assert launches('          command: ["llama-server", "-m", "/m.gguf", "-c", "4096"]', "ghcr.io/ggml-org/llama.cpp:server")[0].flag("--ctx-size")[1] == "4096"
    assert launches('          command: ["ollama", "serve"]', "ollama/ollama:0.5.7")[0].engine == "ollama"
    assert launches("          env: [{name: NIM_MAX_MODEL_LEN, value: '4096'}]", "nvcr.io/nim/meta/llama3-8b-instruct:1.0.0")[0].engine == "nim"
    sg = launches('          command: ["python3", "-m", "sglang.launch_server", "--model-path", "org/m", "--context-len", "4096"]', "lmsysorg/sglang:v0.4.1")[0]
    assert sg.engine == "sglang" and sg.model == "org/m" and sg.flag("--context-length")[1] == "4096"


def test_sglang_image_needs_a_command():
    assert launches('          args: ["--model-path", "m"]', "lmsysorg/sglang:v0.4.1") == []


def test_python_vllm_llm_keywords_map_to_flags():
    src = SourceText("s.py", "python", "import vllm\nllm = vllm.LLM(model='org/m', gpu_memory_utilization=0.9, **extra)\n")
    (s,) = [f for f in python_launches(src) if isinstance(f, ServingLaunch)]
    assert s.engine == "vllm" and s.model == "org/m" and s.opaque
    assert s.flag("--gpu-memory-utilization")[1] == "0.9"
