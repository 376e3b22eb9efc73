/**
 * Writing `.safetensors` files, streamed: the header is computed from the tensors' dtypes and
 * shapes, then each tensor's bytes are written in order, so a converted copy of a 7 GB checkpoint
 * never sits in memory. The header is padded with spaces to an 8-byte boundary, as the reference
 * implementation does, so every tensor starts aligned. The file appears under its name only when
 * complete (written to `<name>.partial`, fsynced, renamed).
 */
import { open, rename, rm } from 'node:fs/promises';
import { DTYPE_BYTES, elementCount } from './dtypes.ts';
import type { WeightDtype } from './dtypes.ts';

export interface TensorToWrite {
  readonly name: string;
  readonly dtype: WeightDtype;
  readonly shape: readonly number[];
  /** The bytes, or a source of chunks that add up to them (little-endian, row-major). */
  readonly data: Uint8Array | (() => AsyncIterable<Uint8Array>);
}

export interface SafetensorsLayout {
  readonly header: Buffer;
  /** Offsets of each tensor relative to the data start, in write order. */
  readonly ranges: ReadonlyMap<string, readonly [number, number]>;
  readonly totalBytes: number;
}

/** The header bytes (length prefix included) and ranges for tensors written in the given order. */
export function layoutSafetensors(tensors: readonly Pick<TensorToWrite, 'name' | 'dtype' | 'shape'>[], metadata?: Readonly<Record<string, string>>): SafetensorsLayout {
  const json: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) json.__metadata__ = metadata;
  const ranges = new Map<string, readonly [number, number]>();
  let offset = 0;
  for (const t of tensors) {
    if (ranges.has(t.name)) throw new Error(`tensor ${t.name} is listed twice`);
    const bytes = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
    ranges.set(t.name, [offset, offset + bytes]);
    json[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(json);
  const pad = (8 - ((Buffer.byteLength(text) + 8) % 8)) % 8;
  text += ' '.repeat(pad);
  const body = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8 + body.length);
  header.writeBigUInt64LE(BigInt(body.length), 0);
  body.copy(header, 8);
  return { header, ranges, totalBytes: header.length + offset };
}

export interface WriteOptions {
  metadata?: Readonly<Record<string, string>>;
  /** Called after each chunk with the bytes written so far (header included). */
  onProgress?: (written: number, total: number) => void;
  signal?: AbortSignal;
}

export async function writeSafetensors(path: string, tensors: readonly TensorToWrite[], options: WriteOptions = {}): Promise<{ bytes: number }> {
  const layout = layoutSafetensors(tensors, options.metadata);
  const partial = `${path}.partial`;
  const handle = await open(partial, 'w');
  let ok = false;
  try {
    let position = 0;
    const put = async (bytes: Uint8Array): Promise<void> => {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('cancelled');
      let done = 0;
      while (done < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
      options.onProgress?.(position, layout.totalBytes);
    };
    await put(layout.header);
    for (const t of tensors) {
      const [begin, end] = layout.ranges.get(t.name)!;
      const start = position;
      if (t.data instanceof Uint8Array) await put(t.data);
      else for await (const chunk of t.data()) await put(chunk);
      if (position - start !== end - begin) {
        throw new Error(`tensor ${t.name}: ${position - start} bytes written, its dtype and shape need ${end - begin}`);
      }
    }
    await handle.sync();
    ok = true;
  } finally {
    await handle.close();
    if (!ok) await rm(partial, { force: true });
  }
  await rename(partial, path);
  return { bytes: layout.totalBytes };
}
