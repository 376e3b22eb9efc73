/**
 * Errors across a thread or process boundary: structured clone keeps only an Error's message, so
 * the name, the pipeline code (what the job system and the UI act on) and ffmpeg's stderr tail are
 * carried as plain data and rebuilt as the same classes on the other side.
 */
import { CancelledError, PipelineError } from '../pipelines/types.ts';
import { VideoEncodeError } from './video-encode.ts';
import type { VideoEncodeErrorCode } from './video-encode.ts';

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly transient?: boolean;
  readonly stderrTail?: readonly string[];
}

export function serializeError(error: unknown): SerializedError {
  const e = error instanceof Error ? error : new Error(String(error));
  const out: { -readonly [K in keyof SerializedError]: SerializedError[K] } = { name: e.name, message: e.message };
  if (e instanceof PipelineError) {
    out.code = e.code;
    out.transient = e.transient;
  }
  if (e instanceof VideoEncodeError) out.stderrTail = [...e.stderrTail];
  return out;
}

export function deserializeError(e: SerializedError): Error {
  if (e.name === 'CancelledError') return new CancelledError();
  let error: Error;
  if (e.name === 'VideoEncodeError' && e.code) error = new VideoEncodeError(e.code as VideoEncodeErrorCode, e.message, e.stderrTail ?? []);
  else if (e.code) error = new PipelineError(e.code, e.message, e.transient ?? false);
  else error = new Error(e.message);
  error.name = e.name;
  return error;
}
