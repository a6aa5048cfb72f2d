import {readFileSync} from 'node:fs';

/** One row of about `chars` characters: IMDB reviews run together (real words, names, punctuation). */
export function longRow(chars: number): string {
  const reviews = readFileSync('fixtures/imdb/reviews.jsonl', 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as {text: string}).text);
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < chars; i++) {
    const review = reviews[i % reviews.length]!;
    parts.push(review);
    length += review.length + 1;
  }
  return parts.join(' ');
}

/** CPU seconds of this process (user + system) spent in `fn`: other processes' load does not count. */
export function cpuSeconds(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}
