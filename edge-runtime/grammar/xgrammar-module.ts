/**
 * Loads @mlc-ai/web-xgrammar (xgrammar compiled to WASM). Its package says `"type": "module"` but ships a UMD bundle
 * that needs CommonJS `require`/`__filename` on Node, so it is evaluated as CommonJS here (PLATFORM.md). Loaded once,
 * lazily: only requests with a grammar pay for the WASM start (~100 ms).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { compileFunction, constants } from 'node:vm';
import type * as XGrammar from '@mlc-ai/web-xgrammar';

export type XGrammarModule = typeof XGrammar;

let loaded: XGrammarModule | undefined;

export function loadXGrammar(): XGrammarModule {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const file = require.resolve('@mlc-ai/web-xgrammar');
  const module = { exports: {} as XGrammarModule };
  // The bundle is the package's own code, run with the CommonJS wrapper Node would give a .cjs file. Its Node branch
  // does `await import('module')`: the main context's loader answers that (also under test runners that use vm).
  const wrapper = compileFunction(readFileSync(file, 'utf8'), ['exports', 'module', 'require', '__filename', '__dirname'], {
    filename: file,
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  wrapper(module.exports, module, require, file, dirname(file));
  loaded = module.exports;
  return loaded;
}
