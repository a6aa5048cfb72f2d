import {Flags} from '@oclif/core';
import {ModelCommand} from '../cli/model-command.js';
import {parseModelSpec, parseSplit} from '../serve/model-pool.js';
import {startServer} from '../serve/server.js';

export default class Serve extends ModelCommand {
  static override summary =
    'Serve run folders over HTTP: classification, OpenAI-compatible completions, metrics.';
  static override description =
    'Loads and warms up each --model, then answers POST /v1/classify (dynamic batching), POST /v1/completions ' +
    'and GET /v1/models in OpenAI’s format (streaming, continuous batching), GET /healthz, /readyz, /metrics ' +
    '(Prometheus) and /v1/monitor (drift against the run’s training reference), and POST /admin/models/NAME ' +
    '{"path": DIR} (hot swap with warm-up and automatic rollback). Binds 127.0.0.1 unless --host says otherwise. ' +
    'SIGTERM or Ctrl-C stops taking requests, finishes those in flight and their streams, and exits 0.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --model runs/imdb',
    '<%= config.bin %> <%= command.id %> --model moby=runs/moby --port 8081 --api-key secret',
    '<%= config.bin %> <%= command.id %> --model a=runs/imdb --model b=runs/imdb-int8 --split a=0.9,b=0.1 --admin-key adm',
  ];
  static override flags = {
    model: Flags.string({
      summary: 'A run folder to serve, as DIR or NAME=DIR (repeatable).',
      required: true,
      multiple: true,
    }),
    host: Flags.string({summary: 'Address to bind.', default: '127.0.0.1'}),
    port: Flags.integer({summary: 'Port (0: any free one).', default: 8080, min: 0, max: 65535}),
    'max-batch': Flags.integer({
      summary: 'Texts per classification batch, sequences per decoding step.',
      default: 32,
      min: 1,
      max: 1024,
    }),
    'max-wait-ms': Flags.integer({
      summary: 'How long a classification request waits for others to batch with.',
      default: 5,
      min: 0,
      max: 10_000,
    }),
    'api-key': Flags.string({
      summary: 'Require Authorization: Bearer KEY on every route but /healthz.',
      env: 'DSK_API_KEY',
    }),
    'admin-key': Flags.string({
      summary: 'Key of POST /admin/models/NAME (off without one).',
      env: 'DSK_ADMIN_KEY',
    }),
    split: Flags.string({
      summary: 'Route requests that name no model by weight, e.g. a=0.9,b=0.1 (sticky per X-Client-Id).',
    }),
    'max-texts': Flags.integer({summary: 'Texts per classification request at most.', default: 64, min: 1}),
    'max-tokens': Flags.integer({summary: 'max_tokens of a completion at most.', default: 512, min: 1}),
    'shutdown-timeout': Flags.integer({
      summary: 'Seconds to let requests finish on SIGTERM.',
      default: 30,
      min: 0,
    }),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Serve);
    await this.startBackend(flags.backend);
    const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    const server = await startServer({
      models: flags.model.map(parseModelSpec),
      host: flags.host,
      port: flags.port,
      maxBatch: flags['max-batch'],
      maxWaitMs: flags['max-wait-ms'],
      apiKey: flags['api-key'],
      adminKey: flags['admin-key'],
      split: flags.split ? parseSplit(flags.split) : undefined,
      limits: {maxTexts: flags['max-texts'], maxTokens: flags['max-tokens']},
      shutdownTimeoutMs: flags['shutdown-timeout'] * 1000,
      log,
    });
    const signal = await new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    log(`${signal} received`);
    await server.close();
  }
}
