"""Python serving rules only where they apply: SAI601 (Python forms) and SAI503 judge the
code of a Python inference service, not offline scripts, constants, stop sequences or
modules that count tokens."""
from __future__ import annotations

from conftest import hits

SERVICE = {"app.py": "from fastapi import FastAPI\napp = FastAPI()\n\n\ndef answer(model, ids):\n    return model.generate(ids)\n"}
LOAD = "from transformers import AutoModelForCausalLM\nmodel = AutoModelForCausalLM.from_pretrained('meta-llama/Llama-2-7b-hf')\n"
TOKENIZE = "from transformers import AutoTokenizer\ntok = AutoTokenizer.from_pretrained('m')\n\n\ndef prepare(prompt):\n    return tok(prompt)\n"


def test_serving_code_of_an_inference_service_fires(repo):
    result = repo({"model.py": LOAD, "tokens.py": TOKENIZE, **SERVICE})
    assert hits(result, "SAI601") == {("SAI601", "model.py", 2)}
    assert hits(result, "SAI503") == {("SAI503", "tokens.py", 6)}


def test_code_outside_an_inference_service_is_not_judged(repo):
    result = repo({
        "service/pyproject.toml": '[project]\nname = "svc"\n',
        "service/app.py": SERVICE["app.py"],
        "notebooks/pyproject.toml": '[project]\nname = "nb"\n',
        "notebooks/model.py": LOAD,
        "notebooks/tokens.py": TOKENIZE,
    })
    assert hits(result, "SAI601") == set() and hits(result, "SAI503") == set()


def test_from_pretrained_of_a_variable_is_not_judged(repo):
    code = "from transformers import AutoModelForCausalLM\n\n\ndef load(name):\n    return AutoModelForCausalLM.from_pretrained(name)\n"
    assert hits(repo({"model.py": code, **SERVICE}), "SAI601") == set()


def test_scripts_that_quantize_merge_or_export_are_not_serving(repo):
    merge = LOAD + "from peft import PeftModel\nmerged = PeftModel.from_pretrained(model, 'adapter').merge_and_unload()\n"
    quantize = LOAD + "model.quantize(tok, quant_config={'w_bit': 4})\n"
    export = LOAD + "model.save_pretrained('/out')\n"
    train = "from datasets import load_dataset\n" + TOKENIZE + "\n\nds = load_dataset('x').map(lambda r: prepare(r['text']))\n"
    result = repo({"merge.py": merge, "quantize.py": quantize, "export.py": export, "train.py": train, **SERVICE})
    assert hits(result, "SAI601") == set() and hits(result, "SAI503") == set()


def test_constants_stop_sequences_and_special_tokens_are_not_request_text(repo):
    code = '''from transformers import AutoTokenizer
STOP = "</s>"
tok = AutoTokenizer.from_pretrained("m")
newline = tok.encode("\\n")
stop_ids = tok.encode(STOP)


def stops(stop_sequences, request):
    a = [tok.encode(s) for s in stop_sequences]
    b = tok(request.stop)
    c = tok.encode(tok.eos_token)
    for seq in request.stop_words:
        tok.encode(seq)
    return a, b, c, tok(request.prompt)
'''
    assert hits(repo({"tokens.py": code, **SERVICE}), "SAI503") == {("SAI503", "tokens.py", 14)}


def test_a_module_that_counts_tokens_by_shape_or_numel_is_not_flagged(repo):
    shape = TOKENIZE.replace("    return tok(prompt)\n", "    ids = tok(prompt, return_tensors='pt').input_ids\n"
                             "    if ids.shape[-1] > 4096:\n        raise ValueError('too long')\n    return ids\n")
    numel = TOKENIZE.replace("    return tok(prompt)\n", "    enc = tok(prompt, return_tensors='pt').to('cuda')\n"
                             "    if enc['input_ids'].numel() > 4096:\n        raise ValueError('too long')\n    return enc\n")
    other = TOKENIZE.replace("    return tok(prompt)\n", "    if prompt.shape[-1] > 4096:\n        raise ValueError\n    return tok(prompt)\n")
    result = repo({"shape.py": shape, "numel.py": numel, "other.py": other, **SERVICE})
    assert hits(result, "SAI503") == {("SAI503", "other.py", 8)}  # the shape of the text is no token count


def test_a_web_app_beside_a_model_or_tokenizer_load_is_an_inference_service(repo):
    app = "from fastapi import FastAPI\nfrom ray import serve\napp = FastAPI()\n"
    result = repo({
        "serve.py": app + TOKENIZE.replace("from transformers", "\nfrom transformers"),
        "web/pyproject.toml": '[project]\nname = "web"\n', "web/app.py": app,
        "tools/pyproject.toml": '[project]\nname = "tools"\n', "tools/tokens.py": TOKENIZE,
    })
    assert hits(result, "SAI503") == {("SAI503", "serve.py", 10)}  # tools/ holds no web app


def test_a_kserve_model_server_is_a_web_app(repo):
    server = (
        "import kserve\nfrom transformers import AutoTokenizer\n\n\nclass Tok(kserve.Model):\n"
        "    def __init__(self):\n        self.tok = AutoTokenizer.from_pretrained('m')\n\n"
        "    def preprocess(self, payload):\n        return self.tok(payload['text'])\n\n\n"
        "kserve.ModelServer().start([Tok()])\n"
    )
    result = repo({"server.py": server, "offline/pyproject.toml": '[project]\nname = "x"\n', "offline/tok.py": TOKENIZE})
    assert hits(result, "SAI503") == {("SAI503", "server.py", 10)}
