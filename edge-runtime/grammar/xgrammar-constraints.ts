/**
 * Output constraints through xgrammar: JSON Schema (or any JSON object) -> a compiled grammar over this model's
 * vocabulary -> per-sequence matchers that give a bitmask of allowed next tokens and advance on each sampled token.
 * Compiled grammars are cached by schema text (agents send the same tool schemas again and again).
 */
import type { GrammarPort, TokenMatcher } from '../engine/ports.js';
import { constraintKey, type OutputConstraint } from './output-constraint.js';
import type { TokenVocabulary } from './token-vocabulary.js';
import { loadXGrammar } from './xgrammar-module.js';
import { prepareSchema } from './prepare-schema.js';
import type * as XGrammar from '@mlc-ai/web-xgrammar';

/** Compiled grammars kept per engine (each holds a per-token table for the vocabulary). */
const MAX_COMPILED = 64;

export class XGrammarConstraints implements GrammarPort {
  private compiler: Promise<XGrammar.GrammarCompiler> | undefined;
  private readonly compiled = new Map<string, Promise<XGrammar.CompiledGrammar>>();

  /** `logitsSize`: the model's output width (may exceed the tokenizer's vocabulary); `stopIds`: EOS ids. */
  constructor(
    private readonly vocab: TokenVocabulary,
    private readonly logitsSize: number,
    private readonly stopIds: readonly number[],
  ) {}

  private getCompiler(): Promise<XGrammar.GrammarCompiler> {
    this.compiler ??= (async () => {
      const xg = loadXGrammar();
      const info = await xg.TokenizerInfo.createTokenizerInfo(this.vocab.encoded, this.vocab.type, false, this.logitsSize, [...this.stopIds]);
      return xg.GrammarCompiler.createGrammarCompiler(info, false);
    })();
    return this.compiler;
  }

  private compile(c: OutputConstraint): Promise<XGrammar.CompiledGrammar> {
    const key = constraintKey(c);
    let p = this.compiled.get(key);
    if (p) {
      this.compiled.delete(key);
      this.compiled.set(key, p);
      return p;
    }
    p = (async () => {
      const schema = c.kind === 'json_object' ? '{"type":"object"}' : JSON.stringify(prepareSchema(parseSchema(c.schema)));
      const compiler = await this.getCompiler();
      // Compact JSON (no free whitespace): a model cannot stall in endless spaces, and outputs stay short.
      // json_object is "any object": not strict, so any keys are allowed.
      return compiler.compileJSONSchema(schema, false, -1, [',', ':'], c.kind !== 'json_object');
    })();
    this.compiled.set(key, p);
    p.catch(() => this.compiled.delete(key));
    while (this.compiled.size > MAX_COMPILED) {
      const oldest = this.compiled.keys().next().value as string;
      void this.compiled.get(oldest)?.then(
        (g) => g.dispose(),
        () => undefined,
      );
      this.compiled.delete(oldest);
    }
    return p;
  }

  async matcher(c: OutputConstraint): Promise<TokenMatcher> {
    let grammar: XGrammar.CompiledGrammar;
    try {
      grammar = await this.compile(c);
    } catch (err) {
      throw new Error(`the JSON schema cannot be enforced: ${describe(err)}`);
    }
    const xg = loadXGrammar();
    return new XGrammarMatcher(await xg.GrammarMatcher.createGrammarMatcher(grammar));
  }
}

function parseSchema(text: string): Record<string, unknown> {
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('schema: must be a JSON object');
  return v as Record<string, unknown>;
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  // Emscripten throws C++ exceptions as numbers or opaque objects.
  return typeof err === 'string' ? err : 'xgrammar rejected it';
}

class XGrammarMatcher implements TokenMatcher {
  private disposed = false;

  constructor(private readonly m: XGrammar.GrammarMatcher) {}

  nextMask(): Promise<Int32Array> {
    return this.m.getNextTokenBitmask();
  }

  accept(token: number): boolean {
    return this.m.acceptToken(token);
  }

  isTerminated(): boolean {
    return this.m.isTerminated();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.m.dispose();
  }
}
