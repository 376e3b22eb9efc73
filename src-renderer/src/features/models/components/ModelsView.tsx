import { useState } from 'react';
import { useActions } from '../../../app/actions-context.tsx';
import { ViewHeader } from '../../../app/ViewHeader.tsx';
import type { ModelInfo } from '../../../contract.ts';
import { formatBytes } from '../../../format.ts';
import { useStudio } from '../../../store.ts';

const FAMILY: Record<ModelInfo['family'], string> = { sdxl: 'SDXL', wan: 'WAN 2.1', qwen: 'Qwen 2.5' };

function ModelRow({ model }: { model: ModelInfo }) {
  return (
    <tr data-model-id={model.id}>
      <td>
        <div className="model-name">{model.name}</div>
        <div className="model-id" title={model.path}>
          {model.id}
        </div>
      </td>
      <td>{FAMILY[model.family] ?? model.family}</td>
      <td className="num">{formatBytes(model.sizeBytes)}</td>
      <td>{model.precision}</td>
      <td>
        <span className={`badge ${model.status === 'ready' ? 'badge--done' : 'badge--failed'}`}>
          {model.status === 'ready' ? 'Ready' : 'Invalid'}
        </span>
      </td>
      <td>
        {model.problems.length === 0 ? (
          <span className="muted">None</span>
        ) : (
          <ul className="problems">
            {model.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}

export function ModelsView() {
  const models = useStudio((s) => s.models);
  const modelDirs = useStudio((s) => s.appInfo?.modelDirs ?? []);
  const actions = useActions();
  const [refreshing, setRefreshing] = useState(false);

  const refresh = async () => {
    setRefreshing(true);
    await actions.refreshModels();
    setRefreshing(false);
  };

  return (
    <div className="view">
      <ViewHeader
        title="Models"
        description="ONNX model folders found on this machine. Each is checked (files, inputs, outputs, types) before a job may use it."
        actions={
          <button type="button" className="btn btn-secondary" onClick={() => void refresh()} disabled={refreshing}>
            {refreshing ? 'Scanning…' : 'Scan again'}
          </button>
        }
      />
      {models === null ? (
        <p className="muted">Loading the model list…</p>
      ) : models.length === 0 ? (
        <div className="empty-state">
          <p className="empty-title">No models found</p>
          <p>
            Put ONNX model folders (SDXL in the Hugging Face Optimum layout, WAN 2.1 and Qwen 2.5 in theirs) into{' '}
            {modelDirs.length > 0 ? (
              modelDirs.map((d, i) => (
                <span key={d}>
                  {i > 0 ? ', ' : ''}
                  <code>{d}</code>
                </span>
              ))
            ) : (
              'a model folder'
            )}{' '}
            and press Scan again.
          </p>
        </div>
      ) : (
        <div className="panel table-panel">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Family</th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col">Precision</th>
                <th scope="col">Status</th>
                <th scope="col">Problems</th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <ModelRow key={m.id} model={m} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
