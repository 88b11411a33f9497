/** A model's tokenizer: tokenizer.json through @huggingface/tokenizers, its chat template through @huggingface/jinja. */
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import type { TokenizerPort } from '../engine/ports.js';
import type { TextSink } from '../engine/request-state.js';
import { IncrementalDecoder } from './incremental-decoder.js';
import { StopMatcher } from './stop-matcher.js';
import type { ChatTool, ChatTurn } from '../engine/protocol.js';
import { templateReadsTools, withToolsInText } from './tool-prompt.js';

export interface TokenizerConfig {
  chat_template?: string;
  bos_token?: string | { content: string } | null;
  eos_token?: string | { content: string } | null;
  add_bos_token?: boolean;
}

const tokenText = (t: TokenizerConfig['bos_token']): string | undefined => (t == null ? undefined : typeof t === 'string' ? t : t.content);

export class TextTokenizer implements TokenizerPort {
  private readonly tok: Tokenizer;
  private readonly template: Template | undefined;
  readonly eosIds: readonly number[];
  readonly vocabSize: number;
  private readonly bos: string | undefined;
  private readonly eos: string | undefined;
  private readonly infoCache = new Map<number, { text: string; bytes: number[] }>();

  constructor(
    tokenizerJson: object,
    private readonly config: TokenizerConfig,
    eosIds: readonly number[],
  ) {
    this.tok = new Tokenizer(tokenizerJson, config);
    this.template = config.chat_template ? new Template(config.chat_template) : undefined;
    this.bos = tokenText(config.bos_token);
    this.eos = tokenText(config.eos_token);
    const fromConfig = this.eos !== undefined ? this.tok.token_to_id(this.eos) : undefined;
    this.eosIds = [...new Set([...eosIds, ...(fromConfig !== undefined ? [fromConfig] : [])])];
    this.vocabSize = this.tok.get_vocab(true).size;
  }

  encode(text: string, addSpecialTokens = false): number[] {
    return this.tok.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  decode(ids: number[]): string {
    if (ids.length === 0) return '';
    return this.tok.decode(ids, { skip_special_tokens: true });
  }

  renderChat(messages: readonly ChatTurn[], tools?: readonly ChatTool[]): string {
    if (!this.template) throw new Error('the model has no chat_template in tokenizer_config.json; use /v1/completions');
    const special = { add_generation_prompt: true, bos_token: this.bos ?? '', eos_token: this.eos ?? '' };
    const hasTools = (tools && tools.length > 0) || messages.some((m) => m.tool_calls || m.role === 'tool');
    // Templates that know tools (Qwen, Llama 3.1, Hermes...) get them as Hugging Face passes them; others get the
    // tools and calls written into the messages in the Hermes format the edge parses back.
    if (!hasTools || templateReadsTools(this.config.chat_template ?? ''))
      return this.template.render({ messages: messages as unknown as Record<string, unknown>[], tools: tools ? [...tools] : undefined, ...special });
    return this.template.render({ messages: withToolsInText(messages, tools ?? []) as unknown as Record<string, unknown>[], ...special });
  }

  encodeChat(messages: readonly ChatTurn[], tools?: readonly ChatTool[]): number[] {
    // The template writes BOS itself where the model wants it.
    return this.encode(this.renderChat(messages, tools), false);
  }

  encodeText(text: string): number[] {
    const ids = this.encode(text, false);
    if (this.config.add_bos_token && this.bos !== undefined) {
      const bosId = this.tok.token_to_id(this.bos);
      if (bosId !== undefined) ids.unshift(bosId);
    }
    return ids;
  }

  newSink(stop: readonly string[]): TextSink {
    const dec = new IncrementalDecoder(this);
    const stopper = new StopMatcher(stop);
    return {
      push: (token) => stopper.push(dec.push(token)),
      flush: () => {
        const r = stopper.push(dec.flush());
        return r.stopped ? r.text : r.text + stopper.flush();
      },
    };
  }

  tokenInfo(id: number): { text: string; bytes: number[] } {
    let info = this.infoCache.get(id);
    if (!info) {
      const text = this.tok.decode([id], { skip_special_tokens: false });
      info = { text, bytes: [...new TextEncoder().encode(text)] };
      this.infoCache.set(id, info);
    }
    return info;
  }
}
