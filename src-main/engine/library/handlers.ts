/**
 * The engine's implementation of the library channels (src-preload/contract/library.ts).
 */
import type { Database } from '../db/database.ts';
import type { DataLayout } from '../paths.ts';
import type { Handlers } from '../../../src-preload/contract/channels.ts';
import type { libraryChannels } from '../../../src-preload/contract/library.ts';

export interface LibraryDeps {
  readonly db: Database;
  readonly layout: DataLayout;
}

export type LibraryHandlers = Pick<Handlers, keyof typeof libraryChannels>;

export function libraryHandlers(deps: LibraryDeps): LibraryHandlers {
  void deps;
  return {};
}
