/**
 * Preloaded into the gateway under test (`node --import ./bench/lib/memory-probe.mjs ...`, MEMORY_PROBE_FILE set):
 * every second each thread writes its own V8 heap statistics to `<MEMORY_PROBE_FILE>.<main|worker-N>.json`. Worker
 * threads inherit --import, so the edge engine's worker (whose heap the gateway's /metrics cannot see) reports too.
 * Plain JavaScript on purpose: worker threads inherit --import without the tsx loader.
 */
import { writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

const file = process.env['MEMORY_PROBE_FILE'];
if (file) {
  const out = `${file}.${isMainThread ? 'main' : `worker-${threadId}`}.json`;
  const t = setInterval(() => {
    const h = getHeapStatistics();
    const body = { at: Date.now(), heapUsed: h.used_heap_size, heapTotal: h.total_heap_size, external: h.external_memory };
    writeFileSync(out, JSON.stringify(body));
  }, 1_000);
  t.unref();
}
