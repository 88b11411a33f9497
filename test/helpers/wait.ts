/** Polls a condition against a deadline: tests wait for things this way, never with fixed sleeps. */

export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  opts: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const interval = opts.intervalMs ?? 20;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`waitUntil: timed out after ${opts.timeoutMs ?? 10_000} ms${opts.message ? `: ${opts.message}` : ''}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
