/**
 * Words for the store's full-text index. PostgreSQL's `simple` configuration splits on spaces and
 * punctuation, which finds English words but not Chinese ones (written without spaces). So Han
 * text is indexed as overlapping character pairs (bigrams: 分子动力学 → 分子 子动 动力 力学), the
 * way CJK search engines do without a dictionary, and a query is cut the same way: any two or more
 * consecutive characters of a name, summary or tag then match, through the same GIN index.
 */

const WORD = /[\p{L}\p{N}]+/gu;
const HAN = /\p{Script=Han}+/u;
const SPLIT_HAN = /(\p{Script=Han}+)/u;

function tokensOf(text: string): string[] {
  const out: string[] = [];
  for (const word of text.toLowerCase().match(WORD) ?? []) {
    for (const part of word.split(SPLIT_HAN)) {
      if (part === '') continue;
      if (!HAN.test(part)) {
        out.push(part.slice(0, 64));
        continue;
      }
      const chars = [...part];
      if (chars.length === 1) out.push(chars[0]!);
      for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
    }
  }
  return out;
}

/** The text to give `to_tsvector('simple', …)` for a product: its words, Han runs as bigrams. */
export function indexText(text: string): string {
  return [...new Set(tokensOf(text))].join(' ');
}

/**
 * A `to_tsquery('simple', …)` text for a user's query: every token must match, each as a prefix
 * (`mole` finds molecular; 分 finds 分子). Safe for any input: tokens are letters and digits only.
 * Null when the query has no words.
 */
export function searchQuery(query: string, maxTokens = 12): string | null {
  const tokens = [...new Set(tokensOf(query))].slice(0, maxTokens);
  return tokens.length === 0 ? null : tokens.map((t) => `'${t}':*`).join(' & ');
}
