/**
 * Progress of one job on stderr. On a terminal: one bar redrawn in place (step x/y, stage, ETA).
 * Elsewhere (a pipe, a CI log): one line per stage or state change, never one per step.
 */
import type { JobState } from '../../src-preload/contract/status.ts';
import { formatDuration } from './render.ts';

export interface ProgressSnapshot {
  readonly state: JobState;
  readonly step: number;
  readonly of: number;
  readonly stage: string | null;
  /** Queue position (0 = next) while queued. */
  readonly position: number | null;
  readonly etaMs: number | null;
}

export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Estimates the time left from the pace of the steps seen so far in the current stage. */
export class EtaEstimator {
  private stage: string | null = null;
  private first: { step: number; at: number } | null = null;

  /** The ETA in ms, or null until two distinct steps were seen. */
  update(step: number, of: number, stage: string | null, now: number): number | null {
    if (stage !== this.stage || this.first === null || step < this.first.step) {
      this.stage = stage;
      this.first = { step, at: now };
      return null;
    }
    const done = step - this.first.step;
    if (done <= 0 || of <= 0) return null;
    const perStep = (now - this.first.at) / done;
    return Math.max(0, Math.round(perStep * (of - step)));
  }
}

export function renderBar(done: number, of: number, width: number): string {
  const ratio = of > 0 ? Math.min(1, Math.max(0, done / of)) : 0;
  const full = Math.round(ratio * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}]`;
}

/** The terminal line: `running [████░░░░] 12/25 denoising  ETA 0:14`, fitted to `columns`. */
export function progressLine(s: ProgressSnapshot, columns = 80): string {
  if (s.state === 'queued') return `queued${s.position !== null ? ` (position ${s.position + 1})` : ''}, waiting for its turn`;
  if (s.state !== 'running') return s.state;
  const counts = s.of > 0 ? `${s.step}/${s.of}` : '';
  const eta = s.etaMs !== null ? `ETA ${formatDuration(s.etaMs)}` : '';
  const stage = s.stage ?? '';
  const fixed = ['running', counts, stage, eta].filter(Boolean).join(' ').length + 4;
  const barWidth = Math.max(10, Math.min(40, columns - fixed - 3));
  const line = ['running', s.of > 0 ? renderBar(s.step, s.of, barWidth) : '', counts, stage, eta ? ` ${eta}` : ''].filter(Boolean).join(' ');
  return [...line].slice(0, Math.max(20, columns - 1)).join('');
}

/** The line-mode text for a snapshot (printed only when it differs from the previous one). */
export function stageLine(s: ProgressSnapshot): string {
  if (s.state === 'queued') return `queued${s.position !== null ? ` (position ${s.position + 1})` : ''}`;
  if (s.state === 'running') return `running${s.stage ? `: ${s.stage}` : ''}${s.of > 0 ? ` (${s.of} steps)` : ''}`;
  return s.state;
}

export class ProgressReporter {
  private readonly out: ProgressStream;
  private readonly now: () => number;
  private readonly eta = new EtaEstimator();
  private lastKey: string | null = null;
  private drawn = false;

  constructor(out: ProgressStream, now: () => number = Date.now) {
    this.out = out;
    this.now = now;
  }

  get isTTY(): boolean {
    return this.out.isTTY === true;
  }

  update(snapshot: ProgressSnapshot): void {
    const estimated = snapshot.state === 'running' ? this.eta.update(snapshot.step, snapshot.of, snapshot.stage, this.now()) : null;
    const s = { ...snapshot, etaMs: snapshot.etaMs ?? estimated };
    if (this.isTTY) {
      this.out.write(`\r\x1b[2K${progressLine(s, this.out.columns || 80)}`);
      this.drawn = true;
      return;
    }
    const key = `${s.state}|${s.stage ?? ''}|${s.state === 'queued' ? (s.position ?? '') : ''}`;
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.out.write(`${stageLine(s)}\n`);
  }

  /** A message between updates (e.g. "cancelling…"), without garbling the bar. */
  note(text: string): void {
    if (this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
    this.out.write(`${text}\n`);
  }

  /** Leaves the terminal on a fresh line. */
  finish(): void {
    if (this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }
}
