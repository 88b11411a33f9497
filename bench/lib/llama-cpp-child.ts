/**
 * llama.cpp (node-llama-cpp from bench/peers) in its own process for bench/edge.ts, so its threads never share a process
 * with onnxruntime's. Messages over IPC: load / run / greedy / dispose; replies { id, result } or { id, error }.
 * Times in `run` results are this process's performance.now(); the bench only uses differences.
 */
import { pathToFileURL } from 'node:url';

interface NlcSequence {
  evaluate(tokens: number[], opts: { temperature: number; tokenBias?: unknown }): AsyncGenerator<number, void, void>;
}
interface NlcContext {
  getSequence(): NlcSequence;
  dispose(): Promise<void>;
}
interface NlcModel {
  tokenizer: unknown;
  createContext(o: { contextSize: number; sequences: number; batchSize: number; threads: { ideal: number; min: number } }): Promise<NlcContext>;
  dispose(): Promise<void>;
}
interface NodeLlamaCpp {
  getLlama(o: {
    gpu: false;
    build: 'never';
    logLevel: 'error';
  }): Promise<{ loadModel(o: { modelPath: string; gpuLayers: number }): Promise<NlcModel> }>;
  TokenBias: new (tokenizer: unknown) => { set(token: number, bias: 'never'): void };
}
interface Msg {
  id: number;
  op: 'load' | 'run' | 'greedy' | 'dispose';
  nodeLlamaCpp: string;
  eos: number[];
  specials: number[];
  variant: string;
  path?: string;
  reqs?: Array<{ prompt: number[]; max: number }>;
  threads?: number;
  capS?: number;
  prompt?: number[];
  n?: number;
}

let nlc: NodeLlamaCpp | undefined;
let llama: Awaited<ReturnType<NodeLlamaCpp['getLlama']>> | undefined;
const models = new Map<string, NlcModel>();

async function handle(m: Msg): Promise<unknown> {
  nlc ??= (await import(pathToFileURL(m.nodeLlamaCpp).href)) as NodeLlamaCpp;
  llama ??= await nlc.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  if (m.op === 'load') {
    if (!models.has(m.variant)) models.set(m.variant, await llama.loadModel({ modelPath: m.path!, gpuLayers: 0 }));
    return null;
  }
  if (m.op === 'dispose') {
    await models.get(m.variant)?.dispose();
    models.delete(m.variant);
    return null;
  }
  const model = models.get(m.variant);
  if (!model) throw new Error(`model ${m.variant} not loaded`);
  const bias = new nlc.TokenBias(model.tokenizer);
  if (m.op === 'greedy') {
    const ctx = await model.createContext({ contextSize: 512, sequences: 1, batchSize: 512, threads: { ideal: 2, min: 1 } });
    for (const id of m.eos) bias.set(id, 'never');
    const out: number[] = [];
    for await (const tok of ctx.getSequence().evaluate(m.prompt!, { temperature: 0, tokenBias: bias })) {
      out.push(tok);
      if (out.length >= m.n!) break;
    }
    await ctx.dispose();
    return out;
  }
  // run: every request must run to its max tokens, as in the other engines: ban whatever llama.cpp would stop on.
  for (const id of new Set([...m.eos, ...m.specials])) bias.set(id, 'never');
  const reqs = m.reqs!;
  const ctxTokens = Math.max(...reqs.map((r) => r.prompt.length + r.max));
  const ctx = await model.createContext({
    contextSize: Math.ceil((ctxTokens + 1) / 256) * 256,
    sequences: reqs.length,
    batchSize: 512,
    threads: { ideal: m.threads!, min: m.threads! },
  });
  const seqs = reqs.map(() => ctx.getSequence());
  const timings = reqs.map(() => ({ start: 0, tokens: [] as number[] }));
  const t0 = performance.now();
  const deadline = t0 + m.capS! * 1000;
  let capped = false;
  await Promise.all(
    reqs.map(async (r, i) => {
      const t = timings[i]!;
      t.start = performance.now();
      for await (const tok of seqs[i]!.evaluate(r.prompt, { temperature: 0, tokenBias: bias })) {
        void tok;
        t.tokens.push(performance.now());
        if (t.tokens.length >= r.max) break;
        if (performance.now() > deadline) {
          capped = true;
          break;
        }
      }
    }),
  );
  const wallMs = performance.now() - t0;
  await ctx.dispose();
  return { timings, wallMs, capped };
}

process.on('message', (m: Msg) => {
  handle(m).then(
    (result) => process.send!({ id: m.id, result }),
    (err: unknown) => process.send!({ id: m.id, error: (err as Error).message ?? String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
