/**
 * The engine's implementation of the library channels (src-preload/contract/library.ts): each
 * handler receives params already parsed by the contract's schema and calls the Library.
 */
import type { Handlers } from '../../../src-preload/contract/channels.ts';
import type { libraryChannels } from '../../../src-preload/contract/library.ts';
import { Library } from './library.ts';
import type { LibraryDeps } from './library.ts';
import {
  createCharacter,
  createProject,
  createScene,
  deleteCharacter,
  deleteProject,
  deleteScene,
  getProject,
  listCharacters,
  listProjects,
  updateCharacter,
  updateProject,
  updateScene,
} from './projects.ts';
import { deleteTag, listTags, renameTag } from './organise.ts';
import { exportSheet } from './sheet.ts';

export type { LibraryDeps } from './library.ts';

export type LibraryHandlers = Pick<Handlers, keyof typeof libraryChannels>;

export function handlersFor(library: Library): LibraryHandlers {
  const db = library.db;
  const projectsChanged = <T>(value: T): T => {
    library.notify('projects', null);
    return value;
  };
  return {
    'library.query': async (q) => library.query(q),
    'library.get': async ({ id }) => library.get(id),
    'library.update': async ({ id, ...patch }) => library.update(id, patch),
    'library.bulkUpdate': async ({ ids, ...patch }) => ({ updated: library.bulkUpdate(ids, patch) }),
    'library.tag': async ({ ids, tags }) => ({ changed: library.tag(ids, tags) }),
    'library.untag': async ({ ids, tags }) => ({ changed: library.untag(ids, tags) }),
    'library.tags': async () => listTags(db),
    'library.tagRename': async ({ id, name }) => renameTag(db, id, name),
    'library.tagDelete': async ({ id }) => ({ deleted: deleteTag(db, id) }),
    'library.trash': async ({ ids }) => ({ trashed: library.trash(ids) }),
    'library.restore': async ({ ids }) => ({ restored: library.restore(ids) }),
    'library.emptyTrash': async (p) => library.emptyTrash(p?.ids),
    'library.export': async ({ ids, dir, sidecar, stripMetadata }) => library.export(ids, dir, { sidecar: sidecar ?? false, stripMetadata: stripMetadata ?? false }),
    'library.exportSheet': async (p) => exportSheet({ db, resolveMedia: (id, variant) => library.resolveMedia(id, variant) }, p),
    'library.import': async ({ dir, recursive }) => library.import(dir, { recursive }),
    'library.stats': async () => library.stats(),
    'library.sameSeed': async ({ id, limit }) => library.sameSeed(id, limit),
    'library.samePrompt': async ({ id, limit }) => library.samePrompt(id, limit),
    'library.reveal': async ({ id }) => ({ revealed: await library.reveal(id) }),
    'library.check': async (p) => library.check(p?.repair ?? false),
    'library.moveRoot': async ({ to }) => library.moveRoot(to),
    'library.moveToProject': async ({ ids, projectId }) => ({ moved: library.moveToProject(ids, projectId) }),
    'library.projectsList': async () => listProjects(db),
    'library.projectsGet': async ({ id }) => getProject(db, id),
    'library.projectsCreate': async (p) => projectsChanged(createProject(db, p)),
    'library.projectsUpdate': async ({ id, ...p }) => projectsChanged(updateProject(db, id, p)),
    'library.projectsDelete': async ({ id }) => projectsChanged({ deleted: deleteProject(db, id) }),
    'library.scenesCreate': async ({ projectId, ...p }) => projectsChanged(createScene(db, projectId, p)),
    'library.scenesUpdate': async ({ id, ...p }) => projectsChanged(updateScene(db, id, p)),
    'library.scenesDelete': async ({ id }) => projectsChanged({ deleted: deleteScene(db, id) }),
    'library.charactersList': async () => listCharacters(db),
    'library.charactersCreate': async (p) => projectsChanged(createCharacter(db, p)),
    'library.charactersUpdate': async ({ id, ...p }) => projectsChanged(updateCharacter(db, id, p)),
    'library.charactersDelete': async ({ id }) => projectsChanged({ deleted: deleteCharacter(db, id) }),
  };
}

/** The Library and its handlers; the engine keeps the Library to start, close and serve media. */
export function createLibrary(deps: LibraryDeps): { library: Library; handlers: LibraryHandlers } {
  const library = new Library(deps);
  return { library, handlers: handlersFor(library) };
}

/** Handlers only (what engine.ts spreads today); prefer createLibrary to also start/close the Library. */
export function libraryHandlers(deps: LibraryDeps): LibraryHandlers {
  return createLibrary(deps).handlers;
}
