/**
 * Settings → Cloud → What is mirrored: the typed fields (MB, KB/s) read as a `sync.setMirror` patch,
 * checked as the person types with the contract's own schema, so the form says the same sentence the
 * engine would.
 */
import { MirrorSettingsSchema } from '../../../contract.ts';
import type { MirrorSettings } from '../../../contract.ts';

const MB = 1024 * 1024;

/** What sync.setMirror takes: the fields to change. */
export type MirrorPatch = Omit<Partial<MirrorSettings>, 'projectIds'> & { projectIds?: string[] };

export type MirrorField = 'videoThumbOnlyOverBytes' | 'bandwidthLimit' | 'projectFileLimit';

/** A field's text read as the patch it makes, or the sentence saying what is wrong with it. */
export type FieldReading = { readonly ok: true; readonly patch: MirrorPatch } | { readonly ok: false; readonly message: string };

const UNIT: Record<MirrorField, number> = { videoThumbOnlyOverBytes: MB, bandwidthLimit: 1024, projectFileLimit: MB };
const EMPTY_ALLOWED: Record<MirrorField, boolean> = { videoThumbOnlyOverBytes: true, bandwidthLimit: true, projectFileLimit: false };
const EXAMPLE: Record<MirrorField, string> = {
  videoThumbOnlyOverBytes: 'a size in MB such as 200, or leave it empty to always send the original',
  bandwidthLimit: 'a speed in KB/s such as 512, or leave it empty for no limit',
  projectFileLimit: 'a size in MB such as 50 (the free plan’s limit)',
};

/** The text of a stored value: bytes shown in the field's unit (MB or KB/s), empty for none. */
export function fieldText(field: MirrorField, value: number | null): string {
  if (value === null) return '';
  return String(Number((value / UNIT[field]).toFixed(2)));
}

export function readField(field: MirrorField, text: string): FieldReading {
  const t = text.trim();
  let value: number | null;
  if (t === '') {
    if (!EMPTY_ALLOWED[field]) return { ok: false, message: `Enter ${EXAMPLE[field]}.` };
    value = null;
  } else {
    const n = Number(t);
    if (!Number.isFinite(n) || n < 0) return { ok: false, message: `Enter ${EXAMPLE[field]}.` };
    value = Math.round(n * UNIT[field]);
  }
  const parsed = MirrorSettingsSchema.safeParse({ [field]: value });
  if (!parsed.success) {
    const m = parsed.error.issues[0]?.message ?? `Enter ${EXAMPLE[field]}.`;
    return { ok: false, message: `${m.charAt(0).toUpperCase()}${m.slice(1)}${/[.!?]$/.test(m) ? '' : '.'}` };
  }
  return { ok: true, patch: { [field]: value } };
}
