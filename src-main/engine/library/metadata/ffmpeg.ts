/**
 * Videos through ffprobe/ffmpeg found on PATH (or configured): facts of a file (duration, size,
 * fps, frames, tags) and a poster frame for its thumbnail. Paths are passed as `file:` URLs so a
 * name can never be read as an option or another protocol; every run has a time limit.
 *
 * The binaries come as fixed paths or as a lookup (the engine's: the ffmpeg set in Settings →
 * Video), asked only when a video is read and each time, so a changed setting applies at once.
 */
import { execFile } from 'node:child_process';

export interface FfmpegPaths {
  readonly ffmpeg: string;
  readonly ffprobe: string;
}

export function defaultFfmpegPaths(env: NodeJS.ProcessEnv = process.env): FfmpegPaths {
  return { ffmpeg: env.STUDIO_FFMPEG ?? 'ffmpeg', ffprobe: env.STUDIO_FFPROBE ?? 'ffprobe' };
}

/**
 * Where the binaries come from: fixed paths, or a lookup run when a video is read (null, or a
 * failed lookup, means "none configured": `defaultFfmpegPaths()`).
 */
export type FfmpegSource = FfmpegPaths | (() => Promise<FfmpegPaths | null>);

/** The paths to run now: a lookup's answer, else STUDIO_FFMPEG/STUDIO_FFPROBE or PATH. */
export async function resolveFfmpegPaths(source?: FfmpegSource): Promise<FfmpegPaths> {
  if (source === undefined) return defaultFfmpegPaths();
  if (typeof source !== 'function') return source;
  let paths: FfmpegPaths | null;
  try {
    paths = await source();
  } catch {
    paths = null;
  }
  return paths ?? defaultFfmpegPaths();
}

export interface VideoFacts {
  width: number | null;
  height: number | null;
  /** The container's duration (the movie header's), else the video stream's. */
  durationMs: number | null;
  /** The longest stream's own duration (from its sample table), to check the container's against. */
  streamsDurationMs: number | null;
  fps: number | null;
  frameCount: number | null;
  codec: string | null;
  formatName: string | null;
  /** Container and stream tags, e.g. title, comment, encoder (a ComfyUI video's comment holds its graph). */
  tags: Record<string, string>;
}

function run(binary: string, args: string[], timeoutMs: number, maxBuffer: number): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: timeoutMs, maxBuffer, encoding: 'buffer', windowsHide: true }, (error, stdout, stderr) => {
      if (error) {
        const e = error as NodeJS.ErrnoException & { killed?: boolean };
        const why =
          e.code === 'ENOENT'
            ? `${binary} was not found: install ffmpeg (Debian/Ubuntu: apt install ffmpeg) or set its path in settings`
            : e.killed
              ? `${binary} took longer than ${Math.round(timeoutMs / 1000)} s`
              : stderr.toString('utf8').trim().split('\n').slice(-2).join(' ') || e.message;
        reject(new Error(why));
        return;
      }
      resolve({ stdout, stderr: stderr.toString('utf8') });
    });
  });
}

function ratio(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const [n, d] = text.split('/').map(Number);
  if (n === undefined || !Number.isFinite(n)) return null;
  const value = d === undefined ? n : d === 0 ? NaN : n / d;
  return Number.isFinite(value) && value > 0 ? Math.round(value * 1000) / 1000 : null;
}

function int(text: unknown): number | null {
  const n = typeof text === 'number' ? text : typeof text === 'string' && text.trim() !== '' ? Number(text) : NaN;
  return Number.isFinite(n) ? Math.round(n) : null;
}

/** ffprobe's `-print_format json -show_format -show_streams` output → the facts we keep. */
export function parseProbeJson(json: string): VideoFacts {
  const data = JSON.parse(json) as {
    streams?: Record<string, unknown>[];
    format?: Record<string, unknown>;
  };
  const video = (data.streams ?? []).find((s) => s.codec_type === 'video' && (s.disposition as Record<string, number> | undefined)?.attached_pic !== 1);
  if (!video) throw new Error('it has no video stream');
  const format = data.format ?? {};
  const seconds = Number(format.duration ?? video.duration);
  const fps = ratio(video.avg_frame_rate) ?? ratio(video.r_frame_rate);
  const durationMs = Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : null;
  let streamsDurationMs: number | null = null;
  for (const stream of data.streams ?? []) {
    const s = Number(stream.duration);
    if (Number.isFinite(s) && s >= 0) streamsDurationMs = Math.max(streamsDurationMs ?? 0, Math.round(s * 1000));
  }
  let frameCount = int(video.nb_frames);
  if (frameCount === null && durationMs !== null && fps !== null) frameCount = Math.round((durationMs / 1000) * fps);
  const tags: Record<string, string> = {};
  for (const source of [video.tags, format.tags]) {
    if (typeof source !== 'object' || source === null) continue;
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) if (typeof v === 'string') tags[k.toLowerCase()] = v;
  }
  return {
    width: int(video.width),
    height: int(video.height),
    durationMs,
    streamsDurationMs,
    fps,
    frameCount,
    codec: typeof video.codec_name === 'string' ? video.codec_name : null,
    formatName: typeof format.format_name === 'string' ? format.format_name : null,
    tags,
  };
}

export async function probeVideo(path: string, source?: FfmpegSource): Promise<VideoFacts> {
  const paths = await resolveFfmpegPaths(source);
  const { stdout } = await run(
    paths.ffprobe,
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', `file:${path}`],
    20_000,
    8 * 1024 * 1024,
  );
  return parseProbeJson(stdout.toString('utf8'));
}

/** Clips up to this long are decoded whole before they are accepted; longer ones at both ends. */
const WHOLE_DECODE_MS = 60_000;
const END_DECODE_SECONDS = 3;

/**
 * Decodes the video stream (all of it for a short clip, the first and last seconds of a long one)
 * and throws with ffmpeg's own words when anything in it fails to decode: a cut-off download, a
 * damaged stream, sample offsets that point outside the file. ffmpeg prints nothing at `-v error`
 * for a clean decode, so any line it prints is a failure.
 */
export async function decodeCheck(path: string, durationMs: number | null, source?: FfmpegSource): Promise<void> {
  const paths = await resolveFfmpegPaths(source);
  const input = ['-i', `file:${path}`, '-map', '0:v:0', '-f', 'null', '-'];
  const base = ['-v', 'error', '-nostdin', '-threads', '2', '-xerror'];
  const runs =
    durationMs !== null && durationMs <= WHOLE_DECODE_MS
      ? [[...base, ...input]]
      : [
          [...base, ...input.slice(0, 2), '-t', String(END_DECODE_SECONDS), ...input.slice(2)],
          [...base, '-sseof', `-${END_DECODE_SECONDS}`, ...input],
        ];
  for (const args of runs) {
    const { stderr } = await run(paths.ffmpeg, args, 120_000, 1024 * 1024);
    const said = stderr.trim().split('\n').filter((l) => l.trim() !== '');
    if (said.length > 0) throw new Error(said.slice(-2).join(' ').slice(0, 300));
  }
}

/** One frame (a tenth into the clip, at most 1 s) as a PNG no larger than `maxSide` (never enlarged). */
export async function posterFrame(path: string, durationMs: number | null, maxSide: number, source?: FfmpegSource): Promise<Buffer> {
  const paths = await resolveFfmpegPaths(source);
  const at = durationMs && durationMs > 0 ? Math.min(1, durationMs / 10000) : 0;
  // Fits inside maxSide × maxSide keeping the aspect ratio; a clip already smaller keeps its size.
  const scale = `scale=w='min(iw,${maxSide})':h='min(ih,${maxSide})':force_original_aspect_ratio=decrease`;
  const { stdout } = await run(
    paths.ffmpeg,
    ['-v', 'error', '-nostdin', '-threads', '1', '-ss', at.toFixed(3), '-i', `file:${path}`, '-frames:v', '1', '-vf', scale, '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'],
    30_000,
    64 * 1024 * 1024,
  );
  if (stdout.length === 0) throw new Error('ffmpeg produced no frame');
  return stdout;
}
