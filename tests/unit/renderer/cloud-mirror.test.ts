/**
 * Settings → Cloud's words and checks: the typed mirror fields read as a sync.setMirror patch with
 * the contract's own sentences, the transfer line, the status bar's percent and tooltip, and where
 * the sign-up / reset links go.
 */
import { describe, expect, it } from 'vitest';
import type { CloudFilesStatus, CloudStatus, CloudTransfer } from '../../../src-preload/contract/index.ts';
import {
  cloudBadgeText,
  cloudBadgeTitle,
  sizeText,
  supabaseDashboardUsers,
  transferPercent,
  transferText,
} from '../../../src-renderer/src/features/settings/cloud/cloud-text.ts';
import { fieldText, readField } from '../../../src-renderer/src/features/settings/cloud/mirror-form.ts';

const MB = 1024 * 1024;

const files: CloudFilesStatus = {
  settings: { scope: 'all', projectIds: [], videoThumbOnlyOverBytes: null, downloadOriginals: false, bandwidthLimit: null, projectFileLimit: 50 * MB },
  transfer: null,
  uploadsWaiting: 0,
  downloadsWaiting: 0,
  uploadBytesWaiting: 0,
  localOnly: [],
  localOnlyCount: 0,
  failures: [],
};

function status(patch: Partial<CloudStatus> = {}, filesPatch: Partial<CloudFilesStatus> = {}): CloudStatus {
  return {
    url: 'https://abcdefghijklmnop.supabase.co',
    signedInAs: 'me@example.com',
    enabled: true,
    paused: false,
    syncing: false,
    lastSyncAt: 1,
    waiting: 0,
    failures: [],
    lastError: null,
    nextAttemptAt: null,
    sessionStorage: 'the keychain',
    files: { ...files, ...filesPatch },
    ...patch,
  };
}

const upload: CloudTransfer = { assetId: 'a', name: 'storm.mp4', direction: 'up', part: 'original', bytes: 3.2 * MB, total: 12 * MB, bytesPerSecond: 1.4 * MB };

describe('What is mirrored: typed fields', () => {
  it('reads MB and KB/s as bytes, empty as none where none is allowed', () => {
    expect(readField('videoThumbOnlyOverBytes', '200')).toEqual({ ok: true, patch: { videoThumbOnlyOverBytes: 200 * MB } });
    expect(readField('videoThumbOnlyOverBytes', ' ')).toEqual({ ok: true, patch: { videoThumbOnlyOverBytes: null } });
    expect(readField('bandwidthLimit', '512')).toEqual({ ok: true, patch: { bandwidthLimit: 512 * 1024 } });
    expect(readField('bandwidthLimit', '')).toEqual({ ok: true, patch: { bandwidthLimit: null } });
    expect(readField('projectFileLimit', '1.5')).toEqual({ ok: true, patch: { projectFileLimit: 1.5 * MB } });
  });

  it("says what is wrong in the contract's words as it is typed", () => {
    expect(readField('bandwidthLimit', '8')).toEqual({ ok: false, message: 'A speed limit under 16 KB/s would take hours for one image: leave it empty for no limit.' });
    expect(readField('projectFileLimit', '0.5')).toEqual({ ok: false, message: 'The project file limit is at least 1 MB.' });
    expect(readField('projectFileLimit', '')).toEqual({ ok: false, message: 'Enter a size in MB such as 50 (the free plan’s limit).' });
    expect(readField('videoThumbOnlyOverBytes', 'lots')).toEqual({ ok: false, message: 'Enter a size in MB such as 200, or leave it empty to always send the original.' });
    expect(readField('bandwidthLimit', '-3').ok).toBe(false);
  });

  it('shows stored values in the field’s unit', () => {
    expect(fieldText('projectFileLimit', 50 * MB)).toBe('50');
    expect(fieldText('bandwidthLimit', 512 * 1024)).toBe('512');
    expect(fieldText('videoThumbOnlyOverBytes', null)).toBe('');
  });
});

describe('the file moving now', () => {
  it('bytes of total and speed, and a whole percent', () => {
    expect(sizeText(640 * 1024)).toBe('640 KB');
    expect(transferText(upload)).toBe('3.2 MB of 12 MB · 1.4 MB/s');
    expect(transferText({ ...upload, bytesPerSecond: 0 })).toBe('3.2 MB of 12 MB');
    expect(transferPercent(upload)).toBe(26);
    expect(transferPercent({ ...upload, total: 0 })).toBe(0);
  });

  it('the status bar says ↑ and the percent while uploading, with the speed in its tooltip', () => {
    const s = status({}, { transfer: upload });
    expect(cloudBadgeText(s)).toBe('Cloud: ↑ 26 %');
    expect(cloudBadgeTitle(s)).toBe('Uploading storm.mp4 (original): 3.2 MB of 12 MB · 1.4 MB/s');
    expect(cloudBadgeText(status({}, { transfer: { ...upload, direction: 'down' } }))).toBe('Cloud: ↓ 26 %');
  });

  it('files waiting or failed show when no change waits', () => {
    expect(cloudBadgeText(status({}, { uploadsWaiting: 3 }))).toBe('Cloud: 3 files waiting');
    expect(cloudBadgeText(status({}, { failures: [{ assetId: 'a', name: 'x', direction: 'up', reason: 'r' }] }))).toBe('Cloud: 1 file failed');
    expect(cloudBadgeText(status())).toBe('Cloud: synced');
    expect(cloudBadgeTitle(status())).toBe('Cloud sync settings');
  });
});

describe('sign-up and password reset', () => {
  it('a hosted project links to its dashboard users page; a self-hosted one has no link', () => {
    expect(supabaseDashboardUsers('https://abcdefghijklmnop.supabase.co')).toBe('https://supabase.com/dashboard/project/abcdefghijklmnop/auth/users');
    expect(supabaseDashboardUsers('http://127.0.0.1:54321')).toBeNull();
    expect(supabaseDashboardUsers('https://supabase.example.com')).toBeNull();
  });
});
