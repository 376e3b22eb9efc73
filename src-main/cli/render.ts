/** Human output: aligned tables, durations, sizes, job summaries. Pure functions of their inputs. */
import type { GpuStats, JobView, ModelInfo, QueueState } from '../../src-preload/contract/status.ts';

/** Display width of a string: code points, not UTF-16 units (good enough for a terminal table). */
export function displayWidth(s: string): number {
  return [...s].length;
}

/**
 * Characters a terminal acts on instead of showing: C0 controls (ESC starts the sequences that
 * clear the screen, move the cursor or set the window title; CR rewrites the line), DEL, the C1
 * controls (some terminals take U+009B as CSI), and the bidirectional marks and overrides that make
 * text display in a different order than it reads (Trojan Source).
 */
const UNSAFE_FOR_TERMINAL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from files and other programs (file names, prompts, metadata) as it may be printed: every
 * character a terminal would act on written as a visible escape (`\x1b`, `\u202e`), except those in
 * `keep` (newline and tab by default).
 */
export function terminalSafe(text: string, keep = '\n\t'): string {
  return text.replace(UNSAFE_FOR_TERMINAL, (c) => {
    if (keep.includes(c)) return c;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** JSON text with the characters JSON.stringify leaves raw but a terminal acts on (DEL, C1, bidi) as \u escapes: the same JSON value. */
export function terminalSafeJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One line of at most `max` characters: whitespace runs become one space, controls are escaped. */
export function truncate(s: string, max: number): string {
  const chars = [...terminalSafe(s.replace(/\s+/g, ' '), '')];
  return chars.length <= max ? chars.join('') : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/**
 * Columns padded to their widest cell, separated by two spaces; the last column is not padded so
 * lines carry no trailing blanks. `right` lists the columns to right-align (numbers).
 */
export function renderTable(headers: readonly string[] | null, rows: readonly (readonly string[])[], right: readonly number[] = []): string {
  const all = (headers ? [headers, ...rows] : rows).map((r) => r.map((cell) => terminalSafe(cell)));
  const cols = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, c) => Math.max(0, ...all.map((r) => displayWidth(r[c] ?? ''))));
  return all
    .map((r) =>
      Array.from({ length: cols }, (_, c) => {
        const cell = r[c] ?? '';
        const pad = ' '.repeat(widths[c]! - displayWidth(cell));
        if (right.includes(c)) return pad + cell;
        return c === cols - 1 ? cell : cell + pad;
      })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `0:07`, `3:12`, `1:02:03`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** `12s ago`, `5m ago`, `3h ago`, `2d ago`. */
export function formatAge(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** The state column: `queued #2`, `running 12/25`, `done`, `failed (oom)`. */
export function stateLabel(job: JobView): string {
  const s = job.status;
  switch (s.state) {
    case 'queued':
      return `queued${job.position !== null ? ` #${job.position + 1}` : ''}${s.notBefore ? ' (retry wait)' : ''}`;
    case 'running':
      return `running ${s.step}/${s.of}${s.stage ? ` ${s.stage}` : ''}`;
    case 'failed':
      return `failed (${s.code})`;
    default:
      return s.state;
  }
}

export function jobsTable(jobs: readonly JobView[], now: number): string {
  if (jobs.length === 0) return 'No jobs.';
  return renderTable(
    ['ID', 'TYPE', 'STATE', 'CREATED', 'PROMPT'],
    jobs.map((j) => [j.id, j.type, stateLabel(j), formatAge(j.createdAt, now), truncate(j.params.prompt, 48)]),
  );
}

export function jobDetail(job: JobView, now: number): string {
  const p = job.params;
  const s = job.status;
  const rows: string[][] = [
    ['id', job.id],
    ['type', job.type],
    ['state', stateLabel(job)],
  ];
  if (s.state === 'queued' && s.reason) rows.push(['reason', s.reason]);
  if (s.state === 'failed') rows.push(['error', s.message]);
  if (s.state === 'done') rows.push(['assets', s.assets.join(', ') || '(none)']);
  rows.push(
    ['prompt', p.prompt],
    ...(p.negativePrompt ? [['negative', p.negativePrompt]] : []),
    ...(p.enhancedPrompt ? [['enhanced', p.enhancedPrompt]] : []),
    ['seed', String(p.seed)],
    ['steps', String(p.steps)],
    ['guidance', String(p.guidance)],
    ['size', `${p.width}×${p.height}`],
    ['frames', String(p.frames)],
    ['count', String(p.count)],
    ...(p.batchIndex !== null ? [['batch index', String(p.batchIndex)]] : []),
    ['scheduler', p.scheduler],
    ['model', job.modelId ?? p.model ?? '(default)'],
    ['attempts', `${job.attempts} of ${job.maxAttempts}`],
    ['created', `${new Date(job.createdAt).toISOString()} (${formatAge(job.createdAt, now)})`],
  );
  if (job.startedAt !== null) rows.push(['started', new Date(job.startedAt).toISOString()]);
  if (job.finishedAt !== null) {
    rows.push(['finished', new Date(job.finishedAt).toISOString()]);
    if (job.startedAt !== null) rows.push(['took', formatDuration(job.finishedAt - job.startedAt)]);
  }
  if (job.provider) rows.push(['provider', job.provider + (job.providerNote ? ` (${job.providerNote})` : '')]);
  if (job.peakVramMb !== null) rows.push(['peak VRAM', `${job.peakVramMb} MiB`]);
  if (job.idempotencyKey) rows.push(['idempotency key', job.idempotencyKey]);
  return renderTable(null, rows);
}

export function queueLine(q: QueueState): string {
  return `queue ${q.paused ? 'paused' : 'running'}: ${q.queued} queued, ${q.running} running`;
}

export function modelsTable(models: readonly ModelInfo[], searched: readonly string[]): string {
  if (models.length === 0) {
    return `No models found${searched.length ? ` in ${searched.join(', ')}` : ''}.\nAdd an SDXL checkpoint with \`studio models add FILE\`, or put model folders there (or pass --models DIR).`;
  }
  const status = (m: ModelInfo): string => (m.status === 'needs_preparation' ? 'to prepare' : m.status);
  // DEFAULT: the model a job of its family runs on when it names none; removed ones say so (Models → Put back).
  const mark = (m: ModelInfo): string => (m.hidden ? 'removed' : m.isDefault ? 'default' : '');
  const table = renderTable(
    ['ID', 'FAMILY', 'DEFAULT', 'STATUS', 'PRECISION', 'SIZE', 'HASH', 'PATH'],
    models.map((m) => [m.id, m.family, mark(m), status(m), m.precision, formatBytes(m.sizeBytes), m.hash ?? '', m.source ?? m.path]),
    [5],
  );
  const problems = models.filter((m) => m.problems.length).map((m) => `${m.id}:\n${m.problems.map((p) => `  - ${p}`).join('\n')}`);
  const waiting = models.filter((m) => m.status === 'needs_preparation');
  const hint = waiting.length
    ? `\n\n${waiting.length === 1 ? '1 checkpoint is' : `${waiting.length} checkpoints are`} not prepared yet: studio models add "${waiting[0]!.path}"${waiting.length > 1 ? ' (and the others)' : ''}`
    : '';
  return `${table}${problems.length ? `\n\nProblems:\n${problems.join('\n')}` : ''}${hint}`;
}

export function gpuReport(g: GpuStats): string {
  const mem = g.memoryUsedMb !== null ? `${g.memoryUsedMb} / ${g.memoryTotalMb} MiB used` : `${g.memoryTotalMb} MiB`;
  const rows = [
    ['GPU', g.name ?? '(unknown)'],
    ['memory', mem],
    ...(g.utilizationPct !== null ? [['utilization', `${g.utilizationPct}%`]] : []),
    ['VRAM budget', `${g.budgetMb} MiB`],
    ['source', g.source],
  ];
  const parts = [renderTable(null, rows)];
  if (g.note) parts.push(`note: ${g.note}`);
  parts.push(
    g.loadedModels.length
      ? `\nResident models:\n${renderTable(['  ID', 'FAMILY', 'VRAM'], g.loadedModels.map((m) => [`  ${m.id}`, m.family, `${m.vramMb} MiB`]), [2])}`
      : '\nNo models resident.',
  );
  if (g.workers.length) {
    parts.push(
      `\nWorkers:\n${renderTable(['  ID', 'PID', 'STATE', 'CRASHES'], g.workers.map((w) => [`  ${w.id}`, w.pid === null ? '-' : String(w.pid), w.state, String(w.crashes)]), [1, 3])}`,
    );
  }
  return parts.join('\n');
}
