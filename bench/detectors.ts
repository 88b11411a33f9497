/**
 * Detector cost per request: the built-in detectors over ~4k-token requests (prose with PII, a realistic coding-agent
 * request full of ids, hashes and logs, and an adversarial one of long unbroken tokens), and a whole decision with
 * reversible masking. Bar from issue 20: p99 <= 1 ms for a 4k-token request. `BENCH_ITERATIONS` sets the samples.
 * Prints a table and writes bench/results/detectors.json.
 */
import { compilePolicy, requestText } from '../gateway/policy/compile-policy.js';
import { scanRequest } from '../gateway/policy/request-text.js';
import { policySchema } from '../gateway/policy/policy-schema.js';
import { BUILT_IN_DETECTORS } from '../gateway/policy/detectors.js';
import { ModelCatalog } from '../gateway/core/model-catalog.js';
import { inferenceRequestFromBody } from '../gateway/core/inference-request.js';
import { ANONYMOUS } from '../gateway/core/principal.js';
import { upstreamSchema } from '../gateway/config/schema.js';
import { OpenAICompatibleUpstream } from '../gateway/upstreams/openai/openai-compatible.js';
import type { JsonObject } from '../gateway/core/types.js';
import { printTable, writeResults, type Row } from './lib/report.js';

const N = Number(process.env['BENCH_ITERATIONS'] ?? 5_000);
const TARGET_CHARS = 16_000; // ~4k tokens at ~4 chars/token

function fill(pieces: readonly string[]): string {
  let text = '';
  for (let i = 0; text.length < TARGET_CHARS; i++) text += pieces[i % pieces.length]!;
  return text;
}

/** The existing bench's request: prose with an email, a phone, a card and an API key every four sentences. */
const prose = fill([
  'The quarterly report shows revenue growth across all regions. ',
  'Contact jane.doe@example.com or call +1 415 555 0100. ',
  'Card 4111 1111 1111 1111 was charged. ',
  'Use key sk-abcdefghijklmnopqrstuvwxyz123456 for the staging API. ',
]);

/** What a coding agent sends: code, logs with UUIDs, hex ids, git SHAs, base64 and a little PII. */
const agentSystem = fill([
  'You are a coding agent working in the repository. Use the tools to read and edit files; keep answers short.\n',
  'function retry(fn, n = 3) { for (let i = 0; i < n; i++) { try { return fn(); } catch (e) { if (i === n - 1) throw e; } } }\n',
  '2026-11-26T01:22:17.123Z INFO request 3f2b9c1e-8d4a-4e6f-9a7b-1c2d3e4f5a6b done in 41 ms (trace 4bf92f3577b34da6a3ce929d0e0e4736)\n',
  'commit 9fceb02d0ae598e95dc970b74767f19372d61af8 Author: Ada <ada@example.com> fixed S3 upload to EKS cluster us-east-1\n',
  'payload: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0 sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n',
  'build 10.0.19045.2965 on node v20.20.0, port 8080, pid 123456, ts 1764120137123, order 4000123456\n',
]).slice(0, TARGET_CHARS / 2);
const agent: JsonObject = {
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: agentSystem },
    { role: 'user', content: 'Why does the upload fail? Email the report to ops-team@example.com.' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"path":"src/upload/s3-client.ts"}' } }],
    },
    { role: 'tool', tool_call_id: 'call_1', content: agentSystem.slice(0, TARGET_CHARS / 2) },
  ],
};

/** Worst case for regex engines: long unbroken runs (base64 blobs, digit strings, dotted words, a lone BEGIN). */
const adversarial = fill([
  'A'.repeat(3000) + ' ',
  '1234567890'.repeat(200) + ' ',
  'a.b-c_d%e+f'.repeat(200) + '@ ',
  '-----BEGIN ' + 'X '.repeat(300) + '\n',
  '+1 (555) 55 55 55 55 55 55 55 55 55 55 55 55 55 55 55 55 55 ',
]);

const asBody = (text: string): JsonObject => ({ model: 'gpt-4o', messages: [{ role: 'user', content: text }] });

function percentiles(samples: number[]): { p50: number; p99: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length * 0.5)]!, p99: s[Math.floor(s.length * 0.99)]!, max: s[s.length - 1]! };
}

/**
 * Wall time and CPU time (this process, user + system) per call. The machine is shared: wall p99 includes time the
 * process was descheduled, CPU time does not, so the bar is judged on CPU time and both are reported.
 */
function time(fn: () => unknown): { wall: ReturnType<typeof percentiles>; cpu: ReturnType<typeof percentiles> } {
  for (let i = 0; i < 500; i++) fn(); // warm-up
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < N; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    wall.push(Number(process.hrtime.bigint() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push(c.user + c.system);
  }
  return { wall: percentiles(wall), cpu: percentiles(cpu) };
}

const ups = ['edge', 'cloud'].map(
  (id) =>
    new OpenAICompatibleUpstream(
      upstreamSchema.parse({ id, url: 'http://127.0.0.1:9/v1', zone: id === 'edge' ? 'edge' : 'cloud', models: ['gpt-4o'] }),
    ),
);
const policy = compilePolicy(
  policySchema.parse({
    version: 1,
    tags: { pii: { route: 'redact', reversible: true }, secret: { route: 'redact', reversible: true } },
    rules: [{ id: 'all', match: {}, route: ['cloud'] }],
  }),
  'bench',
  new ModelCatalog(ups),
);
const decideInput = (body: JsonObject) => ({ request: inferenceRequestFromBody(body), headers: new Headers(), principal: ANONYMOUS });

const rows: Row[] = [];
const add = (name: string, chars: number, t: ReturnType<typeof time>) =>
  rows.push({
    case: name,
    chars,
    'cpu p50 µs': t.cpu.p50,
    'cpu p99 µs': t.cpu.p99,
    'wall p50 µs': +t.wall.p50.toFixed(1),
    'wall p99 µs': +t.wall.p99.toFixed(1),
    'cpu p99 <= 1000 µs': t.cpu.p99 <= 1000 ? 'yes' : 'NO',
  });

for (const [name, body] of [
  ['scan: prose with PII', asBody(prose)],
  ['scan: coding agent (ids, hashes, logs)', agent],
  ['scan: adversarial long tokens', asBody(adversarial)],
] as const) {
  // What the gateway does per request: every string of the text fields scanned once.
  add(
    name,
    requestText(body).length,
    time(() => scanRequest(body, BUILT_IN_DETECTORS)),
  );
}
for (const [name, body] of [
  ['decide + reversible masking: prose', asBody(prose)],
  ['decide + reversible masking: coding agent', agent],
] as const) {
  const input = decideInput(body);
  add(
    name,
    requestText(body).length,
    time(() => policy.decide(input)),
  );
}

printTable(`Detector cost (${N} iterations each, built-in detectors)`, rows);
writeResults('detectors', rows);
await Promise.all(ups.map((u) => u.close()));
