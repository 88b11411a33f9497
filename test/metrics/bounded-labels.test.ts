/**
 * /metrics labels come only from configured names: 10,000 random model names (NUL bytes, quotes, newlines, unicode,
 * 2 KB names, one 1 MB name) leave the series set and the size of /metrics unchanged, and the exposition stays valid.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let fake: FakeOpenAI;
let gw: TestGateway;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  gw = await startTestGateway({ upstreams: [{ id: 'fakecloud', url: fake.url, models: ['gpt-a'] }] });
});
afterAll(async () => {
  await gw?.shutdown();
  await fake?.close();
});

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n\\u0000-\\u001f]|\\\\["\\\\n])*"';
const SAMPLE = new RegExp(
  `^(${METRIC_NAME})(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE})(?:,[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE})*\\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$`,
);

/** Checks the text exposition line by line (HELP/TYPE/sample grammar); returns the series (name + labels) it holds. */
function parseExposition(text: string): string[] {
  const series: string[] = [];
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      expect(line).toMatch(new RegExp(`^# (HELP|TYPE) ${METRIC_NAME} `));
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`invalid exposition line: ${JSON.stringify(line.slice(0, 200))}`);
    series.push(`${m[1]}${m[2] ?? ''}`);
  }
  return series;
}

/** The gateway's own series, without prom-client's default process/nodejs metrics. */
const ours = (series: string) =>
  series.startsWith('switchyard_') && !series.startsWith('switchyard_process_') && !series.startsWith('switchyard_nodejs_');
const ownBytes = (text: string) =>
  text
    .split('\n')
    .filter((l) => ours(l.replace(/^# (HELP|TYPE) /, '')))
    .join('\n').length;

function randomModelName(i: number): string {
  const kinds = [
    () => `model-${randomBytes(6).toString('hex')}`,
    () => `nul\u0000byte-${i}`,
    () => `quote"back\\slash\nnewline-${i}`,
    () => `ünïcødé-模型-${i}-🚀`,
    () => 'x'.repeat(2 * 1024) + i,
    () => `gpt-a${i}`,
  ];
  return kinds[i % kinds.length]!();
}

async function sendAll(names: string[], concurrency = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const model = names[next++]!;
      const r = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      await r.text();
      expect(r.status).toBe(404);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

describe('bounded metric labels', () => {
  it('keeps /metrics the same size and series set under 10,000 unknown model names', async () => {
    // One known request and a few unknown ones first, so every series that will ever exist exists.
    await gw.client.chat.completions.create({ model: 'gpt-a', messages: [{ role: 'user', content: 'hi' }] });
    await sendAll(Array.from({ length: 12 }, (_, i) => randomModelName(i)));
    const before = await fetch(`${gw.url}/metrics`).then((r) => r.text());
    const seriesBefore = parseExposition(before).filter(ours);

    // The worst case: a 1 MB model name once grew /metrics by 18 MB for the life of the process.
    await sendAll(['m'.repeat(1024 * 1024), ...Array.from({ length: 10_000 }, (_, i) => randomModelName(i))]);

    const after = await fetch(`${gw.url}/metrics`).then((r) => r.text());
    const seriesAfter = parseExposition(after).filter(ours);
    expect(seriesAfter).toEqual(seriesBefore);
    // The gateway's own lines differ only by counter digits; the process metrics (heap, GC) move on their own.
    expect(Math.abs(ownBytes(after) - ownBytes(before))).toBeLessThan(200);
    expect(after.length).toBeLessThan(before.length + 5_000);
    expect(after).not.toContain('\u0000');
    expect(after).not.toContain('model-');
    expect(after).toMatch(/switchyard_requests_total\{destination="none",model="other",status="404"\} 10013/);
    expect(after).toMatch(/switchyard_requests_total\{destination="fakecloud",model="gpt-a",status="200"\} 1/);
    // Default process metrics carry our prefix once.
    expect(after).toContain('switchyard_process_cpu_user_seconds_total');
    expect(after).not.toContain('switchyard_process_process_');
  }, 300_000);
});
