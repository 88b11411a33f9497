/**
 * Cost of constrained decoding per token: compile a tool-call schema against a model's vocabulary, then time
 * getNextTokenBitmask + acceptToken + applying the mask to the logits, walking a valid JSON answer token by token.
 * Usage: tsx bench/grammar-mask.ts [model folder] (default: the 32k-vocabulary bench-50m test model).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadXGrammar } from '../edge-runtime/grammar/xgrammar-module.js';
import { tokenVocabulary } from '../edge-runtime/grammar/token-vocabulary.js';
import { applyMask } from '../edge-runtime/sampling/sampler.js';
import { TextTokenizer } from '../edge-runtime/tokenizer/text-tokenizer.js';

const dir = process.argv[2] ?? join(tmpdir(), 'switchyard-test-models', 'bench-50m-seed1-v1');
const tokJson = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as object;
const tokCfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as object;
const vocabSize = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { vocab_size: number }).vocab_size;
const tok = new TextTokenizer(tokJson, tokCfg, []);
const xg = loadXGrammar();
const schema = {
  type: 'object',
  properties: {
    command: { type: 'string' },
    cwd: { type: 'string' },
    timeout: { type: 'integer' },
    env: { type: 'array', items: { type: 'string' } },
  },
  required: ['command', 'timeout'],
  additionalProperties: false,
};
const answer = '{"command":"ls -la /var/log && grep error syslog | head","timeout":30,"env":["A=1","B=two"]}';
let t = performance.now();
const info = await xg.TokenizerInfo.createTokenizerInfo(tokenVocabulary(tokJson, vocabSize).encoded, 'BYTE_LEVEL', false, vocabSize, [...tok.eosIds]);
const compiler = await xg.GrammarCompiler.createGrammarCompiler(info, false);
const tInfo = performance.now() - t;
t = performance.now();
const grammar = await compiler.compileJSONSchema(JSON.stringify(schema), false, -1, [',', ':'], true);
const tCompile = performance.now() - t;
const ids = tok.encode(answer);
const logits = new Float32Array(vocabSize);
const per: number[] = [];
const slow = new Map<number, number>();
for (let rep = 0; rep < 20; rep++) {
  const m = await xg.GrammarMatcher.createGrammarMatcher(grammar);
  for (const id of ids) {
    const s = performance.now();
    const mask = await m.getNextTokenBitmask();
    applyMask(logits, mask);
    if (!m.acceptToken(id)) throw new Error(`grammar rejected token ${id}`);
    const took = performance.now() - s;
    per.push(took);
    if (took > 5) slow.set(ids.indexOf(id), (slow.get(ids.indexOf(id)) ?? 0) + 1);
  }
  m.dispose();
}
per.sort((a, b) => a - b);
const q = (p: number) => per[Math.min(per.length - 1, Math.floor(p * per.length))]!.toFixed(3);
console.log('slow (>5 ms) positions in the answer -> count over 20 runs:', JSON.stringify(Object.fromEntries(slow)), ids.length, 'tokens per answer');
console.log(
  `vocab ${vocabSize}: tokenizer info ${tInfo.toFixed(0)} ms (once per engine), compile ${tCompile.toFixed(1)} ms (once per schema, cached)`,
);
const mean = per.reduce((a, b) => a + b, 0) / per.length;
console.log(
  `per token (mask + apply + accept), ${per.length} tokens: mean ${mean.toFixed(3)} ms, p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p95 ${q(0.95)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`,
);
