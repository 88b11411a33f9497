/**
 * sseResponse sends events that are already available in one write (hot path): batching must keep every event, in
 * order, drop only the usage chunk the client did not ask for, put a mid-stream failure after the events before it,
 * and still send an event that becomes ready only later.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../gateway/core/errors.js';
import { ANONYMOUS } from '../../gateway/core/principal.js';
import type { RequestContext } from '../../gateway/core/request-context.js';
import { sseResponse } from '../../gateway/core/respond.js';
import { readyEventsOf } from '../../gateway/core/ready-events.js';

const ctx = (): RequestContext => ({
  id: 'r1',
  startedAt: Date.now(),
  endpoint: 'chat.completions',
  model: 'm',
  stream: true,
  status: 200,
  attempts: 0,
  principal: ANONYMOUS,
  headers: {},
});

async function readAll(res: Response): Promise<{ text: string; writes: number }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let writes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text, writes };
    writes++;
    text += decoder.decode(value, { stream: true });
  }
}

const chunk = (i: number) => JSON.stringify({ choices: [{ index: 0, delta: { content: `t${i}` } }] });
const usageOnly = JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } });

describe('SSE batching', () => {
  it('ready events leave together, in order, usage chunk dropped when not asked for, [DONE] last', async () => {
    async function* events() {
      for (let i = 0; i < 10; i++) yield chunk(i);
      yield usageOnly;
    }
    const c = ctx();
    let ended = false;
    const { text, writes } = await readAll(
      sseResponse(events(), c, { clientWantsUsage: false, abort: () => undefined, onEnd: () => (ended = true) }),
    );
    expect(text).toBe(`${Array.from({ length: 10 }, (_, i) => `data: ${chunk(i)}\n\n`).join('')}data: [DONE]\n\n`);
    expect(writes).toBeLessThan(10);
    expect(c.usage?.total_tokens).toBe(8);
    expect(ended).toBe(true);
  });

  it('an event that arrives later is still sent, and a failure follows the events before it', async () => {
    async function* events() {
      yield chunk(0);
      yield chunk(1);
      await new Promise((r) => setTimeout(r, 30));
      yield chunk(2);
      throw new GatewayError('upstream went away', { status: 502, code: 'upstream_error' });
    }
    const c = ctx();
    const { text } = await readAll(sseResponse(events(), c, { clientWantsUsage: true, abort: () => undefined, onEnd: () => undefined }));
    const lines = text.split('\n\n').filter(Boolean);
    expect(lines.slice(0, 3)).toEqual([0, 1, 2].map((i) => `data: ${chunk(i)}`));
    expect(lines[3]).toContain('upstream went away');
    expect(lines).toHaveLength(4);
    expect(c.errorCode).toBe('upstream_error');
  });

  it('a source that holds its events (ReadyEvents) is drained with plain calls: one write, [DONE] included', async () => {
    const c = ctx();
    const source = readyEventsOf([...Array.from({ length: 20 }, (_, i) => chunk(i)), usageOnly]);
    const { text, writes } = await readAll(sseResponse(source, c, { clientWantsUsage: true, abort: () => undefined, onEnd: () => undefined }));
    expect(text).toBe(`${Array.from({ length: 20 }, (_, i) => `data: ${chunk(i)}\n\n`).join('')}data: ${usageOnly}\n\ndata: [DONE]\n\n`);
    expect(writes).toBe(1);
  });
});
