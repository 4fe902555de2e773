import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HUB_ENDPOINT } from '../model-hub/hub-settings';
import { hubCacheDir, hubSettingsFrom } from './hub-config';

describe('hubSettingsFrom', () => {
  let home: string;

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'qwen3guard-hf-home-'));
  });

  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("finds the cache as huggingface_hub does: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, $HF_HOME/hub, XDG, ~/.cache", () => {
    expect(hubCacheDir({ HF_HUB_CACHE: '/a', HUGGINGFACE_HUB_CACHE: '/b', HF_HOME: '/c' })).toBe('/a');
    expect(hubCacheDir({ HUGGINGFACE_HUB_CACHE: '/b', HF_HOME: '/c' })).toBe('/b');
    expect(hubCacheDir({ HF_HOME: '/c', XDG_CACHE_HOME: '/x' })).toBe(join('/c', 'hub'));
    expect(hubCacheDir({ XDG_CACHE_HOME: '/x' })).toBe(join('/x', 'huggingface', 'hub'));
    expect(hubCacheDir({ HF_HUB_CACHE: ' ', XDG_CACHE_HOME: '' })).toBe(join(homedir(), '.cache', 'huggingface', 'hub'));
  });

  it('defaults to the public Hub, online, without a token', () => {
    expect(hubSettingsFrom({ HF_HOME: home })).toEqual({ cacheDir: join(home, 'hub'), endpoint: DEFAULT_HUB_ENDPOINT, token: undefined, offline: false });
  });

  it('takes a mirror from HF_ENDPOINT, without its trailing slash', () => {
    expect(hubSettingsFrom({ HF_HOME: home, HF_ENDPOINT: 'https://hf-mirror.example/ ' }).endpoint).toBe('https://hf-mirror.example');
  });

  it.each(['1', 'ON', 'yes', 'True'])('reads HF_HUB_OFFLINE=%s as offline', (flag) => {
    expect(hubSettingsFrom({ HF_HOME: home, HF_HUB_OFFLINE: flag }).offline).toBe(true);
  });

  it.each(['0', 'off', 'false', ''])('reads HF_HUB_OFFLINE=%j as online', (flag) => {
    expect(hubSettingsFrom({ HF_HOME: home, HF_HUB_OFFLINE: flag }).offline).toBe(false);
  });

  it('uses HF_TOKEN, else the token huggingface-cli login saved under HF_HOME or at HF_TOKEN_PATH', () => {
    writeFileSync(join(home, 'token'), 'hf_saved\n');
    const elsewhere = join(home, 'other-token');
    writeFileSync(elsewhere, 'hf_elsewhere');
    expect(hubSettingsFrom({ HF_HOME: home, HF_TOKEN: 'hf_env' }).token).toBe('hf_env');
    expect(hubSettingsFrom({ HF_HOME: home }).token).toBe('hf_saved');
    expect(hubSettingsFrom({ HF_HOME: home, HF_TOKEN_PATH: elsewhere }).token).toBe('hf_elsewhere');
  });
});
