/**
 * Load-time rewrite: MatMulNBits nodes that read the same activation with the same K, bits, block size and accuracy
 * level (a layer's q/k/v projections, the MLP's gate and up) become one MatMulNBits over their weights concatenated
 * along N, followed by a Split back into the original outputs. Each output column of MatMulNBits is computed from its
 * own row of B, scales and zero points, so the concatenation changes what is computed per column only in summation
 * order; the runner proves the result against the unmodified graph at load like any other rewrite (load-proof.ts).
 * Why: a small model's step is dominated by per-node cost (bench-50m: 211 nodes per step, 25 MatMulNBits per layer
 * pass over the same activation), and one wider kernel quantizes (accuracy level 4) and reads the activation once.
 * Applies to any export, ours or not. Skipped for weights kept in external data (they are never read into JS).
 */
import { onnx, type O } from '../graph/onnx.js';

export interface FusionResult {
  /** Groups of projections fused (each group became one MatMulNBits + Split). */
  groups: number;
  /** MatMulNBits nodes before and after. */
  nodesBefore: number;
  nodesAfter: number;
}

const DT = onnx.TensorProto.DataType;

/** A tensor's bytes as raw little-endian data, or undefined when stored externally or in a field not handled here. */
function tensorBytes(t: O.ITensorProto): Uint8Array | undefined {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) return undefined;
  if (t.rawData && t.rawData.length > 0) return t.rawData;
  if (t.dataType === DT.FLOAT && t.floatData && t.floatData.length > 0) return new Uint8Array(Float32Array.from(t.floatData).buffer);
  // uint8 (and other small integer types) live in int32Data, one value per element, when not raw.
  if (t.dataType === DT.UINT8 && t.int32Data && t.int32Data.length > 0) return Uint8Array.from(t.int32Data);
  const count = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
  return count === 0 ? new Uint8Array(0) : undefined;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

function attr(node: O.INodeProto, name: string): number | undefined {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  return a ? Number(a.i ?? 0) : undefined;
}

/** The default-domain opset the model imports (Split's form changed at 13). */
function defaultOpset(model: O.IModelProto): number {
  const o = (model.opsetImport ?? []).find((x) => !x.domain || x.domain === 'ai.onnx');
  return Number(o?.version ?? 13);
}

/** Fuses sibling MatMulNBits in `model.graph` in place. */
export function fuseSharedInputProjections(model: O.ModelProto): FusionResult {
  const graph = model.graph as O.GraphProto;
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const graphInputs = new Set(graph.input.map((i) => i.name));
  const constant = (name: string | undefined) => (name && !graphInputs.has(name) ? inits.get(name) : undefined);
  const nodes = graph.node as O.NodeProto[];
  const isNBits = (n: O.NodeProto) => n.opType === 'MatMulNBits' && n.domain === 'com.microsoft';
  const nodesBefore = nodes.filter(isNBits).length;

  // Candidates keyed by what must agree for one kernel to compute them all.
  const groups = new Map<string, O.NodeProto[]>();
  for (const n of nodes) {
    if (!isNBits(n)) continue;
    // A, B, scales and an optional zero_points; g_idx and bias are left alone.
    if (n.input.length < 3 || n.input.length > 4) continue;
    const [a, b, s, zp] = n.input;
    if (!constant(b) || !constant(s) || (zp !== undefined && zp !== '' && !constant(zp))) continue;
    const hasZp = zp !== undefined && zp !== '';
    const key = [
      a,
      attr(n, 'K'),
      attr(n, 'bits') ?? 4,
      attr(n, 'block_size'),
      attr(n, 'accuracy_level') ?? 0,
      hasZp ? constant(zp)!.dataType : '-',
      constant(s)!.dataType,
    ].join('|');
    groups.set(key, [...(groups.get(key) ?? []), n]);
  }

  const opset = defaultOpset(model);
  let fused = 0;
  let serial = 0;
  const removable = new Set<string>();
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const first = members[0]!;
    const hasZp = first.input.length === 4 && first.input[3] !== '';
    const Ns = members.map((m) => attr(m, 'N') ?? 0);
    const parts = (i: number) => members.map((m) => tensorBytes(constant(m.input[i])!));
    const bParts = parts(1);
    const sParts = parts(2);
    const zParts = hasZp ? parts(3) : [];
    if ([...bParts, ...sParts, ...zParts].some((p) => p === undefined)) continue;
    // Every tensor is laid out row by row along N (B [N, blocks, blob], scales [N * blocks] or [N, blocks], zero
    // points [N * bytes per row] or [N * blocks]): concatenating the bytes concatenates along N.
    const prefix = `fused/${serial++}`;
    const concatInit = (i: number, bytes: Uint8Array[]): string => {
      const ref = constant(first.input[i])!;
      const dims = (ref.dims ?? []).map(Number);
      const totalRows = members.reduce((acc, m) => acc + Number(constant(m.input[i])!.dims?.[0] ?? 0), 0);
      const name = `${prefix}/${['A', 'B', 'scales', 'zero_points'][i]}`;
      graph.initializer.push(
        onnx.TensorProto.create({ name, dataType: ref.dataType, dims: [totalRows, ...dims.slice(1)], rawData: concatBytes(bytes) }),
      );
      return name;
    };
    const inputs = [first.input[0]!, concatInit(1, bParts as Uint8Array[]), concatInit(2, sParts as Uint8Array[])];
    if (hasZp) inputs.push(concatInit(3, zParts as Uint8Array[]));
    const N = Ns.reduce((a, n) => a + n, 0);
    const wide = `${prefix}/out`;
    const matmul = onnx.NodeProto.create({
      opType: 'MatMulNBits',
      domain: 'com.microsoft',
      name: `${prefix}/MatMulNBits`,
      input: inputs,
      output: [wide],
      attribute: (first.attribute ?? []).map((a) => (a.name === 'N' ? { ...a, i: N } : a)),
    });
    const outputs = members.map((m) => m.output[0]!);
    const splitAttrs: O.IAttributeProto[] = [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }];
    const splitInputs = [wide];
    if (opset >= 13) {
      const sizes = `${prefix}/split`;
      graph.initializer.push(onnx.TensorProto.create({ name: sizes, dataType: DT.INT64, dims: [Ns.length], int64Data: Ns }));
      splitInputs.push(sizes);
    } else {
      splitAttrs.push({ name: 'split', type: onnx.AttributeProto.AttributeType.INTS, ints: Ns });
    }
    const split = onnx.NodeProto.create({ opType: 'Split', name: `${prefix}/Split`, input: splitInputs, output: outputs, attribute: splitAttrs });
    // The fused pair takes the first member's place: its activation is ready there, and every consumer of the other
    // members' outputs comes after them, so after the first too.
    const at = nodes.indexOf(first);
    for (const m of members) nodes.splice(nodes.indexOf(m), 1);
    nodes.splice(at, 0, matmul, split);
    for (const m of members) for (const i of m.input.slice(1)) removable.add(i);
    fused++;
  }
  if (removable.size > 0 && !nodes.some((n) => (n.attribute ?? []).some((a) => a.g || (a.graphs ?? []).length > 0))) {
    // Drop the unfused weights nobody reads any more (they would be held twice). Not when a subgraph could read them.
    const used = new Set(nodes.flatMap((n) => n.input));
    graph.initializer = graph.initializer.filter((t) => !removable.has(t.name ?? '') || used.has(t.name ?? ''));
  }
  return { groups: fused, nodesBefore, nodesAfter: nodes.filter(isNBits).length };
}
