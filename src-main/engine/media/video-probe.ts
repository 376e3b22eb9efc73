/**
 * Reading a video back: ffprobe's JSON for the first video stream, plus the MP4's top-level box
 * order (faststart means `moov` before `mdat`, so a player can start before the whole file is read).
 */
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { requireFfmpeg } from './ffmpeg-locate.ts';

export interface VideoProbe {
  /** ffprobe's codec name, e.g. `h264`. */
  readonly codec: string;
  readonly profile: string | null;
  /** e.g. `yuv420p`. */
  readonly pixFmt: string | null;
  readonly width: number;
  readonly height: number;
  /** Average frame rate (`avg_frame_rate`, else `r_frame_rate`); null when ffprobe has none. */
  readonly fps: number | null;
  /** `nb_frames` from the container, else counted by decoding. */
  readonly frames: number;
  readonly durationMs: number | null;
  readonly colorSpace: string | null;
  readonly colorRange: string | null;
  /** Container tags (`format.tags`): title, comment, description… */
  readonly tags: Readonly<Record<string, string>>;
  /** MP4/MOV only: whether `moov` precedes `mdat`; null for other containers. */
  readonly faststart: boolean | null;
}

export interface ProbeVideoOptions {
  /** ffprobe to run; default: the one found beside the located ffmpeg. */
  readonly ffprobe?: string;
  /** Settings → Video's ffmpeg path, used to locate ffprobe when `ffprobe` is not given. */
  readonly ffmpegPath?: string | null;
  readonly timeoutMs?: number;
}

export class VideoProbeError extends Error {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VideoProbeError';
    this.file = file;
  }
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  nb_read_frames?: string;
  duration?: string;
  color_space?: string;
  color_range?: string;
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { duration?: string; format_name?: string; tags?: Record<string, string> };
}

function runFfprobe(ffprobe: string, args: readonly string[], timeoutMs: number): Promise<FfprobeOutput> {
  return new Promise((resolve, reject) => {
    execFile(ffprobe, args, { timeout: timeoutMs, windowsHide: true, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const detail = String(stderr).trim().split('\n').slice(-3).join(' | ');
        reject(new Error(detail || error.message, { cause: error }));
        return;
      }
      try {
        resolve(JSON.parse(String(stdout)) as FfprobeOutput);
      } catch (e) {
        reject(new Error(`ffprobe printed something other than JSON (${(e as Error).message})`));
      }
    });
  });
}

/** `16/1` → 16, `30000/1001` → 29.97…; null for `0/0` or junk. */
export function parseFrameRate(text: string | undefined): number | null {
  if (text === undefined) return null;
  const match = /^(\d+)(?:\/(\d+))?$/.exec(text.trim());
  if (match === null) return null;
  const num = Number(match[1]);
  const den = match[2] === undefined ? 1 : Number(match[2]);
  return num > 0 && den > 0 ? num / den : null;
}

function seconds(text: string | undefined): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  return Number.isFinite(n) && text.trim() !== '' ? n : null;
}

function count(text: string | undefined): number | null {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
}

/** Probe the first video stream of `file`. Throws `VideoProbeError` saying why it could not. */
export async function probeVideo(file: string, options: ProbeVideoOptions = {}): Promise<VideoProbe> {
  const ffprobe = options.ffprobe ?? (await requireFfmpeg({ ffmpegPath: options.ffmpegPath ?? null })).ffprobe;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const base = ['-v', 'error', '-hide_banner', '-of', 'json', '-select_streams', 'v:0'];
  let out: FfprobeOutput;
  try {
    out = await runFfprobe(ffprobe, [...base, '-show_streams', '-show_format', file], timeoutMs);
  } catch (error) {
    throw new VideoProbeError(file, `cannot read ${file} as a video: ${(error as Error).message}`, { cause: error });
  }
  const stream = out.streams?.find((s) => s.codec_type === 'video') ?? out.streams?.[0];
  if (stream === undefined || stream.width === undefined || stream.height === undefined) {
    throw new VideoProbeError(file, `${file} has no video stream`);
  }
  let frames = count(stream.nb_frames);
  if (frames === null) {
    // Containers without a frame count in the header (some MKV/WebM): decode and count.
    const counted = await runFfprobe(ffprobe, [...base, '-count_frames', '-show_entries', 'stream=nb_read_frames', file], timeoutMs);
    frames = count(counted.streams?.[0]?.nb_read_frames) ?? 0;
  }
  const durationS = seconds(stream.duration) ?? seconds(out.format?.duration);
  const isMp4Family = (out.format?.format_name ?? '').split(',').includes('mp4');
  return {
    codec: stream.codec_name ?? 'unknown',
    profile: stream.profile ?? null,
    pixFmt: stream.pix_fmt ?? null,
    width: stream.width,
    height: stream.height,
    fps: parseFrameRate(stream.avg_frame_rate) ?? parseFrameRate(stream.r_frame_rate),
    frames,
    durationMs: durationS === null ? null : durationS * 1000,
    colorSpace: stream.color_space ?? null,
    colorRange: stream.color_range ?? null,
    tags: out.format?.tags ?? {},
    faststart: isMp4Family ? moovBeforeMdat(await readMp4TopLevelBoxes(file)) : null,
  };
}

export interface Mp4Box {
  readonly type: string;
  readonly offset: number;
  readonly size: number;
}

/** The top-level boxes (atoms) of an ISO-BMFF file, in file order, from their headers only. */
export async function readMp4TopLevelBoxes(file: string): Promise<Mp4Box[]> {
  const handle = await open(file, 'r');
  try {
    const { size: fileSize } = await handle.stat();
    const boxes: Mp4Box[] = [];
    const header = Buffer.alloc(16);
    let offset = 0;
    while (offset + 8 <= fileSize) {
      const { bytesRead } = await handle.read(header, 0, 16, offset);
      if (bytesRead < 8) break;
      let size = header.readUInt32BE(0);
      const type = header.toString('latin1', 4, 8);
      if (size === 1) {
        if (bytesRead < 16) break;
        size = Number(header.readBigUInt64BE(8));
      } else if (size === 0) {
        size = fileSize - offset; // the box runs to the end of the file
      }
      if (size < 8) throw new Error(`${file}: malformed MP4 box "${type}" of ${size} bytes at offset ${offset}`);
      boxes.push({ type, offset, size });
      offset += size;
    }
    return boxes;
  } finally {
    await handle.close();
  }
}

/** Faststart: the first `moov` comes before the first `mdat`; null when either is missing. */
export function moovBeforeMdat(boxes: readonly Mp4Box[]): boolean | null {
  const moov = boxes.findIndex((b) => b.type === 'moov');
  const mdat = boxes.findIndex((b) => b.type === 'mdat');
  return moov < 0 || mdat < 0 ? null : moov < mdat;
}
