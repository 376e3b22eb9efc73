/** What the Workspace form offers: the grouped job types, sizes, frame counts, samplers and the token hint. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../../src-main/engine/tokenizers/clip.ts';
import { writeClipTokenizerFiles } from '../../fixtures/clip-tokenizer-files.ts';
import { JOB_TYPES, LIMITS, PRESETS, resolveRequest } from '../../../src-preload/contract/index.ts';
import {
  FRAME_CHOICES,
  SDXL_SIZES,
  WAN_SIZES,
  clipDuration,
  enhancedTwin,
  estimateTokens,
  isValidFrameCount,
  jobTypeGroups,
  ratioLabel,
  samplersFor,
} from '../../../src-renderer/src/features/workspace/options.ts';

describe('job type picker', () => {
  it('groups the ten types as OurVidz does, each exactly once', () => {
    const groups = jobTypeGroups([]);
    expect(groups.map((g) => g.label.split(' ·')[0])).toEqual(['SDXL', 'WAN Image', 'WAN Video', 'Enhanced']);
    expect(groups.map((g) => g.types)).toEqual([
      ['sdxl_image_fast', 'sdxl_image_high'],
      ['image_fast', 'image_high'],
      ['video_fast', 'video_high'],
      ['image7b_fast_enhanced', 'image7b_high_enhanced', 'video7b_fast_enhanced', 'video7b_high_enhanced'],
    ]);
  });

  it("shows only the engine's types once they are loaded", () => {
    const groups = jobTypeGroups([PRESETS.sdxl_image_fast, PRESETS.video_fast]);
    expect(groups.map((g) => g.types)).toEqual([['sdxl_image_fast'], ['video_fast']]);
  });

  it('pairs each plain WAN type with its enhanced twin, and SDXL with none', () => {
    expect(enhancedTwin('image_fast')).toBe('image7b_fast_enhanced');
    expect(enhancedTwin('video_high')).toBe('video7b_high_enhanced');
    expect(enhancedTwin('video7b_fast_enhanced')).toBe('video7b_fast_enhanced');
    expect(enhancedTwin('sdxl_image_fast')).toBeNull();
  });
});

describe('size presets', () => {
  it("are sizes every job type of the family accepts (the engine's own check)", () => {
    for (const type of JOB_TYPES) {
      const sizes = PRESETS[type].family === 'sdxl' ? SDXL_SIZES : WAN_SIZES;
      for (const { width, height } of sizes) {
        expect(() => resolveRequest({ type, prompt: 'x', width, height }, () => 0)).not.toThrow();
        expect(width).toBeLessThanOrEqual(LIMITS.sizeMax);
      }
    }
  });

  it("are SDXL's one-megapixel training buckets, each with its portrait twin", () => {
    for (const { width, height } of SDXL_SIZES) {
      expect(width * height).toBeGreaterThan(0.93 * 1024 * 1024);
      expect(width * height).toBeLessThan(1.06 * 1024 * 1024);
      expect(SDXL_SIZES.some((s) => s.width === height && s.height === width)).toBe(true);
    }
  });

  it('name a ratio a person recognises, and work one out for sizes typed by hand', () => {
    expect(ratioLabel(1344, 768)).toBe('16:9');
    expect(ratioLabel(480, 832)).toBe('9:16');
    expect(ratioLabel(1000, 600)).toBe('5:3');
    expect(ratioLabel(1001, 600)).toBe('1.67:1');
  });

  it("offer each family's samplers only", () => {
    expect(samplersFor('sdxl')).toEqual(['euler', 'euler_karras', 'dpmpp_2m', 'dpmpp_2m_karras']);
    expect(samplersFor('wan')).toEqual(['unipc', 'flow_euler']);
  });
});

describe('frames', () => {
  it('offers only 4k+1 counts the engine accepts, with their length at 16 fps', () => {
    for (const frames of FRAME_CHOICES) {
      expect(isValidFrameCount(frames)).toBe(true);
      expect(() => resolveRequest({ type: 'video_fast', prompt: 'x', frames }, () => 0)).not.toThrow();
    }
    expect(isValidFrameCount(18)).toBe(false);
    expect(clipDuration(17, 16)).toBe('1.1 s');
    expect(clipDuration(81, 16)).toBe('5.1 s');
  });
});

describe('token hint', () => {
  const PROMPTS = [
    'masterpiece, best quality, 8k',
    'A lighthouse on a basalt cliff at dusk, volumetric light, 35mm film grain',
    'portrait of an old fisherman mending nets, soft window light, highly detailed, photorealistic, bokeh',
    'cyberpunk cityscape, neon lights, rain-soaked streets, reflections, cinematic lighting, ultra wide angle, trending on artstation',
    '(masterpiece:1.2), [blurry], intricate ornamentation, bioluminescent jellyfish, underwater cathedral',
    'A paper boat drifting down a rain-soaked street, slow dolly shot, evening light, shallow depth of field',
    'watercolor illustration of a fox sleeping under a maple tree in autumn, warm palette',
    'hyperrealistic, unreal engine 5, octane render, 85mm lens, f/1.8, golden hour',
  ];

  it("stays within two tokens of CLIP's real count (the project's tokenizer on the real vocabulary)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ws-clip-'));
    try {
      await writeClipTokenizerFiles(dir, { padToken: '<|endoftext|>' });
      const clip = await ClipTokenizer.fromDirectory(dir);
      for (const prompt of PROMPTS) {
        expect(Math.abs(estimateTokens(prompt) - clip.encode(prompt).length), prompt).toBeLessThanOrEqual(2);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is zero for nothing and grows past one 75-token window for a long prompt', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('   ')).toBe(0);
    expect(estimateTokens(PROMPTS.join(', '))).toBeGreaterThan(75);
  });
});
