/**
 * A clip's last stages, told as they happen: the VAE decode frame by frame, then the MP4's finish.
 * Without this a video job sat at "step N of N" while its frames were decoded and encoded.
 */
import type { ProgressUpdate } from '../types.ts';

/** The stage names the Workspace shows as phases after the steps. */
export const DECODE_STAGE = 'decoding';
/** The VAE decoding in spatial tiles (WAN on the CPU, when a whole frame would not fit in memory). */
export const TILE_DECODE_STAGE = 'decoding tiles';
export const ENCODE_STAGE = 'encoding video';

/**
 * Passes `chunks` through, telling after each one how many of the clip's `total` frames are
 * decoded (the consumer has handed it to the MP4 by then), and once the last is through, that what
 * is left is the encoder finishing the file.
 */
export async function* reportDecodeAndEncode<T extends { readonly count: number }>(
  chunks: AsyncIterable<T>,
  total: number,
  progress: (update: Pick<ProgressUpdate, 'stage' | 'stageProgress'>) => void,
): AsyncGenerator<T> {
  let done = 0;
  progress({ stage: DECODE_STAGE, stageProgress: { done, of: total } });
  for await (const chunk of chunks) {
    yield chunk;
    done = Math.min(total, done + chunk.count);
    progress({ stage: DECODE_STAGE, stageProgress: { done, of: total } });
  }
  progress({ stage: ENCODE_STAGE, stageProgress: null });
}
