/**
 * Provider patterns (a string parameter's `pattern`) matched in linear time.
 *
 * A manifest's pattern runs on the control plane at every publish and launch, so it must not be
 * able to stall it: `^(a+)+$` against `aaaa…b` takes exponential time in a backtracking engine
 * (issue 11). This is a Thompson NFA simulated Pike-VM style (one pass over the input, a set of
 * states per position, no backtracking): time is O(pattern size × input length), always.
 *
 * The syntax is a subset of ECMAScript regular expressions in Unicode mode (`new RegExp(p, 'u')`),
 * with the same meaning, unanchored as in JSON Schema:
 *   literals; `.` (any character but a line terminator); classes `[a-z_]`, `[^…]`; escapes
 *   `\d \D \w \W \s \S \t \n \r \f \v \0 \xHH \uHHHH \u{H…}` and `\` before a syntax character;
 *   anchors `^ $`; groups `( … )`, `(?: … )`; alternation `|`; quantifiers `* + ? {n} {n,} {n,m}`
 *   (lazy forms accepted: for a yes/no match they mean the same), with counts of at most
 *   MAX_REPEAT and at most MAX_PROGRAM steps once counts are expanded.
 * Refused with the character where it starts: backreferences, lookahead and lookbehind, named
 * groups, word boundaries, `\p{…}`, flags, and everything ECMAScript's Unicode mode refuses.
 */

/** The longest pattern accepted, in characters. */
export const MAX_PATTERN_LENGTH = 512;
/** The largest count in `{n,m}`. */
export const MAX_REPEAT = 100;
/** The most NFA steps a pattern compiles to (counted repetitions expanded). */
export const MAX_PROGRAM = 1000;

/** A compiled pattern. */
export interface Pattern {
  readonly source: string;
  /** True when the pattern matches somewhere in `input` (as `RegExp.prototype.test` with flag `u`). */
  test(input: string): boolean;
}

/** Why a pattern was refused: the message and the 0-based index in the pattern where it starts. */
export interface PatternError {
  readonly message: string;
  readonly index: number;
}

export type PatternResult = { readonly ok: true; readonly pattern: Pattern } | { readonly ok: false; readonly error: PatternError };

/** Compiles `source` in the supported syntax, or says what is unsupported and where. Never throws. */
export function compileLinearPattern(source: string): PatternResult {
  if (source.length > MAX_PATTERN_LENGTH) {
    return { ok: false, error: { message: `the pattern is ${source.length} characters; at most ${MAX_PATTERN_LENGTH}`, index: MAX_PATTERN_LENGTH } };
  }
  try {
    const ast = new Parser(source).parse();
    const program = compile(ast);
    return { ok: true, pattern: { source, test: (input) => run(program, input) } };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, error: { message: error.message, index: error.index } };
    throw error;
  }
}

// ---- syntax tree --------------------------------------------------------------------------------

/** Inclusive code point ranges; `negate` inverts the set. */
interface CharSet {
  readonly ranges: readonly (readonly [number, number])[];
  readonly negate: boolean;
}

type Node =
  | { readonly kind: 'empty' }
  | { readonly kind: 'chars'; readonly set: CharSet }
  | { readonly kind: 'cat'; readonly items: readonly Node[] }
  | { readonly kind: 'alt'; readonly options: readonly Node[] }
  | { readonly kind: 'repeat'; readonly node: Node; readonly min: number; readonly max: number }
  | { readonly kind: 'assert'; readonly at: 'start' | 'end' };

class Refusal extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}

const DIGIT: CharSet = { ranges: [[0x30, 0x39]], negate: false };
const WORD: CharSet = { ranges: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]], negate: false };
// ECMAScript's WhiteSpace and LineTerminator.
const SPACE: CharSet = {
  ranges: [[0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a], [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff]],
  negate: false,
};
const LINE_TERMINATORS: CharSet = { ranges: [[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]], negate: true };
const SYNTAX = '^$\\.*+?()[]{}|/';
const CONTROL_ESCAPES: Readonly<Record<string, number>> = { t: 0x09, n: 0x0a, v: 0x0b, f: 0x0c, r: 0x0d };

const single = (cp: number): CharSet => ({ ranges: [[cp, cp]], negate: false });
const not = (set: CharSet): CharSet => ({ ranges: set.ranges, negate: !set.negate });

/** Recursive descent over the pattern's code points (Unicode mode reads the pattern by code point). */
class Parser {
  readonly #cps: readonly number[];
  /** Index in the source string (UTF-16) of each code point, for error positions. */
  readonly #at: readonly number[];
  #i = 0;
  #depth = 0;

  constructor(readonly source: string) {
    const cps: number[] = [];
    const at: number[] = [];
    for (let i = 0; i < source.length; ) {
      const cp = source.codePointAt(i)!;
      cps.push(cp);
      at.push(i);
      i += cp > 0xffff ? 2 : 1;
    }
    at.push(source.length);
    this.#cps = cps;
    this.#at = at;
  }

  parse(): Node {
    const node = this.#alternation();
    if (this.#i < this.#cps.length) {
      // Only a `)` without its `(` stops an alternation early.
      this.#refuse(`unmatched ")"`);
    }
    return node;
  }

  #peek(k = 0): string | undefined {
    const cp = this.#cps[this.#i + k];
    return cp === undefined ? undefined : String.fromCodePoint(cp);
  }

  /** The character at the cursor; moves past it. */
  #take(): string {
    const c = this.#peek()!;
    this.#i++;
    return c;
  }

  #refuse(message: string, i = this.#i): never {
    throw new Refusal(message, this.#at[Math.min(i, this.#at.length - 1)]!);
  }

  #alternation(): Node {
    const options = [this.#sequence()];
    while (this.#peek() === '|') {
      this.#i++;
      options.push(this.#sequence());
    }
    return options.length === 1 ? options[0]! : { kind: 'alt', options };
  }

  #sequence(): Node {
    const items: Node[] = [];
    for (let c = this.#peek(); c !== undefined && c !== '|' && c !== ')'; c = this.#peek()) {
      const start = this.#i;
      const atom = this.#atom();
      items.push(this.#quantified(atom, start));
    }
    return items.length === 0 ? { kind: 'empty' } : items.length === 1 ? items[0]! : { kind: 'cat', items };
  }

  #atom(): Node {
    const c = this.#peek()!;
    switch (c) {
      case '^':
        this.#i++;
        return { kind: 'assert', at: 'start' };
      case '$':
        this.#i++;
        return { kind: 'assert', at: 'end' };
      case '.':
        this.#i++;
        return { kind: 'chars', set: LINE_TERMINATORS };
      case '(':
        return this.#group();
      case '[':
        return { kind: 'chars', set: this.#class() };
      case '\\': {
        const e = this.#escape(false);
        return { kind: 'chars', set: typeof e === 'number' ? single(e) : e };
      }
      case '*':
      case '+':
      case '?':
        return this.#refuse(`"${c}" has nothing to repeat`);
      case '{':
        return this.#refuse('"{" has nothing to repeat; write \\{ for the character');
      case '}':
      case ']':
        return this.#refuse(`a lone "${c}"; write \\${c} for the character`);
      default:
        this.#i++;
        return { kind: 'chars', set: single(this.#cps[this.#i - 1]!) };
    }
  }

  #group(): Node {
    const open = this.#i;
    this.#i++;
    if (this.#peek() === '?') {
      if (this.#peek(1) !== ':') {
        const what = this.#peek(1) === '<' && this.#peek(2) !== '=' && this.#peek(2) !== '!' ? 'named groups' : 'lookahead and lookbehind';
        this.#refuse(`${what} are not supported; use (?:…) or plain (…)`, open);
      }
      this.#i += 2;
    }
    if (++this.#depth > 50) this.#refuse('groups are nested more than 50 deep', open);
    const inner = this.#alternation();
    this.#depth--;
    if (this.#peek() !== ')') this.#refuse('unclosed "("', open);
    this.#i++;
    // `(^)*` is legal where `^*` is not: keep the group so that the quantifier applies to it.
    return inner.kind === 'assert' ? { kind: 'cat', items: [inner] } : inner;
  }

  #quantified(atom: Node, start: number): Node {
    let min: number;
    let max: number;
    const c = this.#peek();
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') [min, max] = this.#counts();
    else return atom;
    if (atom.kind === 'assert') this.#refuse(`an anchor cannot be repeated`, start);
    if (c !== '{') this.#i++;
    if (this.#peek() === '?') this.#i++; // lazy: the same yes/no answer
    return { kind: 'repeat', node: atom, min, max };
  }

  /** `{n}`, `{n,}` or `{n,m}` at the cursor; moves past it. */
  #counts(): [number, number] {
    const open = this.#i;
    this.#i++;
    const number = (): number | undefined => {
      let digits = '';
      while (isDigit(this.#peek())) digits += this.#take();
      if (digits === '') return undefined;
      const n = Number(digits);
      if (n > MAX_REPEAT) this.#refuse(`the count ${digits} is above ${MAX_REPEAT}`, open);
      return n;
    };
    const min = number();
    if (min === undefined) this.#refuse('"{" does not start a count {n}, {n,} or {n,m}; write \\{ for the character', open);
    let max = min;
    if (this.#peek() === ',') {
      this.#i++;
      max = number() ?? Infinity;
    }
    if (this.#peek() !== '}') this.#refuse('unclosed count: write {n}, {n,} or {n,m}', open);
    this.#i++;
    if (max < min) this.#refuse(`the count {${min},${max}} runs backwards`, open);
    return [min, max];
  }

  #class(): CharSet {
    const open = this.#i;
    this.#i++;
    let negate = false;
    if (this.#peek() === '^') {
      negate = true;
      this.#i++;
    }
    const ranges: (readonly [number, number])[] = [];
    for (;;) {
      const c = this.#peek();
      if (c === undefined) this.#refuse('unclosed "["', open);
      if (c === ']') {
        this.#i++;
        break;
      }
      const from = this.#i;
      const lo = this.#classAtom();
      if (this.#peek() === '-' && this.#peek(1) !== undefined && this.#peek(1) !== ']') {
        this.#i++;
        const hi = this.#classAtom();
        if (typeof lo !== 'number' || typeof hi !== 'number') this.#refuse('a class escape such as \\d cannot end a range', from);
        if (lo > hi) this.#refuse('the range runs backwards', from);
        ranges.push([lo, hi]);
      } else if (typeof lo === 'number') ranges.push([lo, lo]);
      else ranges.push(...flatten(lo));
    }
    return { ranges, negate };
  }

  /** One character of a class, or a class escape (`\d`) as a set. */
  #classAtom(): number | CharSet {
    if (this.#peek() === '\\') {
      if (this.#peek(1) === '-') {
        this.#i += 2;
        return 0x2d;
      }
      return this.#escape(true);
    }
    this.#i++;
    return this.#cps[this.#i - 1]!;
  }

  /** The escape at the cursor (`\` and what follows): one character, or a class escape's set; moves past it. */
  #escape(inClass: boolean): number | CharSet {
    const start = this.#i;
    this.#i++;
    const c = this.#peek();
    if (c === undefined) this.#refuse('the pattern ends with a lone "\\"', start);
    this.#i++;
    switch (c) {
      case 'd':
        return DIGIT;
      case 'D':
        return not(DIGIT);
      case 'w':
        return WORD;
      case 'W':
        return not(WORD);
      case 's':
        return SPACE;
      case 'S':
        return not(SPACE);
      case 'x':
        return this.#hex(2, start);
      case 'u': {
        if (this.#peek() === '{') {
          this.#i++;
          let digits = '';
          while (isHex(this.#peek())) digits += this.#take();
          const cp = parseInt(digits, 16);
          if (digits === '' || this.#peek() !== '}' || !(cp <= 0x10ffff)) this.#refuse('\\u{…} needs 1–6 hex digits up to 10FFFF', start);
          this.#i++;
          return cp;
        }
        return this.#hex(4, start);
      }
      case '0':
        if (isDigit(this.#peek())) this.#refuse('octal escapes are not supported; use \\xHH', start);
        return 0;
      default:
        break;
    }
    if (CONTROL_ESCAPES[c] !== undefined) return CONTROL_ESCAPES[c];
    if (SYNTAX.includes(c)) return c.codePointAt(0)!;
    if (/[1-9]/.test(c) || c === 'k') this.#refuse('backreferences are not supported', start);
    if (c === 'b' || c === 'B') this.#refuse(inClass ? '\\b in a class is not supported; use \\x08' : 'word boundaries (\\b, \\B) are not supported', start);
    if (c === 'p' || c === 'P') this.#refuse('Unicode property escapes (\\p{…}) are not supported; list the ranges in a class', start);
    return this.#refuse(`"\\${c}" is not an escape; write the character itself`, start);
  }

  #hex(n: number, start: number): number {
    let digits = '';
    for (let k = 0; k < n; k++) {
      if (!isHex(this.#peek())) this.#refuse(`the escape needs ${n} hex digits`, start);
      digits += this.#take();
    }
    return parseInt(digits, 16);
  }
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** A set's ranges with negation applied (inside a class, \D and friends are unions of plain ranges). */
function flatten(set: CharSet): (readonly [number, number])[] {
  if (!set.negate) return [...set.ranges];
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of [...set.ranges].sort((a, b) => a[0] - b[0])) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
}

// ---- program ------------------------------------------------------------------------------------

type Inst =
  | { op: 'char'; set: CharSet }
  | { op: 'split'; x: number; y: number }
  | { op: 'jmp'; to: number }
  | { op: 'assert'; at: 'start' | 'end' }
  | { op: 'match' };

function compile(ast: Node): readonly Inst[] {
  const prog: Inst[] = [];
  const emit = (inst: Inst): number => {
    if (prog.length >= MAX_PROGRAM) throw new Refusal(`the pattern is too large once its repetitions are expanded (over ${MAX_PROGRAM} steps)`, 0);
    prog.push(inst);
    return prog.length - 1;
  };
  const gen = (node: Node): void => {
    switch (node.kind) {
      case 'empty':
        return;
      case 'chars':
        emit({ op: 'char', set: node.set });
        return;
      case 'assert':
        emit({ op: 'assert', at: node.at });
        return;
      case 'cat':
        node.items.forEach(gen);
        return;
      case 'alt': {
        const jumps: number[] = [];
        node.options.forEach((option, k) => {
          if (k < node.options.length - 1) {
            const split = emit({ op: 'split', x: 0, y: 0 });
            (prog[split] as Extract<Inst, { op: 'split' }>).x = prog.length;
            gen(option);
            jumps.push(emit({ op: 'jmp', to: 0 }));
            (prog[split] as Extract<Inst, { op: 'split' }>).y = prog.length;
          } else gen(option);
        });
        for (const j of jumps) (prog[j] as Extract<Inst, { op: 'jmp' }>).to = prog.length;
        return;
      }
      case 'repeat': {
        for (let k = 0; k < node.min; k++) gen(node.node);
        if (node.max === Infinity) {
          const split = emit({ op: 'split', x: 0, y: 0 });
          (prog[split] as Extract<Inst, { op: 'split' }>).x = prog.length;
          gen(node.node);
          emit({ op: 'jmp', to: split });
          (prog[split] as Extract<Inst, { op: 'split' }>).y = prog.length;
          return;
        }
        const splits: number[] = [];
        for (let k = node.min; k < node.max; k++) {
          const split = emit({ op: 'split', x: 0, y: 0 });
          (prog[split] as Extract<Inst, { op: 'split' }>).x = prog.length;
          splits.push(split);
          gen(node.node);
        }
        for (const s of splits) (prog[s] as Extract<Inst, { op: 'split' }>).y = prog.length;
        return;
      }
    }
  };
  gen(ast);
  emit({ op: 'match' });
  return prog;
}

function inSet(set: CharSet, cp: number): boolean {
  let found = false;
  for (const [lo, hi] of set.ranges) {
    if (cp >= lo && cp <= hi) {
      found = true;
      break;
    }
  }
  return found !== set.negate;
}

/**
 * Pike VM without captures: the states live at one input position at a time, each at most once, so
 * the work is O(program × input). Unanchored: a thread starts at every position.
 */
function run(prog: readonly Inst[], input: string): boolean {
  const cps = Array.from(input, (c) => c.codePointAt(0)!);
  const n = cps.length;
  const mark = new Int32Array(prog.length).fill(-1);
  let current: number[] = [];
  let next: number[] = [];
  const stack: number[] = [];
  let stamp = 0;
  /** Adds `pc` and every state reachable from it without reading input; true when one is `match`. */
  const add = (list: number[], pc0: number, pos: number): boolean => {
    stack.push(pc0);
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (mark[pc] === stamp) continue;
      mark[pc] = stamp;
      const inst = prog[pc]!;
      switch (inst.op) {
        case 'match':
          stack.length = 0;
          return true;
        case 'jmp':
          stack.push(inst.to);
          break;
        case 'split':
          stack.push(inst.y, inst.x);
          break;
        case 'assert':
          if (inst.at === 'start' ? pos === 0 : pos === n) stack.push(pc + 1);
          break;
        case 'char':
          list.push(pc);
          break;
      }
    }
    return false;
  };
  for (let pos = 0; ; pos++) {
    // `current` was filled while reading the previous character, under this same stamp.
    if (add(current, 0, pos)) return true;
    if (pos === n) return false;
    const cp = cps[pos]!;
    stamp++;
    next.length = 0;
    for (const pc of current) {
      const inst = prog[pc] as Extract<Inst, { op: 'char' }>;
      if (inSet(inst.set, cp) && add(next, pc + 1, pos + 1)) return true;
    }
    [current, next] = [next, current];
  }
}
