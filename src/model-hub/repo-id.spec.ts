import { isRepoId } from './repo-id';

describe('isRepoId', () => {
  it.each(['Qwen/Qwen3Guard-Gen-0.6B', 'onnx-community/Qwen3Guard-Gen-0.6B-ONNX', 'a/b', 'user_1/model.v2'])('accepts %s', (id) => {
    expect(isRepoId(id)).toBe(true);
  });

  it.each(['Qwen3Guard-Gen-0.6B', 'a/b/c', '/a', 'a/', 'a/../b', 'a/b--c', 'a/.b', 'a/b-', 'a b/c', `a/${'x'.repeat(97)}`])('refuses %s', (id) => {
    expect(isRepoId(id)).toBe(false);
  });
});
