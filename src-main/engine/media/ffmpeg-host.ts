/**
 * The ffmpeg host: a small Node process that runs the MP4 encodes (fluent-ffmpeg, ffmpeg) for the
 * video thread of an inference worker.
 *
 * Why a process: spawning ffmpeg from the inference worker forks a process that holds gigabytes of
 * model weights. fork() copies its page tables (~0.2 s for 5 GB here, growing with the model), and
 * holds the memory map locked while it does, stalling the inference thread; afterwards every page
 * the worker writes takes a copy-on-write fault. This process is forked once, while the worker is
 * still small (before any model loads), and spawns each ffmpeg from its own few tens of megabytes.
 *
 * Wire: control messages over the IPC channel (`HostRequest` in, `HostReply` out); frame bytes on
 * stdin, each frame as an 8-byte header (stream id, byte length; little-endian u32) and its bytes,
 * so frames still in the pipe when a stream is aborted are recognised and dropped.
 */
import { CancelledError } from '../pipelines/types.ts';
import { encodeMp4 } from './video-encode.ts';
import type { EncodedVideo, EncodeMp4Options } from './video-encode.ts';
import type { FfmpegFound } from './ffmpeg-locate.ts';
import { serializeError } from './wire-errors.ts';
import type { SerializedError } from './wire-errors.ts';

export type HostEncodeOptions = Omit<EncodeMp4Options, 'frames' | 'signal' | 'onProgress' | 'ffmpegPath' | 'ffmpeg'> & { readonly ffmpeg: FfmpegFound };

export type HostRequest =
  | { readonly op: 'open'; readonly id: number; readonly options: HostEncodeOptions }
  /** No more frames after the ones already written for this stream. */
  | { readonly op: 'end'; readonly id: number; readonly frames: number }
  | { readonly op: 'abort'; readonly id: number };

export type HostReply =
  | { readonly op: 'ready'; readonly pid: number }
  | { readonly op: 'done'; readonly id: number; readonly video: EncodedVideo }
  | { readonly op: 'failed'; readonly id: number; readonly error: SerializedError };

export const FRAME_HEADER_BYTES = 8;

export function frameHeader(id: number, length: number): Uint8Array {
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, id, true);
  view.setUint32(4, length, true);
  return header;
}

/** Splits the stdin byte stream back into (stream id, frame) pairs. */
export class FrameReader {
  #parts: Uint8Array[] = [];
  #buffered = 0;
  #header: { id: number; length: number } | null = null;

  /** Feeds bytes; returns the frames they complete, in order. */
  push(bytes: Uint8Array): { id: number; frame: Uint8Array }[] {
    this.#parts.push(bytes);
    this.#buffered += bytes.byteLength;
    const out: { id: number; frame: Uint8Array }[] = [];
    for (;;) {
      if (this.#header === null) {
        if (this.#buffered < FRAME_HEADER_BYTES) return out;
        const head = this.#take(FRAME_HEADER_BYTES);
        const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
        this.#header = { id: view.getUint32(0, true), length: view.getUint32(4, true) };
      }
      if (this.#buffered < this.#header.length) return out;
      out.push({ id: this.#header.id, frame: this.#take(this.#header.length) });
      this.#header = null;
    }
  }

  /** The next `n` buffered bytes, in one buffer of their own. */
  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const part = this.#parts[0]!;
      const used = Math.min(part.byteLength, n - filled);
      out.set(part.subarray(0, used), filled);
      filled += used;
      if (used === part.byteLength) this.#parts.shift();
      else this.#parts[0] = part.subarray(used);
    }
    this.#buffered -= n;
    return out;
  }
}

/** One encode in the host: frames queue here until ffmpeg's stdin takes them. */
class HostStream {
  readonly controller = new AbortController();
  readonly #queue: Uint8Array[] = [];
  #expected: number | null = null;
  #received = 0;
  #wake: (() => void) | null = null;

  add(frame: Uint8Array): void {
    this.#queue.push(frame);
    this.#received++;
    this.#poke();
  }

  end(frames: number): void {
    this.#expected = frames;
    this.#poke();
  }

  abort(): void {
    this.controller.abort();
    this.#queue.length = 0;
    this.#poke();
  }

  /** Frames still waiting: stdin is paused while this grows past a few. */
  get queued(): number {
    return this.#queue.length;
  }

  onDrained: (() => void) | null = null;

  async *frames(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        if (this.#queue.length < 2) this.onDrained?.();
        yield next;
        continue;
      }
      if (this.controller.signal.aborted) return;
      if (this.#expected !== null && this.#received >= this.#expected) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/** Marks a process started by ffmpeg-host-client.ts, so importing this module elsewhere attaches nothing. */
export const FFMPEG_HOST_FLAG = '--ourvidz-ffmpeg-host';

if (process.argv.includes(FFMPEG_HOST_FLAG) && typeof process.send === 'function') {
  const send = (reply: HostReply): void => {
    process.send?.(reply);
  };
  const streams = new Map<number, HostStream>();
  const reader = new FrameReader();
  const stdin = process.stdin;
  // Control (IPC) and frames (stdin) travel on separate channels, so a stream's first frames can be
  // read before its 'open' is: ids only grow, so frames of an id above the last opened one are
  // early and wait here; frames of an older id not open (aborted, finished) are dropped.
  let lastOpened = 0;
  const early = new Map<number, Uint8Array[]>();
  stdin.on('data', (bytes: Buffer) => {
    for (const { id, frame } of reader.push(bytes)) {
      const stream = streams.get(id);
      if (!stream) {
        if (id > lastOpened) {
          const waiting = early.get(id) ?? [];
          waiting.push(frame);
          early.set(id, waiting);
          if (waiting.length > 2) stdin.pause();
        }
        continue;
      }
      stream.add(frame);
      // Backpressure: stop reading while ffmpeg is behind; the writer then waits on a full pipe.
      if (stream.queued > 2) stdin.pause();
    }
  });
  process.on('message', (req: HostRequest) => {
    switch (req.op) {
      case 'open': {
        const stream = new HostStream();
        stream.onDrained = () => stdin.resume();
        streams.set(req.id, stream);
        lastOpened = Math.max(lastOpened, req.id);
        for (const frame of early.get(req.id) ?? []) stream.add(frame);
        early.delete(req.id);
        encodeMp4({ ...req.options, frames: stream.frames(), signal: stream.controller.signal }).then(
          (video) => send({ op: 'done', id: req.id, video }),
          (error: unknown) => send({ op: 'failed', id: req.id, error: serializeError(error instanceof CancelledError ? new CancelledError() : error) }),
        ).finally(() => {
          streams.delete(req.id);
          stdin.resume();
        });
        return;
      }
      case 'end':
        streams.get(req.id)?.end(req.frames);
        return;
      case 'abort':
        streams.get(req.id)?.abort();
        stdin.resume();
        return;
    }
  });
  // The worker is gone: stop every encode (their temp files are removed) and exit.
  process.on('disconnect', () => {
    for (const stream of streams.values()) stream.abort();
    setTimeout(() => process.exit(0), 2000).unref();
  });
  send({ op: 'ready', pid: process.pid });
}
