/**
 * Policy decision time: a 100-rule policy compiled once, decisions for requests matching early, late and no rule
 * (content detectors run on a two-character message, i.e. effectively excluded); and the detectors alone over a
 * ~4k-token request. Targets from the issue: decision < 20 µs p50; detectors on 4k tokens < 1 ms p50.
 */
import { compilePolicy, requestText } from '../gateway/policy/compile-policy.js';
import { policySchema } from '../gateway/policy/policy-schema.js';
import { BUILT_IN_DETECTORS, scan } from '../gateway/policy/detectors.js';
import { ModelCatalog } from '../gateway/core/model-catalog.js';
import { inferenceRequestFromBody } from '../gateway/core/inference-request.js';
import { ANONYMOUS } from '../gateway/core/principal.js';
import { upstreamSchema } from '../gateway/config/schema.js';
import { OpenAICompatibleUpstream } from '../gateway/upstreams/openai/openai-compatible.js';
import { printTable, writeResults, type Row } from './lib/report.js';

const N = Number(process.env['BENCH_ITERATIONS'] ?? 20_000);

function percentiles(samples: number[]): { p50: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length * 0.5)]!, p99: s[Math.floor(s.length * 0.99)]! };
}

function time(fn: () => void): number[] {
  for (let i = 0; i < 2_000; i++) fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return out;
}

const ups = ['edge', 'openai', 'azure'].map(
  (id) =>
    new OpenAICompatibleUpstream(
      upstreamSchema.parse({ id, url: 'http://127.0.0.1:9/v1', zone: id === 'edge' ? 'edge' : 'cloud', models: ['gpt-4o', 'gpt-4o-mini', 'llama'] }),
    ),
);
const rules = Array.from({ length: 100 }, (_, i) => ({
  id: `r${i}`,
  match:
    i % 3 === 0
      ? { models: [`model-${i}*`] }
      : i % 3 === 1
        ? { tenants: [`tenant-${i}`], tags: [`t${i}`] }
        : { headers: { 'x-team': `team-${i}` }, metadata: { project: `p${i}` } },
  route: ['edge', 'openai'],
}));
rules.push({ id: 'catch-all', match: {}, route: ['openai', 'edge'] } as never);
const policy = compilePolicy(
  policySchema.parse({ version: 1, tags: { pii: { route: 'edge-only' }, secret: { route: 'redact' } }, rules }),
  'bench',
  new ModelCatalog(ups),
);

const req = (headers: Record<string, string>, model = 'gpt-4o') => ({
  request: inferenceRequestFromBody({ model, messages: [{ role: 'user', content: 'hi' }] }),
  headers: new Headers(headers),
  principal: ANONYMOUS,
});
const early = req({ 'x-team': 'team-2' });
const late = req({ 'x-team': 'team-98' });
const none = req({});
const pieces = [
  'The quarterly report shows revenue growth across all regions. ',
  'Contact jane.doe@example.com or call +1 415 555 0100. ',
  'Card 4111 1111 1111 1111 was charged. ',
  'Use key sk-abcdefghijklmnopqrstuvwxyz123456 for the staging API. ',
];
let text = '';
while (text.length < 16_000) text += pieces[text.length % pieces.length]!; // ~4k tokens at ~4 chars/token
const big = { messages: [{ role: 'user', content: text }] };

const rows: Row[] = [];
for (const [name, input] of [
  ['100 rules, match at rule 3 (metadata miss -> falls through)', early],
  ['100 rules, headers of rule 99', late],
  ['100 rules, catch-all', none],
] as const) {
  const p = percentiles(time(() => policy.decide(input)));
  rows.push({ case: name, 'p50 µs': +p.p50.toFixed(2), 'p99 µs': +p.p99.toFixed(2), target: '< 20 µs p50' });
}
const d = percentiles(time(() => scan(requestText(big), BUILT_IN_DETECTORS)));
rows.push({
  case: `detectors over ${text.length} chars (~4k tokens)`,
  'p50 µs': +d.p50.toFixed(1),
  'p99 µs': +d.p99.toFixed(1),
  target: '< 1000 µs p50',
});
printTable(`Policy decision time (${N} iterations each)`, rows);
writeResults('policy-decision', rows);
await Promise.all(ups.map((u) => u.close()));
