/**
 * How the expert-input rows are laid out. 'chunks': the experts run as one batched matmul over
 * chunks of `chunkSize` rows — normally one chunk per expert, padded to the busiest expert's load;
 * when routing is skewed, busy experts get several smaller chunks (their weights gathered per chunk)
 * so padding stays small. 'grouped': each expert's `counts[e]` rows follow the previous expert's,
 * no padding, for one 2-D matmul per expert (`groupedMatMul`, tfjs-node only).
 */
export type DispatchLayout = 'chunks' | 'grouped';

/**
 * Where each (token, choice) pair goes in a sparse MoE step, and the way back. Pure bookkeeping on
 * the CPU.
 */
export interface DispatchPlan {
  numTokens: number;
  topK: number;
  numExperts: number;
  /** Most choices an expert takes, or null for no limit. */
  capacity: number | null;
  /** [T*k] the router's choices, token-major, best first. */
  indices: Int32Array;
  /** [E] choices routed to each expert, before capacity: its load. */
  load: Int32Array;
  /** [E] choices each expert runs (load minus drops). */
  counts: Int32Array;
  /** Choices dropped because their expert was full. */
  dropped: number;
  /** The row layout. */
  layout: DispatchLayout;
  /** Rows per chunk; in the grouped layout the busiest expert's (kept) rows. */
  chunkSize: number;
  /** [N] expert of each chunk, or null when chunk e is expert e (then no weight gather is needed) or grouped. */
  chunkExpert: Int32Array | null;
  /** [rows] source token of each expert-input row; padding rows read token 0 and are never read back. */
  tokenIndex: Int32Array;
  /** [T*k] row of each choice (token-major, as the router's indices) in the expert outputs, −1 if dropped. */
  combineIndex: Int32Array;
  /** [rows] the choice (t·k + j) each row serves, −1 for padding: the inverse of combineIndex. */
  rowChoice: Int32Array;
}

/** Capacity per expert (GShard/Switch): ceil(factor · T · k / E); factor <= 0 means no limit. */
export function expertCapacity(
  capacityFactor: number,
  numTokens: number,
  topK: number,
  numExperts: number,
): number | null {
  return capacityFactor > 0 ? Math.ceil((capacityFactor * numTokens * topK) / numExperts) : null;
}

// Cost of gathering one chunk's weights, and of the gathers themselves, in expert-row equivalents
// (measured on tfjs-node at d = h = 256: copying a chunk's matrices costs about as much as running
// a dozen rows through them).
const CHUNK_GATHER_ROWS = 16;
const WEIGHT_GATHER_ROWS = 64;
const MIN_CHUNK = 16;
// Cost of one expert's own 2-D MatMuls in the grouped layout, in the same expert-row units. Fitted
// on `npm run bench:layers -- --layouts` (tfjs-node, E = 8, k = 2; median grouped / chunks time of
// three runs) at d / h / rows 256/256/4,096, 128/512/2,048 and 512/1,024/8,192: near-uniform loads
// at 256 want chunks (1.04x; 'auto' picks grouped below 48), at 512 grouped (0.87x; below 56), and
// skewed loads at 128 want grouped (0.82-0.92x; below 84). 48-56 gets 8 of the 9 fitted rows right
// (the old 90, fitted at 256 alone, 5); held out, 384/768/6,144, 50 picks the faster layout on all
// three routings. The cost per expert in rows falls as d·h grows, which the loads alone cannot tell.
const GROUPED_EXPERT_ROWS = 50;

/**
 * Groups the router's choices by expert, in `layout` ('auto': whichever of the two is estimated
 * cheaper for these loads; the grouped layout needs groupedMatMul). With a capacity, an expert keeps its first `capacity`
 * choices in priority order — every token's first choice before any second choice, then token
 * order (GShard §2.2) — and drops the rest; a dropped choice contributes nothing (the residual
 * carries the token). indices [T*k] token-major.
 */
export function planDispatch(
  indices: Int32Array,
  numTokens: number,
  topK: number,
  numExperts: number,
  capacity: number | null = null,
  layout: DispatchLayout | 'auto' = 'chunks',
): DispatchPlan {
  const load = new Int32Array(numExperts);
  const counts = new Int32Array(numExperts);
  const kept = new Uint8Array(indices.length);
  const limit = capacity ?? Infinity;
  for (let j = 0; j < topK; j++) {
    for (let t = 0; t < numTokens; t++) {
      const e = indices[t * topK + j]!;
      load[e]!++;
      if (counts[e]! < limit) {
        counts[e]!++;
        kept[t * topK + j] = 1;
      }
    }
  }
  const chunked = chooseChunks(counts);
  const chosen = layout === 'auto' ? cheaperLayout(counts, chunked.cost) : layout;
  const {chunkSize, chunksPerExpert} =
    chosen === 'grouped' ? {chunkSize: Math.max(0, ...counts), chunksPerExpert: null} : chunked;
  const chunkExpert: number[] = [];
  const cursor = new Int32Array(numExperts); // next free row of each expert
  let rows = 0;
  for (let e = 0; e < numExperts; e++) {
    cursor[e] = rows;
    const chunks = chunksPerExpert ? chunksPerExpert[e]! : 0;
    for (let c = 0; c < chunks; c++) chunkExpert.push(e);
    rows += chunksPerExpert ? chunks * chunkSize : counts[e]!;
  }
  const identity = !chunksPerExpert || chunksPerExpert.every((n) => n === 1);
  const tokenIndex = new Int32Array(rows);
  const combineIndex = new Int32Array(indices.length).fill(-1);
  const rowChoice = new Int32Array(tokenIndex.length).fill(-1);
  for (let i = 0; i < indices.length; i++) {
    if (!kept[i]) continue;
    const row = cursor[indices[i]!]!++;
    tokenIndex[row] = Math.floor(i / topK);
    combineIndex[i] = row;
    rowChoice[row] = i;
  }
  const total = counts.reduce((a, b) => a + b, 0);
  return {
    numTokens,
    topK,
    numExperts,
    capacity,
    indices,
    load,
    counts,
    dropped: indices.length - total,
    layout: chosen,
    chunkSize,
    chunkExpert: identity ? null : Int32Array.from(chunkExpert),
    tokenIndex,
    combineIndex,
    rowChoice,
  };
}

/**
 * The chunk size with the least estimated work: one chunk per expert at the busiest expert's load,
 * or smaller chunks (weights gathered per chunk) when that would mostly compute padding.
 */
export function chooseChunks(counts: Int32Array): {
  chunkSize: number;
  chunksPerExpert: number[];
  cost: number;
} {
  const maxCount = Math.max(0, ...counts);
  if (maxCount === 0) return {chunkSize: 0, chunksPerExpert: [...counts].map(() => 0), cost: 0};
  let best = {chunkSize: maxCount, chunksPerExpert: [...counts].map(() => 1)};
  let bestCost = counts.length * maxCount;
  for (let m = 2; Math.ceil(maxCount / m) >= MIN_CHUNK; m++) {
    const size = Math.ceil(maxCount / m);
    const chunksPerExpert = [...counts].map((c) => Math.ceil(c / size));
    const chunks = chunksPerExpert.reduce((a, b) => a + b, 0);
    const cost = chunks * (size + CHUNK_GATHER_ROWS) + WEIGHT_GATHER_ROWS;
    if (cost < bestCost) {
      best = {chunkSize: size, chunksPerExpert};
      bestCost = cost;
    }
  }
  return {...best, cost: bestCost};
}

/**
 * 'grouped' when its estimated work — the routed rows plus a fixed cost per expert with rows — is
 * below the padded chunks' (`chunkCost`, from chooseChunks), else 'chunks'.
 */
function cheaperLayout(counts: Int32Array, chunkCost: number): DispatchLayout {
  let groupedCost = 0;
  for (const n of counts) if (n > 0) groupedCost += n + GROUPED_EXPERT_ROWS;
  return groupedCost < chunkCost ? 'grouped' : 'chunks';
}
