/** The Worker's config checks: the same file:line: field errors as Node, and sections a Worker cannot honour refused by name. */
import { describe, expect, it } from 'vitest';
import worker from '../worker.js';
import { parseWorkerConfig } from './worker-config.js';
import { workerDeps } from './worker-deps.js';

const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} };
const UPSTREAM = 'upstreams:\n  - id: cloud\n    url: http://127.0.0.1:9/v1\n    models: [m]\n';

describe('Worker config', () => {
  it('names the var, line and field of a schema error', () => {
    expect(() => parseWorkerConfig('upstreams:\n  - id: cloud\n    url: nope\n    models: [m]\n', {}, true)).toThrow(
      /^SWITCHYARD_CONFIG:3: upstreams\[0\]\.url: /,
    );
  });

  it('reads ${NAME} from string bindings (secrets)', () => {
    const c = parseWorkerConfig(UPSTREAM.replace('models', 'api_key: ${KEY}\n    models'), { KEY: 'sk-1' }, true);
    expect(c.upstreams[0]?.api_key).toBe('sk-1');
    expect(() => parseWorkerConfig(UPSTREAM.replace('models', 'api_key: ${KEY}\n    models'), {}, true)).toThrow(
      /SWITCHYARD_CONFIG:4: environment variable KEY is not set/,
    );
  });

  it('refuses what a Worker cannot do, each by name', () => {
    const text = `${UPSTREAM}redis: { url: "redis://127.0.0.1:6379" }\ncache: { backend: redis }\nrecords: { sink: redis }\npolicies: { file: p.yaml }\nedge: { models: [{ id: e, path: ./m }] }\n`;
    const err = (() => {
      try {
        parseWorkerConfig(text, {}, true);
      } catch (e) {
        return String(e);
      }
      return '';
    })();
    for (const field of ['redis:', 'cache.backend:', 'records.sink:', 'policies.file:', 'edge.models:'])
      expect(err).toContain(`SWITCHYARD_CONFIG: ${field}`);
  });

  it('refuses to serve without keys unless told it is local dev', () => {
    expect(() => parseWorkerConfig(UPSTREAM, {}, false)).toThrow(/SWITCHYARD_CONFIG: keys: a deployed Worker is public/);
    expect(parseWorkerConfig(UPSTREAM, {}, true).keys).toEqual([]);
  });

  it('validates the bundled policy like a policy file: var:line: field', async () => {
    const env = {
      SWITCHYARD_CONFIG: UPSTREAM,
      SWITCHYARD_ALLOW_NO_KEYS: 'true',
      SWITCHYARD_POLICY: 'version: 1\nrules:\n  - id: r\n    route: [nowhere]\n',
    };
    await expect(workerDeps(env)).rejects.toThrow(/SWITCHYARD_POLICY:4: rules\[0\]\.route\[0\]: unknown upstream 'nowhere'/);
    await expect(workerDeps({ ...env, SWITCHYARD_POLICY: 'version: 1\nrules:\n  - id: r\n    route: 7\n' })).rejects.toThrow(
      /^SWITCHYARD_POLICY:4: rules\[0\]\.route/,
    );
  });

  it('a misconfigured Worker answers an OpenAI-shaped 500, and serves once the bindings are fixed', async () => {
    const req = () => new Request('http://w/v1/models');
    const bad = await worker.fetch(req(), { SWITCHYARD_CONFIG: 'server: [' }, ctx);
    expect(bad.status).toBe(500);
    expect(await bad.json()).toEqual({
      error: { message: expect.stringContaining('misconfigured'), type: 'server_error', param: null, code: 'internal_error' },
    });
    const good = await worker.fetch(req(), { SWITCHYARD_CONFIG: UPSTREAM, SWITCHYARD_ALLOW_NO_KEYS: 'true' }, ctx);
    expect(good.status).toBe(200);
    expect(((await good.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual(['m']);
  });
});
