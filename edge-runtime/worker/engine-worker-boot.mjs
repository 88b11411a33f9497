// Worker entry in plain JavaScript: registers tsx's loader inside the worker, then runs the TypeScript worker.
import { setPriority } from 'node:os';
import { register } from 'tsx/esm/api';

// On Linux a nice value belongs to one thread and is inherited by the threads it creates (onnxruntime's intra-op
// pool is created from here). The engine's compute runs below the gateway's HTTP thread, so on a busy 2-core box the
// event loop preempts decode work instead of queueing behind it (issue 14: loop delay p99 5.5-9 ms -> 3.5-4.1 ms,
// max 18-133 ms -> 8-17 ms over 16 HTTP streams). Elsewhere setpriority(0) would renice the whole process: skipped.
const ENGINE_THREAD_NICE = 10;
if (process.platform === 'linux') {
  try {
    setPriority(0, ENGINE_THREAD_NICE);
  } catch {
    // A sandbox may forbid it; the engine runs as before.
  }
}

register();
await import('./engine-worker.js');
