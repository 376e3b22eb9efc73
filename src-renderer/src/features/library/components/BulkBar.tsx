/** What to do with the selection: tag, favourite, move to a project, export, delete (or, in the trash, restore). */
import { useState } from 'react';
import { useStudio } from '../../../store.ts';
import { useLibrary } from '../context.tsx';
import { EMPTY_SELECTION, selectAll, selectedCount } from '../selection.ts';
import { ConfirmDialog, FolderDialog, ProjectDialog, TagDialog } from './dialogs.tsx';
import { ExportIcon, FolderIcon, HeartIcon, RestoreIcon, TagIcon, TrashIcon } from '../../../components/icons.tsx';

type Open = null | 'tag' | 'project' | 'export' | 'delete' | 'forever';

export function BulkBar() {
  const controller = useLibrary();
  const selection = useStudio((s) => s.librarySelection);
  const total = useStudio((s) => s.libraryFeed.total) ?? 0;
  const trashed = useStudio((s) => s.libraryFilters.trashed);
  const setSelection = useStudio((s) => s.setLibrarySelection);
  const [open, setOpen] = useState<Open>(null);
  const [busy, setBusy] = useState(false);
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
        <button type="button" className="btn btn-link" onClick={() => setSelection(selectAll())}>
          Select all {total.toLocaleString()}
        </button>
      ) : null}
      <button type="button" className="btn btn-link bulk-clear" onClick={() => setSelection(EMPTY_SELECTION)}>
        Clear
      </button>
      <span className="bulk-spacer" />
      {trashed ? (
        <>
          <button type="button" className="btn btn-secondary btn-small" disabled={busy} onClick={() => void withIds((ids) => controller.restore(ids))}>
            <RestoreIcon /> Restore
          </button>
          <button type="button" className="btn btn-ghost btn-small btn-danger" disabled={busy} onClick={() => setOpen('forever')}>
            <TrashIcon /> Delete for good…
          </button>
        </>
      ) : (
        <>
          <button type="button" className="btn btn-ghost btn-small" disabled={busy} onClick={() => void withIds((ids) => controller.setFavorite(ids, true))}>
            <HeartIcon /> Favourite
          </button>
          <button type="button" className="btn btn-ghost btn-small" disabled={busy} onClick={() => setOpen('tag')}>
            <TagIcon /> Tag…
          </button>
          <button type="button" className="btn btn-ghost btn-small" disabled={busy} onClick={() => setOpen('project')}>
            <FolderIcon /> Move to project…
          </button>
          <button type="button" className="btn btn-ghost btn-small" disabled={busy} onClick={() => setOpen('export')}>
            <ExportIcon /> Export…
          </button>
          <button type="button" className="btn btn-ghost btn-small btn-danger" disabled={busy} onClick={() => setOpen('delete')}>
            <TrashIcon /> Delete
          </button>
        </>
      )}

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
