import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createNodeLogger, resolveLogFormat } from './node-logger.js';

describe('log format', () => {
  it('is readable on a terminal and JSON otherwise, unless told', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('redacts credentials in JSON lines', () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString();
        done();
      },
    });
    createNodeLogger('info', sink).info({ api_key: 'sk-live-secret', model: 'm' }, 'hello');
    const line = JSON.parse(out) as { msg: string; api_key: string; model: string };
    expect(line).toMatchObject({ msg: 'hello', api_key: '[redacted]', model: 'm' });
  });
});
