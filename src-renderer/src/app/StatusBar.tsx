import { Tooltip } from 'radix-ui';
import type { ConnectionState } from '../api/connection.ts';
import type { GpuStats } from '../contract.ts';
import { formatMb } from '../format.ts';
import { useStudio } from '../store.ts';

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  idle: 'Starting',
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
};

function GpuDetails({ gpu }: { gpu: GpuStats }) {
  return (
    <div className="tooltip-body">
      <p>
        <strong>{gpu.name ?? 'GPU'}</strong>
        {gpu.utilizationPct !== null ? ` · ${gpu.utilizationPct}% busy` : ''}
      </p>
      <p className="muted">
        {gpu.source === 'nvidia-smi' ? 'Measured with nvidia-smi.' : 'Not measured: total and budget come from Settings.'}
      </p>
      {gpu.loadedModels.length > 0 ? (
        <ul>
          {gpu.loadedModels.map((m) => (
            <li key={m.id}>
              {m.id}: {formatMb(m.vramMb)}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No model loaded.</p>
      )}
      {gpu.note ? <p>{gpu.note}</p> : null}
    </div>
  );
}

function GpuStatus() {
  const gpu = useStudio((s) => s.gpu);
  if (!gpu) return <span className="status-item muted">GPU: waiting for the engine…</span>;
  const used = gpu.memoryUsedMb;
  const pct = used !== null && gpu.memoryTotalMb > 0 ? Math.min(100, (used / gpu.memoryTotalMb) * 100) : null;
  const budgetPct = gpu.memoryTotalMb > 0 ? Math.min(100, (gpu.budgetMb / gpu.memoryTotalMb) * 100) : null;
  return (
    <Tooltip.Root delayDuration={300}>
      <Tooltip.Trigger asChild>
        <button type="button" className="status-item status-gpu" aria-label="GPU memory details">
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
      </Tooltip.Trigger>
      <Tooltip.Portal>
        <Tooltip.Content className="tooltip" side="top" align="start" sideOffset={8}>
          <GpuDetails gpu={gpu} />
        </Tooltip.Content>
      </Tooltip.Portal>
    </Tooltip.Root>
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
      <QueueStatus />
    </footer>
  );
}
