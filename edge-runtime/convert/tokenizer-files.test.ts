/** Tokenizer side of a conversion: a separate chat template moves into tokenizer_config.json; vocab.json + merges.txt become tokenizer.json. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadModelFolder } from '../model/model-folder.js';
import { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import { bytesToUnicode } from '../tokenizer/byte-level-bpe.js';
import { writeTokenizerFiles } from './tokenizer-files.js';
import { convertCheckpoint } from './convert.js';
import { writeTestCheckpoint } from './test-checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'switchyard-tokfiles-'));
afterAll(() => rm(root, { recursive: true, force: true }));

it('a chat_template.jinja beside the tokenizer config ends up inside the converted tokenizer_config.json', async () => {
  const from = join(root, 'ckpt');
  const shape = { hidden: 64, layers: 1, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, maxPositions: 64, ropeTheta: 10000, rmsEps: 1e-5 };
  await writeTestCheckpoint({ dir: from, spec: { family: 'llama', shape } });
  const cfgPath = join(from, 'tokenizer_config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(join(from, 'chat_template.jinja'), cfg['chat_template'] as string);
  delete cfg['chat_template'];
  writeFileSync(cfgPath, JSON.stringify(cfg));
  const to = join(root, 'model');
  await convertCheckpoint({ from, to, quant: ['q4'] });
  const spec = loadModelFolder(to);
  const tok = new TextTokenizer(spec.tokenizerJson, spec.tokenizerConfig, spec.eosIds);
  expect(tok.renderChat([{ role: 'user', content: 'hi' }])).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
});

it('vocab.json + merges.txt (GPT-2 era files) become a tokenizer.json that round-trips text', async () => {
  const from = join(root, 'bpe');
  await mkdir(from, { recursive: true });
  const map = bytesToUnicode();
  const vocab: Record<string, number> = {};
  map.forEach((ch, b) => (vocab[ch] = b));
  const h = map['h'.charCodeAt(0)]!;
  const i = map['i'.charCodeAt(0)]!;
  vocab[h + i] = 256;
  vocab['<|endoftext|>'] = 257;
  writeFileSync(join(from, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(from, 'merges.txt'), `#version: 0.2\n${h} ${i}\n`);
  const out = join(root, 'bpe-out');
  await mkdir(out, { recursive: true });
  const written = await writeTokenizerFiles(from, out, { eos: 257 });
  expect(written).toEqual(['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']);
  const tok = new TextTokenizer(JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')) as object, {}, [257]);
  expect(tok.encode('hi')).toEqual([256]);
  expect(tok.decode(tok.encode('hi there, émoji 🙂'))).toBe('hi there, émoji 🙂');
  rmSync(out, { recursive: true });
});
