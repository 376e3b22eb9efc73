import type { JobType } from '../../contract.ts';
import type { SliceCreator } from '../../store-types.ts';

/** The Workspace form as typed: kept in the store so switching views does not lose a prompt. */
export interface WorkspaceDraft {
  readonly type: JobType;
  readonly prompt: string;
  readonly negativePrompt: string;
  /** Text as typed; empty means "random" (seed) or "the preset's value" (steps). */
  readonly seed: string;
  readonly steps: string;
}

export interface WorkspaceSlice {
  readonly draft: WorkspaceDraft;
  updateDraft(patch: Partial<WorkspaceDraft>): void;
}

export const createWorkspaceSlice: SliceCreator<WorkspaceSlice> = (set) => ({
  draft: { type: 'sdxl_image_fast', prompt: '', negativePrompt: '', seed: '', steps: '' },
  updateDraft: (patch) => set((s) => ({ draft: { ...s.draft, ...patch } })),
});
