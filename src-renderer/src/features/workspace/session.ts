/**
 * The Workspace survives a reload (and a restart of the app): the draft as typed, the model picked
 * per job type, and the session's cards — which jobs were submitted from here, which sheets they
 * make, which cards were put away. Only ids are kept in the page's storage; the jobs themselves are
 * read back from the engine's job records, so a card shows what the job did, also while the page
 * was away.
 *
 * localStorage, as ComfyUI and InvokeAI keep theirs: it outlives the window, and each origin
 * (the app, or one `studio serve` address) has its own.
 */
import type { JobType, JobView, StudioApi } from '../../contract.ts';
import { JOB_TYPES } from '../../contract.ts';
import type { StudioStore } from '../../store.ts';
import { SUBMITTED_KEPT } from '../jobs/store.ts';
import { GRID_PARAMS } from './grid.ts';
import { INITIAL_DRAFT } from './store.ts';
import type { Sheet, WorkspaceDraft } from './store.ts';

export const SESSION_KEY = 'ourvidz.workspace.v1';
const SAVE_DELAY_MS = 200;

export interface SavedSession {
  readonly v: 1;
  readonly draft: WorkspaceDraft;
  readonly modelByType: Partial<Record<JobType, string>>;
  readonly submitted: readonly string[];
  readonly hiddenCards: readonly string[];
  readonly sheets: readonly Sheet[];
}

type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem'>;

function pageStorage(): Storage | null {
  try {
    return (globalThis as { localStorage?: Storage }).localStorage ?? null;
  } catch {
    return null; // storage refused: the session lasts as long as the page
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown, max: number): string[] => (Array.isArray(v) ? v.filter(isString).slice(0, max) : []);

/** The draft as saved, every field checked (an older or hand-edited value falls back to the empty form's). */
function readDraft(v: unknown): WorkspaceDraft {
  if (!isRecord(v)) return INITIAL_DRAFT;
  const out: Record<string, unknown> = { ...INITIAL_DRAFT };
  for (const key of Object.keys(INITIAL_DRAFT) as (keyof WorkspaceDraft)[]) {
    const value = v[key];
    if (isString(value) && value.length <= 20_000) out[key] = value;
  }
  if (!(JOB_TYPES as readonly string[]).includes(out.type as string)) out.type = INITIAL_DRAFT.type;
  for (const key of ['xParam', 'yParam'] as const) {
    if (out[key] !== '' && !(GRID_PARAMS as readonly string[]).includes(out[key] as string)) out[key] = '';
  }
  return out as unknown as WorkspaceDraft;
}

function readSheet(v: unknown): Sheet | null {
  if (!isRecord(v) || !isString(v.id) || typeof v.createdAt !== 'number' || !isString(v.prompt)) return null;
  if (!(JOB_TYPES as readonly string[]).includes(v.type as string)) return null;
  const axis = (a: unknown) =>
    isRecord(a) && (GRID_PARAMS as readonly string[]).includes(a.param as string) ? { param: a.param as Sheet['x']['param'], labels: strings(a.labels, 64) } : null;
  const x = axis(v.x);
  const y = v.y === null ? null : axis(v.y);
  const cells = strings(v.cells, 64 * 64);
  if (!x || (v.y !== null && !y) || cells.length !== x.labels.length * (y?.labels.length ?? 1)) return null;
  return { id: v.id, createdAt: v.createdAt, type: v.type as JobType, prompt: v.prompt, x, y, cells };
}

export function loadSession(storage: Storage | null = pageStorage()): SavedSession | null {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(SESSION_KEY) ?? 'null');
    if (!isRecord(parsed) || parsed.v !== 1) return null;
    const models = isRecord(parsed.modelByType) ? parsed.modelByType : {};
    return {
      v: 1,
      draft: readDraft(parsed.draft),
      modelByType: Object.fromEntries(Object.entries(models).filter(([k, m]) => (JOB_TYPES as readonly string[]).includes(k) && isString(m))),
      submitted: strings(parsed.submitted, SUBMITTED_KEPT),
      hiddenCards: strings(parsed.hiddenCards, SUBMITTED_KEPT * 2),
      sheets: (Array.isArray(parsed.sheets) ? parsed.sheets : []).map(readSheet).filter((s): s is Sheet => s !== null),
    };
  } catch {
    return null;
  }
}

function snapshot(store: StudioStore): SavedSession {
  const s = store.getState();
  const submitted = new Set(s.submitted);
  return {
    v: 1,
    draft: s.draft,
    modelByType: s.modelByType,
    submitted: s.submitted,
    // Only what still refers to a card.
    hiddenCards: s.hiddenCards.filter((id) => submitted.has(id) || s.sheets[id] !== undefined),
    sheets: Object.values(s.sheets).filter((sheet) => sheet.cells.some((c) => c === '' || submitted.has(c))),
  };
}

/**
 * Puts the saved session into the store (at once, before the first paint) and reads the jobs of its
 * cards back from the engine; from then on, saves every change to those parts of the store.
 */
export function connectWorkspaceSession(api: StudioApi, store: StudioStore, storage: Storage | null = pageStorage()): () => void {
  const saved = loadSession(storage);
  if (saved) {
    store.setState({
      draft: saved.draft,
      modelByType: saved.modelByType,
      submitted: [...saved.submitted],
      hiddenCards: [...saved.hiddenCards],
      sheets: Object.fromEntries(saved.sheets.map((sheet) => [sheet.id, sheet])),
    });
    void readBackJobs(api, store, saved.submitted);
  }

  let timer: ReturnType<typeof setTimeout> | null = null;
  const save = () => {
    timer = null;
    try {
      storage?.setItem(SESSION_KEY, JSON.stringify(snapshot(store)));
    } catch {
      // full or refused: the session lasts as long as the page
    }
  };
  const unsubscribe = store.subscribe((now, before) => {
    if (now.draft === before.draft && now.submitted === before.submitted && now.hiddenCards === before.hiddenCards && now.sheets === before.sheets && now.modelByType === before.modelByType) return;
    if (timer === null) timer = setTimeout(save, SAVE_DELAY_MS);
  });
  // A reload right after typing still keeps the last keystroke.
  const flush = () => {
    if (timer !== null) {
      clearTimeout(timer);
      save();
    }
  };
  globalThis.addEventListener?.('pagehide', flush);
  return () => {
    unsubscribe();
    globalThis.removeEventListener?.('pagehide', flush);
    flush();
  };
}

/** The session's jobs from the engine's records: the recent list first, then any older one by id. Gone jobs leave the feed. */
async function readBackJobs(api: StudioApi, store: StudioStore, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  try {
    store.getState().upsertJobs(await api.jobs.list({ limit: SUBMITTED_KEPT }));
  } catch {
    // the per-id reads below still try
  }
  const missing = ids.filter((id) => !store.getState().jobs[id]);
  const found = await Promise.all(missing.map((id) => api.jobs.get({ id }).catch(() => undefined)));
  const jobs = found.filter((j): j is JobView => j !== null && j !== undefined);
  if (jobs.length > 0) store.getState().upsertJobs(jobs);
  const gone = new Set(missing.filter((id, i) => found[i] === null));
  if (gone.size > 0) store.setState((s) => ({ submitted: s.submitted.filter((id) => !gone.has(id)) }));
}
