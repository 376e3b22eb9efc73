/** A tiny benchmark harness: each bench returns named figures; run.ts prints them and checks targets. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The promise the figure is held to, e.g. { op: '<', value: 2 }. */
  readonly target?: { readonly op: '<' | '>'; readonly value: number };
  readonly note?: string;
}

export interface Bench {
  readonly name: string;
  run(): Promise<Figure[]>;
}

export function meets(f: Figure): boolean | null {
  if (!f.target) return null;
  return f.target.op === '<' ? f.value < f.target.value : f.value > f.target.value;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** A small seeded PRNG (mulberry32): the same synthetic rows on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
