/**
 * Rewrites a decoder-with-past graph (HF/Optimum names) in memory into the paged form the engine runs: each layer
 * reads its past K/V by gathering blocks from a pool through a block table (inside ORT), and returns only the new
 * tokens' K/V. Measured on this machine (PLATFORM.md, bench:kv): returning whole `present.*` tensors costs a full
 * copy per step that grows with context; gathering inside the graph keeps the JS side under a millisecond per step.
 *
 * General over exporters: every consumer of `past_key_values.{i}.*` (the attention Concat, but also the `Shape` reads
 * torch exports use for the past length, fused attention's past inputs, ...) reads the gathered past instead. The new
 * K/V is the Concat's second input when `present.{i}.*` is a Concat of the past, else the last `sequence_length`
 * positions of `present.{i}.*`. Whether the result computes the same thing is not assumed: the runner proves it at
 * load on real tokens (load-proof.ts) and falls back to an unrewritten path when it does not.
 */
import { onnx, type O } from '../graph/onnx.js';
import { fuseSharedInputProjections } from './fuse-projections.js';

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
  /** How many nodes read each layer's past besides the K/V Concat (Shape reads, fused attention, ...), summed. */
  otherPastConsumers: number;
  /** Layers whose new K/V had to be sliced out of present (no Concat(past, new) pattern). */
  slicedPresent: number;
  /** K/V outputs of fused GroupQueryAttention, gathered from present at each row's own length. */
  rowAligned: number;
  /** Groups of MatMulNBits over one activation fused into one (q/k/v, gate/up; fuse-projections.ts), 0 when not asked. */
  fusedProjections: number;
}

export class GraphRewriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphRewriteError';
  }
}

export const PAST = /^past_key_values\.(\d+)\.(key|value)$/;
export const PRESENT = /^present\.(\d+)\.(key|value)$/;

function int64Tensor(name: string, values: number[]): O.ITensorProto {
  return { name, dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], int64Data: values };
}

function attrInt(name: string, i: number): O.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
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

/** Finds the past inputs by name; throws when the graph is not a decoder-with-past. */
export function pastInputsOf(graph: O.IGraphProto): Map<string, { layer: number; kind: 'key' | 'value' }> {
  const pastInputs = new Map<string, { layer: number; kind: 'key' | 'value' }>();
  for (const inp of graph.input ?? []) {
    const m = PAST.exec(inp.name ?? '');
    if (m) pastInputs.set(inp.name!, { layer: Number(m[1]), kind: m[2] as 'key' | 'value' });
  }
  if (pastInputs.size === 0) throw new GraphRewriteError('no past_key_values.{i}.key|value inputs: not a decoder-with-past graph');
  return pastInputs;
}

/**
 * Prefill chunks need logits for the last position only: slicing the hidden state before the LM head saves
 * seq x hidden x vocab MACs. Follows Cast/Identity back from `logits` to the head's MatMul. Returns whether it applied.
 */
export function narrowLogitsToLast(graph: O.GraphProto): boolean {
  const nodes = graph.node as O.NodeProto[];
  const producer = (name: string) => nodes.find((n) => n.output.includes(name));
  let head = producer('logits');
  while (head && (head.opType === 'Cast' || head.opType === 'Identity')) head = producer(head.input[0]!);
  if (!head || !(head.opType === 'MatMul' || head.opType === 'MatMulNBits')) return false;
  graph.initializer.push(
    int64Tensor('paged/last_start', [-1]) as O.TensorProto,
    int64Tensor('paged/last_end', [2 ** 53 - 1]) as O.TensorProto,
    int64Tensor('paged/last_axis', [1]) as O.TensorProto,
  );
  const slice = onnx.NodeProto.create({
    opType: 'Slice',
    input: [head.input[0]!, 'paged/last_start', 'paged/last_end', 'paged/last_axis'],
    output: ['paged/last_hidden'],
    name: 'paged/LastSlice',
  });
  nodes.splice(nodes.indexOf(head), 0, slice);
  head.input[0] = 'paged/last_hidden';
  return true;
}

/** Whether `present.*` comes from fused GroupQueryAttention, which puts each row's new K/V after its own past. */
export function presentIsRowAligned(graph: O.IGraphProto): boolean {
  return (graph.node ?? []).some((n) => n.opType === 'GroupQueryAttention' && (n.output ?? []).some((o) => PRESENT.test(o)));
}

/**
 * Rewrites `modelBytes` (an .onnx file, external data inlined) into the paged form. The pool keeps the layout
 * `[num_blocks, kv_heads, block_size, head_dim]`, fed as `[pool_rows, block_size * head_dim]` (a row per block and
 * head). New inputs: `kv_index` [batch, kv_heads, past_blocks] int64 (the pool row of each row's head and past block;
 * a zero row where masked) and `kv_pool.{i}.key|value`; `attention_mask` then spans `past_blocks * block_size + seq`.
 */
export function rewriteToPaged(
  modelBytes: Uint8Array,
  opts: { kvHeads: number; headDim: number; blockSize: number; lastLogitsOnly?: boolean; fuseProjections?: boolean },
): { bytes: Uint8Array; info: PagedGraphInfo } {
  const model = onnx.ModelProto.decode(modelBytes);
  if (!model.graph) throw new GraphRewriteError('the model has no graph');
  const fusedProjections = opts.fuseProjections ? fuseSharedInputProjections(model).groups : 0;
  const graph = model.graph as O.GraphProto;
  const pastInputs = pastInputsOf(graph);
  const layers = pastInputs.size / 2;
  for (let l = 0; l < layers; l++) {
    for (const kind of ['key', 'value']) {
      if (!pastInputs.has(`past_key_values.${l}.${kind}`))
        throw new GraphRewriteError(`past_key_values.${l}.${kind}: missing among the graph inputs`);
    }
  }
  const poolInputs: PagedGraphInfo['poolInputs'] = Array.from({ length: layers }, (_, i) => ({
    key: `kv_pool.${i}.key`,
    value: `kv_pool.${i}.value`,
  }));
  const newKvOutputs: PagedGraphInfo['newKvOutputs'] = Array.from({ length: layers }, (_, i) => ({ key: `new.${i}.key`, value: `new.${i}.value` }));
  const gathered = (layer: number, kind: string) => `paged/${layer}/${kind}/past`;

  // The gathered past depends only on graph inputs: its nodes go first, so topological order holds. The pool, viewed
  // as [num_blocks * kv_heads, block_size * head_dim], is one row per (block, head): a Gather at per-(row, head, block)
  // indices gives [B, kv_heads, blocks, block_size * head_dim], and a Reshape (no copy) makes it
  // [B, kv_heads, past, head_dim]. Gathering [block] rows then transposing heads forward was two full copies
  // (Gather + Transpose); a Gather of single head_dim rows was one copy but as slow (256-byte rows).
  const head: O.INodeProto[] = [];
  const shapeName = 'paged/past_shape';
  graph.initializer.push(int64Tensor(shapeName, [0, 0, -1, opts.headDim]) as O.TensorProto);
  for (const past of pastInputs.values()) {
    const pool = past.kind === 'key' ? poolInputs[past.layer]!.key : poolInputs[past.layer]!.value;
    const prefix = `paged/${past.layer}/${past.kind}`;
    head.push(
      { opType: 'Gather', input: [pool, 'kv_index'], output: [`${prefix}/gathered`], attribute: [attrInt('axis', 0)], name: `${prefix}/Gather` },
      { opType: 'Reshape', input: [`${prefix}/gathered`, shapeName], output: [gathered(past.layer, past.kind)], name: `${prefix}/Reshape` },
    );
  }
  let otherPastConsumers = 0;
  const nodes = graph.node as O.NodeProto[];
  for (const node of nodes) {
    node.input.forEach((inp, i) => {
      const past = pastInputs.get(inp);
      if (!past) return;
      node.input[i] = gathered(past.layer, past.kind);
      if (!(node.opType === 'Concat' && i === 0)) otherPastConsumers++;
    });
  }

  // The new tokens' K/V: the Concat's second input where present = Concat(past, new); else present's tail.
  const tail: O.INodeProto[] = [];
  let slicedPresent = 0;
  let rowAligned = 0;
  let seqNodes = false;
  for (let l = 0; l < layers; l++) {
    for (const kind of ['key', 'value'] as const) {
      const present = `present.${l}.${kind}`;
      const out = kind === 'key' ? newKvOutputs[l]!.key : newKvOutputs[l]!.value;
      const producer = nodes.find((n) => n.output.includes(present));
      if (!producer) throw new GraphRewriteError(`${present}: no node produces it; cannot find layer ${l}'s new ${kind}`);
      const axis = Number(producer.attribute.find((a) => a.name === 'axis')?.i ?? 0);
      if (producer.opType === 'Concat' && producer.input.length === 2 && producer.input[0] === gathered(l, kind) && (axis === 2 || axis === -2)) {
        tail.push({ opType: 'Identity', input: [producer.input[1]!], output: [out], name: `paged/${l}/${kind}/NewOut` });
        continue;
      }
      if (producer.opType === 'GroupQueryAttention') {
        // GQA writes row b's new K/V right after that row's own past (at seqlens_k + 1 - S = sum(mask) - S), not
        // at the tail of present: gather those S positions per row.
        tail.push(...rowAlignedNew(present, out, `paged/${l}/${kind}`));
        rowAligned++;
        continue;
      }
      if (!seqNodes) {
        // -sequence_length as a 1-D tensor, read from input_ids at run time.
        graph.initializer.push(int64Tensor('paged/idx1', [1]) as O.TensorProto, int64Tensor('paged/axis2', [2]) as O.TensorProto);
        graph.initializer.push(int64Tensor('paged/big', [2 ** 53 - 1]) as O.TensorProto);
        tail.push(
          { opType: 'Shape', input: ['input_ids'], output: ['paged/ids_shape'], name: 'paged/IdsShape' },
          { opType: 'Gather', input: ['paged/ids_shape', 'paged/idx1'], output: ['paged/seq'], attribute: [attrInt('axis', 0)], name: 'paged/Seq' },
          { opType: 'Neg', input: ['paged/seq'], output: ['paged/neg_seq'], name: 'paged/NegSeq' },
        );
        seqNodes = true;
      }
      tail.push({
        opType: 'Slice',
        input: [present, 'paged/neg_seq', 'paged/big', 'paged/axis2'],
        output: [out],
        name: `paged/${l}/${kind}/Tail`,
      });
      slicedPresent++;
    }
  }
  if (rowAligned > 0) {
    graph.initializer.push(
      ...[
        int64Tensor('paged/ga/ax1', [1]),
        int64Tensor('paged/ga/idx1', [1]),
        int64Tensor('paged/ga/ax0', [0]),
        int64Tensor('paged/ga/ax13', [1, 3]),
        int64Tensor('paged/ga/zero1', [0]),
        int64Tensor('paged/ga/two1', [2]),
        int64Tensor('paged/ga/hd', [opts.headDim]),
        { name: 'paged/ga/zero', dataType: onnx.TensorProto.DataType.INT64, dims: [], int64Data: [0] },
        { name: 'paged/ga/one', dataType: onnx.TensorProto.DataType.INT64, dims: [], int64Data: [1] },
      ].map((t) => t as O.TensorProto),
    );
  }
  graph.node = [...(head as O.NodeProto[]), ...nodes, ...(tail as O.NodeProto[])];
  const lastLogitsOnly = opts.lastLogitsOnly ? narrowLogitsToLast(graph) : false;

  const keptInputs = graph.input.filter((i) => !pastInputs.has(i.name ?? ''));
  graph.input = [
    ...keptInputs,
    int64Input('kv_index', ['batch_size', opts.kvHeads, 'past_blocks']) as O.ValueInfoProto,
    ...poolInputs.flatMap((p) => [
      floatInput(p.key, ['pool_rows', opts.blockSize * opts.headDim]) as O.ValueInfoProto,
      floatInput(p.value, ['pool_rows', opts.blockSize * opts.headDim]) as O.ValueInfoProto,
    ]),
  ];
  graph.output = [
    ...graph.output.filter((o) => !PRESENT.test(o.name ?? '')),
    ...newKvOutputs.flatMap((o) => [
      floatInput(o.key, ['batch_size', opts.kvHeads, 'sequence_length', opts.headDim]) as O.ValueInfoProto,
      floatInput(o.value, ['batch_size', opts.kvHeads, 'sequence_length', opts.headDim]) as O.ValueInfoProto,
    ]),
  ];
  // Exporters' value_info records shapes of the old past/present; ORT re-infers them.
  graph.valueInfo = [];
  // Drop nodes whose outputs nobody needs any more (e.g. present-only Identity nodes some exporters add).
  pruneDeadNodes(graph);
  const hasPositionIds = graph.input.some((i) => i.name === 'position_ids');
  return {
    bytes: onnx.ModelProto.encode(model).finish(),
    info: { layers, poolInputs, newKvOutputs, hasPositionIds, lastLogitsOnly, otherPastConsumers, slicedPresent, rowAligned, fusedProjections },
  };
}

/**
 * Nodes taking row b's positions [len_b - S, len_b) out of `present` [B, kvh, T, hd] along axis 2, where len_b is the
 * row's attention_mask sum: GatherElements with per-row indices expanded over heads and head_dim.
 */
function rowAlignedNew(present: string, out: string, prefix: string): O.INodeProto[] {
  const n = (opType: string, input: string[], output: string, attribute: O.IAttributeProto[] = []): O.INodeProto => ({
    opType,
    input,
    output: [output],
    attribute,
    name: `${prefix}/${opType}_${output.split('/').pop()}`,
  });
  const p = (x: string) => `${prefix}/${x}`;
  return [
    n('ReduceSum', ['attention_mask', 'paged/ga/ax1'], p('len'), [attrInt('keepdims', 1)]),
    n('Shape', ['input_ids'], p('ids_shape')),
    n('Gather', [p('ids_shape'), 'paged/ga/idx1'], p('seq'), [attrInt('axis', 0)]),
    n('Sub', [p('len'), p('seq')], p('start')),
    n('Squeeze', [p('seq'), 'paged/ga/ax0'], p('seq_scalar')),
    n('Range', ['paged/ga/zero', p('seq_scalar'), 'paged/ga/one'], p('steps')),
    n('Add', [p('start'), p('steps')], p('rows')),
    n('Unsqueeze', [p('rows'), 'paged/ga/ax13'], p('rows4')),
    n('Shape', [present], p('present_shape')),
    n('Slice', [p('present_shape'), 'paged/ga/zero1', 'paged/ga/two1', 'paged/ga/zero1'], p('bh')),
    n('Concat', [p('bh'), p('seq'), 'paged/ga/hd'], p('shape'), [attrInt('axis', 0)]),
    n('Expand', [p('rows4'), p('shape')], p('index')),
    n('GatherElements', [present, p('index')], out, [attrInt('axis', 2)]),
  ];
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
