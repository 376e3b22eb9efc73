import { useMemo } from 'react';
import { getStudioApi } from '../../api/index.ts';
import { useStudio } from '../../store.ts';
import { createModelsActions } from './actions.ts';
import type { ModelsActions } from './actions.ts';

/** The Models view's actions, bound to this window's engine API and store. */
export function useModelsActions(): ModelsActions {
  return useMemo(() => createModelsActions(getStudioApi(), useStudio), []);
}
