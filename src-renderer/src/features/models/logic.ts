/**
 * The Models view's words and arithmetic, pure so they are tested on their own: what a preparation
 * is doing in a line, which answer about it is newer, which cards to show, which models a job type
 * can use, and how a model reads in a picker.
 */
import type { ModelFamily, ModelInfo, Preparation } from '../../contract.ts';
import { formatDuration, formatFileSize } from '../../format.ts';

export const FAMILY_LABEL: Readonly<Record<ModelInfo['family'], string>> = { sdxl: 'SDXL', wan: 'WAN 2.1', qwen: 'Qwen 2.5' };

const PHASE_LABEL: Readonly<Record<NonNullable<Preparation['phase']>, string>> = {
  checking: 'checking the file',
  hashing: 'reading (model hash)',
  building: 'building the graphs',
  writing: 'writing',
};

export function phaseLabel(phase: Preparation['phase']): string {
  return phase ? PHASE_LABEL[phase] : 'starting';
}

/** 0–100, whole, for the progress bar. */
export function percent(p: Pick<Preparation, 'fraction'>): number {
  return Math.max(0, Math.min(100, Math.round(p.fraction * 100)));
}

/** "reading (model hash) · 2.9 GB of 6.9 GB · about 12s left", as far as each part is known. */
export function progressLine(p: Preparation): string {
  const parts = [phaseLabel(p.phase)];
  if (p.bytesTotal > 0) parts.push(`${formatFileSize(p.bytesDone)} of ${formatFileSize(p.bytesTotal)}`);
  if (p.etaSeconds !== null && p.etaSeconds > 0) parts.push(`about ${formatDuration(p.etaSeconds * 1000)} left`);
  return parts.join(' · ');
}

const FINISHED: ReadonlySet<Preparation['state']> = new Set(['done', 'failed', 'cancelled']);

export function isFinished(p: Preparation): boolean {
  return FINISHED.has(p.state);
}

/**
 * Whether `next` should replace `known` (the same preparation): an answer to a list call can be
 * older than an event already applied, so a finished state is never undone and progress never
 * goes backwards.
 */
export function isNewerPreparation(known: Preparation | undefined, next: Preparation): boolean {
  if (!known) return true;
  if (isFinished(known)) return isFinished(next) && (next.finishedAt ?? 0) >= (known.finishedAt ?? 0);
  if (isFinished(next)) return true;
  return next.fraction >= known.fraction;
}

/**
 * The cards to show, newest first: the latest run of each file (a later run, Try again included,
 * supersedes a failed or cancelled one, also after a reload), unless it is done — its model is in
 * the list then — or the person closed it.
 */
export function visiblePreparations(preparations: Readonly<Record<string, Preparation>>, dismissed: readonly string[]): Preparation[] {
  const latest = new Map<string, Preparation>();
  for (const p of Object.values(preparations)) {
    const known = latest.get(p.source);
    if (!known || p.startedAt > known.startedAt || (p.startedAt === known.startedAt && p.id > known.id)) latest.set(p.source, p);
  }
  return [...latest.values()].filter((p) => p.state !== 'done' && !dismissed.includes(p.id)).sort((a, b) => b.startedAt - a.startedAt);
}

/** The preparation running for a file or folder, if any (a "Ready to prepare" row shows it). */
export function runningFor(preparations: Readonly<Record<string, Preparation>>, path: string): Preparation | null {
  return Object.values(preparations).find((p) => p.state === 'preparing' && p.source === path) ?? null;
}

export function modelStatusLabel(model: ModelInfo): string {
  if (model.status === 'ready') return 'Ready';
  if (model.status === 'needs_preparation') return 'Ready to prepare';
  return 'Invalid';
}

/** Models a job of this family can run on now, in the engine's order (those removed from the list left out). */
export function readyModels(models: readonly ModelInfo[] | null, family: ModelFamily | 'qwen'): ModelInfo[] {
  return (models ?? []).filter((m) => m.family === family && m.status === 'ready' && !m.hidden);
}

/** The model a job of this family that names none runs on: the one the engine marks, else the first ready. */
export function defaultModel(models: readonly ModelInfo[] | null, family: ModelFamily | 'qwen'): ModelInfo | undefined {
  const ready = readyModels(models, family);
  return ready.find((m) => m.isDefault) ?? ready[0];
}

/** "Tiny XL v1.0 · fp16" — the name a person gave it and how it is stored. */
export function modelOptionLabel(model: ModelInfo): string {
  return model.precision === 'unknown' ? model.name : `${model.name} · ${model.precision}`;
}

/**
 * What the Workspace says when a job type's family has no ready model (null when it has one, or
 * while the list loads), and where it sends the person: a checkpoint waiting in a model folder is
 * prepared in Models, an SDXL file is added with Add model…, a WAN model goes into a model folder.
 */
export function missingModelNote(
  models: readonly ModelInfo[] | null,
  family: ModelFamily,
): { readonly message: string; readonly action: 'prepare' | 'add' | 'folders' } | null {
  if (models === null || readyModels(models, family).length > 0) return null;
  const waiting = models.filter((m) => m.family === family && m.status === 'needs_preparation' && !m.hidden).length;
  const label = FAMILY_LABEL[family];
  const removed = models.filter((m) => m.family === family && m.status === 'ready' && m.hidden).length;
  if (removed > 0) {
    return { message: `Every ready ${label} model was removed from the list, so jobs of this type would fail. Put one back in Models (Show removed).`, action: 'prepare' };
  }
  if (waiting > 0) {
    const which = waiting === 1 ? 'a checkpoint in your model folders is' : `${waiting} checkpoints in your model folders are`;
    return { message: `No ${label} model is prepared yet: ${which} ready to prepare, and jobs of this type fail until one is.`, action: 'prepare' };
  }
  if (family === 'sdxl') return { message: `No ${label} model is ready, so jobs of this type would fail. Add one first.`, action: 'add' };
  return { message: `No ${label} model is ready, so jobs of this type would fail. Put its model folder into one of your model folders.`, action: 'folders' };
}

/**
 * The engine's sentences as sentences: a leading plain word gets its capital ("the disk…" → "The
 * disk…"), a leading file name or path keeps its spelling ("detail_slider.safetensors is a LoRA…"),
 * and the end gets its full stop.
 */
export function asSentence(text: string): string {
  const t = text.trim();
  const s = /^[a-z]+(\s|$)/.test(t) ? t.charAt(0).toUpperCase() + t.slice(1) : t;
  return s === '' || /[.!?]$/.test(s) ? s : `${s}.`;
}

/** A path typed or pasted: quotes a file manager's "Copy as path" adds are taken off. */
export function cleanPath(text: string): string {
  const t = text.trim();
  const quoted = /^(["'])(.*)\1$/.exec(t);
  return (quoted ? quoted[2]! : t).trim();
}
