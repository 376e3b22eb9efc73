import { describe, expect, it } from 'vitest';
import { downloadName, formatRunFigure, importedName, runFigures } from '../../../src-renderer/src/features/library/labels.ts';

describe('the figures of a run, each in its unit', () => {
  it('says milliseconds as time, mebibytes as memory and counts as counts', () => {
    expect(formatRunFigure('vaeDecodePeakRssMb', 3146)).toBe('3.1 GB');
    expect(formatRunFigure('vaeDecodeRssGrowthMb', 212.4)).toBe('212 MB');
    expect(formatRunFigure('vaeCalls', 5)).toBe('5');
    expect(formatRunFigure('batches', 1)).toBe('1');
    expect(formatRunFigure('decodeMs', 3146)).toBe('3.1 s');
    expect(formatRunFigure('stepMsMean', 412.6)).toBe('413 ms');
    expect(formatRunFigure('enhanceTokens', 87)).toBe('87 tokens');
    expect(formatRunFigure('enhanceTokensPerSecond', 23.46)).toBe('23.5 tokens/s');
  });

  it('labels them for people and lists them in the order a run goes', () => {
    const figures = runFigures({ overheadMs: 5, vaeCalls: 5, wallMs: 9000, vaeDecodePeakRssMb: 3146, batches: 1, modelLoadMs: 1200, odd_thing_ms: 3, note: 'x' });
    expect(figures.map((f) => [f.label, f.value])).toEqual([
      ['Total', '9.0 s'],
      ['Model load', '1.2 s'],
      ['Batches', '1'],
      ['VAE calls', '5'],
      ['VAE decode peak memory', '3.1 GB'],
      ['Outside the model', '5 ms'],
      ['Odd thing', '3 ms'],
    ]);
  });
});

describe('download names', () => {
  const generated = { id: 'a1b2c3d4-0000', mime: 'image/png', seed: 1234, bucket: 'sdxl_image_fast', prompt: 'A (lighthouse:1.2) on a basalt cliff, at dusk!', title: null, batchIndex: 2, jobType: 'sdxl_image_fast', kind: 'image' } as const;

  it('names a generated file by its prompt words, seed and batch index', () => {
    expect(downloadName(generated)).toBe('a-lighthouse-on-a-basalt-cliff-at-dusk-1234-2.png');
    expect(downloadName({ ...generated, batchIndex: 0, prompt: 'Neon city street' })).toBe('neon-city-street-1234.png');
    expect(downloadName({ ...generated, prompt: null, seed: null, kind: 'video', mime: 'video/mp4', jobType: 'video_fast' })).toBe('wan-video-fast-a1b2c3d4.mp4');
  });

  it('keeps the name an imported file came with (its base name, made safe)', () => {
    const imported = { ...generated, bucket: 'user_uploads', jobType: null } as const;
    expect(downloadName(imported, 'holidays/2024/beach day.png')).toBe('beach day.png');
    expect(downloadName(imported, 'sub\\a1111-00012.png')).toBe('a1111-00012.png');
    expect(downloadName(imported, 'caf\\xe9.png')).toBe('caf_xe9.png');
    expect(downloadName(imported, 'what?.png')).toBe('what_.png');
    expect(importedName({ imported: { from: 'x/holiday.png' } })).toBe('x/holiday.png');
    expect(importedName({ prompt: 'p' })).toBeNull();
  });
});
