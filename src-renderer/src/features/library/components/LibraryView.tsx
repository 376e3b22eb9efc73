/**
 * The Library: every generated and imported asset on this machine, as a grid or a table, with
 * search, filters, multi-select and bulk actions, a preview with the full recipe, and live updates
 * as jobs land. Empty and error states say what to do next.
 */
import { useEffect, useState } from 'react';
import { ViewHeader } from '../../../app/ViewHeader.tsx';
import { formatBytes } from '../../../format.ts';
import { useStudio } from '../../../store.ts';
import { useLibrary } from '../context.tsx';
import { isFiltered } from '../filters.ts';
import { selectedCount } from '../selection.ts';
import { AssetGrid } from './AssetGrid.tsx';
import { AssetTable } from './AssetTable.tsx';
import { BulkBar } from './BulkBar.tsx';
import { ConfirmDialog, FolderDialog } from './dialogs.tsx';
import { FilterBar } from './FilterBar.tsx';
import { ImportIcon, TrashIcon } from '../../../components/icons.tsx';
import { PreviewDialog } from './PreviewDialog.tsx';
import { UndoToast } from './UndoToast.tsx';
import '../library.css';

function Summary() {
  const stats = useStudio((s) => s.libraryStats);
  const total = useStudio((s) => s.libraryFeed.total);
  const filters = useStudio((s) => s.libraryFilters);
  if (!stats || (stats.assets === 0 && stats.trashed === 0)) return <>Everything you generate and import, kept on this machine.</>;
  if (filters.trashed) {
    return (
      <>
        {stats.trashed.toLocaleString()} in the trash · {formatBytes(stats.trashedBytes)}. Deleted assets stay here until you empty it.
      </>
    );
  }
  const n = (count: number, noun: string) => `${count.toLocaleString()} ${noun}${count === 1 ? '' : 's'}`;
  const all = `${n(stats.assets, 'asset')} · ${n(stats.images, 'image')}, ${n(stats.videos, 'video')} · ${formatBytes(stats.totalBytes - stats.trashedBytes)}`;
  return <>{isFiltered(filters) && total !== null ? `${total.toLocaleString()} of ${all}` : all}</>;
}

function EmptyLibrary({ onImport }: { onImport(): void }) {
  const navigate = useStudio((s) => s.navigate);
  return (
    <div className="library-empty" data-testid="library-empty">
      <h2 className="empty-title">No images or videos yet</h2>
      <p>
        Everything you generate in the Workspace lands here, with its prompt and settings. You can also bring in a folder of PNG, JPEG, WebP or MP4 files made with other tools —
        the settings A1111, ComfyUI, InvokeAI, SwarmUI, Fooocus and NovelAI write into their files are read too.
      </p>
      <div className="library-empty-actions">
        <button type="button" className="btn btn-primary" onClick={() => navigate('workspace')}>
          Open the Workspace
        </button>
        <button type="button" className="btn btn-secondary" onClick={onImport}>
          <ImportIcon /> Import a folder…
        </button>
      </div>
    </div>
  );
}

function Body({ onImport }: { onImport(): void }) {
  const controller = useLibrary();
  const feed = useStudio((s) => s.libraryFeed);
  const layout = useStudio((s) => s.libraryLayout);
  const filters = useStudio((s) => s.libraryFilters);
  const clearFilters = useStudio((s) => s.clearLibraryFilters);

  if (feed.total === null) {
    if (feed.status === 'error') {
      return (
        <div className="library-empty library-empty--error" role="alert">
          <h2 className="empty-title">Could not load the library</h2>
          <p>{feed.error}</p>
          <div className="library-empty-actions">
            <button type="button" className="btn btn-secondary" onClick={() => controller.reload()}>
              Try again
            </button>
          </div>
        </div>
      );
    }
    return <div className="library-loading" aria-busy="true">Loading the library…</div>;
  }
  if (feed.total === 0) {
    if (filters.trashed) {
      return (
        <div className="library-empty">
          <h2 className="empty-title">The trash is empty</h2>
          <p>Assets you delete wait here until you empty the trash, so a slip can always be undone.</p>
        </div>
      );
    }
    if (isFiltered(filters)) {
      return (
        <div className="library-empty" data-testid="library-no-match">
          <h2 className="empty-title">Nothing matches</h2>
          <p>{filters.search.trim() ? `No prompt contains “${filters.search.trim()}” with these filters.` : 'No asset fits all of these filters.'} Loosen a filter, or start again.</p>
          <div className="library-empty-actions">
            <button type="button" className="btn btn-secondary" onClick={clearFilters}>
              Clear filters
            </button>
          </div>
        </div>
      );
    }
    return <EmptyLibrary onImport={onImport} />;
  }
  return (
    <>
      {feed.status === 'error' ? (
        <div className="library-banner" role="alert">
          Could not refresh the library: {feed.error}
          <button type="button" className="btn btn-link" onClick={() => controller.reload()}>
            Try again
          </button>
        </div>
      ) : null}
      {layout === 'grid' ? <AssetGrid /> : <AssetTable />}
    </>
  );
}

export function LibraryView() {
  const controller = useLibrary();
  const trashed = useStudio((s) => s.libraryFilters.trashed);
  const setFilters = useStudio((s) => s.setLibraryFilters);
  const stats = useStudio((s) => s.libraryStats);
  const selecting = useStudio((s) => selectedCount(s.librarySelection, s.libraryFeed.total ?? 0) > 0);
  const [importing, setImporting] = useState(false);
  const [emptying, setEmptying] = useState(false);

  useEffect(() => controller.start(), [controller]);

  return (
    <div className="view library-view">
      <ViewHeader
        title="Library"
        description={<Summary />}
        actions={
          <>
            <div className="segmented" role="group" aria-label="Show">
              <button type="button" aria-pressed={!trashed} onClick={() => trashed && setFilters({ trashed: false })}>
                Library
              </button>
              <button type="button" aria-pressed={trashed} onClick={() => !trashed && setFilters({ trashed: true })}>
                Trash{stats && stats.trashed > 0 ? ` (${stats.trashed.toLocaleString()})` : ''}
              </button>
            </div>
            {trashed ? (
              <button type="button" className="btn btn-ghost btn-danger" disabled={!stats || stats.trashed === 0} onClick={() => setEmptying(true)}>
                <TrashIcon /> Empty trash…
              </button>
            ) : (
              <button type="button" className="btn btn-secondary" onClick={() => setImporting(true)}>
                <ImportIcon /> Import…
              </button>
            )}
          </>
        }
      />
      <FilterBar />
      <div className="library-body">
        {selecting ? <BulkBar /> : null}
        <Body onImport={() => setImporting(true)} />
      </div>
      <PreviewDialog />
      <UndoToast />
      <FolderDialog
        open={importing}
        onOpenChange={setImporting}
        title="Import a folder"
        description="PNG, JPEG, WebP and MP4 files in the folder (and its subfolders) are copied into the library, with the prompt and settings other tools wrote into them. Files already in the library are skipped."
        submitLabel="Import"
        task="import"
        onSubmit={(dir) => controller.importFolder(dir)}
      />
      <ConfirmDialog
        open={emptying}
        onOpenChange={setEmptying}
        title="Empty the trash?"
        description={`${stats?.trashed.toLocaleString() ?? 'All'} assets and their files are removed from this machine for good. This cannot be undone.`}
        confirmLabel="Empty trash"
        danger
        onConfirm={() => void controller.emptyTrash()}
      />
    </div>
  );
}
