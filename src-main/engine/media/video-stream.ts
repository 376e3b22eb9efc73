/**
 * An MP4 written while its frames are still being made: `open` starts ffmpeg at once (so a broken
 * ffmpeg or an unwritable folder shows before the work that makes the frames), `push` hands over
 * frames as they come, `end` waits for the file, `abort` stops and removes everything. At most
 * `maxQueued` chunks wait here: `push` resolves when there is room, so a fast producer is held to
 * the encoder's pace and a long clip never sits in memory.
 *
 * This runs wherever it is created: on the video thread (video-encoder.ts), which is where the
 * inference worker uses it, or on the calling thread when that thread cannot start.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { CancelledError } from '../pipelines/types.ts';
import type { Mp4Encoder } from './ffmpeg-host-client.ts';
import type { FfmpegFound } from './ffmpeg-locate.ts';
import { makeThumbnail } from './thumbnail.ts';
import { encodeMp4 } from './video-encode.ts';
import type { EncodedVideo, EncodeMp4Options } from './video-encode.ts';
import { chunkToRgb } from './video-frames.ts';
import type { FrameChunk } from './video-frames.ts';

export interface VideoStreamOptions extends Omit<EncodeMp4Options, 'frames' | 'signal' | 'onProgress' | 'ffmpegPath' | 'ffmpeg'> {
  readonly ffmpeg: FfmpegFound;
  /** Writes a poster-frame thumbnail (the first frame, longest side `maxSide`) into `dir` once the MP4 is done. */
  readonly thumbnail?: { readonly dir: string; readonly name: string; readonly maxSide: number } | null;
  /** Chunks that may wait for the encoder before `push` holds the producer (default 2). */
  readonly maxQueued?: number;
}

export interface VideoStreamResult {
  readonly video: EncodedVideo;
  readonly thumbFile: string | null;
  /** From `end()` to the file under its final name: the encoding the producer waited for. */
  readonly tailMs: number;
  readonly thumbMs: number;
}

/** What both the in-thread stream and the video thread's proxy offer. */
export interface VideoSink {
  push(chunk: FrameChunk): Promise<void>;
  end(): Promise<VideoStreamResult>;
  /** Stops ffmpeg and removes its temp file; resolves once nothing is left behind. */
  abort(): Promise<void>;
  /** The encoder's failure, once it has failed (so a producer can stop early). */
  readonly failure: Error | null;
}

export class VideoStream implements VideoSink {
  readonly #options: VideoStreamOptions;
  readonly #controller = new AbortController();
  readonly #queue: FrameChunk[] = [];
  readonly #maxQueued: number;
  #ended = false;
  #endAt = 0;
  #failure: Error | null = null;
  /** Wakes the frame generator when a chunk arrives or the stream ends. */
  #wakeConsumer: (() => void) | null = null;
  /** Wakes producers waiting for room. */
  #roomWaiters: (() => void)[] = [];
  #poster: Uint8Array | null = null;
  readonly #failureListeners: ((error: Error) => void)[] = [];
  readonly #done: Promise<EncodedVideo>;

  /** `encode` runs the MP4 encode: encodeMp4 here, or through the ffmpeg host (ffmpeg-host-client.ts). */
  constructor(options: VideoStreamOptions, encode: Mp4Encoder = encodeMp4) {
    this.#options = options;
    this.#maxQueued = Math.max(1, options.maxQueued ?? 2);
    const { thumbnail: _thumbnail, maxQueued: _maxQueued, ...rest } = options;
    this.#done = encode({ ...rest, frames: this.#frames(), signal: this.#controller.signal });
    this.#done.catch((error: unknown) => {
      this.#failure ??= error instanceof Error ? error : new Error(String(error));
      this.#releaseRoom();
      for (const listener of this.#failureListeners) listener(this.#failure);
    });
  }

  /** Called once if the encode fails (ffmpeg exiting, a bad frame, an abort). */
  onFailure(listener: (error: Error) => void): void {
    if (this.#failure) listener(this.#failure);
    else this.#failureListeners.push(listener);
  }

  get failure(): Error | null {
    return this.#failure;
  }

  async push(chunk: FrameChunk): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#ended) throw new Error('push after end');
    this.#queue.push(chunk);
    this.#wake();
    while (this.#queue.length > this.#maxQueued && this.#failure === null) {
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    if (this.#failure) throw this.#failure;
  }

  async end(): Promise<VideoStreamResult> {
    this.#ended = true;
    this.#endAt = performance.now();
    this.#wake();
    const video = await this.#done;
    const tailMs = performance.now() - this.#endAt;
    const t0 = performance.now();
    let thumbFile: string | null = null;
    const poster = this.#poster as Uint8Array | null;
    const thumb = this.#options.thumbnail;
    if (thumb && poster) {
      const small = makeThumbnail({ width: this.#options.width, height: this.#options.height, channels: 3, data: poster }, thumb.maxSide);
      thumbFile = join(thumb.dir, thumb.name);
      await writeFileAtomic(thumbFile, small.png);
    }
    return { video, thumbFile, tailMs, thumbMs: performance.now() - t0 };
  }

  async abort(): Promise<void> {
    this.#failure ??= new CancelledError();
    this.#controller.abort();
    this.#ended = true;
    this.#queue.length = 0;
    this.#wake();
    this.#releaseRoom();
    await this.#done.catch(() => undefined);
  }

  #wake(): void {
    const wake = this.#wakeConsumer;
    this.#wakeConsumer = null;
    wake?.();
  }

  #releaseRoom(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of waiters) w();
  }

  async *#frames(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = this.#queue[0];
      if (chunk === undefined) {
        if (this.#ended) return;
        await new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
        continue;
      }
      for (const rgb of chunkToRgb(chunk)) {
        this.#poster ??= rgb;
        yield rgb;
        if (this.#controller.signal.aborted) return;
      }
      this.#queue.shift();
      if (this.#queue.length <= this.#maxQueued) this.#releaseRoom();
    }
  }
}
