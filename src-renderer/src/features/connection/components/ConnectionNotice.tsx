/**
 * What the window says when it loses the engine under `studio serve`: that the server stopped (and
 * that running jobs' state is unknown until it is back), or — once a server answers on this address
 * but refuses this tab's token — that it was started again and its new link is the way back in.
 */
import { Dialog } from 'radix-ui';
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { parseStudioLink } from '../../../api/token.ts';
import { useStudio } from '../../../store.ts';
import '../connection.css';

function StoppedBanner() {
  const running = useStudio((s) => s.queue?.running ?? 0);
  return (
    <div className="connection-banner" role="alert" data-testid="connection-banner">
      <strong>The studio server stopped.</strong>{' '}
      {running > 0 ? 'Jobs that were running show as unknown until it is back. ' : ''}
      This page reconnects by itself if <code>studio serve</code> starts again at this address; if it starts with a new link, open that
      link.
    </div>
  );
}

function NewLinkGate() {
  const [link, setLink] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const fieldId = useId();
  const problemId = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseStudioLink(link);
    if ('problem' in parsed) {
      setProblem(parsed.problem);
      return;
    }
    // Same address: only the fragment changes, and the page takes the new token and reloads itself.
    location.assign(parsed.url);
  };
  return (
    <Dialog.Root open>
      <Dialog.Portal>
        <Dialog.Overlay className="connection-overlay" />
        <Dialog.Content className="connection-gate panel" onEscapeKeyDown={(e) => e.preventDefault()} onPointerDownOutside={(e) => e.preventDefault()}>
          <Dialog.Title className="connection-gate-title">The studio server was started again</Dialog.Title>
          <Dialog.Description className="connection-gate-text">
            This tab still has the link of the server that stopped, and the new one does not accept it (each start of <code>studio serve</code>{' '}
            prints a new link). Open the link it printed this time — the line that starts with <code>open</code> and ends in{' '}
            <code>#token=…</code> — here or in the address bar. Jobs and the Library are all still there.
          </Dialog.Description>
          <form className="field connection-gate-form" onSubmit={submit}>
            <label htmlFor={fieldId}>New link</label>
            <div className="connection-gate-row">
              <input
                id={fieldId}
                type="url"
                placeholder="http://127.0.0.1:…/#token=…"
                value={link}
                aria-invalid={problem !== null}
                aria-describedby={problem ? problemId : undefined}
                onChange={(e) => {
                  setLink(e.target.value);
                  setProblem(null);
                }}
                autoFocus
              />
              <button type="submit" className="btn btn-primary">
                Open
              </button>
            </div>
            {problem ? (
              <p id={problemId} className="field-error" role="alert">
                {problem}
              </p>
            ) : null}
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

export function ConnectionNotice() {
  const connection = useStudio((s) => s.connection);
  if (connection === 'stopped') return <StoppedBanner />;
  if (connection === 'refused') return <NewLinkGate />;
  return null;
}
