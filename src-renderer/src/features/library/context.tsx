import { createContext, useContext } from 'react';
import type { ReactNode } from 'react';
import type { LibraryController } from './controller.ts';

const LibraryContext = createContext<LibraryController | null>(null);

export function LibraryProvider({ controller, children }: { controller: LibraryController; children: ReactNode }) {
  return <LibraryContext value={controller}>{children}</LibraryContext>;
}

export function useLibrary(): LibraryController {
  const controller = useContext(LibraryContext);
  if (!controller) throw new Error('useLibrary() needs a <LibraryProvider> above it');
  return controller;
}
