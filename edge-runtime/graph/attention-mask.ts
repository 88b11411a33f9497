/** The additive attention mask every decoder graph here uses: causal over absolute positions (past first) plus padding. */
import type { GraphBuilder } from './graph-builder.js';

/** Returns a [B, 1, S, T] float mask: 0 where attention is allowed, -1e9 (or -2e9) where not. */
export function additiveMask(g: GraphBuilder, ids: string, am: string): string {
  const zero = g.int64Scalar('mask/zero', 0);
  const one = g.int64Scalar('mask/one', 1);
  const idx1 = g.int64Scalar('mask/idx1', 1);
  const T = g.o('Gather', [g.o('Shape', [am]), idx1], { axis: 0 });
  const S = g.o('Gather', [g.o('Shape', [ids]), idx1], { axis: 0 });
  const P = g.o('Sub', [T, S]);
  const kRange = g.o('Range', [zero, T, one]);
  const qRange = g.o('Range', [P, T, one]);
  const future = g.o('Greater', [g.o('Unsqueeze', [kRange, g.int64('mask/ax0', [0])]), g.o('Unsqueeze', [qRange, g.int64('mask/ax1', [1])])]);
  const causal = g.o('Where', [future, g.floatScalar('mask/negBig', -1e9), g.floatScalar('mask/fzero', 0)]);
  const amF = g.o('Cast', [am], { to: 1 });
  const pad = g.o('Mul', [g.o('Sub', [amF, g.floatScalar('mask/fone', 1)]), g.floatScalar('mask/big', 1e9)]);
  return g.o('Add', [g.o('Unsqueeze', [pad, g.int64('mask/ax12', [1, 2])]), causal]);
}
