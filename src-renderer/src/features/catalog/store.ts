import type { AppInfo, JobPreset, ModelInfo } from '../../contract.ts';
import type { SliceCreator } from '../../store-types.ts';

export interface CatalogSlice {
  /** Job types with their presets, in the engine's order; empty until loaded. */
  readonly presets: readonly JobPreset[];
  /** Installed models; null until loaded. */
  readonly models: readonly ModelInfo[] | null;
  readonly appInfo: AppInfo | null;
  setPresets(presets: readonly JobPreset[]): void;
  setModels(models: readonly ModelInfo[]): void;
  setAppInfo(info: AppInfo): void;
}

export const createCatalogSlice: SliceCreator<CatalogSlice> = (set) => ({
  presets: [],
  models: null,
  appInfo: null,
  setPresets: (presets) => set({ presets }),
  setModels: (models) => set({ models }),
  setAppInfo: (appInfo) => set({ appInfo }),
});
