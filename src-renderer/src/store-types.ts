import type { StateCreator } from 'zustand';
import type { JobsSlice } from './features/jobs/store.ts';
import type { QueueSlice } from './features/queue/store.ts';
import type { GpuSlice } from './features/gpu/store.ts';
import type { NavigationSlice } from './features/navigation/store.ts';
import type { NoticesSlice } from './features/notices/store.ts';
import type { CatalogSlice } from './features/catalog/store.ts';
import type { ConnectionSlice } from './features/connection/store.ts';
import type { WorkspaceSlice } from './features/workspace/store.ts';
import type { SettingsSlice } from './features/settings/store.ts';
import type { LibrarySlice } from './features/library/store.ts';
import type { ModelsSlice } from './features/models/store.ts';

/** The whole bound store: every feature's slice side by side. */
export type StudioState = JobsSlice &
  QueueSlice &
  GpuSlice &
  NavigationSlice &
  NoticesSlice &
  CatalogSlice &
  ConnectionSlice &
  WorkspaceSlice &
  SettingsSlice &
  LibrarySlice &
  ModelsSlice;

/** How a feature declares its slice: it sees the whole store but only returns its own part. */
export type SliceCreator<Slice> = StateCreator<StudioState, [], [], Slice>;
