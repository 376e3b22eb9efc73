import { describe, expect, it } from 'vitest';
import { jobView } from './job-view.ts';
import { formatAge, formatBytes, formatDuration, jobsTable, renderTable, stateLabel, truncate } from '../../../src-main/cli/render.ts';

describe('tables', () => {
  it('aligns columns to the widest cell, right-aligns numbers, leaves no trailing blanks', () => {
    const t = renderTable(['NAME', 'SIZE', 'NOTE'], [
      ['a', '1', 'x'],
      ['longer', '1234', ''],
    ], [1]);
    expect(t.split('\n')).toEqual(['NAME    SIZE  NOTE', 'a          1  x', 'longer  1234']);
  });

  it('counts a multi-byte character as one column', () => {
    const t = renderTable(null, [
      ['1024×1024', 'a'],
      ['12', 'b'],
    ]);
    expect(t.split('\n')).toEqual(['1024×1024  a', '12         b']);
  });

  it('lists jobs with their state and a shortened one-line prompt', () => {
    const now = 90_000;
    const jobs = [
      jobView({ id: 'j-run', status: { state: 'running', at: 0, step: 3, of: 15, stage: 'denoise' }, position: null }),
      jobView({ id: 'j-queued', position: 1, params: { ...jobView().params, prompt: `line one\nline two ${'x'.repeat(80)}` } }),
      jobView({ id: 'j-failed', status: { state: 'failed', at: 0, code: 'oom', message: 'out of memory' }, position: null }),
    ];
    const lines = jobsTable(jobs, now).split('\n');
    expect(lines[0]).toMatch(/^ID\s+TYPE\s+STATE\s+CREATED\s+PROMPT$/);
    expect(lines[1]).toContain('running 3/15 denoise');
    expect(lines[2]).toContain('queued #2');
    expect(lines[2]).toContain('line one line two');
    expect(lines[2]!.endsWith('…')).toBe(true);
    expect(lines[3]).toContain('failed (oom)');
    expect(lines[1]).toContain('1m ago');
    expect(jobsTable([], now)).toBe('No jobs.');
  });
});

describe('formatting', () => {
  it('formats durations, ages and sizes the way a person reads them', () => {
    expect(formatDuration(7_400)).toBe('0:07');
    expect(formatDuration(192_000)).toBe('3:12');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatAge(0, 12_000)).toBe('12s ago');
    expect(formatAge(0, 5 * 60_000)).toBe('5m ago');
    expect(formatAge(0, 3 * 3_600_000)).toBe('3h ago');
    expect(formatAge(0, 2 * 86_400_000)).toBe('2d ago');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.00 GiB');
    expect(formatBytes(6_938_000_000)).toBe('6.46 GiB');
    expect(truncate('abcdef', 4)).toBe('abc…');
  });

  it('labels retry waits and queue positions', () => {
    expect(stateLabel(jobView({ position: 0, status: { state: 'queued', at: 0, notBefore: 5, reason: 'retry' } }))).toBe('queued #1 (retry wait)');
    expect(stateLabel(jobView({ position: null, status: { state: 'done', at: 0, assets: [] } }))).toBe('done');
  });
});
