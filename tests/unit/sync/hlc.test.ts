import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HLC_PATTERN, HybridClock, MAX_AHEAD_MS, compareHlc, formatHlc, parseHlc } from '../../../src-main/engine/sync/hlc.ts';

const T = 1_765_000_000_000;

describe('hybrid logical clock text', () => {
  it('formats fixed-width so string order is (wall, counter, device) order', () => {
    expect(formatHlc({ wall: T, counter: 7, device: 'desk-a' })).toBe('001765000000000:000007:desk-a');
    expect(parseHlc('001765000000000:000007:desk-a')).toEqual({ wall: T, counter: 7, device: 'desk-a' });
    const parts = [];
    for (let i = 0; i < 300; i++) {
      parts.push({ wall: T + ((i * 7919) % 13), counter: (i * 31) % 4, device: ['a', 'b', 'desk_B', 'Z'][i % 4]! });
    }
    const byTuple = [...parts].sort((x, y) => x.wall - y.wall || x.counter - y.counter || compareHlc(x.device, y.device));
    const byText = parts.map(formatHlc).sort(compareHlc);
    expect(byText).toEqual(byTuple.map(formatHlc));
  });

  it('refuses what is not a clock, with a sentence', () => {
    expect(parseHlc('yesterday')).toBeNull();
    expect(parseHlc('1765000000000:7:desk')).toBeNull();
    expect(() => formatHlc({ wall: T, counter: 0, device: 'my laptop' })).toThrow(/device id must be 1 to 64 letters, digits/);
    expect(() => formatHlc({ wall: -1, counter: 0, device: 'a' })).toThrow(/wall time must be whole milliseconds/);
    expect(() => formatHlc({ wall: T, counter: 1_000_000, device: 'a' })).toThrow(/counter must be from 0 to 999999/);
  });

  it('is the format the cloud migration checks', () => {
    const dir = join(import.meta.dirname, '..', '..', '..', 'supabase', 'migrations');
    const sql = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    expect(sql).toContain(`hlc !~ '${HLC_PATTERN.source}'`);
    expect(sql).toContain(`+ ${MAX_AHEAD_MS} then`);
  });
});

describe('HybridClock', () => {
  it('never goes backwards: a stopped or rewound wall clock moves the counter on', () => {
    let now = T;
    const clock = new HybridClock('a', () => now);
    const seen = [clock.next(), clock.next()];
    now = T - 5_000; // the wall clock was set back
    seen.push(clock.next());
    now = T + 1;
    seen.push(clock.next());
    expect(seen).toEqual([
      '001765000000000:000000:a', '001765000000000:000001:a', '001765000000000:000002:a', '001765000000001:000000:a',
    ]);
  });

  it("after observing another device's clock, every local clock is greater", () => {
    let now = T;
    const a = new HybridClock('a', () => now);
    const b = new HybridClock('b', () => now);
    const fromB = (() => {
      now = T + 60_000; // B's change, a minute later by B's clock
      const c = b.next();
      now = T;
      return c;
    })();
    a.observe(fromB);
    const next = a.next();
    expect(compareHlc(next, fromB)).toBe(1);
    expect(parseHlc(next)).toEqual({ wall: T + 60_000, counter: 2, device: 'a' });

    // Same wall time on both sides: the counter passes both.
    const c = new HybridClock('c', () => T);
    c.next();
    c.next(); // counter 1
    c.observe(formatHlc({ wall: T, counter: 5, device: 'z' }));
    expect(c.next()).toBe('001765000000000:000007:c');
  });

  it('refuses a clock more than a day ahead, so one wrong device cannot pin the future', () => {
    const a = new HybridClock('a', () => T);
    expect(() => a.observe(formatHlc({ wall: T + MAX_AHEAD_MS + 1, counter: 0, device: 'b' }))).toThrow(
      /more than a day ahead of this computer's time/,
    );
    expect(() => a.observe('not a clock')).toThrow(/is not a hybrid logical clock/);
    expect(a.next()).toBe('001765000000000:000000:a');
  });

  it('moves a millisecond on when the counter is full, and resumes from saved state after a restart', () => {
    const a = new HybridClock('a', () => T, { wall: T, counter: 999_999 });
    expect(a.next()).toBe('001765000000001:000000:a');
    const restarted = new HybridClock('a', () => T - 10_000, a.state);
    expect(restarted.next()).toBe('001765000000001:000001:a');
    expect(() => new HybridClock('bad id!')).toThrow(/device id/);
  });
});
