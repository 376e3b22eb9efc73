import { describe, expect, it } from 'vitest';
import { parseA1111Parameters } from '../../../src-main/engine/media/a1111.ts';
import {
  escapeFfmetadata,
  ffmetadataFile,
  readVideoRecipeMetadata,
  videoParametersText,
  videoTags,
} from '../../../src-main/engine/media/video-metadata.ts';
import { moovBeforeMdat, parseFrameRate } from '../../../src-main/engine/media/video-probe.ts';
import { RECIPE, metadataFor } from './helpers.ts';

const shape = { width: 480, height: 832, fps: 16, frameCount: 17 };

describe('video tags', () => {
  it('puts the title, the A1111 infotext, the recipe JSON and the note in standard MP4 tags', () => {
    const createdAt = new Date('2025-06-01T12:34:56.789Z');
    const tags = Object.fromEntries(videoTags({ ...metadataFor(), comment: 'note', createdAt }, shape));
    expect(Object.keys(tags)).toEqual(['title', 'description', 'comment', 'synopsis', 'creation_time']);
    expect(tags['creation_time']).toBe('2025-06-01T12:34:56.789Z');
    expect(JSON.parse(tags['comment']!)).toEqual(RECIPE);
    expect(tags['synopsis']).toBe('note');
    expect(tags['title']).toBe('a red fox runs through snow; camera tracks = left # dusk \\ glow');
  });

  it('shortens a long prompt for the title, and keeps an explicit title', () => {
    const long = { ...metadataFor(), prompt: 'word '.repeat(100) };
    const title = Object.fromEntries(videoTags(long, shape))['title']!;
    expect(title.length).toBe(120);
    expect(title.endsWith('…')).toBe(true);
    expect(Object.fromEntries(videoTags({ ...long, title: 'Fox' }, shape))['title']).toBe('Fox');
  });

  it('writes an infotext A1111 readers parse back', () => {
    const text = videoParametersText({ ...metadataFor(), extraParameters: [['Sampler', 'UniPC'], ['CFG scale', 5]] }, shape);
    const parsed = parseA1111Parameters(text);
    expect(parsed.prompt).toBe(RECIPE.prompt);
    expect(parsed.negativePrompt).toBe(RECIPE.negativePrompt);
    expect(parsed.params).toMatchObject({ Steps: '4', Seed: '1234567890', Size: '480x832', Model: 'wan2.1-t2v-1.3b', Sampler: 'UniPC', 'CFG scale': '5' });
  });

  it('refuses a recipe that is not JSON', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => videoTags({ ...metadataFor(), recipe: cyclic }, shape)).toThrow(/cannot be stored as JSON/);
  });
});

describe('ffmetadata escaping', () => {
  it('escapes = ; # \\ and newlines, normalises CR and drops NUL', () => {
    expect(escapeFfmetadata('a=b;c#d\\e\nf')).toBe('a\\=b\\;c\\#d\\\\e\\\nf');
    expect(escapeFfmetadata('x\r\ny\rz\0')).toBe('x\\\ny\\\nz');
    expect(ffmetadataFile([['title', 'T=1']])).toBe(';FFMETADATA1\ntitle=T\\=1\n');
  });
});

describe('readVideoRecipeMetadata', () => {
  it('reads our tags, whatever the key case', () => {
    const read = readVideoRecipeMetadata({ TITLE: 't', Comment: '{"a":1}', description: 'p', synopsis: 'n' });
    expect(read).toEqual({ title: 't', recipe: { a: 1 }, parameters: 'p', note: 'n' });
  });

  it('ignores a comment that is not a JSON object', () => {
    expect(readVideoRecipeMetadata({ comment: 'shot on my phone' }).recipe).toBeUndefined();
    expect(readVideoRecipeMetadata({ comment: '[1,2]' }).recipe).toBeUndefined();
  });
});

describe('probe helpers', () => {
  it('parses frame rates', () => {
    expect(parseFrameRate('16/1')).toBe(16);
    expect(parseFrameRate('30000/1001')).toBeCloseTo(29.97, 2);
    expect(parseFrameRate('0/0')).toBeNull();
    expect(parseFrameRate(undefined)).toBeNull();
  });

  it('knows faststart from box order', () => {
    const box = (type: string, offset: number) => ({ type, offset, size: 8 });
    expect(moovBeforeMdat([box('ftyp', 0), box('moov', 8), box('mdat', 16)])).toBe(true);
    expect(moovBeforeMdat([box('ftyp', 0), box('mdat', 8), box('moov', 16)])).toBe(false);
    expect(moovBeforeMdat([box('ftyp', 0), box('mdat', 8)])).toBeNull();
  });
});
