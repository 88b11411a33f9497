/** One measured round of an in-process A/B: n unique chat requests at a fixed concurrency, CPU µs per request. */
import { Pool } from 'undici';

/** The virtual key the in-process benches configure (its sha256 goes into their configs). */
export const BENCH_API_KEY = 'sk-bench-switchyard-0123456789abcdef';
let seq = 0;

/**
 * Sends `n` unique chat completions (streamed when `stream`) to `url` + `path`, `concurrency` at a time, and returns
 * process.cpuUsage() per request: the client's share is the same for every arm, so differences are the server's.
 */
export async function cpuPerRequest(url: string, path: string, n: number, stream: boolean, concurrency = 16): Promise<number> {
  const pool = new Pool(url, { connections: concurrency });
  let next = 0;
  const c0 = process.cpuUsage();
  const worker = async () => {
    while (next++ < n) {
      const content = `measure the gateway overhead of one small chat completion request, id ${++seq}-${Math.random()}, for the side-by-side run`;
      const body = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content }], temperature: 0, stream });
      const r = await pool.request({
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
        body,
      });
      const text = await r.body.text();
      if (r.statusCode !== 200) throw new Error(`${url}: status ${r.statusCode}: ${text}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const c = process.cpuUsage(c0);
  await pool.close();
  return (c.user + c.system) / n;
}
