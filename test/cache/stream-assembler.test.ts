/**
 * StreamAssembler (caches a streamed answer) skips JSON.parse for chunks that differ from a learned template only in
 * their content string (hot path). The shortcut must give exactly what parsing every chunk gives: checked against a
 * reference assembly for random content (quotes, backslashes, escapes, non-ASCII), and with chunks that vary elsewhere.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamAssembler } from '../../gateway/cache/stream-answer.js';

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'm' };
const contentChunk = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ ...base, ...extra, choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }] });
const first = JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
const last = JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] });
const usage = JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } });

function assemble(chunks: string[]) {
  const a = new StreamAssembler();
  for (const c of chunks) a.push(c);
  return a.result();
}

const expected = (text: string) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
});

describe('StreamAssembler', () => {
  it('property: the assembled text is the concatenation of every content delta, whatever the characters', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { minLength: 1, maxLength: 40 }), (parts) => {
        const chunks = [first, ...parts.map((p) => contentChunk(p)), last, usage];
        expect(assemble(chunks)).toEqual(expected(parts.join('')));
      }),
      { seed: 17, numRuns: 300 },
    );
  });

  it('upstream escapes the shortcut never produced (\\u sequences, escaped slashes) decode like JSON.parse', () => {
    const raw = (literal: string) =>
      `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{"content":${literal}},"logprobs":null,"finish_reason":null}]}`;
    const chunks = [first, raw('"a"'), raw('"\\u00e9\\/\\n"'), raw('"q\\"x"'), raw('"b"'), last, usage];
    expect(assemble(chunks)?.['choices']).toEqual(expected('aé/\nq"xb').choices);
  });

  it('a chunk matching the template but with an invalid literal is skipped, as a failed parse would be', () => {
    const bad = contentChunk('x').replace('"content":"x"', '"content":"a\u0001b"');
    expect(assemble([first, contentChunk('a'), bad, contentChunk('c'), last, usage])).toEqual(expected('ac'));
  });

  it('chunks that vary outside the content (padding fields, tool calls, a second choice) are parsed in full', () => {
    const padded = ['a', 'b', 'c', 'd'].map((p, i) => contentChunk(p, { obfuscation: 'x'.repeat(i) }));
    expect(assemble([first, ...padded, last, usage])).toEqual(expected('abcd'));
    const second = JSON.stringify({ ...base, choices: [{ index: 1, delta: { content: 'Z' }, logprobs: null, finish_reason: null }] });
    const secondLast = JSON.stringify({ ...base, choices: [{ index: 1, delta: {}, logprobs: null, finish_reason: 'stop' }] });
    const answer = assemble([first, contentChunk('a'), contentChunk('b'), second, contentChunk('c'), last, secondLast, usage]);
    const choices = answer?.['choices'] as Array<{ message: { content: string } }>;
    expect(choices.map((c) => c.message.content)).toEqual(['abc', 'Z']);
  });
});
