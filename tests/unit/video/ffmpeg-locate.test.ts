import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FfmpegMissingError,
  ffmpegInstallAdvice,
  forgetFfmpegLocations,
  listsLibx264,
  locateFfmpeg,
  parseFfmpegVersion,
  requireFfmpeg,
  toolFileProblem,
} from '../../../src-main/engine/media/ffmpeg-locate.ts';
import { HAS_FFMPEG, tempDir } from './helpers.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const realVersion = readFileSync(join(fixtures, 'ffmpeg-version.txt'), 'utf8');
const realEncoders = readFileSync(join(fixtures, 'ffmpeg-encoders.txt'), 'utf8');
const posix = process.platform !== 'win32';

let dir: string;
beforeEach(() => {
  dir = tempDir('ourvidz-ffmpeg-locate-');
  forgetFfmpegLocations();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A shell script posing as ffmpeg/ffprobe: answers -version and -encoders with the given text. */
function fakeTool(path: string, version: string, encoders: string): string {
  mkdirSync(dirname(path), { recursive: true });
  const versionFile = `${path}.version.txt`;
  const encodersFile = `${path}.encoders.txt`;
  writeFileSync(versionFile, version);
  writeFileSync(encodersFile, encoders);
  writeFileSync(
    path,
    `#!/bin/sh\nfor a in "$@"; do\n  case "$a" in\n    -version) cat '${versionFile}'; exit 0;;\n    -encoders) cat '${encodersFile}'; exit 0;;\n  esac\ndone\nexit 1\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

const withoutX264 = realEncoders.split('\n').filter((l) => !/libx264/.test(l)).join('\n');
const probeVersion = realVersion.replace(/^ffmpeg version/m, 'ffprobe version');

describe('parsers on real ffmpeg output', () => {
  it('reads the version from -version', () => {
    expect(parseFfmpegVersion(realVersion)).toBe('5.1.9-0+deb12u1');
    expect(parseFfmpegVersion('ffmpeg version 7.1-full_build-www.gyan.dev Copyright (c) 2000-2024')).toBe('7.1-full_build-www.gyan.dev');
    expect(parseFfmpegVersion('GNU bash, version 5.2')).toBeNull();
  });

  it('finds libx264 in -encoders, and not in a build without it', () => {
    expect(listsLibx264(realEncoders)).toBe(true);
    expect(listsLibx264(withoutX264)).toBe(false);
    // libx264rgb alone is not enough: it cannot write yuv420p.
    expect(listsLibx264(' V....D libx264rgb           libx264 H.264 RGB (codec h264)\n')).toBe(false);
  });
});

describe('install advice', () => {
  it('names the package, the Windows builds and where to set the path', () => {
    expect(ffmpegInstallAdvice('linux')).toContain('sudo apt install ffmpeg');
    const windows = ffmpegInstallAdvice('win32');
    expect(windows).toContain('gyan.dev');
    expect(windows).toContain('BtbN');
    expect(windows).toContain('Settings → Video');
    expect(ffmpegInstallAdvice('darwin')).toContain('brew install ffmpeg');
  });
});

describe('locateFfmpeg', () => {
  it.skipIf(!HAS_FFMPEG)('finds the installed ffmpeg and ffprobe on PATH and checks them', async () => {
    const found = await locateFfmpeg();
    expect(found).toMatchObject({ ok: true, source: 'path' });
    if (!found.ok) return;
    expect(found.ffmpeg).toMatch(/ffmpeg(\.exe)?$/);
    expect(found.ffprobe).toMatch(/ffprobe(\.exe)?$/);
    expect(found.version).toMatch(/^\S+$/);
  });

  it('with an empty PATH, says ffmpeg is missing and how to install it', async () => {
    const found = await locateFfmpeg({ env: { PATH: '' }, platform: 'linux' });
    expect(found.ok).toBe(false);
    if (found.ok) return;
    expect(found.problem).toBe('not_found');
    expect(found.message).toMatch(/need ffmpeg/);
    expect(found.message).toContain('sudo apt install ffmpeg');
  });

  it('gives Windows advice on Windows (PATH spelt Path, as Windows does)', async () => {
    const found = await locateFfmpeg({ env: { Path: dir }, platform: 'win32' });
    expect(found.ok).toBe(false);
    if (found.ok) return;
    expect(found.problem).toBe('not_found');
    expect(found.message).toContain('gyan.dev');
    expect(found.message).toContain('Settings → Video');
  });

  it('reports a setting that points nowhere instead of silently using PATH', async () => {
    const missing = join(dir, 'nope', 'ffmpeg');
    const found = await locateFfmpeg({ ffmpegPath: missing });
    expect(found.ok).toBe(false);
    if (found.ok) return;
    expect(found.problem).toBe('setting_invalid');
    expect(found.message).toContain(missing);
    expect(found.message).toContain('Settings → Video');
  });

  it.skipIf(!posix)('accepts the setting as the binary, its folder, or a build folder with bin/', async () => {
    const ffmpeg = fakeTool(join(dir, 'build', 'bin', 'ffmpeg'), realVersion, realEncoders);
    fakeTool(join(dir, 'build', 'bin', 'ffprobe'), probeVersion, '');
    for (const setting of [ffmpeg, join(dir, 'build', 'bin'), join(dir, 'build')]) {
      const found = await locateFfmpeg({ ffmpegPath: setting, env: { PATH: '' } });
      expect(found).toEqual({ ok: true, ffmpeg, ffprobe: join(dir, 'build', 'bin', 'ffprobe'), version: '5.1.9-0+deb12u1', source: 'setting' });
    }
  });

  it.skipIf(!posix)('refuses an ffmpeg without libx264, saying why', async () => {
    fakeTool(join(dir, 'bin', 'ffmpeg'), realVersion, withoutX264);
    fakeTool(join(dir, 'bin', 'ffprobe'), probeVersion, '');
    const found = await locateFfmpeg({ env: { PATH: join(dir, 'bin') }, platform: 'linux' });
    expect(found).toMatchObject({ ok: false, problem: 'no_libx264' });
    if (found.ok) return;
    expect(found.message).toContain('libx264');
    expect(found.message).toContain('5.1.9-0+deb12u1');
    expect(found.message).toContain('sudo apt install ffmpeg');
  });

  it.skipIf(!posix)('refuses a program that is not ffmpeg', async () => {
    fakeTool(join(dir, 'bin', 'ffmpeg'), 'GNU something 1.0\n', '');
    const found = await locateFfmpeg({ env: { PATH: join(dir, 'bin') }, platform: 'linux' });
    expect(found).toMatchObject({ ok: false, problem: 'not_runnable' });
  });

  it.skipIf(!posix)('skips a non-executable file on PATH', async () => {
    const ffmpeg = fakeTool(join(dir, 'bin', 'ffmpeg'), realVersion, realEncoders);
    chmodSync(ffmpeg, 0o644);
    const found = await locateFfmpeg({ env: { PATH: join(dir, 'bin') }, platform: 'linux' });
    expect(found).toMatchObject({ ok: false, problem: 'not_found' });
  });

  it.skipIf(!posix)('needs ffprobe beside ffmpeg or on PATH', async () => {
    fakeTool(join(dir, 'a', 'ffmpeg'), realVersion, realEncoders);
    const alone = await locateFfmpeg({ env: { PATH: join(dir, 'a') }, platform: 'linux' });
    expect(alone).toMatchObject({ ok: false, problem: 'no_ffprobe' });
    const probe = fakeTool(join(dir, 'b', 'ffprobe'), probeVersion, '');
    const found = await locateFfmpeg({ env: { PATH: `${join(dir, 'a')}:${join(dir, 'b')}` }, platform: 'linux' });
    expect(found).toMatchObject({ ok: true, ffprobe: probe });
  });

  it.skipIf(!posix)('caches the answer until asked to re-check', async () => {
    const env = { PATH: join(dir, 'bin') };
    const first = await locateFfmpeg({ env, platform: 'linux' });
    expect(first.ok).toBe(false);
    // The user installs ffmpeg: the cached answer stands until a re-check.
    fakeTool(join(dir, 'bin', 'ffmpeg'), realVersion, realEncoders);
    fakeTool(join(dir, 'bin', 'ffprobe'), probeVersion, '');
    expect(await locateFfmpeg({ env, platform: 'linux' })).toBe(first);
    expect((await locateFfmpeg({ env, platform: 'linux', recheck: true })).ok).toBe(true);
    expect((await locateFfmpeg({ env, platform: 'linux' })).ok).toBe(true);
  });
});

describe('requireFfmpeg', () => {
  it('throws FfmpegMissingError (code ffmpeg_missing, not transient) with the install advice', async () => {
    const error = await requireFfmpeg({ env: { PATH: '' }, platform: 'linux' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegMissingError);
    expect(error).toMatchObject({ code: 'ffmpeg_missing', transient: false, problem: 'not_found' });
    expect((error as Error).message).toContain('sudo apt install ffmpeg');
  });

  it.skipIf(!posix)('re-checks a cached failure once, so installing ffmpeg while the app runs is enough', async () => {
    const env = { PATH: join(dir, 'bin') };
    expect((await locateFfmpeg({ env, platform: 'linux' })).ok).toBe(false);
    fakeTool(join(dir, 'bin', 'ffmpeg'), realVersion, realEncoders);
    fakeTool(join(dir, 'bin', 'ffprobe'), probeVersion, '');
    await expect(requireFfmpeg({ env, platform: 'linux' })).resolves.toMatchObject({ ok: true, version: '5.1.9-0+deb12u1' });
  });
});

/**
 * The setting names a program the engine runs, so a program that does not look like ffmpeg is
 * never run: each of these would leave a mark if it ran.
 */
describe('a configured program is run only when it looks like ffmpeg', () => {
  /** An executable that leaves `ran` behind when run, and otherwise behaves like ffmpeg. */
  function markingTool(path: string): { path: string; ran: string } {
    mkdirSync(dirname(path), { recursive: true });
    const ran = `${path}.ran`;
    writeFileSync(path, `#!/bin/sh\ntouch '${ran}'\ncat '${join(fixtures, 'ffmpeg-version.txt')}'\n`);
    chmodSync(path, 0o755);
    return { path, ran };
  }

  it.skipIf(!posix)('refuses a program of another name without running it, and says why', async () => {
    const tool = markingTool(join(dir, 'downloads', 'payload'));
    const found = await locateFfmpeg({ ffmpegPath: tool.path, env: { PATH: '' }, platform: 'linux' });
    expect(found).toMatchObject({ ok: false, problem: 'setting_invalid' });
    if (found.ok) return;
    expect(found.message).toContain(`${tool.path} is not an ffmpeg program: only a file named ffmpeg is run as ffmpeg (this one is named payload).`);
    expect(found.message).toContain('clear the setting to use ffmpeg from PATH');
    expect(existsSync(tool.ran)).toBe(false);
  });

  it.skipIf(!posix)('judges a link by its own name, and runs what it points to only when that name is ffmpeg', async () => {
    const tool = markingTool(join(dir, 'real', 'payload'));
    symlinkSync(tool.path, join(dir, 'sh-link'));
    expect(await locateFfmpeg({ ffmpegPath: join(dir, 'sh-link'), env: { PATH: '' }, platform: 'linux' })).toMatchObject({ ok: false, problem: 'setting_invalid' });
    expect(existsSync(tool.ran)).toBe(false);
  });

  it.skipIf(!posix)('refuses a file named ffmpeg that is not executable or not a regular file', async () => {
    const plain = join(dir, 'plain', 'ffmpeg');
    mkdirSync(dirname(plain), { recursive: true });
    writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 });
    expect(await toolFileProblem(plain, 'ffmpeg', 'linux')).toMatch(/is not executable \(allow it with `chmod \+x`/);
    const folder = join(dir, 'folder', 'ffmpeg');
    mkdirSync(folder, { recursive: true });
    expect(await toolFileProblem(folder, 'ffmpeg', 'linux')).toBe(`${folder} is not a regular file, so it is not run as ffmpeg.`);
    // A folder set as the setting is searched, and a folder named ffmpeg inside it is not a program.
    const found = await locateFfmpeg({ ffmpegPath: join(dir, 'folder'), env: { PATH: '' }, platform: 'linux' });
    expect(found).toMatchObject({ ok: false, problem: 'setting_invalid' });
    if (!found.ok) expect(found.message).toContain('no runnable ffmpeg is in that folder or its bin/ folder.');
  });

  it.skipIf(!posix)('holds ffprobe to its own name', async () => {
    const probe = markingTool(join(dir, 'build', 'ffprobe'));
    expect(await toolFileProblem(probe.path, 'ffprobe', 'linux')).toBeNull();
    expect(await toolFileProblem(probe.path, 'ffmpeg', 'linux')).toContain('only a file named ffmpeg is run as ffmpeg (this one is named ffprobe)');
  });

  it('wants ffmpeg.exe on Windows, in any case, and nothing else', async () => {
    const problem = await toolFileProblem('C:\\Windows\\System32\\calc.exe', 'ffmpeg', 'win32');
    expect(problem).toBe('C:\\Windows\\System32\\calc.exe is not an ffmpeg program: only a file named ffmpeg.exe is run as ffmpeg (this one is named calc.exe).');
    expect(await toolFileProblem('C:\\tools\\ffmpeg', 'ffmpeg', 'win32')).toContain('only a file named ffmpeg.exe');
    // The name is right: what is left is that nothing is there on this machine.
    expect(await toolFileProblem('C:\\tools\\bin\\FFmpeg.EXE', 'ffmpeg', 'win32')).toMatch(/cannot be used \(the file is gone\)/);
  });
});
