import {realpath, stat} from 'node:fs/promises';
import {basename, dirname, join, relative, resolve, sep} from 'node:path';
import {UserError} from '../errors.js';

/**
 * How an output path relates to an input path, after following symbolic links (of the parts that
 * exist; an output often does not yet): the same file or folder (also another hard link to the same
 * file), inside the input (an output folder inside a run folder that is read), containing it
 * (`--out DIR` where the data is `DIR/data.jsonl`), or unrelated. Reads the file system, changes nothing.
 */
export type PathRelation = 'same' | 'inside' | 'contains' | 'unrelated';

export async function pathRelation(output: string, input: string): Promise<PathRelation> {
  const [out, inp] = await Promise.all([canonical(output), canonical(input)]);
  if (out === inp) return 'same';
  if (isWithin(out, inp)) return 'inside';
  if (isWithin(inp, out)) return 'contains';
  const [a, b] = await Promise.all([stat(output).catch(() => undefined), stat(input).catch(() => undefined)]);
  if (a && b && a.isFile() && b.isFile() && a.ino === b.ino && a.dev === b.dev) return 'same';
  return 'unrelated';
}

/** `child` lies strictly below `parent`. */
function isWithin(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep);
}

/** The absolute path with every symbolic link in its existing part resolved. */
async function canonical(path: string): Promise<string> {
  let head = resolve(path);
  const tail: string[] = [];
  for (;;) {
    try {
      return join(await realpath(head), ...tail);
    } catch {
      const up = dirname(head);
      if (up === head) return resolve(path);
      tail.unshift(basename(head));
      head = up;
    }
  }
}

/**
 * Refuses an output that would overwrite or delete an input: the same file, a folder that holds
 * it, or a path inside an input folder. `what` names the output in the message (`--out`); inputs
 * left undefined (optional flags not given) and `-` (stdin) are skipped.
 */
export async function assertOutsideInputs(
  output: string,
  inputs: readonly (string | undefined)[],
  what = output,
): Promise<void> {
  for (const input of inputs) {
    // An input not given (an optional --val), or stdin.
    if (input === undefined || input === '-') continue;
    const relation = await pathRelation(output, input);
    if (relation === 'unrelated') continue;
    const why =
      relation === 'same'
        ? `refusing to overwrite the input ${input} with ${what}`
        : relation === 'contains'
          ? `refusing to write ${what}: it holds the input ${input}`
          : `refusing to write ${what}: it is inside the input ${input}`;
    throw new UserError(why, 'write to a new path, then move it if you want to replace the input');
  }
}
