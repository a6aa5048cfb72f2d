import {fileURLToPath} from 'node:url';
import type {CausalLMConfig} from '../models/causal-lm/causal-lm.js';
import {generate} from './generate.js';
import {
  type RoutingSummary,
  routingFigures,
  routingLine,
  TOUR_AUX_LOSS_COEF,
  trainTourMoE,
} from './quickstart-routing.js';
import {runModelBytes, type TourContext, thousands} from './quickstart-stages.js';

/** The text shipped with the package for the language model: Moby-Dick, chapters 1–36 (348 KB). */
export const BUNDLED_TEXT = fileURLToPath(new URL('../../fixtures/text/moby-dick.txt', import.meta.url));

/**
 * The tour's MoE language model, over the causal-lm `tiny` shape: two blocks of 64 whose FFNs are
 * 4 routed SwiGLU experts of 64 (top-2, renormalized) + 1 shared, a 1,024-token byte-level BPE,
 * windows of 64 tokens. A few hundred steps take seconds and already spell words.
 */
export const TOUR_LM: Partial<CausalLMConfig> = {
  contextLength: 64,
  dModel: 64,
  numLayers: 2,
  numHeads: 2,
  ffn: 'moe',
  moe: {
    numExperts: 4,
    topK: 2,
    expertHidden: 64,
    numShared: 1,
    scoring: 'softmax',
    normTopK: true,
    auxLossCoef: TOUR_AUX_LOSS_COEF,
  },
  tokenizerKind: 'bpe',
  vocabSize: 1024,
};

/** The prompt the tour continues: the book's first words. */
export const TOUR_PROMPT = 'Call me Ishmael.';

export interface LanguageModelTourOptions {
  /** Plain-text file to train on; its last 10% is the validation text. */
  text: string;
  /** Training steps of 16 windows. */
  steps: number;
}

export interface LanguageModelTourResult {
  perplexity: number;
  routing?: RoutingSummary;
  /** The prompt and the line generated after it. */
  prompt: string;
  generated: string;
}

/** Trains the tiny MoE LM on the bundled text and continues a prompt with the KV cache. */
export async function languageModelTour(
  ctx: TourContext,
  options: LanguageModelTourOptions,
): Promise<LanguageModelTourResult> {
  const out = ctx.dir('runs', 'moe-lm');
  let routing: RoutingSummary | undefined;
  const trained = await ctx.stage('train-lm', async () => {
    const {report: r, ...moe} = await trainTourMoE(ctx, 'train-lm', 'lm', {
      data: options.text,
      out,
      preset: 'tiny',
      overrides: TOUR_LM,
      steps: options.steps,
      batchSize: 16,
      lr: 3e-3,
      warmupSteps: Math.round(options.steps / 10),
      evalEvery: options.steps,
    });
    routing = moe.routing;
    const perplexity = r.validation?.val_ppl ?? Number.NaN;
    return {
      summary:
        `MoE LM, 2 blocks of 4 routed experts (top-2) + 1 shared: ${thousands(r.parameters)} parameters, ` +
        `${r.steps} steps, validation perplexity ${perplexity.toFixed(1)} (1,024-token vocabulary)` +
        routingLine(routing),
      size_bytes: await runModelBytes(out),
      perplexity,
      figures: {
        parameters: r.parameters,
        steps: r.steps,
        val_loss: r.validation?.val_loss ?? Number.NaN,
        ...routingFigures(routing),
      },
    };
  });
  let generated = '';
  await ctx.stage('generate', async () => {
    const g = await generate(out, TOUR_PROMPT, {
      maxTokens: 32,
      temperature: 0.8,
      topK: 40,
      seed: ctx.seed,
      useCache: true,
    });
    generated = g.text;
    return {
      summary: `${JSON.stringify(`${TOUR_PROMPT}${g.text.replace(/\s+/g, ' ')}`)} (${g.tokens} tokens, KV cache, ${g.tokens_per_s.toFixed(0)} tokens/s)`,
      figures: {tokens: g.tokens, tokens_per_s: g.tokens_per_s, stopped_by: g.stopped_by},
    };
  });
  return {perplexity: trained.perplexity!, ...(routing ? {routing} : {}), prompt: TOUR_PROMPT, generated};
}
