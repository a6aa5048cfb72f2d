import type {BaselineEvaluation} from '../models/classify/tfidf-baseline.js';
import type {RunEvaluation} from '../models/model-kind.js';
import type {MetricsRecord} from '../train/metrics-log.js';
import {barChart, escapeXml, heatmap, lineChart, type Series, thin} from './svg-charts.js';

/** What the report page shows: an evaluation, the baseline's if fitted, and the run's training log. */
export interface EvaluationPage {
  evaluation: RunEvaluation;
  baseline?: BaselineEvaluation;
  /** metrics.jsonl of the run ([] when it has none, e.g. a quantized copy). */
  records: readonly MetricsRecord[];
  /** The model kind's id (`text-classifier`…), for the heading. */
  kind: string;
  /** The model's parameter count, shown beside the baseline's. */
  parameters?: number;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.sub{color:#666}.grid-2{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0}
table{border-collapse:collapse}td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #eee}
th:first-child,td:first-child{text-align:left}.big{font-size:20px;font-weight:600}
svg text{font:11px system-ui,sans-serif;fill:#333}svg .title{font-size:13px;font-weight:600}
svg .grid{stroke:#eee}svg .axis{stroke:#999}svg .on-dark{fill:#fff}svg .small{font-size:9px}`;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const num = (x: number) => (Number.isInteger(x) ? x.toLocaleString('en-US') : x.toFixed(4));

/** Points of one metric from records of one type, by step. */
function curve(
  records: readonly MetricsRecord[],
  type: MetricsRecord['type'],
  metric: string,
): [number, number][] {
  return records
    .filter((r) => r.type === type && typeof r[metric] === 'number')
    .map((r) => [r.step, r[metric] as number]);
}

function trainingCurves(records: readonly MetricsRecord[], lm: boolean): string[] {
  const charts: string[] = [];
  const loss: Series[] = [
    {name: 'train loss', points: thin(curve(records, 'step', 'loss'))},
    {name: 'val_loss', points: curve(records, 'eval', 'val_loss'), dots: true},
  ];
  charts.push(lineChart({title: 'Loss', xLabel: 'step', yLabel: 'cross-entropy (nats)', series: loss}));
  if (lm) {
    const ppl = (pts: [number, number][]) => pts.map(([x, y]) => [x, Math.exp(y)] as [number, number]);
    charts.push(
      lineChart({
        title: 'Perplexity',
        xLabel: 'step',
        yLabel: 'perplexity',
        series: [
          {name: 'train', points: thin(ppl(curve(records, 'step', 'loss')))},
          {name: 'validation', points: ppl(curve(records, 'eval', 'val_loss')), dots: true},
        ],
      }),
    );
  }
  const acc: Series[] = [
    {name: 'train acc', points: thin(curve(records, 'step', 'acc'))},
    {name: 'val_acc', points: curve(records, 'eval', 'val_acc'), dots: true},
  ];
  if (acc.some((s) => s.points.length > 0)) {
    charts.push(lineChart({title: 'Accuracy', xLabel: 'step', yLabel: 'accuracy', series: acc}));
  }
  return charts.filter(Boolean);
}

/** One chart per MoE layer: each expert's load against its fair share (1 = even) over training. */
function expertLoad(records: readonly MetricsRecord[]): string[] {
  const layers = new Map<string, Set<string>>();
  for (const r of records) {
    if (r.type !== 'step') continue;
    for (const key of Object.keys(r)) {
      const m = /^moe\/(.+)\/(e\d+)$/.exec(key);
      if (m) layers.set(m[1]!, (layers.get(m[1]!) ?? new Set()).add(m[2]!));
    }
  }
  return [...layers].map(([layer, experts]) =>
    lineChart({
      title: `Expert load, ${layer}`,
      xLabel: 'step',
      yLabel: 'load / fair share',
      series: [...experts]
        .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
        .map((e) => ({name: e, points: thin(curve(records, 'step', `moe/${layer}/${e}`), 200)})),
    }),
  );
}

function summary(page: EvaluationPage): string {
  const e = page.evaluation;
  const rows: [string, string, string?][] =
    e.task === 'classify'
      ? [
          ['accuracy', pct(e.accuracy), page.baseline && pct(page.baseline.accuracy)],
          ['macro-F1', e.macro_f1.toFixed(4), page.baseline?.macro_f1.toFixed(4)],
          ['examples', num(e.examples), page.baseline && num(page.baseline.examples)],
        ]
      : [
          ['loss (nats/token)', e.loss.toFixed(4)],
          ['perplexity', e.perplexity.toFixed(2)],
          ['bits per byte', e.bits_per_byte.toFixed(4)],
          ['next-token accuracy', pct(e.accuracy)],
          ['tokens', num(e.tokens)],
        ];
  if (page.baseline) {
    rows.push(
      [
        'parameters',
        page.parameters === undefined ? '' : num(page.parameters),
        num(page.baseline.parameters),
      ],
      ['fit + score seconds', '', page.baseline.seconds.toFixed(1)],
    );
  }
  const head = page.baseline ? '<tr><th></th><th>model</th><th>TF-IDF + logistic regression</th></tr>' : '';
  return `<table class="summary">${head}${rows
    .map(
      ([k, v, b]) =>
        `<tr><td>${k}</td><td class="big">${v}</td>${page.baseline ? `<td>${b ?? ''}</td>` : ''}</tr>`,
    )
    .join('')}</table>`;
}

function perClass(page: EvaluationPage): string {
  const e = page.evaluation;
  if (e.task !== 'classify') return '';
  const b = page.baseline;
  const rows = e.labels
    .map((l) => {
      const c = e.per_class[l]!;
      const f1b = b?.per_class[l]?.f1;
      return `<tr><td>${escapeXml(l)}</td><td>${c.precision.toFixed(3)}</td><td>${c.recall.toFixed(3)}</td><td>${c.f1.toFixed(3)}</td>${b ? `<td>${f1b?.toFixed(3) ?? ''}</td>` : ''}<td>${c.support}</td></tr>`;
    })
    .join('');
  return `<table class="per-class"><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>${b ? '<th>baseline F1</th>' : ''}<th>support</th></tr>${rows}</table>`;
}

/**
 * The evaluation as one self-contained HTML page: inline CSS and SVG only (no script, font, image or
 * stylesheet fetched), so it opens from disk or an attachment as it is. Classifiers get the
 * confusion matrix as a heat map and per-class precision/recall/F1; every run with a training log
 * its loss (and accuracy, or perplexity for language models) curves; MoE runs each layer's expert load.
 */
export function evaluationHtml(page: EvaluationPage): string {
  const e = page.evaluation;
  const sections: string[] = [`<h2>Summary</h2>${summary(page)}`];
  if (e.task === 'classify') {
    const confusion = heatmap({
      title: 'Confusion matrix',
      rows: e.labels,
      columns: e.labels,
      values: e.confusion,
    });
    const scores = barChart({
      title: 'Precision, recall and F1 per class',
      categories: e.labels,
      groups: (['precision', 'recall', 'f1'] as const).map((name) => ({
        name,
        values: e.labels.map((l) => e.per_class[l]![name]),
      })),
      max: 1,
    });
    const caption =
      '<figcaption class="sub">rows: true class, columns: predicted; shade: share of the row</figcaption>';
    sections.push(
      `<h2>Per class</h2><div class="grid-2"><figure>${confusion}${caption}</figure><figure>${scores}</figure></div>${perClass(page)}`,
    );
  }
  const curves = trainingCurves(page.records, e.task === 'lm');
  if (page.records.length > 0 && curves.length > 0) {
    sections.push(
      `<h2>Training</h2><div class="grid-2">${curves.map((c) => `<figure>${c}</figure>`).join('')}</div>`,
    );
  }
  const load = expertLoad(page.records);
  if (load.length > 0) {
    sections.push(
      `<h2>Mixture-of-Experts load</h2><p class="sub">Each expert's share of the routed tokens against an even split (1.0), per training step.</p><div class="grid-2">${load.map((c) => `<figure>${c}</figure>`).join('')}</div>`,
    );
  }
  const title = `${e.model} on ${e.data}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><title>${escapeXml(title)}</title><style>${CSS}</style></head><body><h1>${escapeXml(title)}</h1><p class="sub">${escapeXml(page.kind)} · deepseek-kit evaluate</p>${sections.join('\n')}</body></html>\n`;
}
