/**
 * `studio sync status`'s files block as a person reads it: the file moving now with a text bar,
 * bytes of total and speed; what waits; the files kept here with their reason (10, then a count);
 * failures with their direction and reason.
 */
import { describe, expect, it } from 'vitest';
import { filesText, mirrorText, sizeText, transferLine } from '../../../src-main/cli/sync.ts';
import type { CloudFilesStatus, MirrorSettings } from '../../../src-preload/contract/sync.ts';

const MB = 1024 * 1024;
const settings: MirrorSettings = { scope: 'all', projectIds: [], videoThumbOnlyOverBytes: null, downloadOriginals: false, bandwidthLimit: null, projectFileLimit: 50 * MB };

function files(patch: Partial<CloudFilesStatus> = {}): CloudFilesStatus {
  return { settings, transfer: null, uploadsWaiting: 0, downloadsWaiting: 0, uploadBytesWaiting: 0, localOnly: [], localOnlyCount: 0, failures: [], ...patch };
}

describe('studio sync status: files', () => {
  it('sizes read in KB, MB and GB of 1024', () => {
    expect(sizeText(0)).toBe('0 KB');
    expect(sizeText(812 * 1024)).toBe('812 KB');
    expect(sizeText(3.2 * MB)).toBe('3.2 MB');
    expect(sizeText(12 * MB)).toBe('12 MB');
    expect(sizeText(1.5 * 1024 * MB)).toBe('1.5 GB');
  });

  it('the file moving now: name, part, a bar, bytes of total and speed', () => {
    const line = transferLine({ assetId: 'a', name: 'harbour.mp4', direction: 'up', part: 'original', bytes: 3 * MB, total: 12 * MB, bytesPerSecond: 1.4 * MB }, 8);
    expect(line).toBe('uploading harbour.mp4 (original) [██░░░░░░] 3.0 MB of 12 MB · 1.4 MB/s');
    // No speed yet while starting.
    expect(transferLine({ assetId: 'a', name: 'x.png', direction: 'down', part: 'thumbnail', bytes: 0, total: 2048, bytesPerSecond: 0 }, 4)).toBe(
      'downloading x.png (thumbnail) [░░░░] 0 KB of 2 KB',
    );
  });

  it('what waits, what stays here (the first 10 and how many more), what failed', () => {
    const localOnly = Array.from({ length: 12 }, (_, i) => ({ assetId: `a${i}`, name: `clip${i}.mp4`, reason: 'over the limit' }));
    const text = filesText(
      files({
        uploadsWaiting: 3,
        uploadBytesWaiting: 12 * MB,
        downloadsWaiting: 1,
        localOnly,
        localOnlyCount: 12,
        failures: [{ assetId: 'f', name: 'storm.png', direction: 'up', reason: 'the cloud refused the upload (HTTP 403)' }],
      }),
    ).join('\n');
    expect(text).toContain('files:       nothing moving now');
    expect(text).toContain('  waiting:   3 to upload (12 MB), 1 to download');
    expect(text).toContain('  kept on this computer: 12');
    expect(text).toContain('    clip0.mp4: over the limit');
    expect(text).toContain('    clip9.mp4: over the limit');
    expect(text).not.toContain('clip10.mp4');
    expect(text).toContain('… and 2 more');
    expect(text).toContain('    ↑ storm.png: the cloud refused the upload (HTTP 403)');
  });

  it('the choices in one line', () => {
    expect(mirrorText(settings)).toBe('every asset; video originals at any size; originals from other desktops come when opened; no speed limit; project file limit 50 MB');
    expect(mirrorText({ ...settings, scope: 'projects', projectIds: ['p'], videoThumbOnlyOverBytes: 200 * MB, downloadOriginals: true, bandwidthLimit: 512 * 1024 })).toBe(
      'the assets of 1 chosen project; videos over 200 MB: thumbnail only; originals from other desktops come by themselves; at most 512 KB/s; project file limit 50 MB',
    );
  });
});
