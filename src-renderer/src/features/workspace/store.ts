import type { AssetView, JobType } from '../../contract.ts';
import type { SliceCreator } from '../../store-types.ts';
import type { GridParam } from './grid.ts';
import { draftForType, draftFromRecipe, fieldOf } from './request.ts';
import type { FieldError, FieldErrors, Recipe } from './request.ts';

export { fieldOf } from './request.ts';

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
  /** Images per job (SDXL: 1 to 12); empty means the preset's. */
  readonly count: string;
  /** Jobs one Generate queues (A1111's batch count); empty means one. */
  readonly runs: string;
  /** The X/Y grid: a parameter per axis (empty: no grid / no Y axis) and its values as typed. */
  readonly xParam: GridParam | '';
  readonly xValues: string;
  readonly yParam: GridParam | '';
  readonly yValues: string;
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

export interface SheetAxis {
  readonly param: GridParam;
  readonly labels: readonly string[];
}

/** An X/Y grid's jobs, shown as one comparison sheet: a job id per cell, row by row ('' where one was refused). */
export interface Sheet {
  readonly id: string;
  readonly createdAt: number;
  readonly type: JobType;
  readonly prompt: string;
  readonly x: SheetAxis;
  readonly y: SheetAxis | null;
  readonly cells: readonly string[];
}

/** Said after settings came into the form from a file, a paste or the Library: where from, and what could not be taken. */
export interface RecipeReport {
  readonly title: string;
  readonly notes: readonly string[];
}

export interface WorkspaceSlice {
  readonly draft: WorkspaceDraft;
  /** The field the last refusal named (by the engine, or a Generate press), shown at that field. */
  readonly formError: FieldError | null;
  /** The form's own check as the user types, each mistake at its field (shown after a short pause). */
  readonly liveErrors: FieldErrors;
  readonly enhancement: Enhancement | null;
  readonly jobAssets: Readonly<Record<string, JobAssets>>;
  /** Cards the user closed in the Workspace (the jobs stay in the Queue and the Library). */
  readonly hiddenCards: readonly string[];
  /** Bumped whenever settings are put into the form from elsewhere, so the form can say so. */
  readonly recipeApplied: number;
  readonly recipeReport: RecipeReport | null;
  /** The model last picked for each job type, picked again when that type is chosen. */
  readonly modelByType: Readonly<Partial<Record<JobType, string>>>;
  /** X/Y grids queued from here, by id. */
  readonly sheets: Readonly<Record<string, Sheet>>;
  updateDraft(patch: Partial<WorkspaceDraft>): void;
  /** Switches the job type, resetting what the new type's preset decides (steps, and size/sampler across families). */
  setJobType(type: JobType): void;
  /**
   * Fills the form with a recipe — a job's params, a library asset, a dropped file — and switches
   * to the Workspace. `from` titles the report of what could not be taken (shown when set or when
   * there is something to say).
   */
  applyRecipe(recipe: Recipe, options?: { readonly navigate?: boolean; readonly from?: string }): void;
  dismissRecipeReport(): void;
  setFormError(error: FieldError | null): void;
  setLiveErrors(errors: FieldErrors): void;
  setEnhancement(enhancement: Enhancement | null): void;
  setJobAssets(jobId: string, assets: JobAssets): void;
  hideCard(jobId: string): void;
  addSheet(sheet: Sheet): void;
}

export const INITIAL_DRAFT: WorkspaceDraft = {
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
  count: '',
  runs: '',
  xParam: '',
  xValues: '',
  yParam: '',
  yValues: '',
};

/** Sheets kept (with their jobs' cards): the newest. */
export const SHEETS_KEPT = 20;

export const createWorkspaceSlice: SliceCreator<WorkspaceSlice> = (set, get) => ({
  draft: INITIAL_DRAFT,
  formError: null,
  liveErrors: {},
  enhancement: null,
  jobAssets: {},
  hiddenCards: [],
  recipeApplied: 0,
  recipeReport: null,
  modelByType: {},
  sheets: {},

  updateDraft: (patch) =>
    set((s) => {
      const edited = Object.keys(patch);
      const liveErrors = edited.some((k) => k in s.liveErrors)
        ? Object.fromEntries(Object.entries(s.liveErrors).filter(([k]) => !edited.includes(k)))
        : s.liveErrors;
      return {
        draft: { ...s.draft, ...patch },
        ...(patch.model !== undefined ? { modelByType: { ...s.modelByType, [s.draft.type]: patch.model } } : {}),
        // Editing the field an error names clears it: the engine's refusal until the next Generate,
        // the form's own check until the next pause in typing (use-live-validation.ts).
        ...(s.formError && edited.some((k) => fieldOf(s.formError!.field) === k) ? { formError: null } : {}),
        liveErrors,
      };
    }),

  setJobType: (type) =>
    set((s) => {
      const draft = draftForType(s.draft, type);
      const remembered = s.modelByType[type];
      return { draft: remembered !== undefined ? { ...draft, model: remembered } : draft, formError: null };
    }),

  applyRecipe(recipe, options) {
    set((s) => {
      const { draft, enhancedPrompt, notes } = draftFromRecipe(s.draft, recipe, s.models);
      const enhancement: Enhancement | null =
        enhancedPrompt !== null && enhancedPrompt !== draft.prompt
          ? { status: 'ready', original: draft.prompt, type: draft.type, text: enhancedPrompt, warning: null, model: null }
          : null;
      const recipeReport = options?.from !== undefined || notes.length > 0 ? { title: options?.from ?? 'Settings loaded into the form', notes } : null;
      return {
        draft,
        enhancement,
        formError: null,
        liveErrors: {},
        recipeApplied: s.recipeApplied + 1,
        recipeReport,
        modelByType: draft.model !== '' ? { ...s.modelByType, [draft.type]: draft.model } : s.modelByType,
      };
    });
    if (options?.navigate !== false) get().navigate('workspace');
  },

  dismissRecipeReport: () => set({ recipeReport: null }),
  setFormError: (formError) => set({ formError }),
  setLiveErrors: (liveErrors) => set({ liveErrors }),
  setEnhancement: (enhancement) => set({ enhancement }),
  setJobAssets: (jobId, assets) => set((s) => ({ jobAssets: { ...s.jobAssets, [jobId]: assets } })),
  hideCard: (jobId) => set((s) => (s.hiddenCards.includes(jobId) ? {} : { hiddenCards: [...s.hiddenCards, jobId] })),
  addSheet: (sheet) =>
    set((s) => {
      const kept = Object.values(s.sheets)
        .filter((x) => x.id !== sheet.id)
        .sort((a, b) => b.createdAt - a.createdAt)
        .slice(0, SHEETS_KEPT - 1);
      return { sheets: Object.fromEntries([sheet, ...kept].map((x) => [x.id, x])) };
    }),
});
