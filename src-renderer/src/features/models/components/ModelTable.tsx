/**
 * The model list: each model's name, what it is ("SDXL checkpoint, fp16, 6.9 GB, VAE included"),
 * its A1111 model hash once prepared, and its status — Ready (and Default for its family's default),
 * Invalid with the reasons, or Ready to prepare with a one-click Prepare — with the row's actions:
 * Make default, Show in folder (Copy path in a browser), Remove from list (Put back when removed).
 */
import { useMemo } from 'react';
import { getStudioApi } from '../../../api/index.ts';
import { appVerbs } from '../../../api/app-verbs.ts';
import { CloseIcon, CopyIcon, FolderIcon, RestoreIcon } from '../../../components/icons.tsx';
import type { ModelInfo } from '../../../contract.ts';
import { formatFileSize } from '../../../format.ts';
import { useStudio } from '../../../store.ts';
import { createModelListActions } from '../list-actions.ts';
import type { ModelListActions } from '../list-actions.ts';
import { FAMILY_LABEL, asSentence, modelStatusLabel, percent, runningFor } from '../logic.ts';
import { useModelsActions } from '../use-models-actions.ts';

function useModelListActions(): ModelListActions {
  return useMemo(
    () => createModelListActions(getStudioApi(), useStudio, { canReveal: appVerbs().pickFolder !== null, copy: (text) => navigator.clipboard.writeText(text) }),
    [],
  );
}

/** Make default, Show in folder / Copy path, Remove from list (or Put back). */
function RowActions({ model, actions }: { model: ModelInfo; actions: ModelListActions }) {
  return (
    <div className="model-actions">
      {model.status === 'ready' && !model.isDefault && !model.hidden ? (
        <button
          type="button"
          className="btn btn-secondary btn-small"
          aria-label={`Make default: ${model.name}`}
          title={`${FAMILY_LABEL[model.family]} jobs that name no model run on the default`}
          onClick={() => void actions.makeDefault(model)}
        >
          Make default
        </button>
      ) : null}
      {model.hidden ? (
        <button type="button" className="btn btn-secondary btn-small" aria-label={`Put back: ${model.name}`} onClick={() => void actions.setHidden(model, false)}>
          <RestoreIcon /> Put back
        </button>
      ) : null}
      <button
        type="button"
        className="icon-btn"
        aria-label={actions.canReveal ? `Show ${model.name} in its folder` : `Copy the path of ${model.name}`}
        title={actions.canReveal ? 'Show in folder' : 'Copy path (a browser cannot open your file manager)'}
        onClick={() => void actions.reveal(model)}
      >
        {actions.canReveal ? <FolderIcon /> : <CopyIcon />}
      </button>
      {model.hidden ? null : (
        <button
          type="button"
          className="icon-btn"
          aria-label={`Remove ${model.name} from the list`}
          title="Remove from the list (its files stay where they are)"
          onClick={() => void actions.setHidden(model, true)}
        >
          <CloseIcon />
        </button>
      )}
    </div>
  );
}

const BADGE: Readonly<Record<ModelInfo['status'], string>> = {
  ready: 'badge--done',
  needs_preparation: 'badge--queued',
  invalid: 'badge--failed',
};

function StatusCell({ model, listActions }: { model: ModelInfo; listActions: ModelListActions }) {
  const actions = useModelsActions();
  const running = useStudio((s) => (model.status === 'needs_preparation' ? runningFor(s.preparations, model.path) : null));
  if (running) {
    return (
      <td className="model-status">
        <span className="badge badge--running">Preparing · {percent(running)}%</span>
      </td>
    );
  }
  return (
    <td className="model-status">
      <div className="model-status-stack">
        <span className="model-badges">
          <span className={`badge ${BADGE[model.status]}`}>{modelStatusLabel(model)}</span>
          {model.isDefault ? (
            <span className="model-tag model-tag--default" data-testid="model-default" title={`${FAMILY_LABEL[model.family]} jobs that name no model run on this one`}>
              Default
            </span>
          ) : null}
          {model.hidden ? <span className="model-tag model-tag--removed">Removed</span> : null}
        </span>
        {model.status === 'needs_preparation' ? (
          <button
            type="button"
            className="btn btn-primary btn-small model-prepare"
            aria-label={`Prepare ${model.name}`}
            title="Read the checkpoint once (for its model hash) and build what the studio runs; the weights stay where they are"
            onClick={() => void actions.prepare(model)}
          >
            Prepare
          </button>
        ) : null}
        <RowActions model={model} actions={listActions} />
      </div>
    </td>
  );
}

function ModelRow({ model, listActions }: { model: ModelInfo; listActions: ModelListActions }) {
  const prepared = model.status === 'ready' && model.hash;
  return (
    <tr data-model-id={model.id} data-status={model.status} data-hidden={model.hidden ? 'true' : undefined}>
      <td className="model-cell">
        <div className="model-name">{model.name}</div>
        {model.description ? <div className="model-description">{model.description}</div> : null}
        <div className="model-facts">
          {prepared ? (
            <span className="model-hash" title="A1111's short model hash: the first 10 hex digits of the checkpoint's SHA-256">
              Model hash <code data-testid="model-hash">{model.hash}</code>
            </span>
          ) : null}
          <span className="model-path" title={model.source ?? model.path}>
            {model.status === 'needs_preparation' || model.status === 'invalid' ? model.path : (model.source ?? model.id)}
          </span>
        </div>
        {model.problems.length > 0 ? (
          <ul className="problems">
            {model.problems.map((p) => (
              <li key={p}>{asSentence(p)}</li>
            ))}
          </ul>
        ) : null}
      </td>
      <td>{FAMILY_LABEL[model.family] ?? model.family}</td>
      <td className="num">{formatFileSize(model.sizeBytes)}</td>
      <td>{model.precision}</td>
      <StatusCell model={model} listActions={listActions} />
    </tr>
  );
}

export function ModelTable({ models }: { models: readonly ModelInfo[] }) {
  const listActions = useModelListActions();
  return (
    <div className="panel table-panel">
      <table className="table models-table" aria-label="Models">
        <colgroup>
          <col />
          <col className="models-col-family" />
          <col className="models-col-size" />
          <col className="models-col-precision" />
          <col className="models-col-status" />
        </colgroup>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Family</th>
            <th scope="col" className="num">
              Size
            </th>
            <th scope="col">Precision</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <ModelRow key={m.id} model={m} listActions={listActions} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
