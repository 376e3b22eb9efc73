import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VideoProbeError, probeVideo, readMp4TopLevelBoxes } from '../../../src-main/engine/media/video-probe.ts';
import { HAS_FFMPEG, tempDir } from './helpers.ts';

let dir: string;
beforeEach(() => {
  dir = tempDir('ourvidz-video-probe-');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function ffmpegMake(out: string, ...args: string[]): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=16', '-frames:v', '9', '-pix_fmt', 'yuv420p', ...args, out]);
}

describe.skipIf(!HAS_FFMPEG)('probeVideo on files ffmpeg wrote itself', () => {
  it('sees an MP4 without faststart as such (moov after mdat)', async () => {
    const out = join(dir, 'slow.mp4');
    ffmpegMake(out, '-c:v', 'libx264');
    const boxes = (await readMp4TopLevelBoxes(out)).map((b) => b.type);
    expect(boxes.indexOf('mdat')).toBeLessThan(boxes.indexOf('moov'));
    expect(await probeVideo(out)).toMatchObject({ codec: 'h264', width: 64, height: 48, frames: 9, fps: 16, faststart: false });
  });

  it('counts frames when the container has no count (WebM), and has no faststart there', async () => {
    const out = join(dir, 'clip.webm');
    ffmpegMake(out, '-c:v', 'libvpx-vp9', '-deadline', 'realtime');
    expect(await probeVideo(out)).toMatchObject({ codec: 'vp9', frames: 9, width: 64, height: 48, faststart: null });
  });

  it('says plainly when a file is not a video', async () => {
    const out = join(dir, 'notes.mp4');
    writeFileSync(out, 'not a video');
    await expect(probeVideo(out)).rejects.toBeInstanceOf(VideoProbeError);
    await expect(probeVideo(out)).rejects.toThrow(/cannot read .*notes\.mp4 as a video/);
  });
});
