/** The config loader: env interpolation, defaults, and errors that name the file, line and field. */
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, parseConfig } from '../../gateway/config/load-config.js';

describe('config loader', () => {
  it('gives embedded defaults without a file', () => {
    const c = defaultConfig();
    expect(c.server.host).toBe('127.0.0.1');
    expect(c.server.port).toBe(8080);
    expect(c.upstreams).toEqual([]);
  });

  it('interpolates ${ENV} and ${ENV:-default}', () => {
    const text = `upstreams:\n  - id: oa\n    url: \${BASE:-http://127.0.0.1:9999/v1}\n    api_key: \${KEY}\n    models: [m]\n`;
    const c = parseConfig(text, 'gw.yaml', { KEY: 'sk-secret' });
    expect(c.upstreams[0]!.api_key).toBe('sk-secret');
    expect(c.upstreams[0]!.url).toBe('http://127.0.0.1:9999/v1');
  });

  it('names a missing environment variable without revealing others', () => {
    expect(() => parseConfig('upstreams:\n  - id: a\n    url: http://x/v1\n    api_key: ${NOPE_KEY}\n    models: [m]\n', 'gw.yaml', {})).toThrow(
      /NOPE_KEY/,
    );
  });

  it('reports file, line and field of a schema violation', () => {
    const text = ['server:', '  port: 8080', 'upstreams:', '  - id: good', '    url: not-a-url', '    models: [m]', ''].join('\n');
    const err = (() => {
      try {
        parseConfig(text, 'gw.yaml', {});
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^gw\.yaml:5: upstreams\[0\]\.url: /);
  });

  it('rejects unknown fields and duplicate upstream ids with their lines', () => {
    expect(() => parseConfig('server:\n  prot: 1\n', 'a.yaml', {})).toThrow(/a\.yaml:2: server/);
    const dup = 'upstreams:\n  - id: x\n    url: http://a/v1\n    models: [m]\n  - id: x\n    url: http://b/v1\n    models: [n]\n';
    expect(() => parseConfig(dup, 'd.yaml', {})).toThrow(/d\.yaml:5: upstreams\[1\]\.id: duplicate upstream id 'x'/);
  });

  it('refuses settings that would fail every request or let every policy edit through, with their lines', () => {
    expect(() => parseConfig('masking:\n  session_header: "x session"\n', 'm.yaml', {})).toThrow(
      /m\.yaml:2: masking\.session_header: not an HTTP header name/,
    );
    const gate = 'records: { sink: none }\npolicies:\n  file: p.yaml\n  gate: new_zones\n';
    expect(() => parseConfig(gate, 'g.yaml', {})).toThrow(/g\.yaml:4: policies\.gate: new_zones replays recent records/);
    expect(() => parseConfig('policies:\n  file: p.yaml\n  replay_window_hours: 100000\n', 'w.yaml', {})).toThrow(
      /w\.yaml:3: policies\.replay_window_hours/,
    );
  });

  it('reports YAML syntax errors with a line', () => {
    expect(() => parseConfig('server:\n  port: [1,\n', 'bad.yaml', {})).toThrow(/bad\.yaml:\d+: invalid YAML/);
  });
});
