import {randomUUID} from 'node:crypto';
import type {FastifyReply, FastifyRequest} from 'fastify';
import type {LanguageModelRun} from '../models/causal-lm/causal-lm-run.js';
import {HttpError} from './errors.js';
import type {FinishReason, GenerationResult} from './generation-scheduler.js';
import type {CompletionBody} from './schemas.js';
import type {ServedModel} from './served-model.js';

/** OpenAI's finish reasons: `length` when a limit ended the text, `stop` for a stop string or end of text. */
const FINISH: Record<FinishReason, 'stop' | 'length'> = {
  max_tokens: 'length',
  context: 'length',
  stop: 'stop',
  eos: 'stop',
  aborted: 'stop',
};

/** What `generate` defaults to, so the server and the command give the same text for the same request. */
const DEFAULT_SEED = 42;

/**
 * POST /v1/completions in OpenAI's format, streamed as Server-Sent Events when `stream` is true
 * (`data: {chunk}` per piece of text, a last chunk per choice with its finish reason, then
 * `data: [DONE]`). One choice per prompt. Returns the HTTP status it answered with.
 */
export async function completions(
  model: ServedModel,
  body: CompletionBody,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  if (model.task !== 'lm') {
    throw new HttpError(400, `model "${model.name}" is a classifier: use POST /v1/classify`, 'model');
  }
  const run = model.run as LanguageModelRun;
  const prompts = typeof body.prompt === 'string' ? [body.prompt] : body.prompt;
  const special = run.tokenizer.special;
  const encoded = await Promise.all(prompts.map((p) => run.tokenizer.encode(p)));
  const promptIds = encoded.map((ids) => (ids.length === 0 ? [special.eos ?? special.bos ?? 0] : ids));
  const tooLong = promptIds.findIndex((ids) => ids.length >= run.config.contextLength);
  if (tooLong >= 0) {
    throw new HttpError(
      400,
      `the prompt is ${promptIds[tooLong]!.length} tokens; model "${model.name}" reads at most ${run.config.contextLength}`,
      'prompt',
    );
  }
  const id = `cmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    id,
    object: 'text_completion',
    created,
    model: model.name,
    choices,
    ...extra,
  });
  const abort = new AbortController();
  const options = (ids: number[], onText?: (text: string) => void) => ({
    promptIds: ids,
    maxTokens: body.max_tokens ?? 16,
    sampling: {temperature: body.temperature ?? 1, topP: body.top_p ?? 1, topK: body.top_k ?? 0},
    seed: body.seed ?? DEFAULT_SEED,
    stop: typeof body.stop === 'string' ? [body.stop] : (body.stop ?? []),
    onText,
    signal: abort.signal,
  });
  const usage = (results: GenerationResult[]) => {
    const prompt = results.reduce((n, r) => n + r.promptTokens, 0);
    const completion = results.reduce((n, r) => n + r.ids.length, 0);
    return {prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion};
  };

  if (!body.stream) {
    request.raw.on('close', () => {
      if (!reply.sent) abort.abort();
    });
    const results = await Promise.all(promptIds.map((ids) => model.generate(options(ids))));
    await reply.send(
      chunk(
        results.map((r, index) => ({
          text: r.text,
          index,
          logprobs: null,
          finish_reason: FINISH[r.finishReason],
        })),
        {usage: usage(results)},
      ),
    );
    return;
  }

  // Server-Sent Events: the reply is written by hand from here on.
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  raw.on('close', () => {
    if (!raw.writableFinished) abort.abort();
  });
  const send = (data: unknown) => {
    if (!raw.destroyed) raw.write(`data: ${JSON.stringify(data)}\n\n`);
  };
  const results = await Promise.all(
    promptIds.map(async (ids, index) => {
      const result = await model.generate(
        options(ids, (text) => send(chunk([{text, index, logprobs: null, finish_reason: null}]))),
      );
      send(chunk([{text: '', index, logprobs: null, finish_reason: FINISH[result.finishReason]}]));
      return result;
    }),
  );
  if (body.stream_options?.include_usage) send(chunk([], {usage: usage(results)}));
  if (!raw.destroyed) raw.end('data: [DONE]\n\n');
}
