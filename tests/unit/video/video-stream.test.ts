/**
 * MP4 streams fed while their frames are made: in-thread (VideoStream), on the video thread
 * (VideoEncoderHost) and through the ffmpeg host process (FfmpegHost) — the same files, the same
 * errors, nothing left behind on abort or failure, and a clear fallback when a thread or process
 * cannot start.
 */
import { execFileSync, fork } from 'node:child_process';
import { readFile, readFileSync, readdirSync, rmSync } from 'node:fs';
import { readFile as readFileAsync } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FfmpegHost } from '../../../src-main/engine/media/ffmpeg-host-client.ts';
import { FFMPEG_HOST_FLAG, FrameReader, frameHeader } from '../../../src-main/engine/media/ffmpeg-host.ts';
import type { HostReply, HostRequest } from '../../../src-main/engine/media/ffmpeg-host.ts';
import { locateFfmpeg } from '../../../src-main/engine/media/ffmpeg-locate.ts';
import type { FfmpegFound } from '../../../src-main/engine/media/ffmpeg-locate.ts';
import { vaeValueToByte } from '../../../src-main/engine/media/image-convert.ts';
import { decodePng } from '../../../src-main/engine/media/png-decode.ts';
import { VideoEncoderHost } from '../../../src-main/engine/media/video-encoder.ts';
import { chunkToRgb, ownedPlanarChunk } from '../../../src-main/engine/media/video-frames.ts';
import type { PlanarChunk } from '../../../src-main/engine/media/video-frames.ts';
import { probeVideo } from '../../../src-main/engine/media/video-probe.ts';
import { VideoStream } from '../../../src-main/engine/media/video-stream.ts';
import type { VideoSink, VideoStreamOptions } from '../../../src-main/engine/media/video-stream.ts';
import { CancelledError, PipelineError } from '../../../src-main/engine/pipelines/types.ts';
import { HAS_FFMPEG, entries, gradientFrames, metadataFor, tempDir } from './helpers.ts';

const W = 64;
const H = 48;

/** A VAE-like [1, 3, n, H, W] output whose frames differ (values in [-1.2, 1.2]). */
function planar(n: number, seed: number, first = 0, count = n): PlanarChunk {
  const data = new Float32Array(3 * n * H * W);
  for (let i = 0; i < data.length; i++) data[i] = Math.fround(1.2 * Math.sin(0.013 * i + seed));
  return { kind: 'planar', data, frames: n, height: H, width: W, first, count, precision: 'float32' };
}

let dir: string;
let ffmpeg: FfmpegFound;
beforeEach(async () => {
  dir = tempDir();
  if (HAS_FFMPEG) {
    const found = await locateFfmpeg();
    if (found.ok) ffmpeg = found;
  }
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function options(over: Partial<VideoStreamOptions> = {}): VideoStreamOptions {
  return {
    width: W,
    height: H,
    fps: 16,
    outPath: join(dir, '00.mp4'),
    metadata: metadataFor(),
    frameCount: 9,
    ffmpeg,
    preset: 'ultrafast',
    lowLatency: true,
    thumbnail: { dir, name: '00.thumb.png', maxSide: 32 },
    ...over,
  };
}

/** 9 frames as a WAN VAE gives them: 1 of the first call's 4, then 4 and 4. */
async function feedNine(sink: VideoSink): Promise<void> {
  await sink.push(planar(4, 1, 0, 1));
  await sink.push(planar(4, 2));
  await sink.push(planar(4, 3));
}

describe('frame chunks', () => {
  it('converts planar float frames with the diffusers byte mapping, interleaved', () => {
    const chunk = planar(4, 7, 1, 2);
    const frames = [...chunkToRgb(chunk)];
    expect(frames).toHaveLength(2);
    const plane = H * W;
    for (const [i, k] of [1, 2].entries()) {
      for (const p of [0, 5, plane - 1]) {
        for (let c = 0; c < 3; c++) expect(frames[i]![p * 3 + c]).toBe(vaeValueToByte(chunk.data[(c * 4 + k) * plane + p]!));
      }
    }
  });

  it('keeps only the clip frames in a buffer of its own, and moves a whole tensor without copying', () => {
    const part = planar(4, 3, 3, 1);
    const owned = ownedPlanarChunk(part);
    expect(owned).toMatchObject({ frames: 1, first: 0, count: 1 });
    expect(owned.data).toHaveLength(3 * H * W);
    expect([...chunkToRgb(owned)][0]).toEqual([...chunkToRgb(part)][0]);
    const whole = planar(4, 3);
    expect(ownedPlanarChunk(whole).data).toBe(whole.data);
  });

  it('refuses a run outside the tensor with the numbers', () => {
    expect(() => [...chunkToRgb(planar(4, 1, 3, 2))]).toThrow(/frames 3…4 of a \[1, 3, 4, 48, 64\] tensor/);
  });
});

describe('FrameReader (the ffmpeg host wire)', () => {
  it('reassembles frames whatever the pipe splits them into', () => {
    const a = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const b = Uint8Array.from({ length: 7 }, (_, i) => 200 + i);
    const wire = Buffer.concat([frameHeader(3, a.length), a, frameHeader(9, b.length), b]);
    for (const size of [1, 5, 8, 333, wire.length]) {
      const reader = new FrameReader();
      const got: { id: number; frame: Uint8Array }[] = [];
      for (let i = 0; i < wire.length; i += size) got.push(...reader.push(wire.subarray(i, i + size)));
      expect(got.map((g) => g.id), `split ${size}`).toEqual([3, 9]);
      expect(got[0]!.frame).toEqual(a);
      expect(got[1]!.frame).toEqual(b);
    }
  });
});

describe.skipIf(!HAS_FFMPEG)('VideoStream, VideoEncoderHost and FfmpegHost with the installed ffmpeg', () => {
  const host = new VideoEncoderHost();
  afterAll(() => host.close());

  const kinds: [string, (o: VideoStreamOptions) => VideoSink][] = [
    ['on the calling thread', (o) => new VideoStream(o)],
    ['on the video thread, through the ffmpeg host', (o) => host.open(o)],
  ];

  for (const [name, open] of kinds) {
    it(`${name}: writes the clip as it is fed, with a poster thumbnail`, async () => {
      const sink = open(options());
      await feedNine(sink);
      const result = await sink.end();
      expect(result.video).toMatchObject({ file: join(dir, '00.mp4'), frameCount: 9, width: W, height: H });
      expect(await probeVideo(result.video.file)).toMatchObject({ codec: 'h264', width: W, height: H, frames: 9, pixFmt: 'yuv420p' });
      expect(decodePng(await readFileAsync(result.thumbFile!))).toMatchObject({ width: 32, height: 24 });
      expect(entries(dir)).toEqual(['00.mp4', '00.thumb.png']);
    });

    it(`${name}: an abort mid-clip leaves nothing behind`, async () => {
      const sink = open(options({ frameCount: 17 }));
      await feedNine(sink);
      await sink.abort();
      expect(sink.failure).toBeInstanceOf(CancelledError);
      await expect(sink.push(planar(4, 4))).rejects.toBeInstanceOf(CancelledError);
      expect(entries(dir)).toEqual([]);
    });

    it(`${name}: a clip shorter than promised fails with the counts, leaving nothing`, async () => {
      const sink = open(options({ frameCount: 13 }));
      await feedNine(sink);
      const error = await sink.end().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PipelineError);
      expect(error).toMatchObject({ code: 'frame_count_mismatch' });
      expect((error as Error).message).toMatch(/after 9 of the 13 frames/);
      await sink.abort();
      expect(entries(dir)).toEqual([]);
    });

    it(`${name}: an ffmpeg that fails at once is reported before any frame is sent`, async () => {
      // /bin/false stands in for an ffmpeg binary that exits with an error.
      const sink = open(options({ ffmpeg: { ...ffmpeg, ffmpeg: '/bin/false' } }));
      for (let i = 0; i < 100 && sink.failure === null; i++) await new Promise((r) => setTimeout(r, 20));
      expect(sink.failure).toMatchObject({ code: 'ffmpeg_failed' });
      await expect(sink.push(planar(4, 1))).rejects.toMatchObject({ code: 'ffmpeg_failed' });
      await sink.abort();
      expect(entries(dir)).toEqual([]);
    });
  }

  it('low-latency streams carry no B-frames, so each frame is encoded as it arrives', async () => {
    const bFrames = (file: string): string =>
      execFileSync(ffmpeg.ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=has_b_frames', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim();
    for (const lowLatency of [true, false]) {
      const sink = new VideoStream(options({ outPath: join(dir, `${lowLatency}.mp4`), thumbnail: null, lowLatency, preset: 'medium' }));
      await feedNine(sink);
      const { video } = await sink.end();
      if (lowLatency) expect(bFrames(video.file)).toBe('0');
      else expect(Number(bFrames(video.file))).toBeGreaterThan(0);
    }
  });

  it('the same bytes on the thread as on the calling thread', async () => {
    const here = new VideoStream(options({ outPath: join(dir, 'here.mp4'), thumbnail: null }));
    await feedNine(here);
    const there = host.open(options({ outPath: join(dir, 'there.mp4'), thumbnail: null }));
    await feedNine(there);
    await Promise.all([here.end(), there.end()]);
    const read = promisify(readFile);
    // The recipe and settings are the same and x264 is deterministic for one thread count.
    expect(Buffer.compare(await read(join(dir, 'here.mp4')), await read(join(dir, 'there.mp4')))).toBe(0);
  });

  it('holds the producer while the encoder is behind: push waits for room', async () => {
    // An encoder that takes no frame at all until aborted.
    const stalled = (o: { signal?: AbortSignal }): Promise<never> =>
      new Promise((_, reject) => o.signal!.addEventListener('abort', () => reject(new CancelledError())));
    const sink = new VideoStream(options({ maxQueued: 2 }), stalled);
    const settled: string[] = [];
    const pushes = [1, 2, 3, 4].map((s) => sink.push(planar(4, s)).then(() => settled.push(`ok ${s}`), (e: Error) => settled.push(`${e.name} ${s}`)));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toEqual(['ok 1', 'ok 2']);
    await sink.abort();
    await Promise.all(pushes);
    expect(settled.slice(2).sort()).toEqual(['CancelledError 3', 'CancelledError 4']);
  });

  it('falls back to the calling thread, and says why, when the video thread cannot start', async () => {
    const said: string[] = [];
    const broken = new VideoEncoderHost({ entry: new URL('file:///nonexistent/video-thread.js'), log: (m) => said.push(m) });
    const sink = broken.open(options());
    await feedNine(sink);
    const result = await sink.end();
    expect(await probeVideo(result.video.file)).toMatchObject({ frames: 9 });
    expect(said.join('\n')).toMatch(/video thread could not start/);
    expect(broken.fallbackReason).not.toBeNull();
    await broken.close();
  });

  describe('FfmpegHost', () => {
    it('encodes through the host process, and falls back to this process once the host is gone', async () => {
      const said: string[] = [];
      const own = new FfmpegHost({ log: (m) => said.push(m) });
      own.start();
      expect(await own.whenReady()).toBe(true);
      const first = new VideoStream(options({ outPath: join(dir, 'a.mp4'), thumbnail: null }), own.encode);
      await feedNine(first);
      expect((await first.end()).video.frameCount).toBe(9);
      own.close();
      const second = new VideoStream(options({ outPath: join(dir, 'b.mp4'), thumbnail: null }), own.encode);
      await feedNine(second);
      expect((await second.end()).video.frameCount).toBe(9);
      expect(said.join('\n')).toMatch(/ffmpeg host is not available \(closed\)/);
    });

    it.skipIf(process.platform !== 'linux')('spawns ffmpeg from the host process, not from this one', async () => {
      const own = new FfmpegHost();
      own.start();
      expect(await own.whenReady()).toBe(true);
      const sink = new VideoStream(options({ frameCount: 17, thumbnail: null }), own.encode);
      await feedNine(sink);
      const childrenOf = (pid: number): string[] =>
        readdirSync(`/proc/${pid}/task`).flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
      const comm = (pid: string): string => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      // fluent-ffmpeg checks ffmpeg's formats before it spawns the encode: give it a moment.
      for (let i = 0; i < 100 && !childrenOf(own.pid!).map(comm).includes('ffmpeg'); i++) await new Promise((r) => setTimeout(r, 20));
      expect(childrenOf(own.pid!).map(comm)).toContain('ffmpeg');
      expect(childrenOf(process.pid).map(comm)).not.toContain('ffmpeg');
      await sink.abort();
      own.close();
    });

    it('inside Electron forks nothing (the shipped app cannot run as Node) and encodes here, saying why once', async () => {
      const said: string[] = [];
      const own = new FfmpegHost({ electron: true, log: (m) => said.push(m) });
      own.start();
      expect(await own.whenReady()).toBe(false);
      expect(own.unusableReason).toMatch(/RunAsNode fuse/);
      for (const name of ['a.mp4', 'b.mp4']) {
        const sink = new VideoStream(options({ outPath: join(dir, name), thumbnail: null }), own.encode);
        await feedNine(sink);
        expect((await sink.end()).video.frameCount).toBe(9);
      }
      expect(said).toHaveLength(1);
    });

    it('the host keeps frames that arrive before their stream is opened (stdin and IPC are not ordered)', async () => {
      const child = fork(fileURLToPath(new URL('../../../src-main/engine/media/ffmpeg-host.ts', import.meta.url)), [FFMPEG_HOST_FLAG], {
        stdio: ['pipe', 'ignore', 'inherit', 'ipc'],
        serialization: 'advanced',
      });
      try {
        const replies: HostReply[] = [];
        const done = new Promise<HostReply>((resolve) =>
          child.on('message', (m: HostReply) => {
            replies.push(m);
            if (m.op === 'done' || m.op === 'failed') resolve(m);
          }),
        );
        const frames = gradientFrames(W, H, 5);
        // Frames of stream 7 first, and of an older, never-opened stream 3 (dropped)…
        for (const f of frames) child.stdin!.write(Buffer.concat([frameHeader(7, f.length), f]));
        child.stdin!.write(Buffer.concat([frameHeader(3, frames[0]!.length), frames[0]!]));
        await new Promise((r) => setTimeout(r, 300));
        // …then the open and the end.
        const { thumbnail: _t, ...encode } = options({ frameCount: 5 });
        child.send({ op: 'open', id: 7, options: encode } satisfies HostRequest);
        child.send({ op: 'end', id: 7, frames: 5 } satisfies HostRequest);
        const reply = await done;
        expect(reply).toMatchObject({ op: 'done', id: 7, video: { frameCount: 5 } });
        expect(await probeVideo(join(dir, '00.mp4'))).toMatchObject({ frames: 5 });
      } finally {
        child.kill();
      }
    });

    it('a host killed mid-clip fails the clip with a retryable error', async () => {
      const own = new FfmpegHost();
      own.start();
      expect(await own.whenReady()).toBe(true);
      const sink = new VideoStream(options({ frameCount: 17, thumbnail: null }), own.encode);
      await feedNine(sink);
      own.close(); // kills the host process, as a crash would
      const error = await sink.end().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'video_host_lost', transient: true });
      await sink.abort();
      // The host's ffmpeg dies with it; its temp file (if any) is an atomic-write temp that start-up cleanup removes.
      expect(entries(dir).filter((e) => e === '00.mp4')).toEqual([]);
    });
  });
});
