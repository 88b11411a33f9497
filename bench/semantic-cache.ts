/**
 * Semantic cache: hit rate and false-hit rate on a generated paraphrase workload, across thresholds, through the real
 * SemanticCache (edge embedding worker, namespaces, memory store); then lookup latency of the vector index at 10k and
 * 100k entries. The encoder is the hashed bag-of-words ONNX encoder (edge-runtime/embeddings/hashed-encoder.ts): it
 * matches paraphrases that keep the content words and knows no synonyms; a trained model replaces it in production.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEmbedder, writeHashedEncoderFolder } from '../edge-runtime/index.js';
import { EdgeEmbeddingUpstream } from '../gateway/upstreams/edge/edge-embedding-upstream.js';
import { ModelCatalog } from '../gateway/core/model-catalog.js';
import { MemoryCache } from '../gateway/cache/memory-cache.js';
import { silentLogger } from '../gateway/core/logger.js';
import { SemanticCache, type SemanticProbe } from '../gateway/semantic-cache/semantic-cache.js';
import { VectorIndex } from '../gateway/semantic-cache/vector-index.js';
import { DEFAULT_SEMANTIC_THRESHOLD } from '../gateway/policy/policy-schema.js';
import { printTable, writeResults, type Row } from './lib/report.js';
import { seededRandom } from '../edge-runtime/graph/llama-weights.js';

const SEED = Number(process.env['SC_SEED'] ?? 42);
const THRESHOLDS = [0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.95];
const LOOKUPS = Number(process.env['SC_LOOKUPS'] ?? 300);

const ENTITIES =
  'France Spain Italy Germany Portugal Norway Sweden Finland Poland Austria Greece Ireland Japan Korea China India Brazil Chile Peru Mexico Canada Egypt Kenya Nigeria Morocco Turkey Iran Vietnam Thailand Indonesia Australia Iceland Denmark Belgium Hungary Romania Ukraine Argentina Colombia Cuba'.split(
    ' ',
  );
const ATTRIBUTES = ['population', 'capital', 'currency', 'area', 'climate', 'anthem', 'president', 'cuisine'];
const UNITS: Array<[string, string]> = [
  ['miles', 'kilometers'],
  ['pounds', 'kilograms'],
  ['inches', 'centimeters'],
  ['gallons', 'liters'],
  ['fahrenheit', 'celsius'],
];
const FACT_TEMPLATES = [
  (a: string, e: string) => `What is the ${a} of ${e}?`,
  (a: string, e: string) => `Could you tell me the ${a} of ${e}, please?`,
  (a: string, e: string) => `${e} ${a}?`,
  (a: string, e: string) => `Tell me what the ${a} of ${e} is.`,
  (a: string, e: string) => `I want to know the ${a} of ${e}.`,
  (a: string, e: string) => `Hey, what is ${e}'s ${a}?`,
  (a: string, e: string) => `Do you know the ${a} of ${e}?`,
  (a: string, e: string) => `Quick question: ${a} of ${e}?`,
];
const UNIT_TEMPLATES = [
  (n: number, u: string, v: string) => `Convert ${n} ${u} to ${v}.`,
  (n: number, u: string, v: string) => `How many ${v} is ${n} ${u}?`,
  (n: number, u: string, v: string) => `${n} ${u} in ${v}?`,
  (n: number, u: string, v: string) => `Please convert ${n} ${u} into ${v}.`,
  (n: number, u: string, v: string) => `What is ${n} ${u} in ${v}?`,
];

interface Item {
  id: string;
  /** Phrasings: [0] is stored, the rest are asked. */
  texts: string[];
  /** Items that differ from this one in exactly one slot (entity, attribute, or number). */
  nearMisses: string[];
}

function workload(): { cached: Item[]; held: Item[] } {
  const rand = seededRandom(SEED);
  const items: Item[] = [];
  for (const e of ENTITIES)
    for (const a of ATTRIBUTES)
      items.push({
        id: `fact:${a}:${e}`,
        texts: FACT_TEMPLATES.map((t) => t(a, e)),
        nearMisses: [
          ...ENTITIES.filter((x) => x !== e).map((x) => `fact:${a}:${x}`),
          ...ATTRIBUTES.filter((x) => x !== a).map((x) => `fact:${x}:${e}`),
        ],
      });
  const numbers = Array.from({ length: 40 }, (_, i) => 3 + i * 7);
  for (const [u, v] of UNITS)
    for (const n of numbers)
      items.push({
        id: `unit:${u}:${n}`,
        texts: UNIT_TEMPLATES.map((t) => t(n, u, v)),
        nearMisses: numbers.filter((m) => m !== n).map((m) => `unit:${u}:${m}`),
      });
  // Half the items are in the cache; the other half are the near misses asked against it.
  const shuffled = items.map((it) => ({ it, k: rand() })).sort((x, y) => x.k - y.k);
  const cached = shuffled.slice(0, items.length / 2).map((x) => x.it);
  const held = shuffled.slice(items.length / 2).map((x) => x.it);
  // Each stored item keeps one random phrasing as its stored text, the rest are asked.
  for (const it of [...cached, ...held]) {
    const k = Math.floor(rand() * it.texts.length);
    it.texts = [it.texts[k]!, ...it.texts.filter((_, i) => i !== k)];
  }
  return { cached, held };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sy-bench-semantic-'));
  const words = [...ENTITIES, ...ATTRIBUTES, ...UNITS.flat(), 'convert', 'into'].map((w) => w.toLowerCase());
  await writeHashedEncoderFolder(dir, words);
  const model = startEmbedder({ modelDir: dir, modelId: 'bow' });
  await model.loaded;
  const edge = new EdgeEmbeddingUpstream('edge', model, ['bow']);
  const store = new MemoryCache(1_000_000, 1024 * 1024 * 1024);
  const cache = new SemanticCache(new ModelCatalog([edge]), store, 1_000_000, silentLogger);
  const rule = { threshold: DEFAULT_SEMANTIC_THRESHOLD, embeddingModel: 'bow', tagged: false };
  const probe = async (text: string) =>
    (await cache.probe({
      endpoint: 'chat.completions',
      body: { model: 'm', messages: [{ role: 'user', content: text }], temperature: 0 },
      model: 'm',
      tenant: 't',
      policyVersion: 'v',
      tags: [],
      rule,
      requestId: 'bench',
      signal: new AbortController().signal,
    }))!;

  const { cached, held } = workload();
  const embedStart = performance.now();
  for (const it of cached) {
    const p = await probe(it.texts[0]!);
    await store.set(it.id, { id: it.id }, 3600);
    cache.remember(p, it.id, 3600);
  }
  const embedMs = (performance.now() - embedStart) / cached.length;
  const heldIds = new Set(held.map((h) => h.id));
  const cachedIds = new Set(cached.map((c) => c.id));

  // Paraphrases of cached items (should hit, with the right answer) and near misses: items not in the cache that differ
  // from a cached one in one slot, asked in every phrasing (should miss).
  const paraphrases: Array<{ want: string; p: SemanticProbe }> = [];
  for (const it of cached) for (const t of it.texts.slice(1)) paraphrases.push({ want: it.id, p: await probe(t) });
  const nearMisses: SemanticProbe[] = [];
  for (const it of held) if (it.nearMisses.some((n) => cachedIds.has(n))) for (const t of it.texts) nearMisses.push(await probe(t));
  void heldIds;

  const rows: Row[] = [];
  for (const threshold of THRESHOLDS) {
    let hits = 0;
    let wrong = 0;
    for (const q of paraphrases) {
      const h = await cache.lookup({ ...q.p, threshold });
      if (!h) continue;
      if (h.answer['id'] === q.want) hits++;
      else wrong++;
    }
    let falseHits = 0;
    for (const q of nearMisses) if (await cache.lookup({ ...q, threshold })) falseHits++;
    rows.push({
      threshold,
      'paraphrase hit rate': +(hits / paraphrases.length).toFixed(4),
      'paraphrase wrong answer': +(wrong / paraphrases.length).toFixed(4),
      'near-miss false hits': +(falseHits / nearMisses.length).toFixed(4),
      'false-hit rate (all wrong answers / all lookups)': +((wrong + falseHits) / (paraphrases.length + nearMisses.length)).toFixed(4),
    });
  }
  printTable(
    `Hit and false-hit rates (${cached.length} cached, ${paraphrases.length} paraphrase lookups, ${nearMisses.length} near-miss lookups; default threshold ${DEFAULT_SEMANTIC_THRESHOLD})`,
    rows,
  );

  // Lookup cost of the vector index alone (the per-request work above the embedding), random unit vectors.
  const latency: Row[] = [];
  const rand = seededRandom(SEED + 1);
  const unit = (dim: number) => {
    const v = new Float32Array(dim);
    for (let i = 0; i < dim; i++) v[i] = rand() - 0.5;
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  for (const dim of [256, 384]) {
    for (const size of [10_000, 100_000]) {
      const index = new VectorIndex(dim, size);
      for (let i = 0; i < size; i++) index.add(`k${i}`, unit(dim));
      const queries = Array.from({ length: LOOKUPS }, () => unit(dim));
      for (const q of queries.slice(0, 20)) index.nearest(q);
      const times: number[] = [];
      const cpu0 = process.cpuUsage();
      for (const q of queries) {
        const t0 = performance.now();
        index.nearest(q);
        times.push(performance.now() - t0);
      }
      const cpu = process.cpuUsage(cpu0);
      times.sort((a, b) => a - b);
      latency.push({
        dimensions: dim,
        entries: size,
        'p50 ms': +percentile(times, 50).toFixed(3),
        'p99 ms': +percentile(times, 99).toFixed(3),
        'CPU ms per lookup': +((cpu.user + cpu.system) / 1000 / LOOKUPS).toFixed(3),
        'memory MB': +((size * dim * 4) / 1e6).toFixed(1),
      });
    }
  }
  printTable(`Brute-force lookup (one namespace holding every entry, ${LOOKUPS} lookups each)`, latency);
  const embedRow = { 'bag-of-words embed per stored request, ms (worker round trip)': +embedMs.toFixed(3) };
  console.log(embedRow);
  writeResults('semantic-cache', {
    encoder: 'hashed bag-of-words ONNX encoder (256 dims, content words 1, function words 0.1, pieces 0.3), no synonyms',
    workload: { cached: cached.length, paraphraseLookups: paraphrases.length, nearMissLookups: nearMisses.length, seed: SEED },
    defaultThreshold: DEFAULT_SEMANTIC_THRESHOLD,
    rates: rows,
    lookup: latency,
    ...embedRow,
  });
  await model.close();
  await rm(dir, { recursive: true, force: true });
}

await main();
