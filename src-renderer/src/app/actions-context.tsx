import { createContext, useContext } from 'react';
import type { ReactNode } from 'react';
import type { StudioActions } from '../actions.ts';

const ActionsContext = createContext<StudioActions | null>(null);

export function ActionsProvider({ actions, children }: { actions: StudioActions; children: ReactNode }) {
  return <ActionsContext value={actions}>{children}</ActionsContext>;
}

export function useActions(): StudioActions {
  const actions = useContext(ActionsContext);
  if (!actions) throw new Error('useActions() needs an <ActionsProvider> above it');
  return actions;
}
