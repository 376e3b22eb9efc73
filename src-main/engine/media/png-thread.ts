/**
 * Entry of the PNG encoding thread (see png-pool.ts): filter, deflate, metadata chunks and the
 * thumbnail, off the inference worker's JS thread, which onnxruntime's session.run blocks. It
 * receives the pixels as a transferred ArrayBuffer and transfers both PNGs back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeGeneratedPngAsync } from './png-generated.ts';
import { makeThumbnail } from './thumbnail.ts';

export interface PngThreadRequest {
  readonly id: number;
  readonly rgb: ArrayBuffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
  readonly parameters: string;
  readonly recipe: object;
  readonly thumbMaxSide: number;
}

export type PngThreadReply =
  | { readonly id: number; readonly ok: true; readonly png: Uint8Array; readonly thumb: Uint8Array }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly name: string };

/**
 * The work itself, shared with the pool's in-thread fallback so both give the same bytes. The
 * image data of a large PNG is deflated in pieces on libuv's thread pool, several at once (see
 * png-encode.ts); the thumbnail is made while they run.
 */
export async function encodeForThread(
  req: Omit<PngThreadRequest, 'id' | 'rgb'> & { rgb: Uint8Array },
): Promise<{ png: Uint8Array; thumb: Uint8Array }> {
  const pngPromise = encodeGeneratedPngAsync({
    rgb: req.rgb,
    width: req.width,
    height: req.height,
    channels: req.channels,
    parameters: req.parameters,
    recipe: req.recipe,
  });
  // Not awaited yet: a thumbnail error must not leave the PNG's rejection unhandled.
  pngPromise.catch(() => {});
  const thumb = makeThumbnail({ width: req.width, height: req.height, channels: req.channels, data: req.rgb }, req.thumbMaxSide);
  return { png: await pngPromise, thumb: thumb.png };
}

/** Transferable only if the view covers its own ArrayBuffer (else the whole buffer would move). */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/** Marks a thread started by png-pool.ts, so importing this module elsewhere attaches nothing. */
export const PNG_THREAD_MARK = 'ourvidz-png-thread';

const port = parentPort;
if (port && (workerData as { mark?: unknown } | null)?.mark === PNG_THREAD_MARK) {
  // One request at a time, in arrival order, as before the encoder went async: replies keep their
  // order and only one image's buffers are alive here at once.
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (req: PngThreadRequest) => {
    chain = chain.then(() => handle(port, req));
  });
  port.postMessage({ ready: true });
}

async function handle(port: NonNullable<typeof parentPort>, req: PngThreadRequest): Promise<void> {
  let reply: PngThreadReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const out = await encodeForThread({ ...req, rgb: new Uint8Array(req.rgb) });
    const png = ownBuffer(out.png);
    const thumb = ownBuffer(out.thumb);
    transfer.push(png, thumb);
    reply = { id: req.id, ok: true, png: new Uint8Array(png), thumb: new Uint8Array(thumb) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    reply = { id: req.id, ok: false, message: e.message, name: e.name };
  }
  port.postMessage(reply, transfer);
}
