import type {WordNet, WordNetPos} from './wordnet.js';

/**
 * WordNet morphy's detachment rules (morph.c) for the regular `-s` forms: plural nouns and
 * third-person verbs. Each maps a suffix of the surface form to the suffix of its lemma.
 */
const S_RULES: readonly [WordNetPos, string, string][] = [
  ['n', 'ses', 's'],
  ['n', 'xes', 'x'],
  ['n', 'zes', 'z'],
  ['n', 'ches', 'ch'],
  ['n', 'shes', 'sh'],
  ['n', 'ies', 'y'],
  ['n', 's', ''],
  ['v', 'ies', 'y'],
  ['v', 'es', 'e'],
  ['v', 'es', ''],
  ['v', 's', ''],
];

/**
 * Synonyms of a lower-case word, in the word's own form, leaving out phrases that merely contain
 * it (`carbon copy` for `copy`). A word that is itself a WordNet lemma gets the synonyms of all its
 * senses (as EDA does). A regular plural or third-person form
 * (`movies`, `builds`) gets its lemma's synonyms of that part of speech, put back in the `-s` form
 * (`films`, `constructs`). Other inflections (`-ed`, `-ing`, `-er`) that are not lemmas themselves
 * get none: re-inflecting a synonym there goes wrong too often (`take` → `taked`).
 */
export function inflectedSynonyms(word: string, wordNet: WordNet): readonly string[] {
  if (wordNet.has(word)) return wordNet.synonyms(word).filter((s) => !containsWord(s, word));
  const found = new Set<string>();
  const lemmas = new Set<string>();
  for (const [pos, suffix, ending] of S_RULES) {
    if (!word.endsWith(suffix) || word.length <= suffix.length + 1) continue;
    const lemma = word.slice(0, -suffix.length) + ending;
    // `builds` is a plural noun and a verb: both readings count, as in NLTK's morphy.
    if (lemmas.has(lemma + pos) || !wordNet.has(lemma, pos)) continue;
    lemmas.add(lemma + pos);
    for (const synonym of wordNet.synonyms(lemma, pos)) {
      if (!containsWord(synonym, lemma)) found.add(pos === 'n' ? pluralize(synonym) : thirdPerson(synonym));
    }
  }
  return [...found];
}

/** `carbon copy` for `copy`, `generic wine` for `generic`: a synonym that only adds words. */
function containsWord(phrase: string, word: string): boolean {
  return phrase.includes(' ') && phrase.split(/[ -]/).includes(word);
}

/** Regular English plural of a (possibly multi-word) noun: the head noun is the last word. */
export function pluralize(noun: string): string {
  const cut = noun.lastIndexOf(' ') + 1;
  return noun.slice(0, cut) + addS(noun.slice(cut));
}

/** Third person singular of a (possibly multi-word) verb: the verb is the first word. */
export function thirdPerson(verb: string): string {
  const cut = verb.indexOf(' ');
  return cut < 0 ? addS(verb) : addS(verb.slice(0, cut)) + verb.slice(cut);
}

function addS(word: string): string {
  if (/(?:s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  return `${word}s`;
}
