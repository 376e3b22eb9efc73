/**
 * Pure parsers for ffmpeg's two progress reports:
 *
 *  - the machine one, `-progress <url>`: blocks of `key=value` lines, each block closed by
 *    `progress=continue` or, once, `progress=end`;
 *  - the classic status line on stderr (`-stats`): `frame=   17 fps=0.0 q=-1.0 Lsize=  12kB
 *    time=00:00:01.06 bitrate=  95.6kbits/s speed=5.12x`, rewritten in place with `\r`; the final
 *    report says `Lsize=` instead of `size=`.
 *
 * Quirk kept in mind: `out_time_ms` holds MICROseconds (ffmpeg has printed the same value under
 * both `out_time_us` and `out_time_ms` since 4.x, keeping the old name for compatibility), so it is
 * divided by 1000 like `out_time_us`.
 */

export interface FfmpegProgress {
  /** Frames written so far; null when the report has none. */
  readonly frame: number | null;
  /** Output timestamp reached, in milliseconds (never negative); null when ffmpeg says N/A. */
  readonly timeMs: number | null;
  /** Encoding speed as a multiple of real time (16.5 for `16.5x`); null when N/A. */
  readonly speed: number | null;
  /** True on the last report of a run (`progress=end`, or the `Lsize=` status line). */
  readonly done: boolean;
}

const KEY_VALUE = /^([A-Za-z0-9_]+)=(.*)$/;

/** Whether a line is one `key=value` line of a `-progress` block (as opposed to a log message). */
export function isProgressKeyValueLine(line: string): boolean {
  return KEY_VALUE.test(line.trim());
}

/** `HH:MM:SS.fraction`, optionally negative → milliseconds; null for N/A or anything else. */
export function parseTimestamp(text: string): number | null {
  const match = /^(-)?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(text.trim());
  if (match === null) return null;
  const ms = (Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4])) * 1000;
  return match[1] === '-' ? -ms : ms;
}

function parseSpeed(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?(?:e[+-]?\d+)?)x$/i.exec(text.trim());
  return match === null ? null : Number(match[1]);
}

function parseCount(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

function nonNegative(ms: number | null): number | null {
  return ms === null ? null : Math.max(0, ms);
}

function microsecondsToMs(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = text.trim();
  return /^-?\d+$/.test(t) ? Number(t) / 1000 : null;
}

/**
 * One `-progress` block (its lines, or the text holding them) → progress, or null when the text has
 * no `progress=` line (an incomplete block). Unknown keys and stray lines are ignored.
 */
export function parseProgressBlock(block: string | readonly string[]): FfmpegProgress | null {
  const lines = typeof block === 'string' ? block.split(/\r\n|\r|\n/) : block;
  const values = new Map<string, string>();
  for (const raw of lines) {
    const match = KEY_VALUE.exec(raw.trim());
    if (match !== null) values.set(match[1]!, match[2]!);
  }
  const state = values.get('progress')?.trim();
  if (state === undefined) return null;
  let timeMs = microsecondsToMs(values.get('out_time_us'));
  timeMs ??= microsecondsToMs(values.get('out_time_ms'));
  const outTime = values.get('out_time');
  if (timeMs === null && outTime !== undefined) timeMs = parseTimestamp(outTime);
  return {
    frame: parseCount(values.get('frame')),
    timeMs: nonNegative(timeMs),
    speed: parseSpeed(values.get('speed') ?? ''),
    done: state === 'end',
  };
}

/**
 * The classic stderr status line → progress, or null when the line is not one. Accepts the forms
 * of ffmpeg 4–7 (`size=`/`Lsize=`, `kB`/`KiB`, a trailing `elapsed=`) and lines that still carry the
 * `\r` ffmpeg rewrites them with.
 */
export function parseStatusLine(line: string): FfmpegProgress | null {
  const text = line.replace(/\r/g, ' ');
  const time = /(?:^|\s)time=\s*(\S+)/.exec(text);
  const frame = /(?:^|\s)frame=\s*(\d+)/.exec(text);
  const size = /(?:^|\s)(L?)size=/.exec(text);
  // A status line always has time= and size= (audio-only runs have no frame=).
  if (time === null || size === null) return null;
  const speed = /(?:^|\s)speed=\s*(\S+)/.exec(text);
  return {
    frame: frame === null ? null : Number(frame[1]),
    timeMs: nonNegative(parseTimestamp(time[1]!)),
    speed: speed === null ? null : parseSpeed(speed[1]!),
    done: size[1] === 'L',
  };
}

/**
 * Splits a stream of `-progress` output (chunks cut anywhere) into blocks. Feed it chunks or lines;
 * it returns the progress of every block completed by them. Holds only the unfinished block.
 */
export class ProgressBlockReader {
  #partialLine = '';
  #block: string[] = [];

  /** Add raw text (any chunking); returns the blocks it completed, in order. */
  push(chunk: string): FfmpegProgress[] {
    const text = this.#partialLine + chunk;
    const lines = text.split(/\r\n|\r|\n/);
    this.#partialLine = lines.pop() ?? '';
    const done: FfmpegProgress[] = [];
    for (const line of lines) {
      const parsed = this.pushLine(line);
      if (parsed !== null) done.push(parsed);
    }
    return done;
  }

  /** Add one complete line; returns the block's progress when the line closed a block. */
  pushLine(line: string): FfmpegProgress | null {
    const trimmed = line.trim();
    if (!KEY_VALUE.test(trimmed)) return null;
    this.#block.push(trimmed);
    if (!trimmed.startsWith('progress=')) return null;
    const parsed = parseProgressBlock(this.#block);
    this.#block = [];
    return parsed;
  }
}
