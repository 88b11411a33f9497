/**
 * The dashboard as a user meets it, in real headless Chromium: a single destination with a tiny cost still shows a
 * whole bar, the doughnut has no axes, the time range and auto-refresh work, the savings line and a totals row show,
 * and a keyed deployment signs in with an admin key for an HttpOnly session cookie.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../gateway/auth/key-hash.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN = 'sk-sy-dashboard-admin-key-000000000';
const USER = 'sk-sy-dashboard-user-key-0000000000';
let fake: FakeOpenAI;
let gw: TestGateway;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`npm run test:setup\` (installs Debian's chromium)`);
  fake = await startFakeOpenAI();
  gw = await startTestGateway({
    records: { sink: 'jsonl', dir: mkdtempSync(join(tmpdir(), 'sy-dash-ux-')) },
    // A price so small that one request costs well under $0.0001 (it printed as 0.0000 before).
    prices: { models: { 'gpt-a': { input_per_m: 0.01, output_per_m: 0.02 } } },
    upstreams: [{ id: 'onlycloud', url: fake.url, models: ['gpt-a'] }],
    keys: [
      { id: 'admin', sha256: await sha256Hex(ADMIN), role: 'admin' },
      { id: 'user', sha256: await sha256Hex(USER) },
    ],
  });
  const client = new (await import('openai')).default({ baseURL: gw.baseURL, apiKey: USER, maxRetries: 0 });
  for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'gpt-a', messages: [{ role: 'user', content: `q ${i}` }] });
  browser = await chromium.launch({
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
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await gw?.shutdown();
  await fake?.close();
});

describe('dashboard in Chromium', () => {
  it('signs in with an admin key for an HttpOnly session cookie, and refuses others', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const first = await page.goto(`${gw.url}/dashboard?since=6h`);
      expect(first!.status()).toBe(401);
      await page.fill('#key', USER);
      await page.click('button[type=submit]');
      expect(await page.textContent('.err')).toBe('That key is not an admin key.');
      await page.fill('#key', 'sk-sy-wrong');
      await page.click('button[type=submit]');
      expect(await page.textContent('.err')).toBe('Unknown key.');
      await page.fill('#key', ADMIN);
      await page.click('button[type=submit]');
      await page.waitForFunction(() => document.querySelectorAll('#dest tr').length > 2, undefined, { timeout: 30_000 });
      expect(new URL(page.url()).searchParams.get('since')).toBe('6h');
      const cookies = await context.cookies();
      expect(cookies).toHaveLength(1);
      expect(cookies[0]).toMatchObject({ name: 'switchyard_dashboard', httpOnly: true, sameSite: 'Strict', path: '/dashboard' });
      expect(await page.evaluate(() => document.cookie)).toBe('');
      // Without the cookie, the data stays closed.
      expect((await fetch(`${gw.url}/dashboard/data.json`)).status).toBe(401);
      // Signing out ends the session: the next visit asks again.
      await page.click('#signout');
      await page.waitForSelector('#key');
      expect(await context.cookies()).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('draws a single tiny cost as a whole bar, no doughnut axes, totals and savings, time range and refresh', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, extraHTTPHeaders: { authorization: `Bearer ${ADMIN}` } });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      const dataRequests: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/dashboard/data.json')) dataRequests.push(new URL(r.url()).searchParams.get('since') ?? '');
      });
      await page.goto(`${gw.url}/dashboard?since=24h&refresh=2`);
      await page.waitForFunction(() => document.querySelectorAll('#dest tr').length > 2, undefined, { timeout: 30_000 });
      expect(await page.inputValue('#since')).toBe('24h');
      expect(dataRequests[0]).toBe('24h');

      const geometry = await page.evaluate(() => {
        interface ChartLike {
          chartArea: { left: number; right: number; top: number; bottom: number };
          scales: Record<string, unknown>;
          getDatasetMeta(i: number): { data: Array<{ x: number; y: number; base: number; width: number }> };
        }
        const Chart = (window as unknown as { Chart: { getChart(id: string): ChartLike } }).Chart;
        const cost = Chart.getChart('cost');
        const bar = cost.getDatasetMeta(0).data[0]!;
        return {
          area: cost.chartArea,
          bar: { x: bar.x, y: bar.y, base: bar.base, width: bar.width },
          mixScales: Object.keys(Chart.getChart('mix').scales),
        };
      });
      // The one cost bar lies wholly inside the plot (not cut in half at an edge) and has a visible height.
      expect(geometry.bar.x - geometry.bar.width / 2).toBeGreaterThanOrEqual(geometry.area.left - 0.5);
      expect(geometry.bar.x + geometry.bar.width / 2).toBeLessThanOrEqual(geometry.area.right + 0.5);
      expect(geometry.bar.width).toBeGreaterThan(20);
      expect(geometry.bar.base - geometry.bar.y).toBeGreaterThan(50);
      expect(geometry.mixScales).toEqual([]);
      // And the pixels agree: the cost colour (#f59e0b) fills a real area of the canvas.
      const orange = await page.evaluate(() => {
        const c = document.getElementById('cost') as HTMLCanvasElement;
        const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
        let n = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i] === 0xf5 && data[i + 1] === 0x9e && data[i + 2] === 0x0b) n++;
        return n;
      });
      expect(orange).toBeGreaterThan(2000);

      expect(await page.textContent('#savings')).toMatch(/^saved 0\.0% \(\$0\) vs all-cloud \(\$0\.000\d+\); spent \$0\.000\d+$/);
      const rows = await page.$$eval('#dest tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
      expect(rows[0]).toContain('latency p95 (ms)');
      expect(rows.at(-1)![0]).toBe('total');
      expect(rows.at(-1)![1]).toBe('3');
      expect(rows[1]![8]).toMatch(/^0\.000\d+$/); // cost with significant digits, not 0.0000

      await page.selectOption('#since', '7d');
      await page.waitForFunction(() => new URL(location.href).searchParams.get('since') === '7d');
      // Auto-refresh fetches again on its own (2 s here).
      const before = dataRequests.length;
      await expect.poll(() => dataRequests.length, { timeout: 15_000, interval: 200 }).toBeGreaterThan(before + 1);
      expect(dataRequests.at(-1)).toBe('7d');
      expect(problems).toEqual([]);
      mkdirSync('test-output', { recursive: true });
      await page.screenshot({ path: 'test-output/dashboard-single-destination.png', fullPage: true });
    } finally {
      await context.close();
    }
  }, 120_000);
});
