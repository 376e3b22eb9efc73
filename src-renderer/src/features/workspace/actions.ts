/**
 * What the Workspace asks of the engine: queue the form, enhance the prompt, read a finished job's
 * outputs, re-run one image. Results and refusals go into the store; components stay declarative.
 */
import type { StudioActions } from '../../actions.ts';
import { toWireError } from '../../api/errors.ts';
import type { AssetView, GenerateRequest, JobView, StudioApi } from '../../contract.ts';
import type { StudioStore } from '../../store.ts';
import { draftToRequest, enhancedRequest, recipeFromJob, rerunRequest } from './request.ts';
import type { FieldError } from './request.ts';

export interface WorkspaceActions {
  /** Queues the form as it is now. Resolves with the field error shown, or null. */
  generate(): Promise<FieldError | null>;
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
  copySeed(seed: number): Promise<void>;
}

/** What copying a seed needs of the clipboard (the browser's, or a test's). */
export interface Clipboard {
  writeText(text: string): Promise<void>;
}

function browserClipboard(): Clipboard | null {
  const nav = (globalThis as { navigator?: { clipboard?: Clipboard } }).navigator;
  return nav?.clipboard ?? null;
}

export function createWorkspaceActions(
  api: StudioApi,
  store: StudioStore,
  studio: Pick<StudioActions, 'enqueue'>,
  clipboard: Clipboard | null = browserClipboard(),
): WorkspaceActions {
  const s = () => store.getState();

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
      const built = draftToRequest(s().draft);
      if ('error' in built) {
        s().setFormError(built.error);
        return built.error;
      }
      s().setFormError(null);
      return enqueue(built.request);
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
      try {
        if (!clipboard) throw new Error('no clipboard');
        await clipboard.writeText(String(seed));
        s().notify({ kind: 'info', title: 'Seed copied', message: `${seed} is on the clipboard.` });
      } catch {
        s().notify({ kind: 'error', title: 'Could not copy the seed', message: `The clipboard refused it; the seed is ${seed}.` });
      }
    },
  };
}
