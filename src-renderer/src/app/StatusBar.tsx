import { Popover } from 'radix-ui';
import { useState } from 'react';
import type { ConnectionState } from '../api/connection.ts';
import type { GpuStats } from '../contract.ts';
import { formatMb } from '../format.ts';
import { useStudio } from '../store.ts';
import { cloudBadgeText, cloudBadgeTitle, useCloudStatus } from '../features/settings/cloud/cloud-store.ts';

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  idle: 'Starting',
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  stopped: 'Server stopped',
  refused: 'New link needed',
  closed: 'Disconnected',
};

/** Names the models loaded on the GPU by the names people gave them. */
function modelName(id: string, models: readonly { id: string; name: string }[] | null): string {
  return models?.find((m) => m.id === id)?.name ?? id;
}

function GpuDetails({ gpu, onSettings }: { gpu: GpuStats; onSettings(): void }) {
  const models = useStudio((s) => s.models);
  const used = gpu.memoryUsedMb;
  const free = used !== null ? Math.max(0, gpu.memoryTotalMb - used) : null;
  return (
    <div className="gpu-details">
      <p className="gpu-details-name">
        <strong>{gpu.name ?? 'GPU'}</strong>
        {gpu.utilizationPct !== null ? <span className="muted"> · {gpu.utilizationPct}% busy</span> : null}
      </p>
      <dl className="gpu-facts">
        <dt>Memory</dt>
        <dd data-testid="gpu-details-memory">
          {used !== null ? `${formatMb(used)} used of ${formatMb(gpu.memoryTotalMb)}${free !== null ? ` · ${formatMb(free)} free` : ''}` : `${formatMb(gpu.memoryTotalMb)} · use not measured`}
        </dd>
        <dt>Budget</dt>
        <dd>{formatMb(gpu.budgetMb)} for models and their work</dd>
        <dt>Measured</dt>
        <dd>{gpu.source === 'nvidia-smi' ? 'with nvidia-smi, every few seconds' : 'not measured: total and budget come from Settings'}</dd>
      </dl>
      <h3 className="gpu-details-head">Loaded models</h3>
      {gpu.loadedModels.length > 0 ? (
        <ul className="gpu-models">
          {gpu.loadedModels.map((m) => (
            <li key={m.id}>
              <span>{modelName(m.id, models)}</span>
              <span className="muted">{formatMb(m.vramMb)}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">None: models load when a job needs them and stay while they fit the budget.</p>
      )}
      {gpu.note ? <p className="gpu-note">{gpu.note}</p> : null}
      <div className="gpu-details-actions">
        <button type="button" className="btn btn-secondary btn-small" onClick={onSettings}>
          GPU settings…
        </button>
      </div>
    </div>
  );
}

/** The GPU's memory at a glance; a click opens what is loaded on it, how it is measured, and its settings. */
function GpuStatus() {
  const gpu = useStudio((s) => s.gpu);
  const navigate = useStudio((s) => s.navigate);
  const [open, setOpen] = useState(false);
  if (!gpu) return <span className="status-item muted">GPU: waiting for the engine…</span>;
  const used = gpu.memoryUsedMb;
  const pct = used !== null && gpu.memoryTotalMb > 0 ? Math.min(100, (used / gpu.memoryTotalMb) * 100) : null;
  const budgetPct = gpu.memoryTotalMb > 0 ? Math.min(100, (gpu.budgetMb / gpu.memoryTotalMb) * 100) : null;
  const openSettings = () => {
    setOpen(false);
    navigate('settings');
    // After the view is drawn: bring the GPU section into view and give it focus for the keyboard.
    requestAnimationFrame(() => {
      const heading = document.getElementById('settings-gpu');
      heading?.scrollIntoView({ block: 'start' });
      heading?.closest('section')?.querySelector<HTMLElement>('input, button, select')?.focus({ preventScroll: true });
    });
  };
  return (
    <Popover.Root open={open} onOpenChange={setOpen}>
      <Popover.Trigger asChild>
        <button type="button" className="status-item status-gpu" title="GPU details" data-testid="gpu-status">
          <span className="status-label">{gpu.name ?? 'GPU'}</span>
          {pct !== null ? (
            <span className="meter" aria-hidden="true">
              <span className="meter-fill" style={{ width: `${pct}%` }} />
              {budgetPct !== null && budgetPct < 100 ? <span className="meter-budget" style={{ left: `${budgetPct}%` }} /> : null}
            </span>
          ) : null}
          <span data-testid="gpu-memory">
            {used !== null
              ? `${formatMb(used)} / ${formatMb(gpu.memoryTotalMb)} VRAM`
              : `${formatMb(gpu.memoryTotalMb)} VRAM · use not measured`}
          </span>
          <span className="status-sep" aria-hidden="true" />
          <span data-testid="gpu-budget">budget {formatMb(gpu.budgetMb)}</span>
        </button>
      </Popover.Trigger>
      <Popover.Portal>
        <Popover.Content className="gpu-popover" side="top" align="start" sideOffset={8} aria-label="GPU details" data-testid="gpu-details">
          <GpuDetails gpu={gpu} onSettings={openSettings} />
        </Popover.Content>
      </Popover.Portal>
    </Popover.Root>
  );
}

function QueueStatus() {
  const queue = useStudio((s) => s.queue);
  const navigate = useStudio((s) => s.navigate);
  if (!queue) return null;
  return (
    <button type="button" className="status-item" onClick={() => navigate('queue')} data-testid="queue-status">
      {queue.paused ? <span className="pill pill--paused">Queue paused</span> : null}
      <span>
        {queue.running} running · {queue.queued} queued
      </span>
    </button>
  );
}

/** The cloud mirror at a glance (hidden until a project is set); a click opens Settings → Cloud. */
function CloudStatusItem() {
  const cloud = useCloudStatus();
  const navigate = useStudio((s) => s.navigate);
  if (!cloud || cloud.url === null) return null;
  const text = cloudBadgeText(cloud);
  const problem = cloud.failures.length > 0 || cloud.files.failures.length > 0 || (cloud.lastError !== null && cloud.enabled);
  return (
    <button
      type="button"
      className={`status-item status-cloud${problem ? ' status-cloud--problem' : ''}`}
      title={cloudBadgeTitle(cloud)}
      data-testid="cloud-status"
      onClick={() => {
        navigate('settings');
        requestAnimationFrame(() => document.getElementById('settings-cloud')?.scrollIntoView({ block: 'start' }));
      }}
    >
      {text}
    </button>
  );
}

export function StatusBar() {
  const connection = useStudio((s) => s.connection);
  return (
    <footer className="statusbar" aria-label="Status">
      <span className={`status-item connection connection--${connection}`} role="status">
        <span className="dot" aria-hidden="true" />
        {CONNECTION_TEXT[connection]}
      </span>
      <GpuStatus />
      <span className="status-spacer" />
      <CloudStatusItem />
      <QueueStatus />
    </footer>
  );
}
