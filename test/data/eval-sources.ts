// Real text for the evaluation corpus: the units of each source, and the real short documents found
// in them (a one-line review, a headline, a quoted sentence, an email signature, a line with a
// link or a path). `fixtureSources` reads the committed slices; bench/clean-quality.ts reads the
// full packages into the same shape.
import {readFileSync} from 'node:fs';
import type {SourceDoc} from './eval-corpus.js';
import {fixtureDocs} from './fixture-docs.js';

export type ShortDoc = {kind: string; text: string};

/**
 * An email body a person would read as text: no HTML part and no base64 or quoted-printable
 * attachment (those are markup or encoded data, which the corpus brings in as junk on purpose).
 */
export function isPlainEmail(body: string): boolean {
  return (
    !/<\s*(html|body|head|table|font|div|p|br|a|td|img|center|span)\b/i.test(body) &&
    !/content-transfer-encoding:\s*(base64|quoted-printable)/i.test(body) &&
    !/^[A-Za-z0-9+/]{60,}={0,2}$/m.test(body) &&
    !/=[0-9A-F]{2}.*=[0-9A-F]{2}/.test(body) &&
    !body.includes('\ufffd')
  );
}

const SENTENCE = /[^.!?\n]+[.!?]+["”’)]?/g;

function sentences(text: string): string[] {
  return (text.match(SENTENCE) ?? []).map((s) => s.trim());
}

/** Real short documents of a source, `limit` at most, taken from its units by kind. */
export function shortDocs(source: string, units: readonly SourceDoc[], limit: number): ShortDoc[] {
  const out: ShortDoc[] = [];
  const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
  const push = (kind: string, text: string | undefined) => {
    const t = text?.trim();
    if (t && words(t) >= 1 && words(t) <= 25 && out.length < limit) out.push({kind, text: t});
  };
  for (const unit of units) {
    if (out.length >= limit) break;
    const text = unit.text;
    if (source === 'imdb') push('one_line_review', sentences(text.replace(/<br \/>/g, ' '))[0]);
    else if (source === 'reuters') push('headline', text.split('\n')[0]);
    else if (source === 'sotu') push('sentence', sentences(text)[Math.floor(text.length % 7)]);
    else if (source === 'moby') push('quote', text.match(/[“"][^”"]{10,160}[”"]/)?.[0]);
    else if (source === 'email') {
      const sig = text.split(/\n-- ?\n/)[1];
      if (sig) push('signature', sig.split('\n').slice(0, 4).join('\n'));
      push(
        'link_line',
        text.split('\n').find((l) => /https?:\/\/|www\.|\/[a-z]+\/[a-z]/i.test(l) && words(l) >= 2),
      );
      push(
        'code_line',
        text.split('\n').find((l) => /[{};=]|\w\(\)|\$\w/.test(l) && words(l) >= 2),
      );
      push('subject', text.match(/^Subject: (.*)$/m)?.[1]);
    }
  }
  return out;
}

/** The units of the committed fixture slices (fixtures/README.md): IMDB, Reuters, spam-assassin, SOTU, Moby-Dick. */
export function fixtureSources(): Record<string, SourceDoc[]> {
  const rows = (path: string) => fixtureDocs(path).map((d) => ({id: d.id, text: d.text}));
  const moby = readFileSync('fixtures/text/moby-dick.txt', 'utf8')
    .split(/\n(?=CHAPTER \d+\.)/)
    .map((text, i) => ({id: `chapter-${i}`, text}));
  return {
    imdb: [...rows('fixtures/imdb/reviews.jsonl'), ...rows('fixtures/imdb/test.jsonl')],
    reuters: rows('fixtures/reuters/news.jsonl'),
    email: rows('fixtures/spam/emails.jsonl').filter((d) => isPlainEmail(d.text)),
    sotu: rows('fixtures/text/sotu.jsonl'),
    moby,
  };
}
