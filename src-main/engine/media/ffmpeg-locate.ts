/**
 * Finds the ffmpeg and ffprobe that video jobs use, and says plainly what to do when there is none.
 *
 * Order: the path set in Settings → Video (a binary, or a folder holding it or a `bin/` with it, as
 * static builds unzip), else PATH. A wrong setting is reported as such rather than silently
 * replaced by whatever PATH holds. The binary is accepted only once it runs (`-version`) and lists
 * the libx264 encoder (`-encoders`), so the engine can check at start-up and fail a video job at
 * once instead of after the denoising.
 *
 * Running the setting is running a program someone named, so nothing from it is run unless it
 * looks like the tool first (`toolFileProblem`): a regular, executable file called `ffmpeg`
 * (`ffmpeg.exe` on Windows), and likewise `ffprobe`. `/bin/sh` or `calc.exe` in the setting is
 * refused with the reason before it could run.
 *
 * Results are cached per (setting, PATH, platform); `recheck: true` runs the checks again (after
 * the user installs ffmpeg or changes the setting).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../pipelines/types.ts';

export interface FfmpegFound {
  readonly ok: true;
  /** Absolute path of the ffmpeg binary. */
  readonly ffmpeg: string;
  /** Absolute path of the ffprobe binary. */
  readonly ffprobe: string;
  /** As ffmpeg prints it, e.g. `5.1.9-0+deb12u1` or `7.1-full_build-www.gyan.dev`. */
  readonly version: string;
  /** Where it was found. */
  readonly source: 'setting' | 'path';
}

export type FfmpegProblem = 'not_found' | 'setting_invalid' | 'not_runnable' | 'no_libx264' | 'no_ffprobe';

export interface FfmpegMissing {
  readonly ok: false;
  readonly problem: FfmpegProblem;
  /** What is missing and how to install it, for the user. */
  readonly message: string;
}

export type FfmpegLocation = FfmpegFound | FfmpegMissing;

export interface LocateFfmpegOptions {
  /** Settings → Video: the ffmpeg binary or its folder; null/undefined: search PATH. */
  readonly ffmpegPath?: string | null;
  /** Environment to read PATH from (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Platform whose binary names and install advice apply (default: process.platform). */
  readonly platform?: NodeJS.Platform;
  /** Run the checks again instead of answering from the cache. */
  readonly recheck?: boolean;
  /** Limit for each check run (default 15 s), so a hung binary cannot stall start-up. */
  readonly timeoutMs?: number;
}

/** The error a video job fails with when ffmpeg is missing: code `ffmpeg_missing`, not retried. */
export class FfmpegMissingError extends PipelineError {
  readonly problem: FfmpegProblem;
  constructor(missing: FfmpegMissing) {
    super('ffmpeg_missing', missing.message);
    this.name = 'FfmpegMissingError';
    this.problem = missing.problem;
  }
}

/** How to get an ffmpeg with libx264 on `platform`. */
export function ffmpegInstallAdvice(platform: NodeJS.Platform = process.platform): string {
  switch (platform) {
    case 'win32':
      return (
        'Download a static ffmpeg build for Windows (for example the "full" or "essentials" build from gyan.dev, ' +
        'or a GPL build from BtbN\'s FFmpeg-Builds releases on GitHub), unzip it, and set the path of its bin\\ffmpeg.exe ' +
        'in Settings → Video.'
      );
    case 'darwin':
      return 'Install it with `brew install ffmpeg` (Homebrew), or set the path of an ffmpeg binary in Settings → Video.';
    default:
      return (
        'Install it with `sudo apt install ffmpeg` on Debian or Ubuntu (or your distribution\'s ffmpeg package), ' +
        'or set the path of an ffmpeg binary in Settings → Video.'
      );
  }
}

const cache = new Map<string, Promise<FfmpegLocation>>();

/** Find and verify ffmpeg + ffprobe. Never throws: a problem comes back as `{ ok: false, message }`. */
export function locateFfmpeg(options: LocateFfmpegOptions = {}): Promise<FfmpegLocation> {
  const platform = options.platform ?? process.platform;
  const env = options.env ?? process.env;
  const key = JSON.stringify([options.ffmpegPath ?? null, pathVariable(env, platform) ?? '', platform]);
  const cached = cache.get(key);
  if (cached !== undefined && options.recheck !== true) return cached;
  const located = locateUncached(options.ffmpegPath ?? null, env, platform, options.timeoutMs ?? 15_000);
  cache.set(key, located);
  return located;
}

/**
 * `locateFfmpeg`, throwing `FfmpegMissingError` when there is no usable ffmpeg. A cached failure is
 * checked once more first, so installing ffmpeg while the app runs is enough.
 */
export async function requireFfmpeg(options: LocateFfmpegOptions = {}): Promise<FfmpegFound> {
  let found = await locateFfmpeg(options);
  if (!found.ok && options.recheck !== true) found = await locateFfmpeg({ ...options, recheck: true });
  if (!found.ok) throw new FfmpegMissingError(found);
  return found;
}

/** Forget every cached result. */
export function forgetFfmpegLocations(): void {
  cache.clear();
}

function pathVariable(env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform): string | undefined {
  if (platform !== 'win32') return env['PATH'];
  // Windows environment names are case-insensitive; Node keeps the original spelling (often `Path`).
  const name = Object.keys(env).find((k) => k.toUpperCase() === 'PATH');
  return name === undefined ? undefined : env[name];
}

function binaryName(tool: 'ffmpeg' | 'ffprobe', platform: NodeJS.Platform): string {
  return platform === 'win32' ? `${tool}.exe` : tool;
}

async function isExecutableFile(file: string, platform: NodeJS.Platform): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    if (platform !== 'win32') await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first directory on PATH holding an executable `name`. */
async function searchPath(
  name: string,
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform,
): Promise<string | null> {
  const value = pathVariable(env, platform);
  if (value === undefined || value === '') return null;
  const pathApi = platform === 'win32' ? path.win32 : path.posix;
  for (let dir of value.split(pathApi.delimiter)) {
    // Windows PATH entries may be quoted; an empty entry means the current folder on POSIX,
    // which a desktop app must not trust.
    dir = dir.replace(/^"(.*)"$/, '$1');
    if (dir === '' || !pathApi.isAbsolute(dir)) continue;
    const candidate = pathApi.join(dir, name);
    if (await isExecutableFile(candidate, platform)) return candidate;
  }
  return null;
}

/**
 * Why `file` must not be run as `tool`, in a sentence; null when it may. The file must be called
 * `ffmpeg`/`ffprobe` (`.exe` on Windows, any case there) and be a regular file (links followed, as
 * running it would) that is executable: a setting naming any other program is never run.
 */
export async function toolFileProblem(
  file: string,
  tool: 'ffmpeg' | 'ffprobe',
  platform: NodeJS.Platform = process.platform,
): Promise<string | null> {
  const pathApi = platform === 'win32' ? path.win32 : path.posix;
  const expected = binaryName(tool, platform);
  const base = pathApi.basename(file);
  const named = platform === 'win32' ? base.toLowerCase() === expected : base === expected;
  if (!named) {
    return `${file} is not an ${tool} program: only a file named ${expected} is run as ${tool} (this one is named ${base}).`;
  }
  let info: import('node:fs').Stats;
  try {
    info = await stat(file);
  } catch (error) {
    return `${file} cannot be used (${describe(error)}).`;
  }
  if (!info.isFile()) return `${file} is not a regular file, so it is not run as ${tool}.`;
  if (platform !== 'win32') {
    try {
      await access(file, constants.X_OK);
    } catch {
      return `${file} is not executable (allow it with \`chmod +x\`, or choose the ${tool} from your ffmpeg installation).`;
    }
  }
  return null;
}

/**
 * The setting may name the binary, the folder holding it, or a build's top folder with bin/. Answers
 * the binary, or why the setting names none that may run.
 */
async function resolveSetting(setting: string, platform: NodeJS.Platform): Promise<{ ffmpeg: string } | { problem: string }> {
  const pathApi = platform === 'win32' ? path.win32 : path.posix;
  const name = binaryName('ffmpeg', platform);
  const info = await stat(setting).catch(() => undefined);
  if (info === undefined) return { problem: `nothing is at ${setting}.` };
  if (!info.isDirectory()) {
    const problem = await toolFileProblem(setting, 'ffmpeg', platform);
    return problem === null ? { ffmpeg: setting } : { problem };
  }
  const candidates = [pathApi.join(setting, name), pathApi.join(setting, 'bin', name)];
  for (const candidate of candidates) {
    if ((await toolFileProblem(candidate, 'ffmpeg', platform)) === null) return { ffmpeg: candidate };
  }
  return { problem: `no runnable ${name} is in that folder or its bin${pathApi.sep} folder.` };
}

interface RunOutput {
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], timeoutMs: number): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, windowsHide: true, maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(error);
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** `ffmpeg version 5.1.9-0+deb12u1 Copyright …` → `5.1.9-0+deb12u1`; null if the text is not that. */
export function parseFfmpegVersion(versionOutput: string, tool: 'ffmpeg' | 'ffprobe' = 'ffmpeg'): string | null {
  const match = new RegExp(`^${tool} version (\\S+)`, 'm').exec(versionOutput);
  return match === null ? null : match[1]!;
}

/** Whether `ffmpeg -encoders` output lists the libx264 video encoder. */
export function listsLibx264(encodersOutput: string): boolean {
  return /^\s*V[A-Z.]{5}\s+libx264\s/m.test(encodersOutput);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if ((error as { killed?: boolean }).killed) return 'it did not answer in time';
    if (code === 'EACCES') return 'permission denied';
    if (code === 'ENOENT') return 'the file is gone';
    return error.message.split('\n')[0] ?? error.message;
  }
  return String(error);
}

async function locateUncached(
  setting: string | null,
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform,
  timeoutMs: number,
): Promise<FfmpegLocation> {
  const advice = ffmpegInstallAdvice(platform);
  const missing = (problem: FfmpegProblem, message: string): FfmpegMissing => ({ ok: false, problem, message });
  const pathApi = platform === 'win32' ? path.win32 : path.posix;

  let ffmpeg: string | null;
  const source: FfmpegFound['source'] = setting === null ? 'path' : 'setting';
  if (setting !== null) {
    const resolved = await resolveSetting(setting, platform);
    if ('problem' in resolved) {
      return missing(
        'setting_invalid',
        `The ffmpeg path set in Settings → Video (${setting}) was not run: ${resolved.problem} Choose the ffmpeg ` +
          `program (or its folder) again, or clear the setting to use ffmpeg from PATH. ${advice}`,
      );
    }
    ffmpeg = resolved.ffmpeg;
  } else {
    ffmpeg = await searchPath(binaryName('ffmpeg', platform), env, platform);
    if (ffmpeg === null) {
      return missing(
        'not_found',
        `Video jobs need ffmpeg (with the libx264 encoder) to write MP4 files, and none was found on PATH. ${advice}`,
      );
    }
  }

  let version: string | null;
  try {
    const out = await run(ffmpeg, ['-hide_banner', '-version'], timeoutMs);
    version = parseFfmpegVersion(out.stdout);
  } catch (error) {
    return missing('not_runnable', `ffmpeg at ${ffmpeg} could not be run (${describe(error)}). ${advice}`);
  }
  if (version === null) {
    return missing('not_runnable', `${ffmpeg} does not answer -version as ffmpeg does; it is not a usable ffmpeg. ${advice}`);
  }

  let encoders: string;
  try {
    encoders = (await run(ffmpeg, ['-hide_banner', '-encoders'], timeoutMs)).stdout;
  } catch (error) {
    return missing('not_runnable', `ffmpeg ${version} at ${ffmpeg} could not list its encoders (${describe(error)}). ${advice}`);
  }
  if (!listsLibx264(encoders)) {
    return missing(
      'no_libx264',
      `ffmpeg ${version} at ${ffmpeg} has no libx264 encoder, which video jobs need for H.264 MP4 ` +
        `(some builds leave it out for licensing reasons). Use a build that includes it. ${advice}`,
    );
  }

  const probeName = binaryName('ffprobe', platform);
  const besideFfmpeg = pathApi.join(pathApi.dirname(ffmpeg), probeName);
  // Beside a configured ffmpeg, ffprobe is held to the same rule before it is run.
  const besideOk = source === 'setting' ? (await toolFileProblem(besideFfmpeg, 'ffprobe', platform)) === null : await isExecutableFile(besideFfmpeg, platform);
  const ffprobe = besideOk ? besideFfmpeg : await searchPath(probeName, env, platform);
  if (ffprobe === null) {
    return missing(
      'no_ffprobe',
      `ffmpeg ${version} was found at ${ffmpeg}, but ffprobe (which reads videos back) is neither beside it nor on PATH. ` +
        `Install the full ffmpeg package, which includes ffprobe. ${advice}`,
    );
  }
  try {
    const out = await run(ffprobe, ['-hide_banner', '-version'], timeoutMs);
    if (parseFfmpegVersion(out.stdout, 'ffprobe') === null) throw new Error('it does not answer -version as ffprobe does');
  } catch (error) {
    return missing('no_ffprobe', `ffprobe at ${ffprobe} could not be run (${describe(error)}). ${advice}`);
  }
  return { ok: true, ffmpeg, ffprobe, version, source };
}
