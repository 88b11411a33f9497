/**
 * The embedding worker_thread: owns the model (onnxruntime blocks its thread) and batches inputs across requests,
 * up to maxBatch inputs / maxBatchTokens padded tokens per forward pass, in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { Embedder, EmbedderInputError } from './embedder.js';
import type { EmbedderOptions, FromEmbedder, ToEmbedder } from './embedding-protocol.js';

const port = parentPort!;
const opts = workerData as EmbedderOptions;
const post = (m: FromEmbedder, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

interface Pending {
  id: string;
  ids: number[][];
  vectors: Float32Array;
  next: number;
  tokens: number;
}

/** Loads the model; 'fatal' is for this only (once serving, a failed batch answers its requests with 'error'). */
async function load(): Promise<Embedder | undefined> {
  try {
    return await Embedder.load(opts.modelDir, { threads: opts.threads });
  } catch (err) {
    post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
}

const embedder = await load();
if (embedder) await serve(embedder);
port.close();

async function serve(embedder: Embedder): Promise<void> {
  const dim = embedder.dimensions;
  const queue: Pending[] = [];
  let stopped = false;
  let wake: (() => void) | undefined;
  port.on('message', (m: ToEmbedder) => {
    if (m.type === 'embed') {
      if (m.texts.length === 0) {
        post({ type: 'error', id: m.id, reason: 'invalid_prompt', message: "'input' cannot be an empty list." });
      } else {
        try {
          const ids = m.texts.map((t) => embedder.tokenize(t));
          queue.push({ id: m.id, ids, vectors: new Float32Array(ids.length * dim), next: 0, tokens: ids.reduce((a, r) => a + r.length, 0) });
        } catch (err) {
          const reason = err instanceof EmbedderInputError ? err.reason : 'invalid_prompt';
          post({ type: 'error', id: m.id, reason, message: err instanceof Error ? err.message : String(err) });
        }
      }
    } else if (m.type === 'cancel') {
      const i = queue.findIndex((p) => p.id === m.id);
      if (i >= 0) queue.splice(i, 1);
    } else if (m.type === 'shutdown') stopped = true;
    wake?.();
  });
  post({ type: 'ready', model: opts.modelId, dimensions: dim, maxTokens: embedder.maxTokens, file: embedder.file });
  while (!stopped) {
    if (queue.length === 0) {
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      continue;
    }
    // Take inputs in order until the batch is full by count or by padded tokens.
    const slots: Array<{ p: Pending; row: number }> = [];
    let longest = 0;
    fill: for (const p of queue) {
      for (let r = p.next; r < p.ids.length; r++) {
        const len = Math.max(longest, p.ids[r]!.length);
        if (slots.length >= opts.maxBatch || (slots.length > 0 && len * (slots.length + 1) > opts.maxBatchTokens)) break fill;
        longest = len;
        slots.push({ p, row: r });
      }
    }
    // Empty slots would mean an empty forward pass; requests that are already complete are answered below.
    if (slots.length > 0) {
      try {
        const vectors = await embedder.embed(slots.map((s) => s.p.ids[s.row]!));
        slots.forEach((s, i) => {
          s.p.vectors.set(vectors[i]!, s.row * dim);
          s.p.next = s.row + 1;
        });
      } catch (err) {
        // One failed pass fails the requests in it, not the model: the rest keep being served.
        const message = `The embedding model failed on this input: ${err instanceof Error ? err.message : String(err)}`;
        for (const p of new Set(slots.map((s) => s.p))) {
          const i = queue.indexOf(p);
          if (i < 0) continue; // cancelled while the pass ran
          queue.splice(i, 1);
          post({ type: 'error', id: p.id, reason: 'unavailable', message });
        }
      }
    }
    for (let i = queue.length - 1; i >= 0; i--) {
      const p = queue[i]!;
      if (p.next < p.ids.length) continue;
      queue.splice(i, 1);
      post({ type: 'result', id: p.id, dimensions: dim, vectors: p.vectors, promptTokens: p.tokens }, [p.vectors.buffer as ArrayBuffer]);
    }
    // Let new requests and cancels in between passes.
    await yieldToEvents();
  }
  await embedder.close();
}
