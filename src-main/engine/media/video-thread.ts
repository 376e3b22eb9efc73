/**
 * Entry of the video thread (see video-encoder.ts). It owns the MP4 streams: converts the VAE's
 * float frames to RGB, spawns ffmpeg and keeps its stdin fed, and writes the poster thumbnail —
 * all while the inference thread sits inside onnxruntime's blocking session.run, during which that
 * thread's event loop could move no bytes into ffmpeg's pipe at all. ffmpeg itself is spawned by
 * the ffmpeg host process this thread forks when it starts (ffmpeg-host.ts says why).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FfmpegHost } from './ffmpeg-host-client.ts';
import type { FrameChunk } from './video-frames.ts';
import { VideoStream } from './video-stream.ts';
import type { VideoStreamOptions, VideoStreamResult } from './video-stream.ts';
import { serializeError } from './wire-errors.ts';
import type { SerializedError } from './wire-errors.ts';

export type VideoThreadRequest =
  | { readonly op: 'open'; readonly id: number; readonly options: VideoStreamOptions }
  | { readonly op: 'push'; readonly id: number; readonly chunk: FrameChunk }
  | { readonly op: 'end'; readonly id: number }
  | { readonly op: 'abort'; readonly id: number };

export type VideoThreadReply =
  | { readonly op: 'ready' }
  /** Something the worker's log should say (e.g. why ffmpeg runs without the host). */
  | { readonly op: 'log'; readonly message: string }
  /** A push was taken in: the producer may send the next chunk. */
  | { readonly op: 'room'; readonly id: number }
  | { readonly op: 'done'; readonly id: number; readonly result: VideoStreamResult }
  | { readonly op: 'failed'; readonly id: number; readonly error: SerializedError }
  | { readonly op: 'aborted'; readonly id: number };

/** Marks a thread started by video-encoder.ts, so importing this module elsewhere attaches nothing. */
export const VIDEO_THREAD_MARK = 'ourvidz-video-thread';

const port = parentPort;
if (port && (workerData as { mark?: unknown } | null)?.mark === VIDEO_THREAD_MARK) {
  // Forked now, while the worker is small (the thread is started before models load): ffmpeg is
  // spawned from this small process rather than from the worker (see ffmpeg-host.ts).
  const host = new FfmpegHost({ log: (message) => port.postMessage({ op: 'log', message } satisfies VideoThreadReply) });
  host.start();
  const streams = new Map<number, VideoStream>();
  /** Each stream's work, in order: a push is taken in before its `end` is looked at. */
  const tails = new Map<number, Promise<void>>();
  const failed = new Set<number>();
  const fail = (id: number, error: unknown): void => {
    if (failed.has(id)) return;
    failed.add(id);
    port.postMessage({ op: 'failed', id, error: serializeError(error) } satisfies VideoThreadReply);
  };
  const then = (id: number, work: () => Promise<void>): void => {
    const next = (tails.get(id) ?? Promise.resolve()).then(work).catch((error: unknown) => fail(id, error));
    tails.set(id, next);
  };
  const forget = (id: number): void => {
    streams.delete(id);
    tails.delete(id);
    failed.delete(id);
  };

  port.on('message', (req: VideoThreadRequest) => {
    const { id } = req;
    switch (req.op) {
      case 'open': {
        const stream = new VideoStream(req.options, host.encode);
        streams.set(id, stream);
        // ffmpeg failing on its own (before or between pushes) is reported at once.
        stream.onFailure((error) => fail(id, error));
        return;
      }
      case 'push':
        then(id, async () => {
          const stream = streams.get(id);
          if (!stream) return;
          await stream.push(req.chunk);
          port.postMessage({ op: 'room', id } satisfies VideoThreadReply);
        });
        return;
      case 'end':
        then(id, async () => {
          const stream = streams.get(id);
          if (!stream) return;
          try {
            const result = await stream.end();
            port.postMessage({ op: 'done', id, result } satisfies VideoThreadReply);
          } catch (error) {
            fail(id, error);
          } finally {
            forget(id);
          }
        });
        return;
      case 'abort': {
        const stream = streams.get(id);
        failed.add(id); // the abort's own CancelledError is not a failure to report
        // Not queued behind a waiting push: aborting is what releases it.
        void (stream ? stream.abort() : Promise.resolve()).finally(() => {
          forget(id);
          port.postMessage({ op: 'aborted', id } satisfies VideoThreadReply);
        });
        return;
      }
    }
  });
  port.postMessage({ op: 'ready' } satisfies VideoThreadReply);
}
