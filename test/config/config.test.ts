import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, helpText, loadConfig, SETTINGS } from '../../src/config/config.js';

describe('configuration from flags and environment', () => {
  it('has the documented defaults', () => {
    expect(loadConfig([], {})).toEqual({ help: false, config: DEFAULT_CONFIG });
    expect(DEFAULT_CONFIG).toMatchObject({ port: 1026, dataDir: './data', store: 'embedded', logLevel: 'info' });
  });
  it('reads flags in both forms, environment, and lets flags win', () => {
    const r = loadConfig(['--port', '1030', '--data-dir=/tmp/x'], { MUSUBI_PORT: '2000', MUSUBI_LOG_LEVEL: 'debug' });
    expect(r.help === false && r.config).toMatchObject({ port: 1030, dataDir: '/tmp/x', logLevel: 'debug' });
  });
  it('reads on/off switches', () => {
    const r = loadConfig(['--history', 'off'], {});
    expect(r.help === false && r.config.history).toBe(false);
    expect(() => loadConfig([], { MUSUBI_HISTORY: 'maybe' })).toThrow(/MUSUBI_HISTORY must be one of on, off/);
  });
  it('names the setting and the problem for a bad value', () => {
    expect(() => loadConfig(['--port', 'abc'], {})).toThrow(/--port must be a whole number, got "abc"/);
    expect(() => loadConfig([], { MUSUBI_PORT: '70000' })).toThrow(/MUSUBI_PORT must be between 0 and 65535/);
    expect(() => loadConfig(['--store', 'oracle'], {})).toThrow(/--store must be one of/);
    expect(() => loadConfig(['--nope'], {})).toThrow(/unknown option "--nope"/);
    expect(() => loadConfig(['--port'], {})).toThrow(/needs a value/);
  });
  it('lists every setting in --help', () => {
    expect(loadConfig(['--help'], {})).toEqual({ help: true });
    for (const s of SETTINGS) expect(helpText()).toContain(s.flag);
  });
});
