/**
 * The model list: each model's name, what it is ("SDXL checkpoint, fp16, 6.9 GB, VAE included"),
 * its A1111 model hash once prepared, and its status — Ready, Invalid with the reasons, or Ready to
 * prepare with a one-click Prepare.
 */
import type { ModelInfo } from '../../../contract.ts';
import { formatFileSize } from '../../../format.ts';
import { useStudio } from '../../../store.ts';
import { FAMILY_LABEL, asSentence, modelStatusLabel, percent, runningFor } from '../logic.ts';
import { useModelsActions } from '../use-models-actions.ts';

const BADGE: Readonly<Record<ModelInfo['status'], string>> = {
  ready: 'badge--done',
  needs_preparation: 'badge--queued',
  invalid: 'badge--failed',
};

function StatusCell({ model }: { model: ModelInfo }) {
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
        <span className={`badge ${BADGE[model.status]}`}>{modelStatusLabel(model)}</span>
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
      </div>
    </td>
  );
}

function ModelRow({ model }: { model: ModelInfo }) {
  const prepared = model.status === 'ready' && model.hash;
  return (
    <tr data-model-id={model.id} data-status={model.status}>
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
      <StatusCell model={model} />
    </tr>
  );
}

export function ModelTable({ models }: { models: readonly ModelInfo[] }) {
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
            <ModelRow key={m.id} model={m} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
