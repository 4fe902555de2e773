import * as ort from 'onnxruntime-node';

/**
 * onnxruntime-node, with float16 tensor data kept in Uint16Array on every Node.js release.
 *
 * Why: onnxruntime-common fills its tensor type table once, on the first tensor built, and maps float16 to
 * `Float16Array` where the global exists (Node.js 24 and later). onnxruntime-node's native binding (1.30) then
 * reads such an input as zero bytes ("not enough space: expected N, got 0"): the open upstream issue
 * microsoft/onnxruntime#32323. Building that first tensor while `Float16Array` is hidden makes the table use
 * Uint16Array, the bit patterns `float16.ts` reads and writes, which every release of the binding accepts.
 * Import onnxruntime-node's values from here only (type-only imports may name the package).
 */
function keepFloat16InUint16Array(): void {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'Float16Array');
  if (descriptor) delete (globalThis as { Float16Array?: unknown }).Float16Array;
  try {
    new ort.Tensor('float32', new Float32Array(0), [0]);
  } finally {
    if (descriptor) Object.defineProperty(globalThis, 'Float16Array', descriptor);
  }
  // The table is filled once per realm: if anything built a tensor before this module ran, say so at load.
  if (!(new ort.Tensor('float16', new Uint16Array(1), [1]).data instanceof Uint16Array)) {
    throw new Error(
      'onnxruntime-common already maps float16 to Float16Array: import onnxruntime-node through src/inference/runtime/onnxruntime.ts before anything builds a tensor',
    );
  }
}

keepFloat16InUint16Array();

export { ort };
