import type { GpuStats } from '../../contract.ts';
import type { SliceCreator } from '../../store-types.ts';

export interface GpuSlice {
  /** Latest GPU memory, budget and worker figures; null until the first answer. */
  readonly gpu: GpuStats | null;
  setGpu(gpu: GpuStats): void;
}

export const createGpuSlice: SliceCreator<GpuSlice> = (set) => ({
  gpu: null,
  setGpu: (gpu) => set({ gpu }),
});
