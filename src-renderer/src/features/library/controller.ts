/**
 * The Library's link to the engine, outside React: it owns the feed, follows `library.changed` so
 * new assets appear as jobs land, keeps the feed's query in step with the
 * filters in the store, and carries out what the user asks — each failure becomes a toast with the
 * engine's sentence, each delete an undo offer.
 */
import type { Connection } from '../../api/connection.ts';
import { toWireError } from '../../api/errors.ts';
import type { AssetDetail, AssetView, LibraryChange, StudioApi } from '../../contract.ts';
import type { StudioStore } from '../../store.ts';
import { recipeFromAsset } from '../workspace/request.ts';
import { LibraryFeed } from './feed.ts';
import { toQuery } from './filters.ts';
import { EMPTY_SELECTION, selectedCount, without } from './selection.ts';

export interface LibraryController {
  readonly feed: LibraryFeed;
  /** Whether the engine can show a file in the system file manager (Electron only). */
  readonly canReveal: boolean;
  /** Starts loading (idempotent): the first time the Library is opened. */
  start(): void;
  stop(): void;
  reload(): void;
  detail(id: string): Promise<AssetDetail | null>;
  /** The ids the selection stands for (walking the whole list for "select all"). */
  selectedIds(): Promise<string[]>;
  trash(ids: readonly string[]): Promise<boolean>;
  undoTrash(): Promise<void>;
  restore(ids: readonly string[]): Promise<void>;
  deleteForever(ids: readonly string[]): Promise<void>;
  emptyTrash(): Promise<void>;
  tag(ids: readonly string[], tags: readonly string[]): Promise<boolean>;
  untag(ids: readonly string[], tags: readonly string[]): Promise<boolean>;
  setFavorite(ids: readonly string[], favorite: boolean): Promise<void>;
  setRating(id: string, rating: number): Promise<void>;
  moveToProject(ids: readonly string[], target: { projectId: string | null } | { newTitle: string }): Promise<boolean>;
  /** `stripMetadata`: copies without generation data (not with `sidecar`). */
  exportTo(ids: readonly string[], dir: string, sidecar: boolean, stripMetadata?: boolean): Promise<boolean>;
  importFolder(dir: string): Promise<boolean>;
  reveal(id: string): Promise<void>;
  useSettings(asset: AssetView): void;
}

function plural(n: number, kind = 'asset'): string {
  return `${n.toLocaleString()} ${kind}${n === 1 ? '' : 's'}`;
}

export function createLibraryController(
  api: StudioApi,
  connection: Connection,
  store: StudioStore,
  options: { readonly electron: boolean } = { electron: false },
): LibraryController {
  const s = () => store.getState();
  const seenModels = new Set<string>();
  const feed = new LibraryFeed(api.library, (snapshot) => s().setLibraryFeed(snapshot), {
    onRows(rows) {
      const fresh = [];
      for (const r of rows) {
        if (r.model && !seenModels.has(r.model)) {
          seenModels.add(r.model);
          fresh.push(r.model);
        }
      }
      if (fresh.length > 0) s().addLibraryModels(fresh);
    },
  });
  const unsubscribers: (() => void)[] = [];
  let started = false;
  let metaTimer: ReturnType<typeof setTimeout> | null = null;

  const fail = (title: string, error: unknown): false => {
    s().notify({ kind: 'error', title, message: toWireError(error).message });
    return false;
  };
  const info = (title: string, message: string) => s().notify({ kind: 'info', title, message });

  function loadMeta() {
    api.library.tags().then((t) => s().setLibraryTags(t), () => {});
    api.library.projectsList().then((p) => s().setLibraryProjects(p), () => {});
    api.library.stats().then((st) => s().setLibraryStats(st), () => {});
  }
  function loadMetaSoon() {
    if (metaTimer !== null) return;
    metaTimer = setTimeout(() => {
      metaTimer = null;
      loadMeta();
    }, 300);
  }

  function onChange(change: LibraryChange) {
    feed.changed(change);
    if (change.reason !== 'thumbnail') loadMetaSoon();
    if (change.reason === 'trashed' || change.reason === 'deleted') {
      const sel = s().librarySelection;
      if (change.ids && sel.mode === 'ids') s().setLibrarySelection(without(sel, change.ids));
    }
  }

  async function restore(ids: readonly string[], announce: boolean): Promise<void> {
    try {
      const { restored } = await api.library.restore({ ids: [...ids] });
      if (announce) info('Restored', `${plural(restored)} back in the library.`);
      onChange({ reason: 'restored', ids: [...ids] });
    } catch (error) {
      fail('Could not restore from the trash', error);
    }
  }

  function syncQuery() {
    const { libraryFilters, librarySort } = s();
    feed.setQuery(toQuery(libraryFilters, librarySort));
  }

  const controller: LibraryController = {
    feed,
    canReveal: options.electron,

    start() {
      if (started) return;
      started = true;
      syncQuery();
      loadMeta();
      unsubscribers.push(
        store.subscribe((state, prev) => {
          if (state.libraryFilters !== prev.libraryFilters || state.librarySort !== prev.librarySort) syncQuery();
        }),
      );
      unsubscribers.push(api.library.onChanged(onChange));
      unsubscribers.push(
        api.library.onProgress((p) => s().setLibraryProgress(p.done >= p.total ? null : p)),
      );
      let wasOpen = connection.state === 'open';
      unsubscribers.push(
        connection.onState((state) => {
          // Events sent while the socket was down are lost: read again.
          if (state === 'open' && !wasOpen) controller.reload();
          wasOpen = state === 'open';
        }),
      );
    },

    stop() {
      for (const u of unsubscribers.splice(0)) u();
      feed.close();
      if (metaTimer !== null) clearTimeout(metaTimer);
      started = false;
    },

    reload() {
      feed.reload();
      loadMeta();
    },

    detail: (id) => api.library.get({ id }),

    async selectedIds() {
      const sel = s().librarySelection;
      if (sel.mode === 'ids') return [...sel.ids];
      return feed.allIds(sel.except);
    },

    async trash(ids) {
      if (ids.length === 0) return false;
      try {
        const { trashed } = await api.library.trash({ ids: [...ids] });
        s().setLibrarySelection(without(s().librarySelection, ids));
        s().offerUndo({ ids, message: `${plural(trashed)} moved to the trash.` });
        onChange({ reason: 'trashed', ids: [...ids] });
        return true;
      } catch (error) {
        return fail('Could not move to the trash', error);
      }
    },

    async undoTrash() {
      const offer = s().libraryUndo;
      if (!offer) return;
      s().offerUndo(null);
      // The assets coming back is the answer; a toast on top would only take the next Esc.
      await restore(offer.ids, false);
    },

    restore: (ids) => restore(ids, true),

    async deleteForever(ids) {
      try {
        const r = await api.library.emptyTrash({ ids: [...ids] });
        s().setLibrarySelection(EMPTY_SELECTION);
        if (r.problems.length > 0) fail('Some files could not be deleted', { message: r.problems[0]!.message });
        else info('Deleted for good', `${plural(r.deleted)} removed from this machine.`);
        onChange({ reason: 'deleted', ids: [...ids] });
      } catch (error) {
        fail('Could not delete', error);
      }
    },

    async emptyTrash() {
      try {
        const r = await api.library.emptyTrash({});
        s().setLibrarySelection(EMPTY_SELECTION);
        if (r.problems.length > 0) fail('Some files could not be deleted', { message: `${r.problems.length} stay in the trash: ${r.problems[0]!.message}` });
        else info('Trash emptied', `${plural(r.deleted)} removed from this machine.`);
        onChange({ reason: 'deleted', ids: null });
      } catch (error) {
        fail('Could not empty the trash', error);
      }
    },

    async tag(ids, tags) {
      try {
        await api.library.tag({ ids: [...ids], tags: [...tags] });
        info('Tagged', `${plural(ids.length)} tagged ${tags.map((t) => `“${t}”`).join(', ')}.`);
        onChange({ reason: 'tags', ids: ids.length <= 500 ? [...ids] : null });
        return true;
      } catch (error) {
        return fail('Could not add the tags', error);
      }
    },

    async untag(ids, tags) {
      try {
        await api.library.untag({ ids: [...ids], tags: [...tags] });
        onChange({ reason: 'tags', ids: ids.length <= 500 ? [...ids] : null });
        return true;
      } catch (error) {
        return fail('Could not remove the tag', error);
      }
    },

    async setFavorite(ids, favorite) {
      try {
        if (ids.length === 1) await api.library.update({ id: ids[0]!, favorite });
        else await api.library.bulkUpdate({ ids: [...ids], favorite });
        onChange({ reason: 'updated', ids: ids.length <= 500 ? [...ids] : null });
      } catch (error) {
        fail(favorite ? 'Could not add to favourites' : 'Could not remove from favourites', error);
      }
    },

    async setRating(id, rating) {
      try {
        await api.library.update({ id, rating });
        onChange({ reason: 'updated', ids: [id] });
      } catch (error) {
        fail('Could not save the rating', error);
      }
    },

    async moveToProject(ids, target) {
      try {
        let projectId: string | null;
        let name = 'no project';
        if ('newTitle' in target) {
          const project = await api.library.projectsCreate({ title: target.newTitle });
          projectId = project.id;
          name = `“${project.title}”`;
        } else {
          projectId = target.projectId;
          const project = s().libraryProjects.find((p) => p.id === projectId);
          if (project) name = `“${project.title}”`;
        }
        const { moved } = await api.library.moveToProject({ ids: [...ids], projectId });
        info('Moved', projectId === null ? `${plural(moved)} taken out of their project.` : `${plural(moved)} moved to ${name}.`);
        onChange({ reason: 'projects', ids: null });
        return true;
      } catch (error) {
        return fail('Could not move to the project', error);
      }
    },

    async exportTo(ids, dir, sidecar, stripMetadata = false) {
      try {
        const r = await api.library.export({ ids: [...ids], dir, sidecar, stripMetadata }).finally(() => s().setLibraryProgress(null));
        if (r.problems.length > 0) {
          fail('Some files were not exported', { message: `${r.files.length} exported to ${r.dir}; ${r.problems.length} not: ${r.problems[0]!.message}` });
        } else {
          const extra = stripMetadata ? ', without generation data' : sidecar ? ', each with its recipe' : '';
          info('Exported', `${plural(r.files.length, 'file')} copied to ${r.dir}${extra}.`);
        }
        return true;
      } catch (error) {
        return fail('Could not export', error);
      }
    },

    async importFolder(dir) {
      try {
        const r = await api.library.import({ dir, recursive: true }).finally(() => s().setLibraryProgress(null));
        const skipped = r.skipped.filter((x) => x.reason !== 'duplicate').length;
        const dupes = r.skipped.length - skipped;
        const parts = [`${plural(r.imported.length, 'file')} imported from ${r.dir}`];
        if (dupes > 0) parts.push(`${dupes} already in the library`);
        if (skipped > 0) parts.push(`${skipped} skipped (${r.skipped.find((x) => x.reason !== 'duplicate')!.message})`);
        info('Import finished', `${parts.join('; ')}.`);
        onChange({ reason: 'added', ids: null });
        return true;
      } catch (error) {
        return fail('Could not import the folder', error);
      }
    },

    async reveal(id) {
      try {
        const { revealed } = await api.library.reveal({ id });
        if (!revealed) info('Not available here', 'Showing a file in its folder works in the desktop app.');
      } catch (error) {
        fail('Could not show the file', error);
      }
    },

    useSettings(asset) {
      s().setLibraryPreview(null);
      s().applyRecipe(recipeFromAsset(asset));
    },
  };
  return controller;
}

/** How many assets a bulk action is about to touch (for its confirmation). */
export function selectionSize(store: StudioStore): number {
  const st = store.getState();
  return selectedCount(st.librarySelection, st.libraryFeed.total ?? 0);
}
