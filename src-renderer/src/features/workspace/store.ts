import type { AssetView, JobType } from '../../contract.ts';
import type { SliceCreator } from '../../store-types.ts';
import { draftFromRecipe, draftForType } from './request.ts';
import type { FieldError, Recipe } from './request.ts';

/** The Workspace form as typed: kept in the store so switching views does not lose a prompt. */
export interface WorkspaceDraft {
  readonly type: JobType;
  readonly prompt: string;
  readonly negativePrompt: string;
  /** Text as typed: empty means a fresh random seed for every job; a number is used for every job ("locked"). */
  readonly seed: string;
  /** Empty means "the job type's preset" for each of these. */
  readonly steps: string;
  readonly guidance: string;
  readonly sampler: string;
  readonly width: string;
  readonly height: string;
  readonly frames: string;
  /** A ready model's id for the job type's family; empty means the engine's default (its first ready one). */
  readonly model: string;
}

/** The Enhance button's rewrite, on its way or waiting for the user to accept, edit or discard it. */
export type Enhancement =
  | { readonly status: 'working'; readonly original: string; readonly type: JobType }
  | {
      readonly status: 'ready';
      readonly original: string;
      readonly type: JobType;
      readonly text: string;
      readonly warning: string | null;
      readonly model: string | null;
    }
  | { readonly status: 'failed'; readonly original: string; readonly type: JobType; readonly message: string };

/** A finished job's outputs, read from the library once the job lands. */
export type JobAssets =
  | { readonly status: 'loading' }
  | { readonly status: 'ready'; readonly assets: readonly AssetView[]; readonly missing: number }
  | { readonly status: 'failed'; readonly message: string };

export interface WorkspaceSlice {
  readonly draft: WorkspaceDraft;
  /** The field the last refusal named (by the form's own check or by the engine), shown at that field. */
  readonly formError: FieldError | null;
  readonly enhancement: Enhancement | null;
  readonly jobAssets: Readonly<Record<string, JobAssets>>;
  /** Cards the user closed in the Workspace (the jobs stay in the Queue and the Library). */
  readonly hiddenCards: readonly string[];
  /** Bumped whenever settings are put into the form from elsewhere, so the form can say so. */
  readonly recipeApplied: number;
  updateDraft(patch: Partial<WorkspaceDraft>): void;
  /** Switches the job type, resetting what the new type's preset decides (steps, and size/sampler across families). */
  setJobType(type: JobType): void;
  /**
   * Fills the form with a recipe — a job's params, or a library asset through `recipeFromAsset` —
   * and switches to the Workspace. The Library's "Use these settings" calls this.
   */
  applyRecipe(recipe: Recipe, options?: { readonly navigate?: boolean }): void;
  setFormError(error: FieldError | null): void;
  setEnhancement(enhancement: Enhancement | null): void;
  setJobAssets(jobId: string, assets: JobAssets): void;
  hideCard(jobId: string): void;
}

const INITIAL: WorkspaceDraft = {
  type: 'sdxl_image_fast',
  prompt: '',
  negativePrompt: '',
  seed: '',
  steps: '',
  guidance: '',
  sampler: '',
  width: '',
  height: '',
  frames: '',
  model: '',
};

export const createWorkspaceSlice: SliceCreator<WorkspaceSlice> = (set, get) => ({
  draft: INITIAL,
  formError: null,
  enhancement: null,
  jobAssets: {},
  hiddenCards: [],
  recipeApplied: 0,

  updateDraft: (patch) =>
    set((s) => ({
      draft: { ...s.draft, ...patch },
      // Editing the field an error names clears it; the next Generate checks again.
      ...(s.formError && Object.keys(patch).some((k) => fieldOf(s.formError!.field) === k) ? { formError: null } : {}),
    })),

  setJobType: (type) => set((s) => ({ draft: draftForType(s.draft, type), formError: null })),

  applyRecipe(recipe, options) {
    set((s) => {
      const { draft, enhancedPrompt } = draftFromRecipe(s.draft, recipe);
      const enhancement: Enhancement | null =
        enhancedPrompt !== null && enhancedPrompt !== draft.prompt
          ? { status: 'ready', original: draft.prompt, type: draft.type, text: enhancedPrompt, warning: null, model: null }
          : null;
      return { draft, enhancement, formError: null, recipeApplied: s.recipeApplied + 1 };
    });
    if (options?.navigate !== false) get().navigate('workspace');
  },

  setFormError: (formError) => set({ formError }),
  setEnhancement: (enhancement) => set({ enhancement }),
  setJobAssets: (jobId, assets) => set((s) => ({ jobAssets: { ...s.jobAssets, [jobId]: assets } })),
  hideCard: (jobId) => set((s) => (s.hiddenCards.includes(jobId) ? {} : { hiddenCards: [...s.hiddenCards, jobId] })),
});

/** Which draft field an error names: the engine's `request.width` and the form's `width` alike; `sampler` for `scheduler`. */
export function fieldOf(field: string): keyof WorkspaceDraft | 'enhancement' | 'other' {
  const name = field.replace(/^request\./, '');
  if (name === 'scheduler') return 'sampler';
  if (name === 'enhancedPrompt' || name === 'enhancement') return 'enhancement';
  const fields: readonly string[] = ['type', 'prompt', 'negativePrompt', 'seed', 'steps', 'guidance', 'width', 'height', 'frames', 'model'];
  return fields.includes(name) ? (name as keyof WorkspaceDraft) : 'other';
}
