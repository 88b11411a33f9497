/**
 * Rewrites a standard HF/Optimum decoder graph in memory into the paged form the engine runs: each layer reads its
 * past K/V by gathering blocks from a pool through a block table (inside ORT), and returns only the new tokens' K/V.
 * Measured on this machine (PLATFORM.md, bench:kv): returning whole `present.*` tensors costs a full copy per step
 * that grows with context; gathering inside the graph keeps the JS side under a millisecond per step.
 */
import { onnx, type O } from '../graph/onnx.js';

export interface PagedGraphInfo {
  layers: number;
  /** Graph input names per layer. */
  poolInputs: Array<{ key: string; value: string }>;
  /** Graph output names per layer carrying only the new tokens' K/V, [batch, kv_heads, seq, head_dim]. */
  newKvOutputs: Array<{ key: string; value: string }>;
  /** Whether the graph takes position_ids. */
  hasPositionIds: boolean;
  /** Whether logits were narrowed to the last position of each row. */
  lastLogitsOnly: boolean;
}

export class GraphRewriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphRewriteError';
  }
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

function int64Tensor(name: string, values: number[]): O.ITensorProto {
  return { name, dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], int64Data: values };
}

function attrInt(name: string, i: number): O.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}

function attrInts(name: string, ints: number[]): O.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints };
}

function dim(param: string | number): O.TensorShapeProto.IDimension {
  return typeof param === 'number' ? { dimValue: param } : { dimParam: param };
}

function floatInput(name: string, dims: Array<string | number>): O.IValueInfoProto {
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map(dim) } } } };
}

function int64Input(name: string, dims: Array<string | number>): O.IValueInfoProto {
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: dims.map(dim) } } } };
}

/**
 * Rewrites `modelBytes` (an .onnx file) into the paged form. `blockSize`, `kvHeads` and `headDim` fix the pool layout
 * `[num_blocks, kv_heads, block_size, head_dim]`. New inputs: `block_table` [batch, max_blocks] int64 and
 * `kv_pool.{i}.key|value`; `attention_mask` then spans `max_blocks * block_size + seq`.
 */
export function rewriteToPaged(
  modelBytes: Uint8Array,
  opts: { kvHeads: number; headDim: number; blockSize: number; lastLogitsOnly?: boolean },
): { bytes: Uint8Array; info: PagedGraphInfo } {
  const model = onnx.ModelProto.decode(modelBytes);
  if (!model.graph) throw new GraphRewriteError('the model has no graph');
  const graph = model.graph as O.GraphProto;
  const nodes = graph.node as O.NodeProto[];
  const pastInputs = new Map<string, { layer: number; kind: 'key' | 'value' }>();
  for (const inp of graph.input) {
    const m = PAST.exec(inp.name ?? '');
    if (m) pastInputs.set(inp.name!, { layer: Number(m[1]), kind: m[2] as 'key' | 'value' });
  }
  if (pastInputs.size === 0) throw new GraphRewriteError('no past_key_values.{i}.key|value inputs: not a decoder-with-past graph');
  const layers = pastInputs.size / 2;
  const poolInputs: PagedGraphInfo['poolInputs'] = Array.from({ length: layers }, (_, i) => ({
    key: `kv_pool.${i}.key`,
    value: `kv_pool.${i}.value`,
  }));
  const newKvOutputs: PagedGraphInfo['newKvOutputs'] = Array.from({ length: layers }, (_, i) => ({ key: `new.${i}.key`, value: `new.${i}.value` }));

  // ONNX wants nodes in topological order: new nodes go right before the node that consumes them.
  const before = new Map<O.NodeProto, O.INodeProto[]>();
  const insertBefore = (n: O.NodeProto, add: O.INodeProto[]) => before.set(n, [...(before.get(n) ?? []), ...add]);
  const shapeName = 'paged/past_shape';
  graph.initializer.push(int64Tensor(shapeName, [0, 0, -1, opts.headDim]) as O.TensorProto);
  let rewritten = 0;
  for (const node of nodes) {
    if (node.opType !== 'Concat' || node.input.length !== 2) continue;
    const past = pastInputs.get(node.input[0]!);
    if (!past) continue;
    const axisAttr = node.attribute.find((a) => a.name === 'axis');
    const axis = Number(axisAttr?.i ?? 0);
    if (axis !== 2 && axis !== -2) throw new GraphRewriteError(`Concat for ${node.input[0]} is on axis ${axis}, expected 2`);
    const pool = past.kind === 'key' ? poolInputs[past.layer]!.key : poolInputs[past.layer]!.value;
    const prefix = `paged/${past.layer}/${past.kind}`;
    insertBefore(node, [
      { opType: 'Gather', input: [pool, 'block_table'], output: [`${prefix}/gathered`], attribute: [attrInt('axis', 0)], name: `${prefix}/Gather` },
      {
        opType: 'Transpose',
        input: [`${prefix}/gathered`],
        output: [`${prefix}/transposed`],
        attribute: [attrInts('perm', [0, 2, 1, 3, 4])],
        name: `${prefix}/Transpose`,
      },
      { opType: 'Reshape', input: [`${prefix}/transposed`, shapeName], output: [`${prefix}/past`], name: `${prefix}/Reshape` },
      {
        opType: 'Identity',
        input: [node.input[1]!],
        output: [past.kind === 'key' ? newKvOutputs[past.layer]!.key : newKvOutputs[past.layer]!.value],
        name: `${prefix}/NewOut`,
      },
    ]);
    node.input[0] = `${prefix}/past`;
    rewritten++;
  }
  if (rewritten !== pastInputs.size) {
    throw new GraphRewriteError(
      `found ${pastInputs.size} past inputs but only ${rewritten} Concat(past, new) nodes; the graph does not use the standard K/V concat pattern`,
    );
  }

  let lastLogitsOnly = false;
  if (opts.lastLogitsOnly) {
    // Prefill chunks need logits for the last position only: slicing before the LM head saves seq x hidden x vocab MACs.
    const head = nodes.find((n) => n.output.includes('logits'));
    if (head && (head.opType === 'MatMul' || head.opType === 'MatMulNBits')) {
      graph.initializer.push(
        int64Tensor('paged/last_start', [-1]) as O.TensorProto,
        int64Tensor('paged/last_end', [2 ** 53 - 1]) as O.TensorProto,
        int64Tensor('paged/last_axis', [1]) as O.TensorProto,
      );
      insertBefore(head, [
        {
          opType: 'Slice',
          input: [head.input[0]!, 'paged/last_start', 'paged/last_end', 'paged/last_axis'],
          output: ['paged/last_hidden'],
          name: 'paged/LastSlice',
        },
      ]);
      head.input[0] = 'paged/last_hidden';
      lastLogitsOnly = true;
    }
  }

  graph.node = nodes.flatMap((n) => [...((before.get(n) ?? []) as O.NodeProto[]), n]);
  const keptInputs = graph.input.filter((i) => !pastInputs.has(i.name ?? ''));
  graph.input = [
    ...keptInputs,
    int64Input('block_table', ['batch_size', 'max_blocks']) as O.ValueInfoProto,
    ...poolInputs.flatMap((p) => [
      floatInput(p.key, ['num_blocks', opts.kvHeads, opts.blockSize, opts.headDim]) as O.ValueInfoProto,
      floatInput(p.value, ['num_blocks', opts.kvHeads, opts.blockSize, opts.headDim]) as O.ValueInfoProto,
    ]),
  ];
  graph.output = [
    ...graph.output.filter((o) => !/^present\.\d+\.(key|value)$/.test(o.name ?? '')),
    ...newKvOutputs.flatMap((o) => [
      floatInput(o.key, ['batch_size', opts.kvHeads, 'sequence_length', opts.headDim]) as O.ValueInfoProto,
      floatInput(o.value, ['batch_size', opts.kvHeads, 'sequence_length', opts.headDim]) as O.ValueInfoProto,
    ]),
  ];
  // Drop nodes whose outputs nobody needs any more (e.g. present-only Identity nodes some exporters add).
  pruneDeadNodes(graph);
  const hasPositionIds = graph.input.some((i) => i.name === 'position_ids');
  return {
    bytes: onnx.ModelProto.encode(model).finish(),
    info: { layers, poolInputs, newKvOutputs, hasPositionIds, lastLogitsOnly },
  };
}

function pruneDeadNodes(graph: O.GraphProto): void {
  const needed = new Set(graph.output.map((o) => o.name ?? ''));
  const kept: O.NodeProto[] = [];
  for (let i = graph.node.length - 1; i >= 0; i--) {
    const n = graph.node[i] as O.NodeProto;
    if (n.output.some((o) => needed.has(o))) {
      kept.push(n);
      for (const inp of n.input) needed.add(inp);
    }
  }
  kept.reverse();
  graph.node = kept;
}
