/**
 * MP4 streams for the inference worker, run on one video thread per process (node:worker_threads).
 *
 * Why a thread: onnxruntime's session.run blocks the JS thread that calls it, and a child process's
 * stdin pipe is only written from that thread's event loop — so with ffmpeg fed from the inference
 * thread, ffmpeg got no bytes while the VAE decoded the next frames, and x264 did all its work after
 * the last one. From the video thread, frames flow into ffmpeg during the decode, the float → RGB
 * conversion runs beside it, and spawning ffmpeg does not stall the inference thread (fork() from a
 * process holding gigabytes of weights copies its page tables: ~0.2 s for 5 GB here).
 *
 * `openVideoStream` returns at once; ffmpeg starts on the thread while the caller carries on (the WAN
 * pipeline opens the stream before denoising). Chunks are transferred, not copied, where they own
 * their buffer. If the thread cannot start, streams run on the calling thread instead (the same
 * bytes, only slower) and the reason is logged once. The thread is unref'd while no stream is open.
 */
import { Worker } from 'node:worker_threads';
import { entryBeside } from './entries.ts';
import { CancelledError, PipelineError } from '../pipelines/types.ts';
import { ownedPlanarChunk } from './video-frames.ts';
import type { FrameChunk } from './video-frames.ts';
import { VIDEO_THREAD_MARK } from './video-thread.ts';
import type { VideoThreadReply, VideoThreadRequest } from './video-thread.ts';
import { deserializeError } from './wire-errors.ts';
import { VideoStream } from './video-stream.ts';
import type { VideoSink, VideoStreamOptions, VideoStreamResult } from './video-stream.ts';

/**
 * video-thread beside this module: `.ts` when running from source. In the Electron build the thread
 * is an entry of its own, out/main/pipelines/video-thread.js (electron.vite.config.ts).
 */
export function defaultVideoThreadEntry(base: string = import.meta.url): URL {
  return entryBeside('video-thread', base);
}

export interface VideoEncoderOptions {
  /** The thread's entry; defaults to video-thread.ts (from source) or video-thread.js (built). */
  readonly entry?: URL;
  /** Told once why the thread could not start (streams then run on the calling thread). */
  readonly log?: (message: string) => void;
}

/** Each frame in a buffer of its own (the same view when it already is), so each can be transferred once. */
function ownedFrames(frames: readonly Uint8Array[]): Uint8Array[] {
  const seen = new Set<ArrayBufferLike>();
  return frames.map((bytes) => {
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer && !seen.has(bytes.buffer);
    seen.add(bytes.buffer);
    return own ? bytes : bytes.slice();
  });
}

/** One stream as the caller sees it; its work happens on the thread. */
class ThreadStream implements VideoSink {
  readonly #host: VideoEncoderHost;
  readonly id: number;
  /** Set when the stream moved to the calling thread (the thread could not start). */
  #local: VideoStream | null = null;
  #failure: Error | null = null;
  #unacknowledged = 0;
  #roomWaiter: (() => void) | null = null;
  #end: { resolve: (r: VideoStreamResult) => void; reject: (e: Error) => void } | null = null;
  #aborted: (() => void) | null = null;
  #abort: Promise<void> | null = null;
  #closed = false;

  constructor(host: VideoEncoderHost, id: number) {
    this.#host = host;
    this.id = id;
  }

  get failure(): Error | null {
    return this.#local ? this.#local.failure : this.#failure;
  }

  async push(chunk: FrameChunk): Promise<void> {
    if (this.#local) return this.#local.push(chunk);
    if (this.#failure) throw this.#failure;
    // Only what the clip needs, in buffers of its own: transferred to the thread, not copied.
    const owned: FrameChunk = chunk.kind === 'planar' ? ownedPlanarChunk(chunk) : { kind: 'rgb24', frames: ownedFrames(chunk.frames) };
    this.#unacknowledged++;
    this.#host.send(this, { op: 'push', id: this.id, chunk: owned });
    // One chunk may be on its way while the thread holds its own small queue.
    while (this.#unacknowledged > 1 && this.#failure === null && !this.#local) {
      await new Promise<void>((resolve) => (this.#roomWaiter = resolve));
    }
    if (this.#failure) throw this.#failure;
  }

  end(): Promise<VideoStreamResult> {
    if (this.#local) return this.#local.end();
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<VideoStreamResult>((resolve, reject) => {
      this.#end = { resolve, reject };
      this.#host.send(this, { op: 'end', id: this.id });
    });
  }

  abort(): Promise<void> {
    if (this.#local) return this.#local.abort();
    this.#fail(new CancelledError());
    this.#abort ??= this.#closed
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.#aborted = resolve;
          this.#host.send(this, { op: 'abort', id: this.id });
        });
    return this.#abort;
  }

  // --- from the host ---

  /** The thread could not start: the stream and everything sent so far moves to this thread. */
  runHere(options: VideoStreamOptions, sent: readonly Exclude<VideoThreadRequest, { op: 'open' }>[]): void {
    const local = new VideoStream(options);
    this.#local = local;
    this.#wakeProducer();
    for (const req of sent) {
      if (req.op === 'push') void local.push(req.chunk).catch(() => undefined);
      else if (req.op === 'end') local.end().then((r) => this.#end?.resolve(r), (e: Error) => this.#end?.reject(e));
      else local.abort().then(() => this.#aborted?.(), () => this.#aborted?.());
    }
  }

  reply(m: Exclude<VideoThreadReply, { op: 'ready' }>): void {
    switch (m.op) {
      case 'room':
        this.#unacknowledged--;
        this.#wakeProducer();
        return;
      case 'done':
        this.#close();
        this.#end?.resolve(m.result);
        return;
      case 'failed':
        this.#fail(deserializeError(m.error));
        // The thread cleans up (kills ffmpeg, removes the temp file) and forgets the stream.
        void this.abort();
        return;
      case 'aborted':
        this.#close();
        this.#aborted?.();
        return;
    }
  }

  /** The thread died: everything this stream waited for fails. */
  lost(error: Error): void {
    this.#fail(error);
    this.#close();
    this.#aborted?.();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#wakeProducer();
    if (this.#end && !this.#aborted) this.#end.reject(this.#failure);
  }

  #wakeProducer(): void {
    const wake = this.#roomWaiter;
    this.#roomWaiter = null;
    wake?.();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.closed(this);
  }
}

interface Open {
  readonly stream: ThreadStream;
  readonly options: VideoStreamOptions;
  /** Requests made before the thread was ready (replayed on this thread if it never is). */
  readonly waiting: Exclude<VideoThreadRequest, { op: 'open' }>[];
}

export class VideoEncoderHost {
  readonly #options: VideoEncoderOptions;
  #worker: Worker | null = null;
  #ready = false;
  #fallback: string | null = null;
  #nextId = 1;
  readonly #open = new Map<number, Open>();
  #log: ((message: string) => void) | undefined;

  constructor(options: VideoEncoderOptions = {}) {
    this.#options = options;
    this.#log = options.log;
  }

  /** Why streams run on the calling thread (the thread could not start), or null. */
  get fallbackReason(): string | null {
    return this.#fallback;
  }

  /** Starts the thread ahead of the first stream. */
  warm(): void {
    if (this.#start()) this.#idleCheck();
  }

  /** Starts an MP4 stream: ffmpeg is spawned on the thread while the caller goes on. */
  open(options: VideoStreamOptions, log?: (message: string) => void): VideoSink {
    this.#log ??= log;
    if (this.#fallback !== null || !this.#start()) return new VideoStream(options);
    const stream = new ThreadStream(this, this.#nextId++);
    this.#open.set(stream.id, { stream, options, waiting: [] });
    this.#worker!.ref();
    if (this.#ready) this.#worker!.postMessage({ op: 'open', id: stream.id, options } satisfies VideoThreadRequest);
    return stream;
  }

  /** Stops the thread; open streams fail. A later `open` starts a new one. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#detach(new Error('the video thread was closed'));
    await worker.terminate();
  }

  send(stream: ThreadStream, req: Exclude<VideoThreadRequest, { op: 'open' }>): void {
    const open = this.#open.get(stream.id);
    if (!open) return;
    if (!this.#ready) {
      open.waiting.push(req);
      return;
    }
    this.#post(req);
  }

  closed(stream: ThreadStream): void {
    this.#open.delete(stream.id);
    this.#idleCheck();
  }

  #post(req: Exclude<VideoThreadRequest, { op: 'open' }>): void {
    if (req.op !== 'push') {
      this.#worker!.postMessage(req);
      return;
    }
    const { chunk } = req;
    const transfer = chunk.kind === 'planar' ? [chunk.data.buffer as ArrayBuffer] : chunk.frames.map((f) => f.buffer as ArrayBuffer);
    this.#worker!.postMessage(req, transfer);
  }

  #start(): boolean {
    if (this.#worker) return true;
    if (this.#fallback !== null) return false;
    let worker: Worker;
    try {
      worker = new Worker(this.#options.entry ?? defaultVideoThreadEntry(), { workerData: { mark: VIDEO_THREAD_MARK } });
    } catch (error) {
      this.#giveUp((error as Error).message);
      return false;
    }
    this.#worker = worker;
    this.#ready = false;
    worker.on('message', (m: VideoThreadReply) => {
      if (worker !== this.#worker) return;
      if (m.op === 'log') {
        this.#log?.(m.message);
        return;
      }
      if (m.op === 'ready') {
        this.#ready = true;
        for (const [id, open] of this.#open) {
          worker.postMessage({ op: 'open', id, options: open.options } satisfies VideoThreadRequest);
          const waiting = open.waiting.splice(0);
          for (const req of waiting) this.#post(req);
        }
        return;
      }
      this.#open.get(m.id)?.stream.reply(m);
    });
    worker.on('error', (error) => this.#lost(worker, error));
    worker.on('exit', (code) => this.#lost(worker, new Error(`the video thread exited (code ${code})`)));
    return true;
  }

  /** Before it was ready the thread's streams move here; after, they fail. */
  #lost(worker: Worker, error: Error): void {
    if (worker !== this.#worker) return;
    if (!this.#ready) {
      this.#worker = null;
      this.#giveUp(error.message);
      const open = [...this.#open.values()];
      this.#open.clear();
      for (const o of open) o.stream.runHere(o.options, o.waiting);
      return;
    }
    this.#detach(error);
  }

  #detach(error: Error): void {
    const worker = this.#worker;
    this.#worker = null;
    this.#ready = false;
    const open = [...this.#open.values()];
    this.#open.clear();
    worker?.unref();
    const why = new PipelineError('video_thread_lost', `the video encoding thread stopped (${error.message}); the video was not written — run the job again`, true);
    for (const o of open) o.stream.lost(why);
  }

  #giveUp(reason: string): void {
    this.#fallback = reason;
    this.#log?.(`video encoding stays on the inference thread: the video thread could not start (${reason})`);
  }

  #idleCheck(): void {
    if (this.#open.size === 0) this.#worker?.unref();
  }
}

let shared: VideoEncoderHost | null = null;

/** The process's video thread, shared by every pipeline in it. */
export function sharedVideoEncoder(): VideoEncoderHost {
  shared ??= new VideoEncoderHost();
  return shared;
}

/** Stops the shared thread (a later use starts it again). */
export async function closeSharedVideoEncoder(): Promise<void> {
  const host = shared;
  shared = null;
  await host?.close();
}
