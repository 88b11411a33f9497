/**
 * Preloaded into a process under test (`node --import ./bench/lib/loop-probe.mjs ...`, LOOP_PROBE_FILE set): a 1 ms
 * timer records the gap between its ticks, and at exit the gaps (with their end times, epoch ms) are written to
 * LOOP_PROBE_FILE as JSON, so a bench can report the event loop's p99 and max stall over exactly its own window.
 * Plain JavaScript on purpose: worker threads inherit --import without the tsx loader.
 */
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env['LOOP_PROBE_FILE'];
// Worker threads inherit --import: only the main thread (the one serving HTTP) is probed.
if (file && isMainThread) {
  const at = [];
  const gap = [];
  let last = performance.now();
  const t = setInterval(() => {
    const now = performance.now();
    at.push(performance.timeOrigin + now);
    gap.push(now - last);
    last = now;
  }, 1);
  t.unref();
  process.on('exit', () => writeFileSync(file, JSON.stringify({ at, gap })));
}
