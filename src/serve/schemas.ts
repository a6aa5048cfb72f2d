/**
 * JSON schemas of the request bodies. Fastify validates every body against its route's schema
 * before the handler runs (no type coercion, no unknown fields), and the error handler turns the
 * first violation into a 400 that names the field.
 */

export interface Limits {
  /** Texts (or feature rows) per classification request. */
  maxTexts: number;
  /** `max_tokens` of a completion at most. */
  maxTokens: number;
  /** Prompts per completion request. */
  maxPrompts: number;
}

export function classifySchema(limits: Limits) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      model: {type: 'string', minLength: 1},
      texts: {type: 'array', minItems: 1, maxItems: limits.maxTexts, items: {type: 'string'}},
      inputs: {
        type: 'array',
        minItems: 1,
        maxItems: limits.maxTexts,
        items: {type: 'array', minItems: 1, items: {type: 'number'}},
      },
    },
    oneOf: [{required: ['texts']}, {required: ['inputs']}],
  } as const;
}

export interface ClassifyBody {
  model?: string;
  texts?: string[];
  inputs?: number[][];
}

/** OpenAI's completions parameters the server implements (plus `top_k`); others are refused by name. */
export function completionSchema(limits: Limits) {
  const stringOrList = (maxItems: number) => ({
    anyOf: [{type: 'string'}, {type: 'array', minItems: 1, maxItems, items: {type: 'string'}}],
  });
  return {
    type: 'object',
    additionalProperties: false,
    required: ['model', 'prompt'],
    properties: {
      model: {type: 'string', minLength: 1},
      prompt: stringOrList(limits.maxPrompts),
      max_tokens: {type: 'integer', minimum: 1, maximum: limits.maxTokens},
      temperature: {type: 'number', minimum: 0, maximum: 2},
      top_p: {type: 'number', exclusiveMinimum: 0, maximum: 1},
      top_k: {type: 'integer', minimum: 0},
      seed: {type: 'integer', minimum: 0},
      stop: stringOrList(4),
      stream: {type: 'boolean'},
      stream_options: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: {include_usage: {type: 'boolean'}},
      },
      n: {type: 'integer', minimum: 1, maximum: 1},
      user: {type: 'string'},
    },
  } as const;
}

export interface CompletionBody {
  model: string;
  prompt: string | string[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  stop?: string | string[];
  stream?: boolean;
  stream_options?: {include_usage?: boolean} | null;
}

export const adminSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {path: {type: 'string', minLength: 1}},
} as const;

/** The field a validation error is about, and a message that names it. */
export function describeValidation(error: {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}): {param: string; message: string} {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'required') {
    const field = String(error.params.missingProperty);
    return {param: path ? `${path}.${field}` : field, message: `missing required field "${field}"`};
  }
  if (error.keyword === 'additionalProperties') {
    const field = String(error.params.additionalProperty);
    return {param: path ? `${path}.${field}` : field, message: `unknown field "${field}"`};
  }
  if (error.keyword === 'oneOf' && path === '') {
    return {
      param: 'texts',
      message: 'send either "texts" (a list of strings) or "inputs" (a list of number lists)',
    };
  }
  const anyOf = error.keyword === 'anyOf' ? 'must be a string or a list of strings' : error.message;
  return {param: path || 'body', message: `"${path || 'body'}" ${anyOf ?? 'is invalid'}`};
}
