/** Greedy token ids from the real paged engine over a model folder (tests and the bench compare against these). */
import { createEngine, type CreatedEngine } from '../worker/create-engine.js';
import { engineOptionsSchema } from '../engine/engine-options.js';
import type { WeightFormat } from '../graph/linear.js';

const greedy = { temperature: 0, topP: 1, topK: -1, minP: 0, repetitionPenalty: 1, frequencyPenalty: 0, presencePenalty: 0 };

/** `threads`: onnxruntime intra-op threads (0, the engine's default, lets ORT use every core). */
export async function engineFor(modelDir: string, variant: WeightFormat, kvBudgetBytes = 8 << 20, threads = 0): Promise<CreatedEngine> {
  return createEngine(engineOptionsSchema.parse({ modelDir, modelId: 'converted', variant, kvBudgetBytes, threads }));
}

/** Runs the prompts concurrently (continuous batching) and returns each one's generated ids; EOS is not special here. */
export async function engineGreedy(e: CreatedEngine, prompts: number[][], maxTokens: number): Promise<number[][]> {
  const out = prompts.map(() => [] as number[]);
  const origNewSink = e.tokenizer.newSink.bind(e.tokenizer);
  let next = 0;
  e.tokenizer.newSink = (stop) => {
    const mine = out[next++]!;
    const sink = origNewSink(stop);
    return { push: (t) => (mine.push(t), sink.push(t)), flush: () => sink.flush() };
  };
  const errors: string[] = [];
  prompts.forEach((ids, i) =>
    e.core.submit({ id: `g${i}`, input: { kind: 'tokens', ids }, sampling: greedy, maxTokens, stop: [], n: 1 }, (m) => {
      if (m.type === 'error') errors.push(m.message);
    }),
  );
  while (e.core.hasWork()) await e.core.step();
  e.tokenizer.newSink = origNewSink;
  if (errors.length > 0) throw new Error(errors.join('; '));
  return out;
}
