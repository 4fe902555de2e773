"""Adds an int8 variant to a model directory: onnx/model_quantized.onnx, from onnx/model.onnx.

onnxruntime's own dynamic quantization (weights of every MatMul to signed int8, per output channel;
activations quantized on the fly), the scheme optimum uses for its `model_quantized.onnx` exports. It is what
the CPU execution provider runs as MatMulInteger / DynamicQuantizeLinear, so the benchmark can measure a
quantized variant of the synthetic 0.6B model (`npm run bench -- --dtype quantized`).

    .venv-reference/bin/python tools/reference-models/quantize_int8.py models/qwen3guard-gen-0.6b-synthetic

Offline tooling: nothing at run time or in `npm test` needs it.
"""

import sys
from pathlib import Path

from onnxruntime.quantization import QuantType, quantize_dynamic


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: quantize_int8.py <model directory>")
    onnx_dir = Path(sys.argv[1]) / "onnx"
    source = onnx_dir / "model.onnx"
    target = onnx_dir / "model_quantized.onnx"
    if not source.exists():
        sys.exit(f"{source} does not exist: build or export the fp32 model first")
    quantize_dynamic(
        model_input=source,
        model_output=target,
        weight_type=QuantType.QInt8,
        per_channel=True,
        # The embedding is a Gather, not a MatMul: only MatMul weights are quantized.
        op_types_to_quantize=["MatMul"],
        use_external_data_format=True,
    )
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
