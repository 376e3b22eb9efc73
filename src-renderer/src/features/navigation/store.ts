import type { SliceCreator } from '../../store-types.ts';

export const VIEWS = ['workspace', 'library', 'queue', 'models', 'settings'] as const;
export type ViewId = (typeof VIEWS)[number];

export function isViewId(value: string): value is ViewId {
  return (VIEWS as readonly string[]).includes(value);
}

export interface NavigationSlice {
  readonly view: ViewId;
  navigate(view: ViewId): void;
}

export const createNavigationSlice: SliceCreator<NavigationSlice> = (set) => ({
  view: 'workspace',
  navigate: (view) => set({ view }),
});
