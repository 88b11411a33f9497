/**
 * A bounded soak against `switchyard serve` as a user runs it (the default edge model, a policy with detectors and a
 * spend budget): N clients send JSON and streamed requests back to back, one request in 7 is a stream abandoned after
 * its first chunk. The gateway's RSS (from /proc) and heap (from /metrics) are sampled over time; the verdict compares
 * RSS at the end with RSS at 60 s (the bar: at most +10%).
 *
 *   npm run bench:soak                      # 180 s
 *   BENCH_SOAK_S=600 npm run bench:soak     # the 10-minute soak
 *   BENCH_SOAK_CLIENTS=8 BENCH_SOAK_SAMPLE_S=10
 *   BENCH_SOAK_UPSTREAM=fake                # the edge off, a fake cloud in its own process: the gateway alone
 *   BENCH_SOAK_SNAPSHOTS=60,300,590         # main-thread heap snapshots at these seconds (then: bench/lib/heap-diff.mjs)
 *   BENCH_SOAK_NODE_FLAGS="--max-semi-space-size=32"   # extra node/V8 flags for the gateway (experiments)
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { cpuMicros, startFakeUpstreamProcess, startGatewayProcessWith } from './lib/processes.js';
import { printTable, writeResults, type Row } from './lib/report.js';

const DURATION_S = Number(process.env['BENCH_SOAK_S'] ?? 180);
const CLIENTS = Number(process.env['BENCH_SOAK_CLIENTS'] ?? 8);
const SAMPLE_S = Number(process.env['BENCH_SOAK_SAMPLE_S'] ?? 10);
const BASELINE_S = 60;
const FAKE = process.env['BENCH_SOAK_UPSTREAM'] === 'fake';
const NODE_FLAGS = (process.env['BENCH_SOAK_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
const SNAPSHOTS_AT = (process.env['BENCH_SOAK_SNAPSHOTS'] ?? '')
  .split(',')
  .filter((s) => s.trim() !== '')
  .map(Number);

/** Resident set size of a process in MB (VmRSS from /proc). */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A few process gauges from the gateway's own /metrics (prom-client default metrics). */
async function heapMb(url: string): Promise<{ heapUsed: number; external: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? NaN) / 1024 / 1024;
  return { heapUsed: read('switchyard_process_nodejs_heap_size_used_bytes'), external: read('switchyard_process_nodejs_external_memory_bytes') };
}

/** One thread's V8 heap as bench/lib/memory-probe.mjs last wrote it (MB); the engine worker's is `worker-*`. */
function threadHeapMb(probe: string, thread: 'main' | 'worker'): { heapUsed: number; heapTotal: number; external: number } {
  const dir = dirname(probe);
  const name = readdirSync(dir).find((f) => f.startsWith(`${basename(probe)}.${thread}`) && f.endsWith('.json'));
  try {
    const m = JSON.parse(readFileSync(join(dir, name ?? '-'), 'utf8')) as { heapUsed: number; heapTotal: number; external: number };
    return { heapUsed: m.heapUsed / 1024 / 1024, heapTotal: m.heapTotal / 1024 / 1024, external: m.external / 1024 / 1024 };
  } catch {
    return { heapUsed: NaN, heapTotal: NaN, external: NaN };
  }
}

interface Counts {
  ok: number;
  abandoned: number;
  errors: number;
  statuses: Record<string, number>;
}

async function client(url: string, model: string, until: number, counts: Counts, seq: { n: number }): Promise<void> {
  while (Date.now() < until) {
    const n = seq.n++;
    const abandon = n % 7 === 6;
    const stream = abandon || n % 2 === 0;
    const ac = new AbortController();
    try {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // Varying prompts: the prefix cache, detectors and the result cache (temperature 0 on some) all see new text.
        body: JSON.stringify({
          model,
          messages: [{ role: 'user', content: `soak request ${n}: ${'lorem ipsum '.repeat(n % 13)}` }],
          max_tokens: 24,
          stream,
          temperature: n % 5 === 0 ? 0 : 0.7,
        }),
        signal: ac.signal,
      });
      if (!res.ok) {
        counts.errors++;
        counts.statuses[res.status] = (counts.statuses[res.status] ?? 0) + 1;
        await res.text();
        continue;
      }
      if (abandon) {
        const reader = res.body!.getReader();
        await reader.read(); // the first chunk, then the client goes away
        ac.abort();
        counts.abandoned++;
        continue;
      }
      await res.text();
      counts.ok++;
    } catch (err) {
      if (ac.signal.aborted) continue;
      counts.errors++;
      counts.statuses['network'] = (counts.statuses['network'] ?? 0) + 1;
      void err;
    }
  }
}

async function main(): Promise<void> {
  const policy = join(tmpdir(), `switchyard-soak-policy-${process.pid}.yaml`);
  writeFileSync(
    policy,
    ['version: 1', 'tags:', '  pii: { route: edge-only }', 'budgets:', '  - { id: soak, scope: key, match: "*", day_usd: 1000000 }', ''].join('\n'),
  );
  console.log(
    `soak: ${DURATION_S} s, ${CLIENTS} clients, sampling every ${SAMPLE_S} s; starting the gateway (builds the default edge model once)...`,
  );
  const probe = join(tmpdir(), `switchyard-soak-memory-${process.pid}`);
  const snapshotDir = join(tmpdir(), `switchyard-soak-snapshots-${process.pid}`);
  if (SNAPSHOTS_AT.length > 0) {
    mkdirSync(snapshotDir, { recursive: true });
    console.log(`heap snapshots at ${SNAPSHOTS_AT.join(', ')} s into ${snapshotDir}`);
  }
  const fake = FAKE ? await startFakeUpstreamProcess() : undefined;
  const gw = await startGatewayProcessWith(
    (port) =>
      [
        `server: { port: ${port} }`,
        ...(fake ? ['edge: { enabled: false }', `upstreams: [{ id: cloud, url: "${fake.url}", models: [soak-model] }]`] : []),
        'logging: { level: warn }',
        'records: { sink: none }',
        `policies: { file: "${policy}" }`,
        'prices: { edge_per_m: 0.1 }',
        '',
      ].join('\n'),
    [
      '--import',
      './bench/lib/memory-probe.mjs',
      // SIGUSR2 writes a heap snapshot of the main thread (it forces a full GC first) into the snapshot directory.
      ...(SNAPSHOTS_AT.length > 0 ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : []),
      ...NODE_FLAGS,
    ],
    { MEMORY_PROBE_FILE: probe },
    600_000,
  );
  const pid = gw.child.pid!;
  try {
    const models = (await (await fetch(`${gw.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    const model = models.data[0]!.id;
    const counts: Counts = { ok: 0, abandoned: 0, errors: 0, statuses: {} };
    const started = Date.now();
    const cpuStart = cpuMicros(pid);
    const until = started + DURATION_S * 1000;
    const seq = { n: 0 };
    const samples: Row[] = [];
    const sample = async () => {
      const h = await heapMb(gw.url).catch(() => ({ heapUsed: NaN, external: NaN }));
      const m = threadHeapMb(probe, 'main');
      const w = threadHeapMb(probe, 'worker');
      const rss = rssMb(pid);
      samples.push({
        t_s: Math.round((Date.now() - started) / 1000),
        rss_mb: Math.round(rss * 10) / 10,
        main_heap_mb: Math.round((Number.isNaN(m.heapUsed) ? h.heapUsed : m.heapUsed) * 10) / 10,
        // What V8 has reserved for the main heap: its growth (not heap used, which saws with each GC) moves RSS.
        main_heap_total_mb: Math.round(m.heapTotal * 10) / 10,
        main_external_mb: Math.round((Number.isNaN(m.external) ? h.external : m.external) * 10) / 10,
        worker_heap_mb: Math.round(w.heapUsed * 10) / 10,
        worker_external_mb: Math.round(w.external * 10) / 10,
        // What neither V8 heap accounts for: onnxruntime, malloc arenas, thread stacks, code.
        native_mb: Math.round((rss - m.heapTotal - m.external - w.heapTotal - w.external) * 10) / 10,
        requests: counts.ok + counts.abandoned,
        errors: counts.errors,
      });
    };
    await sample();
    const timer = setInterval(() => void sample(), SAMPLE_S * 1000);
    const snapshotTimers = SNAPSHOTS_AT.map((s) => setTimeout(() => process.kill(pid, 'SIGUSR2'), s * 1000));
    await Promise.all(Array.from({ length: CLIENTS }, () => client(gw.url, model, until, counts, seq)));
    clearInterval(timer);
    for (const t of snapshotTimers) clearTimeout(t);
    const cpuUs = cpuMicros(pid) - cpuStart;
    await sample();
    printTable(`RSS over time (${CLIENTS} clients, ${DURATION_S} s, 1 in 7 streams abandoned)`, samples);
    const at = (s: number) =>
      samples.reduce((best, r) => (Math.abs(Number(r['t_s']) - s) < Math.abs(Number(best['t_s']) - s) ? r : best), samples[0]!);
    const base = Number(at(BASELINE_S)['rss_mb']);
    const end = Number(samples[samples.length - 1]!['rss_mb']);
    const growth = (end / base - 1) * 100;
    // Also against the middle of the run: on a busy machine the model and JIT warm-up can last past 60 s.
    const mid = Number(at(DURATION_S / 3)['rss_mb']);
    const verdict = {
      requests: counts.ok + counts.abandoned,
      completed: counts.ok,
      abandoned: counts.abandoned,
      errors: counts.errors,
      statuses: counts.statuses,
      rss_at_60s_mb: base,
      rss_end_mb: end,
      growth_pct: Math.round(growth * 10) / 10,
      within_10pct: growth <= 10,
      rss_at_third_mb: mid,
      growth_from_third_pct: Math.round((end / mid - 1) * 1000) / 10,
      // The gateway process's CPU (all threads) per request served: what a GC setting costs, independent of load.
      cpu_ms_per_request: Math.round((cpuUs / 1000 / Math.max(1, counts.ok + counts.abandoned)) * 100) / 100,
    };
    console.log(`\n${JSON.stringify(verdict)}`);
    if (fake) console.log('(gateway alone: edge off, fake cloud upstream in its own process)');
    writeResults(`${FAKE ? 'soak-gateway-only' : 'soak'}${DURATION_S >= 600 ? '-10min' : ''}`, {
      config: { DURATION_S, CLIENTS, SAMPLE_S },
      verdict,
      samples,
    });
  } finally {
    await gw.stop();
    await fake?.stop();
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
