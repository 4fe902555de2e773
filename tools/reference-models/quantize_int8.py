"""Adds an int8 variant to a model directory: onnx/model_quantized.onnx, from onnx/model.onnx.

onnxruntime's own dynamic quantization: the weights of every MatMul to signed int8, per output channel,
activations quantized on the fly (what the CPU execution provider runs as DynamicQuantizeLinear +
MatMulInteger). That is the scheme of optimum's `model_quantized.onnx` exports, so the benchmark can measure a
quantized variant of the synthetic 0.6B model (`npm run bench -- --dtype quantized`).

Qwen3-0.6B ties its LM head to the token embedding: one initializer feeds the embedding's Gather and the
head's Gemm (transB). Quantized as is, the shared initializer comes out in the layout of one user and breaks
the other (onnxruntime then refuses the model: "Node (/model/layers.0/Add) Incompatible dimensions"). So the
head is untied first: it gets its own transposed copy of the embedding as a MatMul weight, which is quantized
like every other MatMul, while the Gather keeps the float32 table.

    .venv-reference/bin/python tools/reference-models/quantize_int8.py models/qwen3guard-gen-0.6b-synthetic

Offline tooling: nothing at run time or in `npm test` needs it.
"""

import sys
import tempfile
from pathlib import Path

import onnx
from onnx import helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic


def untie_lm_head(model: onnx.ModelProto) -> None:
    """Gives a Gemm(transB=1) that reads a Gather's table its own [hidden, vocab] MatMul weight, on the 3-D state."""
    graph = model.graph
    tables = {node.input[0] for node in graph.node if node.op_type == "Gather"}
    initializers = {init.name: init for init in graph.initializer}
    for index, node in enumerate(graph.node):
        if node.op_type != "Gemm" or len(node.input) != 2 or node.input[1] not in tables:
            continue
        attributes = {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}
        if attributes.get("transB") != 1 or attributes.get("transA", 0) != 0 or attributes.get("alpha", 1.0) != 1.0:
            sys.exit(f"{node.name}: a tied head this script does not know how to untie ({attributes})")
        table = numpy_helper.to_array(initializers[node.input[1]])
        head_name = "lm_head.weight"
        graph.initializer.append(numpy_helper.from_array(table.T.copy(), head_name))
        # MatMul takes the [batch, sequence, hidden] state itself, as optimum's exports do, so the activation
        # quantizer sits on the sequence axis too (the engine's logits_to_keep slices the head's input there).
        rows = next((n for n in graph.node if n.op_type == "Reshape" and n.output[0] == node.input[0]), None)
        hidden = rows.input[0] if rows is not None else node.input[0]
        untied = helper.make_node("MatMul", [hidden, head_name], list(node.output), name=node.name.replace("Gemm", "MatMul"))
        graph.node.remove(node)
        graph.node.insert(index, untied)
        if rows is not None and not any(rows.output[0] in n.input for n in graph.node):
            graph.node.remove(rows)
        print(f"untied {node.name}: {head_name} {list(table.T.shape)}")
        return
    print("no tied head found: quantizing as is")


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: quantize_int8.py <model directory>")
    onnx_dir = Path(sys.argv[1]) / "onnx"
    source = onnx_dir / "model.onnx"
    target = onnx_dir / "model_quantized.onnx"
    if not source.exists():
        sys.exit(f"{source} does not exist: build or export the fp32 model first")
    model = onnx.load(source)
    untie_lm_head(model)
    with tempfile.TemporaryDirectory() as scratch:
        untied = Path(scratch) / "model.onnx"
        onnx.save(model, untied, save_as_external_data=True, location="model.onnx_data")
        del model
        quantize_dynamic(
            model_input=untied,
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
