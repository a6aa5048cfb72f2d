import type {StructurePruneStats} from '../compress/prune-structures.js';
import type {PruneRunReport} from './prune.js';

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The human summary of a prune report: sizes, sparsity, what shrank, metric change. */
export function formatPruneReport(report: PruneRunReport): string {
  const lines = [
    `${report.method}: parameters ${report.parameters_before} → ${report.parameters_after}, ` +
      `weights ${kb(report.size_bytes_before)} → ${kb(report.size_bytes_after)} ` +
      `(${pct(report.size_bytes_after / Math.max(1, report.size_bytes_before))})`,
  ];
  if (report.method === 'magnitude') {
    lines.push(
      `sparsity      ${pct(report.sparsity)} of ${report.pruned_weights?.length ?? 0} weights ` +
        `(${pct(report.zeros_fraction)} of all parameters zero${report.finetune_steps ? `, ${report.finetune_steps} fine-tuning steps` : ''})`,
      'note          zeros are stored densely: quantize or compress the folder to make it smaller',
    );
  } else {
    lines.push(`removed       ${pct(report.sparsity)} of the parameters`);
    for (const s of report.structures ?? []) lines.push(...structureLines(s));
    for (const layer of report.layers ?? []) {
      lines.push(
        `  ${layer.layer}: kept experts [${layer.kept.join(', ')}] of ${layer.usage.length} (usage ${layer.usage.join(' ')})`,
      );
    }
    if (report.finetune_steps) lines.push(`fine-tuned    ${report.finetune_steps} steps`);
  }
  const {accuracy_before: a0, accuracy_after: a1, perplexity_before: p0, perplexity_after: p1} = report;
  if (a0 !== undefined && a1 !== undefined) {
    lines.push(
      `accuracy      ${(100 * a0).toFixed(2)}% → ${(100 * a1).toFixed(2)}% (${(100 * (a1 - a0)).toFixed(2)} points)`,
    );
  }
  if (p0 !== undefined && p1 !== undefined) lines.push(`perplexity    ${p0.toFixed(3)} → ${p1.toFixed(3)}`);
  return lines.join('\n');
}

const NOUN = {ffn: 'ffn neurons', heads: 'heads', units: 'dense units'} as const;

/** `ffn neurons   352 → 264 (−33792 parameters)`, then one line per layer. */
function structureLines(s: StructurePruneStats): string[] {
  const head =
    `${NOUN[s.structure].padEnd(14)}${s.before} → ${s.after} ` +
    (s.after < s.before
      ? `(−${s.parameters_removed} parameters)`
      : '(none removed at this sparsity: round((1 − sparsity)·n) keeps them all)');
  const layers = s.layers.map((l) =>
    'hidden_before' in l
      ? `  ${l.layer}: ffn hidden ${l.hidden_before} → ${l.hidden_after}`
      : 'heads_before' in l
        ? `  ${l.layer}: heads ${l.heads_before} → ${l.heads_after}` +
          (l.kv_heads_before === l.heads_before ? '' : ` (kv ${l.kv_heads_before} → ${l.kv_heads_after})`) +
          `, head size ${l.head_dim}`
        : `  ${l.layer} → ${l.next}: units ${l.units_before} → ${l.units_after}`,
  );
  return [head, ...layers];
}
