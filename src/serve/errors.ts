import type {FastifyReply} from 'fastify';

/** An error a route answers with: HTTP status, OpenAI's error type, and the field it is about. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly type = status === 401
      ? 'authentication_error'
      : status < 500
        ? 'invalid_request_error'
        : 'server_error',
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

/** OpenAI's error body: {"error": {"message", "type", "param", "code"}}. */
export function sendError(reply: FastifyReply, err: HttpError): FastifyReply {
  return reply
    .code(err.status)
    .send({error: {message: err.message, type: err.type, param: err.param, code: err.code}});
}
