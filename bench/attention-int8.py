"""Would attention's own products in int8 raise int8 prefill's share of the int8 limit? Times the attention of
one prefill chunk (28 layers of the 0.6B shape, one after another) two ways in onnxruntime, alternating:

- float32, as the builder writes it: scores = Q·Kᵀ·α + mask, softmax, then P·V;
- int8 products with what run-time quantization costs: each query row quantized on its own scale (uint8 around
  128), keys and values stored int8 with one scale per position (as a cache quantized once, when written, would
  hold them), the scores as MatMulIntegerToFloat with the keys' scales per column, and P quantized per row to
  uint8 after the values' per-position scales are folded into its columns, then MatMulInteger.

Prints each variant's median, first and second in each pair separately (on the AMX machine of docs/performance.md,
whichever runs second in a pair is slower), and the int8 result's largest difference relative to float32.

    .venv-reference/bin/python bench/attention-int8.py --past 227 --chunk 112     # a 16-token prompt's chunk
    .venv-reference/bin/python bench/attention-int8.py --past 1024 --chunk 256

Offline tooling (the reference-models venv); nothing at run time or in `npm test` needs it.
"""

import argparse
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

LAYERS, KV_HEADS, GROUPS, HEAD_DIM = 28, 8, 2, 128


class Graph:
    """Nodes and constants of one model under construction."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.constants: list[onnx.TensorProto] = []

    def constant(self, name: str, value) -> str:
        self.constants.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes) -> str:
        domain = "com.microsoft" if op == "MatMulIntegerToFloat" else ""
        self.nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attributes))
        return output


def float_layer(graph: Graph, queries: str, prefix: str) -> str:
    scores = graph.node("Mul", [graph.node("MatMul", [queries, "keys_t"], prefix + "qk"), "alpha"], prefix + "scaled")
    probabilities = graph.node("Softmax", [graph.node("Add", [scores, "mask"], prefix + "masked")], prefix + "p", axis=-1)
    return graph.node("MatMul", [probabilities, "values"], prefix + "out")


def row_max(graph: Graph, tensor: str, prefix: str) -> str:
    largest = graph.node("ReduceMax", [graph.node("Abs", [tensor], prefix + "abs"), "last_axis"], prefix + "max", keepdims=1)
    return graph.node("Max", [largest, "tiny"], prefix + "max_or_tiny")


def to_uint8(graph: Graph, unit: str, steps: str, offset: str, prefix: str) -> str:
    """round(unit · steps) + offset as uint8; unit is a row divided by its largest magnitude."""
    rounded = graph.node("Round", [graph.node("Mul", [unit, steps], prefix + "steps")], prefix + "round")
    return graph.node("Cast", [graph.node("Add", [rounded, offset], prefix + "offset")], prefix + "u8", to=TensorProto.UINT8)


def int8_layer(graph: Graph, queries: str, prefix: str) -> str:
    query_max = row_max(graph, queries, prefix + "q_")
    query_unit = graph.node("Div", [queries, query_max], prefix + "q_unit")
    query_u8 = to_uint8(graph, query_unit, "c127", "c128", prefix + "q_")
    integer_scores = graph.node("MatMulIntegerToFloat", [query_u8, "keys_t_i8", "one", "key_scales", "zero_128", "zero_i8"], prefix + "qk")
    row_scale = graph.node("Mul", [query_max, "alpha_over_127"], prefix + "row_scale")
    scores = graph.node("Mul", [integer_scores, row_scale], prefix + "scaled")
    probabilities = graph.node("Softmax", [graph.node("Add", [scores, "mask"], prefix + "masked")], prefix + "p", axis=-1)
    weighted = graph.node("Mul", [probabilities, "value_scales"], prefix + "pv")
    weighted_max = row_max(graph, weighted, prefix + "p_")
    weighted_unit = graph.node("Div", [weighted, weighted_max], prefix + "p_unit")
    weighted_u8 = to_uint8(graph, weighted_unit, "c255", "c0", prefix + "p_")
    context = graph.node("Cast", [graph.node("MatMulInteger", [weighted_u8, "values_i8", "zero_0", "zero_i8"], prefix + "pv_i32")], prefix + "pv_f", to=TensorProto.FLOAT)
    return graph.node("Mul", [context, graph.node("Div", [weighted_max, "c255"], prefix + "out_scale")], prefix + "out")


def build(int8: bool, queries: int, positions: int) -> bytes:
    """LAYERS attentions in a chain (each layer's context is the next one's queries, so none can be merged)."""
    graph = Graph()
    for name, value in {"alpha": np.float32(HEAD_DIM**-0.5), "alpha_over_127": np.float32(HEAD_DIM**-0.5 / 127), "last_axis": np.array([-1], np.int64),
                        "tiny": np.float32(1e-30), "one": np.float32(1), "c0": np.float32(0), "c127": np.float32(127), "c128": np.float32(128),
                        "c255": np.float32(255), "zero_0": np.uint8(0), "zero_128": np.uint8(128), "zero_i8": np.int8(0)}.items():
        graph.constant(name, value)
    layer = int8_layer if int8 else float_layer
    output = "queries"
    for index in range(LAYERS):
        output = layer(graph, output, f"layer{index}/")
    rows = [KV_HEADS, GROUPS * queries]
    inputs = {"queries": (TensorProto.FLOAT, rows + [HEAD_DIM]), "mask": (TensorProto.FLOAT, [1, GROUPS * queries, positions])}
    if int8:
        inputs |= {"keys_t_i8": (TensorProto.INT8, [KV_HEADS, HEAD_DIM, positions]), "key_scales": (TensorProto.FLOAT, [KV_HEADS, 1, positions]),
                   "values_i8": (TensorProto.INT8, [KV_HEADS, positions, HEAD_DIM]), "value_scales": (TensorProto.FLOAT, [KV_HEADS, 1, positions])}
    else:
        inputs |= {"keys_t": (TensorProto.FLOAT, [KV_HEADS, HEAD_DIM, positions]), "values": (TensorProto.FLOAT, [KV_HEADS, positions, HEAD_DIM])}
    model = helper.make_model(
        helper.make_graph(graph.nodes, "attention", [helper.make_tensor_value_info(name, *spec) for name, spec in inputs.items()],
                          [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)], graph.constants),
        opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)])
    return model.SerializeToString()


def feeds(past: int, chunk: int) -> dict[bool, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    positions = past + chunk
    queries = rng.standard_normal((KV_HEADS, GROUPS * chunk, HEAD_DIM)).astype(np.float32)
    keys, values = (rng.standard_normal((KV_HEADS, positions, HEAD_DIM)).astype(np.float32) for _ in range(2))
    mask = np.zeros((1, GROUPS * chunk, positions), np.float32)
    for row in range(GROUPS * chunk):
        mask[0, row, past + row % chunk + 1:] = -np.inf
    key_scales, value_scales = (np.abs(tensor).max(-1) / 127 for tensor in (keys, values))
    keys_i8 = np.round(keys / key_scales[..., None]).astype(np.int8)
    return {
        False: {"queries": queries, "mask": mask, "keys_t": keys.transpose(0, 2, 1).copy(), "values": values},
        True: {"queries": queries, "mask": mask, "keys_t_i8": keys_i8.transpose(0, 2, 1).copy(), "key_scales": key_scales[:, None, :].astype(np.float32),
               "values_i8": np.round(values / value_scales[..., None]).astype(np.int8), "value_scales": value_scales[:, None, :].astype(np.float32)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--past", type=int, default=227, help="cached positions before the chunk")
    parser.add_argument("--chunk", type=int, default=112, help="queries in the chunk")
    parser.add_argument("--pairs", type=int, default=12, help="alternating pairs timed (the first two are warm-up)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.log_severity_level = 3
    sessions = {int8: ort.InferenceSession(build(int8, args.chunk, args.past + args.chunk), options, providers=["CPUExecutionProvider"]) for int8 in (False, True)}
    inputs = feeds(args.past, args.chunk)
    outputs = {int8: sessions[int8].run(None, inputs[int8])[0] for int8 in sessions}
    difference = np.abs(outputs[True] - outputs[False]).max() / np.abs(outputs[False]).max()

    timings: dict[tuple[bool, str], list[float]] = {(int8, place): [] for int8 in (False, True) for place in ("first", "second")}
    for pair in range(args.pairs):
        order = (False, True) if pair % 2 else (True, False)
        for place, int8 in zip(("first", "second"), order):
            start = time.perf_counter()
            sessions[int8].run(None, inputs[int8])
            if pair >= 2:
                timings[(int8, place)].append((time.perf_counter() - start) * 1000)

    print(f"{LAYERS} layers' attention, {args.chunk} queries after {args.past} cached positions, {args.threads} threads, onnxruntime {ort.__version__}")
    for int8 in (False, True):
        first, second = (np.median(timings[(int8, place)]) for place in ("first", "second"))
        print(f"  {'int8   ' if int8 else 'float32'} median {first:6.1f} ms run first in a pair, {second:6.1f} ms run second")
    print(f"  int8 against float32: largest difference {difference:.2e} of the largest output")


if __name__ == "__main__":
    main()
