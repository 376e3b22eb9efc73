/**
 * What the person chose about the model list, kept in `<data>/model-choices.json` so the app,
 * `studio serve` and the CLI agree: the default model of each family (the one a job that names none
 * runs on) and the models removed from the list (hidden, never deleted: their files stay where they
 * are, and a job that names one still runs on it).
 *
 * Read afresh at every scan (a small file), so a choice made in another process applies at once;
 * written whole and atomically. A missing or unreadable file means no choices, never an error.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import type { DetectedFamily } from './registry.ts';

export interface ModelChoiceValues {
  /** Model id per family. */
  readonly defaults: Readonly<Partial<Record<DetectedFamily, string>>>;
  /** Paths of the models removed from the list. */
  readonly hidden: readonly string[];
}

const FAMILIES: readonly DetectedFamily[] = ['sdxl', 'wan', 'qwen'];
const EMPTY: ModelChoiceValues = { defaults: {}, hidden: [] };

/** Keeps only what is well formed: a hand-edited or damaged file cannot break the model list. */
function sanitize(raw: unknown): ModelChoiceValues {
  if (!raw || typeof raw !== 'object') return EMPTY;
  const r = raw as { defaults?: unknown; hidden?: unknown };
  const defaults: Partial<Record<DetectedFamily, string>> = {};
  if (r.defaults && typeof r.defaults === 'object') {
    for (const f of FAMILIES) {
      const id = (r.defaults as Record<string, unknown>)[f];
      if (typeof id === 'string' && id.length > 0) defaults[f] = id;
    }
  }
  const hidden = Array.isArray(r.hidden) ? [...new Set(r.hidden.filter((p): p is string => typeof p === 'string' && p.length > 0))] : [];
  return { defaults, hidden };
}

export class ModelChoices {
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }

  read(): ModelChoiceValues {
    try {
      return sanitize(JSON.parse(readFileSync(this.file, 'utf8')));
    } catch {
      return EMPTY;
    }
  }

  async setDefault(family: DetectedFamily, id: string): Promise<void> {
    const now = this.read();
    await this.write({ ...now, defaults: { ...now.defaults, [family]: id } });
  }

  async setHidden(path: string, hidden: boolean): Promise<void> {
    const now = this.read();
    const rest = now.hidden.filter((p) => p !== path);
    await this.write({ ...now, hidden: hidden ? [...rest, path] : rest });
  }

  private async write(values: ModelChoiceValues): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(values, null, 2)}\n`);
  }
}
