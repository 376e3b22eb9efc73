import { useMemo } from 'react';
import { useActions } from '../../app/actions-context.tsx';
import { getStudioApi } from '../../api/index.ts';
import { useStudio } from '../../store.ts';
import { createWorkspaceActions } from './actions.ts';
import type { WorkspaceActions } from './actions.ts';

/** The Workspace's actions, bound to this window's engine API, store and shared actions. */
export function useWorkspaceActions(): WorkspaceActions {
  const studio = useActions();
  return useMemo(() => createWorkspaceActions(getStudioApi(), useStudio, studio), [studio]);
}
