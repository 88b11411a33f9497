/**
 * The tokenizer side of a converted folder: tokenizer.json, tokenizer_config.json (with its chat template),
 * generation_config.json and special_tokens_map.json are copied as they are. A GPT-2-era checkpoint that only has
 * vocab.json + merges.txt gets a byte-level BPE tokenizer.json made from them, since the runtime loads tokenizer.json.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CheckpointError } from './safetensors.js';

const COPIED = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'special_tokens_map.json', 'chat_template.jinja'] as const;

const vocabSchema = z.record(z.string(), z.number().int().nonnegative());

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new CheckpointError(`${path}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

const tokenizerConfigSchema = z.record(z.string(), z.unknown());
const chatTemplateJson = z.looseObject({ chat_template: z.string() });

/** A chat template stored as chat_template.jinja or chat_template.json, if the checkpoint has one. */
async function separateChatTemplate(dir: string): Promise<string | undefined> {
  if (existsSync(join(dir, 'chat_template.jinja'))) return readFile(join(dir, 'chat_template.jinja'), 'utf8');
  const path = join(dir, 'chat_template.json');
  if (!existsSync(path)) return undefined;
  const r = chatTemplateJson.safeParse(await readJson(path));
  if (!r.success) throw new CheckpointError(`${path}: field 'chat_template': expected a string`);
  return r.data.chat_template;
}

/** tokenizer.json for a byte-level BPE vocabulary given as vocab.json + merges.txt (GPT-2's original files). */
export async function tokenizerJsonFromBpeFiles(dir: string): Promise<object> {
  const vocabPath = join(dir, 'vocab.json');
  const r = vocabSchema.safeParse(await readJson(vocabPath));
  if (!r.success) throw new CheckpointError(`${vocabPath}: expected an object of token -> id`);
  const merges = (await readFile(join(dir, 'merges.txt'), 'utf8')).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#version'));
  const special = ['<|endoftext|>'].filter((t) => t in r.data);
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((content) => ({
      id: r.data[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: true,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: r.data,
      merges,
    },
  };
}

/**
 * Copies (or makes) the tokenizer files into `out`. `ids` fills generation_config.json when the checkpoint has none.
 * Returns the names written.
 */
export async function writeTokenizerFiles(from: string, out: string, ids: { bos?: unknown; eos?: unknown; pad?: unknown }): Promise<string[]> {
  const written: string[] = [];
  for (const f of COPIED) {
    if (existsSync(join(from, f))) {
      await copyFile(join(from, f), join(out, f));
      written.push(f);
    }
  }
  if (!written.includes('tokenizer.json')) {
    if (existsSync(join(from, 'vocab.json')) && existsSync(join(from, 'merges.txt'))) {
      await writeFile(join(out, 'tokenizer.json'), JSON.stringify(await tokenizerJsonFromBpeFiles(from)));
      written.push('tokenizer.json');
    } else {
      throw new CheckpointError(`${join(from, 'tokenizer.json')}: missing (and no vocab.json + merges.txt to make one from)`);
    }
  }
  if (!written.includes('tokenizer_config.json')) {
    await writeFile(
      join(out, 'tokenizer_config.json'),
      JSON.stringify({ tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false }, null, 2),
    );
    written.push('tokenizer_config.json');
  }
  // Newer transformers save the chat template beside tokenizer_config.json; the runtime reads it from inside.
  const template = await separateChatTemplate(from);
  if (template !== undefined) {
    const cfgPath = join(out, 'tokenizer_config.json');
    const cfg = tokenizerConfigSchema.safeParse(await readJson(cfgPath));
    if (!cfg.success) throw new CheckpointError(`${join(from, 'tokenizer_config.json')}: not a JSON object`);
    if (cfg.data['chat_template'] === undefined) await writeFile(cfgPath, JSON.stringify({ ...cfg.data, chat_template: template }, null, 2));
  }
  if (!written.includes('generation_config.json')) {
    const gen = Object.fromEntries(
      Object.entries({ bos_token_id: ids.bos, eos_token_id: ids.eos, pad_token_id: ids.pad }).filter(([, v]) => v !== undefined && v !== null),
    );
    await writeFile(join(out, 'generation_config.json'), JSON.stringify(gen, null, 2));
    written.push('generation_config.json');
  }
  return written;
}
