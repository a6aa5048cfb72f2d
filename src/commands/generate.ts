import {Flags} from '@oclif/core';
import {decimalFlag} from '../cli/decimal-flag.js';
import {ModelCommand} from '../cli/model-command.js';
import {type GenerateResult, generate} from '../workflows/generate.js';

export default class Generate extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary = 'Continue a prompt with a trained language model, streaming the text.';
  static override description =
    'Prints the prompt’s continuation on stdout as tokens are decoded (KV cache: each new token runs only ' +
    'itself through the model), then a line of statistics on stderr. --temperature 0 is greedy; the same ' +
    '--seed gives the same text. Stops at --max-tokens, a --stop string, the end-of-text token, or the ' +
    'model’s context length.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --model runs/moby --prompt "Call me" --max-tokens 100',
    '<%= config.bin %> <%= command.id %> --model runs/moby --prompt "The whale" --temperature 0.8 --top-p 0.9 --seed 7',
    '<%= config.bin %> <%= command.id %> --model runs/moby --prompt "Chapter" --stop "\\n\\n" --json',
  ];
  static override flags = {
    model: Flags.string({summary: 'Run folder of a language model (runs/NAME).', required: true}),
    prompt: Flags.string({summary: 'Text to continue.', default: ''}),
    'max-tokens': Flags.integer({summary: 'New tokens at most.', default: 128, min: 1}),
    temperature: decimalFlag({summary: 'Sampling temperature; 0 is greedy.', default: 1, min: 0}),
    'top-k': Flags.integer({summary: 'Sample from the k most likely tokens (0: all).', default: 0, min: 0}),
    'top-p': decimalFlag({
      summary: 'Sample from the smallest set of tokens with this much probability.',
      default: 1,
      min: 0,
      minExclusive: true,
      max: 1,
    }),
    stop: Flags.string({summary: 'Stop when the text contains this (repeatable).', multiple: true}),
    'no-cache': Flags.boolean({summary: 'Re-run the whole sequence for every token (slow; for comparison).'}),
  };

  async run(): Promise<GenerateResult> {
    const {flags} = await this.parse(Generate);
    await this.startBackend(flags.backend);
    const json = this.jsonEnabled();
    const result = await generate(flags.model, flags.prompt, {
      maxTokens: flags['max-tokens'],
      temperature: flags.temperature,
      topK: flags['top-k'],
      topP: flags['top-p'],
      seed: flags.seed,
      stop: flags.stop?.map((s) => s.replace(/\\n/g, '\n').replace(/\\t/g, '\t')),
      useCache: !flags['no-cache'],
      onText: json ? undefined : (text) => process.stdout.write(text),
    });
    if (!json) {
      process.stdout.write('\n');
      process.stderr.write(
        `${result.tokens} tokens in ${result.seconds.toFixed(2)}s (${result.tokens_per_s.toFixed(1)} tokens/s), stopped by ${result.stopped_by}\n`,
      );
    }
    return result;
  }
}
