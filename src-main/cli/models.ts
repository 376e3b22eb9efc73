/**
 * `studio models add PATH [PATH…] [--name NAME] [--vae FILE] [--json]`: says what the file is,
 * prepares it with a progress bar and an ETA on stderr, and prints the model's id to use with
 * --model. Several paths are one model's parts chosen one by one (a WAN 2.1 model from ComfyUI's
 * transformer, text encoder and VAE files); one part alone says which parts are still needed.
 * Ctrl-C cancels the preparation (nothing is left behind).
 */
import { resolve } from 'node:path';
import type { Preparation } from '../../src-preload/contract/status.ts';
import { invoke } from './dispatch.ts';
import { EXIT } from './exit-codes.ts';
import type { CliEngine, Io } from './io.ts';
import { formatBytes, formatDuration } from './render.ts';
import { renderBar } from './progress.ts';

const PHASE: Record<NonNullable<Preparation['phase']>, string> = {
  checking: 'checking',
  hashing: 'reading (model hash)',
  building: 'building graphs',
  writing: 'writing',
};

/** `preparing [████░░░░] 43% reading (model hash) 2.9 GB of 6.9 GB  ETA 0:05` */
export function preparationLine(p: Preparation, columns = 80): string {
  const pct = `${Math.floor(p.fraction * 100)}%`;
  const phase = p.phase ? PHASE[p.phase] : '';
  const bytes = p.phase === 'hashing' && p.bytesTotal > 0 ? `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}` : '';
  const eta = p.etaSeconds !== null && p.phase === 'hashing' ? `ETA ${formatDuration(p.etaSeconds * 1000)}` : '';
  const fixed = ['preparing', pct, phase, bytes, eta].filter(Boolean).join(' ').length + 4;
  const bar = renderBar(p.fraction, 1, Math.max(10, Math.min(30, columns - fixed - 3)));
  return ['preparing', bar, pct, phase, bytes, eta].filter(Boolean).join(' ');
}

export interface ModelsAddOptions {
  /** One path, or a WAN 2.1 model's parts. */
  readonly paths: readonly string[];
  readonly name: string | null;
  readonly vae: string | null;
  readonly json: boolean;
  readonly cwd: string;
}

export async function modelsAdd(engine: CliEngine, io: Io, options: ModelsAddOptions): Promise<number> {
  const paths = options.paths.map((p) => resolve(options.cwd, p));
  const path = paths[0]!;
  const several = paths.length > 1 ? { paths } : {};
  const vae = options.vae ? resolve(options.cwd, options.vae) : null;
  const inspection = await invoke(engine.handlers, 'models.inspect', { path, ...several });
  if (!inspection.ok) {
    if (options.json) io.stdout.write(`${JSON.stringify({ error: { code: 'wrong_kind', message: inspection.message } }, null, 2)}\n`);
    else io.stderr.write(`${inspection.message}\n`);
    return EXIT.engine;
  }
  if (inspection.wan && inspection.wan.missing.length > 0) {
    // One part of a WAN model (or two): say what was found and what to add.
    const message = `${inspection.description}: add them in one command, e.g. studio models add TRANSFORMER TEXT_ENCODER VAE`;
    if (options.json) io.stdout.write(`${JSON.stringify({ error: { code: 'incomplete', message }, found: inspection.wan.parts }, null, 2)}\n`);
    else io.stderr.write(`${message}\n`);
    return EXIT.engine;
  }
  if (!options.json) {
    io.stderr.write(`Found: ${inspection.description}\n`);
    for (const part of inspection.wan?.parts ?? []) io.stderr.write(`  ${part.description}: ${part.path}\n`);
  }

  const tty = io.stderr.isTTY === true;
  let lastPhase: string | null = null;
  let finished: Preparation | null = null;
  let id: string | null = null;
  let wake: (() => void) | null = null;
  const done = new Promise<void>((r) => (wake = r));
  const seen = (p: Preparation): void => {
    if (id !== null && p.id !== id) return;
    if (p.state !== 'preparing') {
      finished = p;
      wake?.();
      return;
    }
    if (options.json) return;
    if (tty) io.stderr.write(`\r\x1b[2K${preparationLine(p, io.stderr.columns ?? 80)}`);
    else if (p.phase !== lastPhase) io.stderr.write(`${preparationLine(p)}\n`);
    lastPhase = p.phase;
  };
  const off = engine.on('models.preparation', seen);
  const offInterrupt = io.onInterrupt(() => {
    if (id) void invoke(engine.handlers, 'models.cancelPreparation', { id }).catch(() => undefined);
  });
  try {
    const started = await invoke(engine.handlers, 'models.add', { path, ...several, vae, name: options.name });
    id = started.id;
    seen(started);
    await done;
  } finally {
    off();
    offInterrupt();
  }
  if (tty && !options.json) io.stderr.write('\r\x1b[2K');
  const result = finished as unknown as Preparation;
  if (options.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  switch (result.state) {
    case 'done': {
      if (!options.json) {
        const models = await invoke(engine.handlers, 'models.list', undefined);
        const model = models.find((m) => m.id === result.modelId);
        const hash = model?.hash ? ` (model hash ${model.hash})` : '';
        const type = model?.family === 'wan' || inspection.kind === 'wan_model' ? 'video_fast' : 'sdxl_image_fast';
        io.stdout.write(
          `${result.reused ? 'Already prepared' : 'Prepared'}: ${result.modelId}${hash} — ${result.description ?? inspection.description}\n` +
            `Generate with it: studio generate --type ${type} --model ${result.modelId} --prompt "…"\n`,
        );
      }
      return EXIT.ok;
    }
    case 'cancelled':
      if (!options.json) io.stderr.write('Cancelled: nothing was added.\n');
      return EXIT.interrupted;
    default:
      if (!options.json) io.stderr.write(`${result.error?.message ?? 'the preparation failed'}\n`);
      return EXIT.engine;
  }
}

