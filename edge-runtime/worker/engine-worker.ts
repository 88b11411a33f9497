/** The engine's worker_thread entry: owns onnxruntime (whose session.run blocks its thread) and runs the step loop. */
import { parentPort, workerData } from 'node:worker_threads';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { createEngine } from './create-engine.js';
import type { EngineOptions } from '../engine/engine-options.js';
import type { FromEngine, ToEngine } from '../engine/protocol.js';

const port = parentPort!;
const opts = workerData as EngineOptions;
const post = (m: FromEngine) => port.postMessage(m);

try {
  const { core, maxContext, tokenizer, load } = await createEngine(opts);
  let stopped = false;
  let wake: (() => void) | undefined;
  port.on('message', (m: ToEngine) => {
    if (m.type === 'submit') core.submit(m.request, post);
    else if (m.type === 'cancel') core.cancel(m.id);
    else if (m.type === 'stats') post({ type: 'stats', nonce: m.nonce, stats: core.stats() });
    else if (m.type === 'shutdown') stopped = true;
    wake?.();
  });
  const timer = setInterval(() => post({ type: 'stats', nonce: 0, stats: core.stats() }), opts.statsIntervalMs);
  post({ type: 'ready', model: opts.modelId, maxContext, vocab: tokenizer.vocabSize, load });
  while (!stopped) {
    if (core.hasWork()) {
      await core.step();
      // Let submit/cancel messages in between steps.
      await yieldToEvents();
    } else {
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  }
  clearInterval(timer);
  port.close();
} catch (err) {
  post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
}
