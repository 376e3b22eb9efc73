import { describe, expect, it } from 'vitest';
import { EtaEstimator, ProgressReporter, progressLine, renderBar } from '../../../src-main/cli/progress.ts';
import type { ProgressSnapshot } from '../../../src-main/cli/progress.ts';

const running = (step: number, of: number, stage: string | null = 'denoise', etaMs: number | null = null): ProgressSnapshot => ({
  state: 'running',
  step,
  of,
  stage,
  position: null,
  etaMs,
});

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 80, write: (c: string) => chunks.push(c) } };
}

describe('progress bar', () => {
  it('fills in proportion to the steps done', () => {
    expect(renderBar(0, 10, 10)).toBe('[░░░░░░░░░░]');
    expect(renderBar(5, 10, 10)).toBe('[█████░░░░░]');
    expect(renderBar(12, 10, 10)).toBe('[██████████]');
  });

  it('shows step x/y, the stage and the ETA, and fits the terminal', () => {
    const line = progressLine(running(12, 25, 'denoise', 14_000), 80);
    expect(line).toMatch(/^running \[█+░+\] 12\/25 denoise  ETA 0:14$/);
    expect([...progressLine(running(12, 25, 'denoise', 14_000), 40)].length).toBeLessThanOrEqual(39);
    expect(progressLine({ state: 'queued', step: 0, of: 0, stage: null, position: 2, etaMs: null })).toBe('queued (position 3), waiting for its turn');
  });
});

describe('ETA estimate', () => {
  it('projects the pace of the steps seen so far in the stage', () => {
    const eta = new EtaEstimator();
    expect(eta.update(0, 10, 'denoise', 1000)).toBeNull();
    expect(eta.update(2, 10, 'denoise', 3000)).toBe(8000);
    expect(eta.update(5, 10, 'denoise', 6000)).toBe(5000);
    // A new stage (e.g. decoding) starts a fresh estimate.
    expect(eta.update(0, 17, 'decode', 7000)).toBeNull();
  });
});

describe('ProgressReporter', () => {
  it('redraws one line in place on a terminal', () => {
    const { chunks, stream } = sink(true);
    let t = 0;
    const r = new ProgressReporter(stream, () => t);
    r.update(running(0, 4));
    t = 1000;
    r.update(running(1, 4));
    r.finish();
    expect(chunks.every((c) => !c.includes('\n'))).toBe(true);
    expect(chunks[1]).toMatch(/^\r\x1b\[2Krunning .* 1\/4 denoise  ETA 0:03$/);
  });

  it('assumes 80 columns when the terminal does not say', () => {
    const chunks: string[] = [];
    const r = new ProgressReporter({ isTTY: true, columns: 0, write: (c: string) => chunks.push(c) });
    r.update(running(3, 12, 'denoise', 9000));
    expect(chunks[0]).toMatch(/ 3\/12 denoise  ETA 0:09$/);
  });

  it('writes one line per stage or state change when not a terminal, not one per step', () => {
    const { chunks, stream } = sink(false);
    const r = new ProgressReporter(stream);
    r.update({ state: 'queued', step: 0, of: 0, stage: null, position: 1, etaMs: null });
    r.update({ state: 'queued', step: 0, of: 0, stage: null, position: 1, etaMs: null });
    r.update({ state: 'queued', step: 0, of: 0, stage: null, position: 0, etaMs: null });
    for (let s = 0; s <= 15; s++) r.update(running(s, 15));
    r.update(running(0, 17, 'decode'));
    r.update(running(5, 17, 'decode'));
    expect(chunks).toEqual(['queued (position 2)\n', 'queued (position 1)\n', 'running: denoise (15 steps)\n', 'running: decode (17 steps)\n']);
  });
});
