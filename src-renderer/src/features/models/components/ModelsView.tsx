/**
 * Models: what the studio can run and what it can prepare. Add model… (or a drop onto the view)
 * adds a checkpoint; preparations run as cards with progress; checkpoints found in the model
 * folders wait as "Ready to prepare" rows, one click from ready.
 */
import { useRef, useState } from 'react';
import type { DragEvent } from 'react';
import { useActions } from '../../../app/actions-context.tsx';
import { ViewHeader } from '../../../app/ViewHeader.tsx';
import { appVerbs } from '../../../api/app-verbs.ts';
import { PlusIcon } from '../../../components/icons.tsx';
import { useStudio } from '../../../store.ts';
import { AddModelDialog } from './AddModelDialog.tsx';
import { ModelTable } from './ModelTable.tsx';
import { Preparations } from './Preparations.tsx';
import '../models.css';

const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes('Files');

/** Drag and drop onto the view: the app knows where a dropped file lies; a browser does not, and says so. */
function useDropToAdd() {
  const openAddModel = useStudio((s) => s.openAddModel);
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  return {
    over,
    handlers: {
      onDragEnter(e: DragEvent) {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth.current += 1;
        setOver(true);
      },
      onDragOver(e: DragEvent) {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      },
      onDragLeave(e: DragEvent) {
        if (!hasFiles(e)) return;
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setOver(false);
      },
      onDrop(e: DragEvent) {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth.current = 0;
        setOver(false);
        const files = Array.from(e.dataTransfer.files);
        const first = files[0];
        if (!first) return;
        const path = appVerbs().pathForFile?.(first) ?? null;
        const more = files.length > 1 ? ` Models are added one at a time: ${first.name} first.` : '';
        if (path) openAddModel({ path, note: more.trim() || null });
        else {
          openAddModel({
            note: `Drop works in the desktop app: a browser cannot see where ${first.name} is on disk. Paste its full path here.${more}`,
          });
        }
      },
    },
  };
}

function EmptyState({ modelDirs }: { modelDirs: readonly string[] }) {
  const openAddModel = useStudio((s) => s.openAddModel);
  return (
    <div className="empty-state">
      <p className="empty-title">No models yet</p>
      <p>
        Add an SDXL checkpoint (.safetensors, as Civitai and Hugging Face offer them) or a diffusers folder, or drop one here. Checkpoints
        and ONNX model folders put into{' '}
        {modelDirs.length > 0
          ? modelDirs.map((d, i) => (
              <span key={d}>
                {i > 0 ? ', ' : ''}
                <code>{d}</code>
              </span>
            ))
          : 'a model folder'}{' '}
        show up here too.
      </p>
      <button type="button" className="btn btn-primary" onClick={() => openAddModel()}>
        <PlusIcon /> Add model…
      </button>
    </div>
  );
}

export function ModelsView() {
  const models = useStudio((s) => s.models);
  const modelDirs = useStudio((s) => s.appInfo?.modelDirs ?? []);
  const openAddModel = useStudio((s) => s.openAddModel);
  const actions = useActions();
  const [refreshing, setRefreshing] = useState(false);
  const [showRemoved, setShowRemoved] = useState(false);
  const drop = useDropToAdd();
  const removed = models?.filter((m) => m.hidden).length ?? 0;
  const listed = models && (showRemoved ? models : models.filter((m) => !m.hidden));

  const refresh = async () => {
    setRefreshing(true);
    await actions.refreshModels();
    setRefreshing(false);
  };

  return (
    <div className={`view models-view${drop.over ? ' models-view--drop' : ''}`} {...drop.handlers} data-testid="models-view">
      <ViewHeader
        title="Models"
        description="SDXL checkpoints, diffusers folders and ONNX model folders on this machine. Add a checkpoint and the studio reads its header, says what it is and prepares it to run here."
        actions={
          <>
            <button type="button" className="btn btn-secondary" onClick={() => void refresh()} disabled={refreshing}>
              {refreshing ? 'Scanning…' : 'Scan again'}
            </button>
            <button type="button" className="btn btn-primary" onClick={() => openAddModel()}>
              <PlusIcon /> Add model…
            </button>
          </>
        }
      />
      <Preparations />
      {models === null || listed === null ? (
        <p className="muted">Loading the model list…</p>
      ) : listed.length === 0 && removed === 0 ? (
        <EmptyState modelDirs={modelDirs} />
      ) : (
        <ModelTable models={listed} />
      )}
      {removed > 0 || showRemoved ? (
        <p className="models-removed">
          {removed === 0
            ? 'No model is removed from the list.'
            : `${removed === 1 ? '1 model is' : `${removed} models are`} removed from the list (their files are untouched).`}{' '}
          <button type="button" className="btn-link" aria-pressed={showRemoved} onClick={() => setShowRemoved((v) => !v)}>
            {showRemoved ? 'Hide removed' : 'Show removed'}
          </button>
        </p>
      ) : null}
      <p className="models-drop-hint">Drop a checkpoint or a diffusers folder anywhere on this view to add it.</p>
      {drop.over ? (
        <div className="models-drop" aria-hidden="true">
          <p>Drop to add this model</p>
        </div>
      ) : null}
      <AddModelDialog />
    </div>
  );
}
