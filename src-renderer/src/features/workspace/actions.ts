/**
 * What the Workspace asks of the engine: queue the form (one job, N runs or an X/Y grid), enhance
 * the prompt, read a finished job's outputs, re-run one image, read a dropped file's or a pasted
 * text's recipe. Results and refusals go into the store; components stay declarative.
 */
import type { StudioActions } from '../../actions.ts';
import { toWireError } from '../../api/errors.ts';
import { RECIPE_LIMITS } from '../../contract.ts';
import type { AssetView, GenerateRequest, JobView, RecipeReading, StudioApi } from '../../contract.ts';
import { imageSeedClipboard } from '../../seeds.ts';
import type { ImageSeed } from '../../seeds.ts';
import type { StudioStore } from '../../store.ts';
import { FIELD_ORDER, enhancedRequest, planGenerate, recipeFromJob, recipeFromReading, rerunRequest } from './request.ts';
import type { FieldError } from './request.ts';
import { randomSeed } from './grid.ts';

/** A file the Workspace can read settings from: a dropped or chosen File (or anything with its parts). */
export interface RecipeFile {
  readonly name: string;
  readonly size: number;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

export interface WorkspaceActions {
  /**
   * Queues the form as it is now: one job, its runs, or one job per grid cell (then shown as one
   * sheet). Resolves with the first field error shown, or null.
   */
  generate(): Promise<FieldError | null>;
  /** Fills the form from a picture or clip any tool made (its recipe, read by the engine). Resolves true when it did. */
  loadRecipeFile(file: RecipeFile): Promise<boolean>;
  /**
   * Fills the form from pasted text when it is a recipe (an A1111 infotext, a tool's JSON record).
   * Resolves false when it is not one, so the paste goes on as plain text.
   */
  loadRecipeText(text: string): Promise<boolean>;
  /** Asks the enhancer for a rewrite of the current prompt, for the current job type. */
  enhance(): Promise<void>;
  /** Queues the *_enhanced twin with the reviewed rewrite (WAN types). */
  queueEnhanced(text: string): Promise<FieldError | null>;
  /** Puts the rewrite into the prompt field instead. */
  useEnhancedAsPrompt(text: string): void;
  discardEnhancement(): void;
  /** Reads a finished job's outputs from the library, once (again with `force`, after a failure). */
  loadJobAssets(job: JobView, options?: { readonly force?: boolean }): Promise<void>;
  /** Re-runs one image of a batch alone (same seed, its batch index). */
  rerun(job: JobView, batchIndex: number): Promise<void>;
  /** Puts a job's settings back into the form. */
  useJobSettings(job: JobView): void;
  /** Copies what reproduces one image alone: its seed, and its batch index when that is not 0 (seeds.ts). */
  copySeed(seed: number | ImageSeed): Promise<void>;
}

/** What copying a seed needs of the clipboard (the browser's, or a test's). */
export interface Clipboard {
  writeText(text: string): Promise<void>;
}

function browserClipboard(): Clipboard | null {
  const nav = (globalThis as { navigator?: { clipboard?: Clipboard } }).navigator;
  return nav?.clipboard ?? null;
}

/** Bytes as base64, in slices (String.fromCharCode on megabytes at once overflows the call stack). */
function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

const sentenceOf = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export function createWorkspaceActions(
  api: StudioApi,
  store: StudioStore,
  studio: Pick<StudioActions, 'enqueue'>,
  clipboard: Clipboard | null = browserClipboard(),
): WorkspaceActions {
  const s = () => store.getState();

  /** The engine's reading into the form, with a report of where it came from and what could not be taken. */
  function applyReading(reading: RecipeReading, fileName: string | null): boolean {
    if (reading.source === null) {
      s().notify({
        kind: 'error',
        title: 'No settings in it',
        message: `${fileName ?? 'The text'} says nothing about how it was made: no A1111, ComfyUI, InvokeAI or other tool's record is in it.`,
      });
      return false;
    }
    const what = reading.format === 'text' ? `pasted ${reading.sourceLabel} settings` : `${fileName} (${reading.sourceLabel})`;
    s().applyRecipe(recipeFromReading(reading), { from: `Settings from ${what}` });
    return true;
  }

  /** Queues a request; a refusal that names a field is shown at that field (the toast says it too). */
  async function enqueue(request: GenerateRequest): Promise<FieldError | null> {
    const result = await studio.enqueue(request);
    if ('error' in result && result.error.field) {
      const error = { field: result.error.field.replace(/^request\./, ''), message: result.error.message };
      s().setFormError(error);
      return error;
    }
    return null;
  }

  return {
    async generate() {
      // Read at the moment of the press, not from the last render, so a keystroke just before
      // Ctrl+Enter is never lost.
      const draft = s().draft;
      const planned = planGenerate(draft, randomSeed);
      if ('errors' in planned) {
        s().setFormError(null);
        s().setLiveErrors(planned.errors);
        const field = FIELD_ORDER.find((f) => planned.errors[f] !== undefined)!;
        return { field, message: planned.errors[field]! };
      }
      s().setFormError(null);
      s().setLiveErrors({});
      const { requests, grid } = planned.plan;
      if (!grid && requests.length === 1) return enqueue(requests[0]!);
      // The sheet is there before its first job, so its cells never show as loose cards.
      const sheet = grid
        ? { id: crypto.randomUUID(), createdAt: Date.now(), type: draft.type, prompt: draft.prompt, x: grid.x, y: grid.y, cells: requests.map(() => '') }
        : null;
      if (sheet) s().addSheet(sheet);
      const cells: string[] = [];
      let firstError: FieldError | null = null;
      // One after another, so the queue holds them in the order of the runs or the sheet's rows.
      for (const request of requests) {
        const result = await studio.enqueue(request);
        cells.push('job' in result ? result.job.id : '');
        if (sheet) s().addSheet({ ...sheet, cells: [...cells, ...requests.slice(cells.length).map(() => '')] });
        if ('error' in result) {
          firstError = { field: result.error.field?.replace(/^request\./, '') ?? 'other', message: result.error.message };
          // A refusal of one run refuses the rest too (the same form); a grid's cells differ, so they go on.
          if (!sheet) break;
        }
      }
      if (firstError?.field && firstError.field !== 'other') s().setFormError(firstError);
      return firstError;
    },

    async loadRecipeFile(file) {
      const whole = file.size <= RECIPE_LIMITS.maxWholeBytes;
      const base64 = async (start: number, end: number) => bytesToBase64(new Uint8Array(await file.slice(start, end).arrayBuffer()));
      try {
        if (file.size === 0) throw new Error(`${file.name} is empty`);
        const reading = await api.recipes.fromFile({
          name: file.name,
          size: file.size,
          head: await base64(0, whole ? file.size : RECIPE_LIMITS.partBytes),
          ...(whole ? {} : { tail: await base64(file.size - RECIPE_LIMITS.partBytes, file.size) }),
        });
        return applyReading(reading, file.name);
      } catch (error) {
        s().notify({ kind: 'error', title: 'Could not read its settings', message: sentenceOf(toWireError(error).message) });
        return false;
      }
    },

    async loadRecipeText(text) {
      try {
        const reading = await api.recipes.fromText({ text });
        if (reading.source === null) return false;
        return applyReading(reading, null);
      } catch {
        return false;
      }
    },
    async enhance() {
      const { draft } = s();
      const original = draft.prompt.trim();
      if (!original) {
        s().setFormError({ field: 'prompt', message: 'write a prompt first; Enhance rewrites it' });
        return;
      }
      s().setEnhancement({ status: 'working', original, type: draft.type });
      try {
        const seed = Number(draft.seed.trim());
        const result = await api.prompts.enhance({
          prompt: original,
          type: draft.type,
          ...(draft.seed.trim() !== '' && Number.isInteger(seed) && seed >= 0 ? { seed } : {}),
        });
        const current = s().enhancement;
        // A discard (or a newer press) while the rewrite was on its way wins.
        if (current?.status !== 'working' || current.original !== original) return;
        s().setEnhancement({
          status: 'ready',
          original,
          type: draft.type,
          text: result.text,
          warning: result.warning,
          model: result.model,
        });
      } catch (error) {
        if (s().enhancement?.status !== 'working') return;
        s().setEnhancement({ status: 'failed', original, type: draft.type, message: toWireError(error).message });
      }
    },

    async queueEnhanced(text) {
      const built = enhancedRequest(s().draft, text);
      if (!built) return null;
      if ('error' in built) {
        s().setFormError(built.error);
        return built.error;
      }
      s().setFormError(null);
      const error = await enqueue(built.request);
      if (!error) s().setEnhancement(null);
      return error;
    },

    useEnhancedAsPrompt(text) {
      s().updateDraft({ prompt: text });
      s().setEnhancement(null);
    },

    discardEnhancement() {
      s().setEnhancement(null);
    },

    async loadJobAssets(job, options) {
      const known = s().jobAssets[job.id];
      if (job.status.state !== 'done' || known?.status === 'loading' || (known && !options?.force)) return;
      const ids = job.status.assets;
      s().setJobAssets(job.id, { status: 'loading' });
      try {
        const found = await Promise.all(ids.map((id) => api.library.get({ id })));
        const assets = found.filter((a): a is NonNullable<typeof a> => a !== null) as AssetView[];
        assets.sort((a, b) => (a.batchIndex ?? 0) - (b.batchIndex ?? 0));
        s().setJobAssets(job.id, { status: 'ready', assets, missing: ids.length - assets.length });
      } catch (error) {
        s().setJobAssets(job.id, { status: 'failed', message: toWireError(error).message });
      }
    },

    async rerun(job, batchIndex) {
      await studio.enqueue(rerunRequest(job, batchIndex));
    },

    useJobSettings(job) {
      s().applyRecipe(recipeFromJob(job));
    },

    async copySeed(seed) {
      const text = imageSeedClipboard(typeof seed === 'number' ? { seed, batchIndex: null } : seed);
      try {
        if (!clipboard) throw new Error('no clipboard');
        await clipboard.writeText(text);
        s().notify({ kind: 'info', title: 'Seed copied', message: `${text} is on the clipboard.` });
      } catch {
        s().notify({ kind: 'error', title: 'Could not copy the seed', message: `The clipboard refused it; it is ${text}.` });
      }
    },
  };
}
