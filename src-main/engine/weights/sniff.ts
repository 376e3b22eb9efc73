/**
 * What kind of file this is, from its first bytes — never from its name: a `.safetensors` that is
 * really a pickle, or a `.ckpt` that is really safetensors, is told apart here.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { WeightFileError } from './errors.ts';

export type WeightFileKind = 'safetensors' | 'pytorch_zip' | 'pickle' | 'gguf' | 'onnx' | 'unknown';

export interface SniffResult {
  readonly kind: WeightFileKind;
  readonly size: number;
}

/**
 * safetensors: u64 header length then `{`. PyTorch ≥ 1.6 `.pt/.ckpt/.pth/.bin`: a zip archive
 * (`PK\x03\x04`). Older torch.save and plain pickles: protocol marker 0x80 then 2–5. GGUF: the
 * ASCII magic `GGUF`. ONNX: a protobuf starting with ir_version (field 1, varint: 0x08).
 */
export function sniffBytes(head: Uint8Array, size: number): WeightFileKind {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'pytorch_zip';
  if (head.length >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46) return 'gguf';
  if (head.length >= 2 && head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5) return 'pickle';
  if (head.length >= 9) {
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const headerLength = view.getBigUint64(0, true);
    if (head[8] === 0x7b && headerLength > 1n && headerLength <= BigInt(Math.max(size - 8, 0))) return 'safetensors';
    // A safetensors file cut inside its header still starts like one.
    if (head[8] === 0x7b && headerLength > 1n && headerLength < 1n << 40n) return 'safetensors';
  }
  if (head.length >= 2 && head[0] === 0x08 && head[1]! > 0 && head[1]! < 0x20) return 'onnx';
  return 'unknown';
}

export async function sniffFile(path: string): Promise<SniffResult> {
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new WeightFileError('unreadable', `${path} is a folder, not a file`);
    size = info.size;
  } catch (e) {
    if (e instanceof WeightFileError) throw e;
    throw WeightFileError.fromFs(e, path);
  }
  const handle = await open(path, 'r').catch((e: unknown) => {
    throw WeightFileError.fromFs(e, path);
  });
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, 16, 0);
    return { kind: sniffBytes(head.subarray(0, bytesRead), size), size };
  } finally {
    await handle.close();
  }
}

export function sniffFileSync(path: string): SniffResult {
  let fd: number;
  let size: number;
  try {
    const info = statSync(path);
    if (info.isDirectory()) throw new WeightFileError('unreadable', `${path} is a folder, not a file`);
    size = info.size;
    fd = openSync(path, 'r');
  } catch (e) {
    if (e instanceof WeightFileError) throw e;
    throw WeightFileError.fromFs(e, path);
  }
  try {
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    return { kind: sniffBytes(head.subarray(0, n), size), size };
  } finally {
    closeSync(fd);
  }
}
