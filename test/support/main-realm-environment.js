// Jest runs each test file in a vm context with its own Float32Array, BigInt64Array, ... onnxruntime's
// native binding creates output tensors with the main realm's typed arrays, and onnxruntime-common checks
// `data instanceof Float32Array` against the sandbox's: every run would fail with "A float32 tensor's
// data must be type of Float32Array". Sharing the main realm's typed arrays with the sandbox makes the
// two agree, so tests use onnxruntime-node exactly as production code does.
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class MainRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = MainRealmEnvironment;
