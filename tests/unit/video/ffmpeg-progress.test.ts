import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ProgressBlockReader,
  isProgressKeyValueLine,
  parseProgressBlock,
  parseStatusLine,
  parseTimestamp,
} from '../../../src-main/engine/media/ffmpeg-progress.ts';
import type { FfmpegProgress } from '../../../src-main/engine/media/ffmpeg-progress.ts';

// Captured from ffmpeg 5.1 encoding 33 noise frames at 480×832 fed slowly through stdin
// (fixtures/capture-ffmpeg-output.ts regenerates them).
const fixtures = join(import.meta.dirname, 'fixtures');
const progressPipe = readFileSync(join(fixtures, 'progress-pipe.txt'), 'utf8');
const statsStderr = readFileSync(join(fixtures, 'stats-stderr.txt'), 'utf8');

describe('parseTimestamp', () => {
  it('reads HH:MM:SS with any fraction, negative times and N/A', () => {
    expect(parseTimestamp('00:00:01.875061')).toBeCloseTo(1875.061, 6);
    expect(parseTimestamp('00:00:03.87')).toBeCloseTo(3870, 6);
    expect(parseTimestamp('01:02:03')).toBe(3_723_000);
    expect(parseTimestamp('-00:00:00.06')).toBeCloseTo(-60, 6);
    expect(parseTimestamp('N/A')).toBeNull();
    expect(parseTimestamp('')).toBeNull();
  });
});

describe('parseProgressBlock on real -progress output', () => {
  const blocks = progressPipe.split(/(?<=progress=(?:continue|end)\n)/).filter((b) => b.trim() !== '');

  it('finds every block, and only the last one is done', () => {
    const parsed = blocks.map((b) => parseProgressBlock(b));
    expect(parsed.length).toBe(18);
    expect(parsed.every((p) => p !== null)).toBe(true);
    expect(parsed.map((p) => p!.done)).toEqual([...Array(17).fill(false), true]);
  });

  it('reads frame, time (out_time_us in µs) and speed of the first and last block', () => {
    expect(parseProgressBlock(blocks[0]!)).toEqual({ frame: 1, timeMs: 0, speed: 0, done: false });
    expect(parseProgressBlock(blocks.at(-1)!)).toEqual({ frame: 33, timeMs: 1875.061, speed: 0.594, done: true });
  });

  it('frames never go backwards', () => {
    const frames = blocks.map((b) => parseProgressBlock(b)!.frame!);
    for (let i = 1; i < frames.length; i++) expect(frames[i]!).toBeGreaterThanOrEqual(frames[i - 1]!);
  });

  it('treats out_time_ms as microseconds, and falls back to out_time', () => {
    const last = blocks.at(-1)!;
    const withoutUs = last.replace(/^out_time_us=.*\n/m, '');
    expect(parseProgressBlock(withoutUs)?.timeMs).toBeCloseTo(1875.061, 6);
    const onlyClock = withoutUs.replace(/^out_time_ms=.*\n/m, '');
    expect(parseProgressBlock(onlyClock)?.timeMs).toBeCloseTo(1875.061, 6);
  });

  it('gives N/A as null and clamps a negative start time to 0', () => {
    expect(parseProgressBlock('frame=0\nout_time_us=N/A\nout_time=N/A\nspeed=N/A\nprogress=continue\n')).toEqual({
      frame: 0,
      timeMs: null,
      speed: null,
      done: false,
    });
    expect(parseProgressBlock('out_time_us=-23220\nprogress=continue')?.timeMs).toBe(0);
  });

  it('returns null for a block without its progress= line', () => {
    expect(parseProgressBlock(blocks[0]!.replace(/progress=continue\n?/, ''))).toBeNull();
  });
});

describe('ProgressBlockReader', () => {
  it('gives the same blocks whatever the chunking', () => {
    const whole = new ProgressBlockReader().push(progressPipe);
    expect(whole).toHaveLength(18);
    for (const size of [1, 7, 64, 1000]) {
      const reader = new ProgressBlockReader();
      const got: FfmpegProgress[] = [];
      for (let i = 0; i < progressPipe.length; i += size) got.push(...reader.push(progressPipe.slice(i, i + size)));
      expect(got).toEqual(whole);
    }
  });

  it('ignores log lines mixed into the stream (progress on stderr)', () => {
    const reader = new ProgressBlockReader();
    const mixed = `[libx264 @ 0x55] using cpu capabilities: AVX2\n${progressPipe.split('progress=continue\n')[0]}progress=continue\n`;
    expect(reader.push(mixed)).toEqual([{ frame: 1, timeMs: 0, speed: 0, done: false }]);
  });

  it('tells progress lines from log lines', () => {
    expect(isProgressKeyValueLine('out_time_us=1875061')).toBe(true);
    expect(isProgressKeyValueLine('bitrate=24510.2kbits/s')).toBe(true);
    expect(isProgressKeyValueLine('[libx264 @ 0x55c1048b7400] profile High, level 3.0')).toBe(false);
    expect(isProgressKeyValueLine('Error initializing output stream 0:0 --')).toBe(false);
  });
});

describe('parseStatusLine on real stderr', () => {
  // ffmpeg rewrites the status line with \r; fluent-ffmpeg and readline-style splitters cut there.
  const lines = statsStderr.split(/\r\n|\r|\n/);
  const parsed = lines.map((l) => parseStatusLine(l)).filter((p): p is FfmpegProgress => p !== null);

  it('reads only the status lines, not the banner or the x264 log', () => {
    const statusLines = lines.filter((l) => l.startsWith('frame='));
    expect(parsed.length).toBe(statusLines.length);
    expect(parsed.length).toBeGreaterThan(2);
    expect(parseStatusLine('[libx264 @ 0x55c1048b7400] profile High, level 3.0, 4:2:0, 8-bit')).toBeNull();
    expect(parseStatusLine('video:5609kB audio:0kB subtitle:0kB other streams:0kB global headers:0kB')).toBeNull();
  });

  it('reads an intermediate line', () => {
    expect(parsed[0]).toEqual({ frame: 1, timeMs: 0, speed: 0, done: false });
  });

  it('marks the final Lsize= report as done', () => {
    expect(parsed.at(-1)).toEqual({ frame: 33, timeMs: 1870, speed: 0.479, done: true });
    expect(parsed.filter((p) => p.done)).toHaveLength(1);
  });

  it('accepts a line that still carries its \\r, and the newer KiB/elapsed form', () => {
    const raw = lines.find((l) => l.includes('Lsize='))!;
    expect(parseStatusLine(`\r${raw}\r`)?.done).toBe(true);
    // Layout of ffmpeg 6.1+ (KiB units, elapsed=), written by hand from the 7.x source format.
    expect(
      parseStatusLine('frame=   65 fps=0.0 q=-1.0 Lsize=      26KiB time=00:00:03.87 bitrate=  54.9kbits/s speed=16.1x elapsed=0:00:00.24'),
    ).toEqual({ frame: 65, timeMs: 3870, speed: 16.1, done: true });
    expect(parseStatusLine('size=N/A time=-00:00:00.02 bitrate=N/A speed=N/A')).toEqual({ frame: null, timeMs: 0, speed: null, done: false });
  });
});
