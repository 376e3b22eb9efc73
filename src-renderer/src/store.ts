/** The one bound store: every feature's slice combined (zustand slices pattern). */
import { create } from 'zustand';
import { createJobsSlice } from './features/jobs/store.ts';
import { createQueueSlice } from './features/queue/store.ts';
import { createGpuSlice } from './features/gpu/store.ts';
import { createNavigationSlice } from './features/navigation/store.ts';
import { createNoticesSlice } from './features/notices/store.ts';
import { createCatalogSlice } from './features/catalog/store.ts';
import { createConnectionSlice } from './features/connection/store.ts';
import { createWorkspaceSlice } from './features/workspace/store.ts';
import { createSettingsSlice } from './features/settings/store.ts';
import { createLibrarySlice } from './features/library/store.ts';
import { createModelsSlice } from './features/models/store.ts';
import type { StudioState } from './store-types.ts';

export type { StudioState } from './store-types.ts';

export function createStudioStore() {
  return create<StudioState>()((...a) => ({
    ...createJobsSlice(...a),
    ...createQueueSlice(...a),
    ...createGpuSlice(...a),
    ...createNavigationSlice(...a),
    ...createNoticesSlice(...a),
    ...createCatalogSlice(...a),
    ...createConnectionSlice(...a),
    ...createWorkspaceSlice(...a),
    ...createSettingsSlice(...a),
    ...createLibrarySlice(...a),
    ...createModelsSlice(...a),
  }));
}

export type StudioStore = ReturnType<typeof createStudioStore>;

/** The app's store. Tests make their own with createStudioStore(). */
export const useStudio: StudioStore = createStudioStore();
