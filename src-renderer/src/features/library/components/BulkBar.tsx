/**
 * What to do with the selection: compare two, tag, favourite, move to a project, export, delete (or,
 * in the trash, restore). It floats over the bottom of the list, so selecting never moves the grid
 * (a double-click's second click lands on the tile its first one selected).
 */
import { useCallback, useState } from 'react';
import { useStudio } from '../../../store.ts';
import { useLibrary } from '../context.tsx';
import { EMPTY_SELECTION, selectAll, selectedCount } from '../selection.ts';
import { ConfirmDialog, FolderDialog, ProjectDialog, TagDialog } from './dialogs.tsx';
import { CompareIcon, ExportIcon, FolderIcon, HeartIcon, RestoreIcon, TagIcon, TrashIcon } from '../../../components/icons.tsx';
import { LibraryCompare } from './LibraryCompare.tsx';

type Open = null | 'tag' | 'project' | 'export' | 'delete' | 'forever';

export function BulkBar() {
  const controller = useLibrary();
  const selection = useStudio((s) => s.librarySelection);
  const total = useStudio((s) => s.libraryFeed.total) ?? 0;
  const trashed = useStudio((s) => s.libraryFilters.trashed);
  const setSelection = useStudio((s) => s.setLibrarySelection);
  const [open, setOpen] = useState<Open>(null);
  const [busy, setBusy] = useState(false);
  const [comparing, setComparing] = useState<readonly [string, string] | null>(null);
  const closeCompare = useCallback(() => setComparing(null), []);
  const count = selectedCount(selection, total);
  if (count === 0) return null;
  const noun = `${count.toLocaleString()} ${count === 1 ? 'asset' : 'assets'}`;

  /** Resolves the selection to ids (walking the list for "all"), then runs the action. */
  const withIds = async <T,>(action: (ids: string[]) => Promise<T>): Promise<T | false> => {
    setBusy(true);
    try {
      const ids = await controller.selectedIds();
      return ids.length === 0 ? false : await action(ids);
    } finally {
      setBusy(false);
    }
  };
  const dialog = (name: Open) => (o: boolean) => setOpen(o ? name : null);

  return (
    <div className="bulk-bar" role="toolbar" aria-label="Selection">
      <span className="bulk-count" data-testid="selection-count">
        {noun} selected
      </span>
      {count < total ? (
        <button type="button" className="btn btn-link" disabled={busy} onClick={() => setSelection(selectAll())}>
          Select all {total.toLocaleString()}
        </button>
      ) : null}
      <button type="button" className="btn btn-link bulk-clear" disabled={busy} onClick={() => setSelection(EMPTY_SELECTION)}>
        Clear
      </button>
      <span className="bulk-spacer" />
      {trashed ? (
        <>
          <button type="button" className="btn btn-secondary btn-small" title="Restore to the library" disabled={busy} onClick={() => void withIds((ids) => controller.restore(ids))}>
            <RestoreIcon /> <span className="bulk-label">Restore</span>
          </button>
          <button type="button" className="btn btn-ghost btn-small btn-danger" title="Delete their files for good" disabled={busy} onClick={() => setOpen('forever')}>
            <TrashIcon /> <span className="bulk-label">Delete for good…</span>
          </button>
        </>
      ) : (
        <>
          {count === 2 ? (
            <button
              type="button"
              className="btn btn-ghost btn-small"
              disabled={busy}
              title="Compare the two: slider, side by side or difference"
              onClick={() => void withIds(async (ids) => ids.length === 2 && setComparing([ids[0]!, ids[1]!]))}
            >
              <CompareIcon /> <span className="bulk-label">Compare</span>
            </button>
          ) : null}
          <button type="button" className="btn btn-ghost btn-small" title="Add to favourites" disabled={busy} onClick={() => void withIds((ids) => controller.setFavorite(ids, true))}>
            <HeartIcon /> <span className="bulk-label">Favourite</span>
          </button>
          <button type="button" className="btn btn-ghost btn-small" title="Add tags" disabled={busy} onClick={() => setOpen('tag')}>
            <TagIcon /> <span className="bulk-label">Tag…</span>
          </button>
          <button type="button" className="btn btn-ghost btn-small" title="Move to a project" disabled={busy} onClick={() => setOpen('project')}>
            <FolderIcon /> <span className="bulk-label">Move to project…</span>
          </button>
          <button type="button" className="btn btn-ghost btn-small" title="Copy the files to a folder" disabled={busy} onClick={() => setOpen('export')}>
            <ExportIcon /> <span className="bulk-label">Export…</span>
          </button>
          <button type="button" className="btn btn-ghost btn-small btn-danger" title="Move to the trash (undo follows)" disabled={busy} onClick={() => setOpen('delete')}>
            <TrashIcon /> <span className="bulk-label">Delete</span>
          </button>
        </>
      )}

      {comparing ? <LibraryCompare ids={comparing} onClose={closeCompare} /> : null}
      <TagDialog open={open === 'tag'} onOpenChange={dialog('tag')} count={count} onTag={(tags) => withIds((ids) => controller.tag(ids, tags)).then(Boolean)} />
      <ProjectDialog open={open === 'project'} onOpenChange={dialog('project')} count={count} onMove={(t) => withIds((ids) => controller.moveToProject(ids, t)).then(Boolean)} />
      <FolderDialog
        open={open === 'export'}
        onOpenChange={dialog('export')}
        title={`Export ${noun}`}
        description="The original files are copied into the folder (it is created if needed); the library keeps its own copies."
        submitLabel="Export"
        withSidecar
        withStripMetadata
        task="export"
        onSubmit={(dir, sidecar, strip) => withIds((ids) => controller.exportTo(ids, dir, sidecar, strip)).then(Boolean)}
      />
      <ConfirmDialog
        open={open === 'delete'}
        onOpenChange={dialog('delete')}
        title={`Move ${noun} to the trash?`}
        description="You can undo this from the notice that follows, or restore them from the trash later."
        confirmLabel="Move to trash"
        danger
        onConfirm={() => void withIds((ids) => controller.trash(ids))}
      />
      <ConfirmDialog
        open={open === 'forever'}
        onOpenChange={dialog('forever')}
        title={`Delete ${noun} for good?`}
        description="Their files are removed from this machine. This cannot be undone."
        confirmLabel="Delete for good"
        danger
        onConfirm={() => void withIds((ids) => controller.deleteForever(ids))}
      />
    </div>
  );
}
