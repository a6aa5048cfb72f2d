import {type Doc, drop, KEEP, type Verdict} from '../doc.js';
import {pct} from './default-rules.js';
import {profileOf, SHORT_SEGMENT, setProfileTables} from './text-profile.js';

/**
 * Rules of the `default` preset for text that is words but says nothing: web page chrome (menus,
 * footers, cookie banners) and placeholder Latin. Both go by word lists, so both need most of the
 * document to be made of them.
 */

export interface BoilerplateConfig {
  /** Drop when at least this share of the segments (lines, or items between | • › » · separators) are navigation… */
  min_nav_ratio: number;
  /** …and there are at least this many segments. */
  min_segments: number;
}
export const BOILERPLATE_DEFAULTS: BoilerplateConfig = {min_nav_ratio: 0.6, min_segments: 3};

// Words of site navigation, account and legal links, social buttons and cookie banners. A segment
// is navigation when every word of it is one of these (or a year, ©, a company-name-sized rest:
// see navSegment).
const NAV_WORDS = new Set(
  (
    'home homepage about us contact contacts privacy policy policies terms of service use conditions ' +
    'login log in out logout sign signin signup up join now get started register registration account ' +
    'my profile settings ' +
    'cart basket checkout wishlist search menu navigation main skip to content top back next previous ' +
    'prev page pages more read all faq faqs help support customer service blog news newsletter ' +
    'subscribe unsubscribe rss feed careers jobs team press media investors partners affiliates ' +
    'sitemap site map shop store products services pricing plans features downloads download ' +
    'resources docs documentation community forum forums events gallery links legal imprint ' +
    'disclaimer copyright rights reserved cookie cookies accept decline manage preferences ' +
    'accessibility language english share tweet like follow on facebook twitter instagram youtube ' +
    'linkedin pinterest tiktok reddit whatsapp email print and the our your we use inc ltd llc corp ' +
    'corporation company co'
  ).split(' '),
);
setProfileTables({navWords: [...NAV_WORDS]});
const SEGMENT_SPLIT = /\r?\n|\s[|•›»·]\s|\s>\s|\s\/\s|\s[–—-]\s/;
const WORD = /[\p{L}\p{N}]+(?:['’.][\p{L}\p{N}]+)*/gu;

/** A short segment (navigation items are) whose every word is a navigation word or a number; an empty one is not navigation. */
function navSegment(segment: string): boolean {
  if (segment.length > SHORT_SEGMENT) return false;
  const words = segment.toLowerCase().match(WORD);
  if (!words) return false;
  return words.every((w) => NAV_WORDS.has(w) || /^\d{1,4}$/.test(w));
}

/** Navigation menus, footers and banners: segments made only of navigation words. Reason `boilerplate`. */
export function boilerplate(config: BoilerplateConfig = BOILERPLATE_DEFAULTS) {
  return (doc: Doc): Verdict => {
    // Fewer segments than the rule needs, or fewer navigation segments than a nav share of the
    // smallest such count, and the text is kept on the profile's counts.
    const profile = profileOf(doc);
    if (profile.newlines + profile.separators + 1 < config.min_segments) return KEEP;
    if (profile.navSegments < Math.ceil(config.min_nav_ratio * config.min_segments)) return KEEP;
    const segments = doc.text.split(SEGMENT_SPLIT).filter((s) => /[\p{L}\p{N}]/u.test(s));
    if (segments.length < config.min_segments) return KEEP;
    let nav = 0;
    for (const s of segments) if (navSegment(s)) nav++;
    const ratio = nav / segments.length;
    return ratio >= config.min_nav_ratio
      ? drop('boilerplate', `${nav} of ${segments.length} segments are navigation or legal links`)
      : KEEP;
  };
}

export interface LoremIpsumConfig {
  /** Drop when placeholder-Latin words are at least this share of the words… */
  min_lorem_ratio: number;
  /** …and at least this many. */
  min_lorem_words: number;
}
export const LOREM_IPSUM_DEFAULTS: LoremIpsumConfig = {min_lorem_ratio: 0.4, min_lorem_words: 3};

// The words of the lorem ipsum passage (Cicero, de Finibus 1.32-33, as scrambled by typesetters)
// and of the generators that draw from it, less those that are also English words or common
// abbreviations (in, do, ad, ex, non, error, id, at, alias, integer, quasi, EU…), so that English
// text never counts towards the ratio.
const LOREM_WORDS = new Set(
  (
    'lorem ipsum dolor amet consectetur consectetuer adipiscing adipisci elit sed eiusmod tempor ' +
    'incididunt labore dolore magna aliqua enim minim veniam quis nostrud exercitation ullamco laboris ' +
    'nisi aliquip commodo consequat duis aute irure reprehenderit voluptate velit esse cillum ' +
    'fugiat nulla pariatur excepteur sint occaecat cupidatat proident sunt culpa qui officia deserunt ' +
    'mollit anim laborum perspiciatis unde omnis iste natus voluptatem accusantium doloremque ' +
    'laudantium totam rem aperiam eaque ipsa quae illo inventore veritatis architecto beatae ' +
    'vitae dicta explicabo nemo ipsam quia voluptas aspernatur aut odit fugit consequuntur magni ' +
    'dolores eos ratione sequi nesciunt neque porro quisquam dolorem numquam eius modi tempora ' +
    'incidunt magnam quaerat autem vel eum iure quam nihil molestiae illum quo vero accusamus ' +
    'iusto odio dignissimos ducimus blanditiis praesentium voluptatum deleniti atque corrupti quos ' +
    'quas molestias excepturi occaecati cupiditate similique mollitia animi facilis expedita ' +
    'distinctio nam libero tempore soluta nobis eligendi optio cumque impedit quod maxime placeat ' +
    'facere possimus assumenda repellendus temporibus quibusdam officiis debitis necessitatibus ' +
    'saepe eveniet voluptates repudiandae recusandae itaque earum rerum hic tenetur sapiente ' +
    'delectus reiciendis voluptatibus maiores perferendis doloribus asperiores repellat ' +
    'pellentesque vestibulum mauris nunc donec nullam vivamus aliquam curabitur phasellus ' +
    'suspendisse fusce praesent maecenas aenean morbi etiam proin nulla'
  ).split(' '),
);

setProfileTables({loremWords: [...LOREM_WORDS]});

/**
 * Placeholder text (lorem ipsum and its generated variants), counted on the shared profile's words.
 * Reason `lorem_ipsum`.
 */
export function loremIpsum(config: LoremIpsumConfig = LOREM_IPSUM_DEFAULTS) {
  return (doc: Doc): Verdict => {
    const {words, loremWords} = profileOf(doc);
    if (loremWords < config.min_lorem_words) return KEEP;
    const ratio = loremWords / words;
    return ratio >= config.min_lorem_ratio
      ? drop('lorem_ipsum', `${loremWords} placeholder-Latin words, ${pct(ratio)} of the text`)
      : KEEP;
  };
}
