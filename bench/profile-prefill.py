"""Where one prefill chunk's time goes, by onnxruntime operator: the profile behind docs/performance.md's
"int8 prefill" line. Runs a model file with onnxruntime's own profiler on random ids after a random cache of
`past` tokens (the engine prefills long prompts in 256-token chunks), three runs, and prints each operator
type's share of the kernel time.

    .venv-reference/bin/python bench/profile-prefill.py models/qwen3guard-gen-0.6b-synthetic/onnx/model_quantized.onnx --past 1024 --chunk 256

Offline tooling (the reference-models venv, tools/reference-models/requirements.txt); nothing at run time or in `npm test` needs it.
"""

import argparse
import json
import os
import tempfile
from collections import defaultdict

import numpy as np
import onnxruntime as ort


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="an ONNX decoder with optimum-style inputs (input_ids, attention_mask, position_ids, past_key_values.*)")
    parser.add_argument("--past", type=int, default=1024, help="cached tokens before the chunk")
    parser.add_argument("--chunk", type=int, default=256, help="tokens in the chunk")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.enable_profiling = True
    options.intra_op_num_threads = args.threads
    options.profile_file_prefix = os.path.join(tempfile.gettempdir(), "profile-prefill")
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])

    rng = np.random.default_rng(0)
    total = args.past + args.chunk
    feeds = {
        "input_ids": rng.integers(1000, 5000, (1, args.chunk)).astype(np.int64),
        "attention_mask": np.ones((1, total), np.int64),
        "position_ids": np.arange(args.past, total, dtype=np.int64)[None],
    }
    for model_input in session.get_inputs():
        if model_input.name.startswith("past_key_values."):
            kv_heads, head_dim = model_input.shape[1], model_input.shape[3]
            feeds[model_input.name] = (rng.standard_normal((1, kv_heads, args.past, head_dim)) * 0.1).astype(np.float32)
    outputs = [output.name for output in session.get_outputs()]
    for _ in range(3):
        session.run(outputs, feeds)

    profile = session.end_profiling()
    with open(profile) as file:
        events = json.load(file)
    os.remove(profile)
    runs = [event["dur"] / 1000 for event in events if event.get("name") == "model_run"]
    by_operator: dict[str, float] = defaultdict(float)
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            by_operator[event["args"]["op_name"]] += event["dur"]
    kernel_time = sum(by_operator.values())
    print(f"{os.path.basename(args.model)}: {args.chunk} tokens after {args.past}, median run {np.median(runs):.0f} ms")
    for operator, duration in sorted(by_operator.items(), key=lambda item: -item[1]):
        print(f"  {operator:24s} {100 * duration / kernel_time:5.1f} %")


if __name__ == "__main__":
    main()
