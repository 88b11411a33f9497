/** The report page in real headless Chromium (Debian's package, driven by playwright-core), and /metrics. */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const CHROMIUM = '/usr/bin/chromium';
let fake: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  gw = await startTestGateway({
    records: { sink: 'jsonl', dir: mkdtempSync(join(tmpdir(), 'sy-dash-')) },
    resilience: { retries: 0 },
    prices: { models: { 'gpt-a': { input_per_m: 5, output_per_m: 15 } } },
    upstreams: [{ id: 'fakecloud', url: fake.url, models: ['gpt-a', 'gpt-b'] }],
  });
  for (let i = 0; i < 10; i++)
    await gw.client.chat.completions.create({ model: i % 3 ? 'gpt-a' : 'gpt-b', messages: [{ role: 'user', content: `req ${i}` }] });
  fake.setFault({ status: 500, times: 2 });
  for (let i = 0; i < 2; i++)
    await gw.client.chat.completions.create({ model: 'gpt-a', messages: [{ role: 'user', content: 'fail' }] }).catch(() => undefined);
});
afterAll(async () => {
  await gw?.shutdown();
  await fake?.close();
});

describe('dashboard and metrics', () => {
  it('exposes Prometheus metrics for requests, errors and latency', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toMatch(/switchyard_requests_total\{destination="fakecloud",model="gpt-a",status="200"\} \d+/);
    expect(text).toMatch(/switchyard_errors_total\{destination="fakecloud",model="gpt-a",code="upstream_error"\} 2/);
    expect(text).toContain('switchyard_request_duration_ms_bucket');
    expect(text).toMatch(/switchyard_breaker_state\{upstream="fakecloud"\} 0/);
  });

  it('renders its charts in headless Chromium with data from this run and no console errors', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`npm run test:setup\` (installs Debian's chromium)`);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${gw.url}/dashboard`);
      await page.waitForFunction(() => document.querySelectorAll('#dest tr').length > 1, undefined, { timeout: 30_000 });
      expect(await page.textContent('#sub')).toMatch(/^12 requests/);
      const painted = await page.evaluate(() =>
        [...document.querySelectorAll('canvas')].map((c) => {
          const ctx = (c as HTMLCanvasElement).getContext('2d')!;
          const { data } = ctx.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height);
          let n = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
          return n;
        }),
      );
      expect(painted).toHaveLength(4);
      for (const n of painted) expect(n).toBeGreaterThan(100);
      expect(problems).toEqual([]);
      mkdirSync('test-output', { recursive: true });
      await page.screenshot({ path: 'test-output/dashboard.png', fullPage: true });
    } finally {
      await browser.close();
    }
  }, 120_000);
});
