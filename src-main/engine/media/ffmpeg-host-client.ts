/**
 * The video thread's side of the ffmpeg host (ffmpeg-host.ts): forks the host once, early, and runs
 * `encodeMp4` through it with the same contract — frames pulled lazily from `options.frames`, the
 * same errors, no file left behind on failure or abort. When the host is not there (it could not
 * start, it died, or it is busy with another clip) the encode runs here instead, as before, and the
 * reason is logged once. Inside Electron there is no host (see `start`): the worker's
 * utilityProcess cannot fork plain Node in the shipped app, so ffmpeg is spawned from the video
 * thread there — frames still flow during the decode; only the fork's stall remains.
 */
import { fork } from 'node:child_process';
import { entryBeside } from './entries.ts';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CancelledError, PipelineError } from '../pipelines/types.ts';
import { FFMPEG_HOST_FLAG, frameHeader } from './ffmpeg-host.ts';
import type { HostReply, HostRequest } from './ffmpeg-host.ts';
import { encodeMp4 } from './video-encode.ts';
import type { EncodedVideo, EncodeMp4Options } from './video-encode.ts';
import { deserializeError } from './wire-errors.ts';

/** ffmpeg-host beside this module: `.ts` from source, out/main/pipelines/ffmpeg-host.js when built. */
export function defaultFfmpegHostEntry(base: string = import.meta.url): string {
  return fileURLToPath(entryBeside('ffmpeg-host', base));
}

export type Mp4Encoder = (options: EncodeMp4Options) => Promise<EncodedVideo>;

interface Pending {
  readonly resolve: (video: EncodedVideo) => void;
  readonly reject: (error: Error) => void;
}

export class FfmpegHost {
  readonly #entry: string;
  readonly #log: (message: string) => void;
  #child: ChildProcess | null = null;
  #ready = false;
  #busy = false;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #unusable: string | null = null;
  #told = false;
  #readyWaiters: ((ready: boolean) => void)[] = [];
  #pid: number | null = null;

  /** The host's process id once it is ready (for diagnostics). */
  get pid(): number | null {
    return this.#pid;
  }

  #settleReady(ready: boolean): void {
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const w of waiters) w(ready);
  }

  readonly #electron: boolean;

  constructor(options: { entry?: string; log?: (message: string) => void; electron?: boolean } = {}) {
    this.#entry = options.entry ?? defaultFfmpegHostEntry();
    this.#log = options.log ?? (() => undefined);
    this.#electron = options.electron ?? process.versions.electron !== undefined;
  }

  /** Forks the host now (call it while this process is still small). */
  start(): void {
    if (this.#child || this.#unusable !== null) return;
    if (this.#electron) {
      // process.execPath is the app there, and the shipped app's RunAsNode fuse is off
      // (electron-builder.yml): a fork would start a second copy of the app, not Node.
      this.#unusable = 'the Electron app cannot fork a plain Node process (its RunAsNode fuse is off), so ffmpeg is spawned from the video thread';
      return;
    }
    let child: ChildProcess;
    try {
      child = fork(this.#entry, [FFMPEG_HOST_FLAG], { stdio: ['pipe', 'ignore', 'inherit', 'ipc'], serialization: 'advanced' });
    } catch (error) {
      this.#unusable = (error as Error).message;
      return;
    }
    this.#child = child;
    child.on('message', (m: HostReply) => {
      if (m.op === 'ready') {
        this.#ready = true;
        this.#pid = m.pid;
        this.#settleReady(true);
        this.#idle();
        return;
      }
      const pending = this.#pending.get(m.id);
      if (!pending) return;
      this.#pending.delete(m.id);
      if (m.op === 'done') pending.resolve(m.video);
      else pending.reject(deserializeError(m.error));
    });
    const lost = (why: string): void => {
      if (this.#child !== child) return;
      this.#child = null;
      this.#ready = false;
      this.#unusable ??= why;
      this.#settleReady(false);
      const error = new PipelineError('video_host_lost', `the ffmpeg host process stopped (${why}); the video was not written — run the job again`, true);
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
    };
    child.on('error', (error) => lost(error.message));
    child.on('exit', (code, signal) => lost(signal ? `killed by ${signal}` : `exit code ${code}`));
    child.stdin!.on('error', () => undefined); // a write after the host died: reported by 'exit'
    this.#idle();
  }

  /** Resolves true once the host answers, false if it cannot start (or was closed). */
  whenReady(): Promise<boolean> {
    if (this.#ready) return Promise.resolve(true);
    if (!this.#child) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Why encodes run in this process, or null while the host is usable. */
  get unusableReason(): string | null {
    return this.#unusable;
  }

  /** `encodeMp4` through the host when it is ready and free; here otherwise. */
  readonly encode: Mp4Encoder = (options) => {
    const child = this.#child;
    if (!child || !this.#ready || this.#busy) {
      if (this.#unusable !== null && !this.#told) {
        this.#told = true;
        this.#log(`ffmpeg runs from the inference worker's process: the ffmpeg host is not available (${this.#unusable})`);
      }
      return encodeMp4(options);
    }
    return this.#encodeThere(child, options);
  };

  /** Stops the host; an encode it was running fails as if it had crashed (retryable). */
  close(): void {
    this.#unusable ??= 'closed';
    this.#ready = false;
    this.#settleReady(false);
    this.#child?.kill();
  }

  async #encodeThere(child: ChildProcess, options: EncodeMp4Options): Promise<EncodedVideo> {
    const { frames, signal, onProgress: _onProgress, ffmpegPath: _ffmpegPath, ffmpeg, ...rest } = options;
    if (!ffmpeg) return encodeMp4(options); // the host is handed a located ffmpeg only
    if (signal?.aborted) throw new CancelledError();
    const id = this.#nextId++;
    this.#busy = true;
    child.ref();
    (child.channel as { ref?: () => void } | null | undefined)?.ref?.();
    const result = new Promise<EncodedVideo>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    const send = (req: HostRequest): void => {
      if (this.#child === child && child.connected) child.send(req);
    };
    const onAbort = (): void => send({ op: 'abort', id });
    signal?.addEventListener('abort', onAbort, { once: true });
    send({ op: 'open', id, options: { ...rest, ffmpeg } });
    let settled = false;
    void result.then(
      () => (settled = true),
      () => (settled = true),
    );
    // A producer failing (the decode) stops the encode and is the error reported, as in encodeMp4.
    let producerError: unknown = null;
    const pump = async (): Promise<void> => {
      const stdin = child.stdin!;
      let sent = 0;
      for await (const frame of frames) {
        if (settled || signal?.aborted || this.#child !== child) return;
        // Header and bytes are queued together, so frames of two streams never interleave.
        stdin.write(frameHeader(id, frame.byteLength));
        const flowing = stdin.write(frame);
        sent++;
        if (!flowing) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              stdin.off('drain', done);
              child.off('exit', done);
              resolve();
            };
            stdin.once('drain', done);
            child.once('exit', done);
          });
        }
      }
      send({ op: 'end', id, frames: sent });
    };
    const pumping = pump().catch((error: unknown) => {
      producerError = error;
      send({ op: 'abort', id });
    });
    try {
      const video = await result.catch((error: unknown) => {
        throw producerError ?? error;
      });
      await pumping;
      return video;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#busy = false;
      this.#idle();
    }
  }

  /** Nothing in flight: the host must not keep this thread alive. */
  #idle(): void {
    const child = this.#child;
    if (!child || this.#busy) return;
    child.unref();
    (child.channel as { unref?: () => void } | null | undefined)?.unref?.();
  }
}
