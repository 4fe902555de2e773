import { ort } from './onnxruntime';

describe('onnxruntime-node through the project entry', () => {
  it('keeps float16 tensor data as Uint16Array bit patterns, which the native binding reads', () => {
    const bits = new Uint16Array([0x3c00, 0xc000]); // 1.0 and -2.0
    const tensor = new ort.Tensor('float16', bits, [2]);
    expect(tensor.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(tensor.data)).toEqual([0x3c00, 0xc000]);
  });

  it('leaves the global Float16Array as the runtime defines it', () => {
    const runtimeHasIt = Number(process.versions.node.split('.')[0]) >= 24;
    expect(typeof (globalThis as { Float16Array?: unknown }).Float16Array).toBe(runtimeHasIt ? 'function' : 'undefined');
  });
});
