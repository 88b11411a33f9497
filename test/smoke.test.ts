/** Runs the README's first command as a user would: start, wait for /readyz, one request, SIGTERM, clean exit. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitUntil } from './helpers/wait.js';
import { freePort } from './helpers/free-port.js';

describe('README first command', () => {
  it('starts on embedded defaults, answers, and stops on SIGTERM', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const first = /```bash\n([^\n]+)\n```/.exec(readme)?.[1];
    expect(first).toBe('npm ci && npm start');
    const port = await freePort();
    // `npm ci` already ran (CI did it); run the start half exactly as the README says, on a free port.
    const child = spawn('npm', ['start', '--', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      await waitUntil(
        async () => {
          const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
          return r?.status === 200;
        },
        { timeoutMs: 240_000, intervalMs: 250 },
      );
      const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { object: string; data: Array<{ id: string }> };
      expect(models.object).toBe('list');
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: models.data[0]?.id ?? 'none', messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 }),
      });
      // The embedded default serves a small built model on the edge.
      expect(models.data.map((m) => m.id)).toContain('switchyard-tiny');
      expect(res.status).toBe(200);
      const body = (await res.json()) as { choices: Array<{ finish_reason: string }>; usage: { completion_tokens: number } };
      expect(body.usage.completion_tokens).toBeGreaterThan(0);
      expect(body.usage.completion_tokens).toBeLessThanOrEqual(4);
    } finally {
      // SIGTERM to the whole process group, as a terminal's Ctrl-C or a process manager does (npm does not forward it).
      process.kill(-child.pid!, 'SIGTERM');
    }
    const { code, signal } = await exited;
    // npm itself may die of the forwarded signal; the gateway under it must have drained and exited cleanly.
    expect(code === 0 || signal === 'SIGTERM').toBe(true);
    await waitUntil(() => out.includes('shutdown complete'), { timeoutMs: 20_000 });
    expect(out).not.toMatch(/Error|ERR_/);
    const after = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => 'refused');
    expect(after).toBe('refused');
  }, 300_000);
});
