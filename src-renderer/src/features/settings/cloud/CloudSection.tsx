/**
 * Settings → Cloud: the user's own Supabase project (URL and anon key, or a pasted
 * ourvidz-sync.json), signing in with email and password (or creating an account, or asking for a
 * password reset link: AccountForms.tsx), the switch that turns mirroring on, and
 * the live status (signed in as, last sync, changes waiting, refused changes with a Retry). Nothing
 * leaves the machine until the person has signed in and turned the switch on.
 */
import { useEffect, useState } from 'react';
import { toWireError } from '../../../api/errors.ts';
import { getStudioApi } from '../../../api/index.ts';
import type { CloudStatus } from '../../../contract.ts';
import { FieldError, SettingRow, SettingsSection } from '../components/parts.tsx';
import { asSentence } from '../logic.ts';
import { SignedOutAccount } from './AccountForms.tsx';
import { setCloudStatus, sinceText, useCloudStatus } from './cloud-store.ts';
import { FilesBlock } from './FilesBlock.tsx';
import { MirrorChoices } from './MirrorChoices.tsx';
import './cloud.css';

/** Runs one sync.* call: its answer becomes the status; a refusal comes back as a sentence. */
function useCall() {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (what: string, call: () => Promise<CloudStatus | { status: CloudStatus }>): Promise<boolean> => {
    setBusy(what);
    setError(null);
    try {
      const answer = await call();
      setCloudStatus('status' in answer && typeof answer.status === 'object' ? answer.status : (answer as CloudStatus));
      return true;
    } catch (e) {
      setError(asSentence(toWireError(e).message));
      return false;
    } finally {
      setBusy(null);
    }
  };
  return { busy, error, run, clear: () => setError(null) };
}

function ProjectRow({ status }: { status: CloudStatus }) {
  const call = useCall();
  const [editing, setEditing] = useState(status.url === null);
  const [url, setUrl] = useState(status.url ?? '');
  const [anonKey, setAnonKey] = useState('');
  const [pasted, setPasted] = useState('');
  useEffect(() => {
    // Set from elsewhere (the CLI, `studio serve`'s API) while nothing was typed here: show it.
    if (status.url === null) setEditing(true);
    else setEditing((was) => was && (url !== '' || anonKey !== '' || pasted !== ''));
    // Only on a change of project, not on each keystroke.
  }, [status.url]);
  const save = async () => {
    const api = getStudioApi();
    const ok = await call.run('save', () => (pasted.trim() !== '' ? api.sync.configure({ json: pasted }) : api.sync.configure({ url, anonKey })));
    if (ok) {
      setEditing(false);
      setPasted('');
      setAnonKey('');
    }
  };
  return (
    <SettingRow
      label="Project"
      hint="Your own Supabase project with the OurVidz tables applied (docs/cloud.md). Project Settings → API shows its URL and anon key."
    >
      {!editing && status.url !== null ? (
        <div className="settings-inline">
          <code className="folder-path" data-testid="cloud-url">
            {status.url}
          </code>
          <button type="button" className="btn btn-secondary btn-small" onClick={() => setEditing(true)}>
            Change…
          </button>
        </div>
      ) : (
        <form
          className="cloud-form"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <label className="cloud-field">
            <span>Project URL</span>
            <input className="input input--mono" type="url" value={url} placeholder="https://abcd1234.supabase.co" onChange={(e) => setUrl(e.target.value)} />
          </label>
          <label className="cloud-field">
            <span>Anon key</span>
            <input className="input input--mono" type="text" autoComplete="off" spellCheck={false} value={anonKey} onChange={(e) => setAnonKey(e.target.value)} />
          </label>
          <label className="cloud-field">
            <span>Or paste ourvidz-sync.json</span>
            <textarea className="input input--mono cloud-json" rows={3} spellCheck={false} value={pasted} placeholder='{ "url": "https://….supabase.co", "anonKey": "…" }' onChange={(e) => setPasted(e.target.value)} />
          </label>
          <div className="settings-inline">
            <button type="submit" className="btn btn-primary btn-small" disabled={call.busy !== null}>
              {call.busy ? 'Saving…' : 'Save project'}
            </button>
            {status.url !== null ? (
              <button type="button" className="btn btn-ghost btn-small" onClick={() => setEditing(false)}>
                Cancel
              </button>
            ) : null}
          </div>
          {status.signedInAs && status.url !== null ? <p className="settings-hint">Choosing another project signs you out of this one.</p> : null}
        </form>
      )}
      <FieldError id="cloud-project-error" message={call.error} />
    </SettingRow>
  );
}

function AccountRow({ status }: { status: CloudStatus }) {
  const call = useCall();
  const api = () => getStudioApi();
  if (status.url === null) {
    return (
      <SettingRow label="Account">
        <p className="settings-hint">Set the project first.</p>
      </SettingRow>
    );
  }
  return (
    <SettingRow label="Account" hint={<>The sign-in is kept in {status.sessionStorage}. The password is never stored.</>}>
      {status.signedInAs ? (
        <div className="settings-inline">
          <span data-testid="cloud-signed-in">
            Signed in as <strong>{status.signedInAs}</strong>
          </span>
          <button type="button" className="btn btn-secondary btn-small" disabled={call.busy !== null} onClick={() => void call.run('logout', () => api().sync.logout())}>
            {call.busy === 'logout' ? 'Signing out…' : 'Sign out'}
          </button>
        </div>
      ) : (
        <SignedOutAccount url={status.url} />
      )}
      <FieldError id="cloud-account-error" message={call.error} />
    </SettingRow>
  );
}

function MirrorRow({ status, now }: { status: CloudStatus; now: number }) {
  const call = useCall();
  const api = () => getStudioApi();
  const state = !status.enabled ? 'Off' : !status.signedInAs ? 'On — sign in to start sending' : status.paused ? 'Paused' : status.syncing ? 'Syncing now' : 'On';
  return (
    <SettingRow
      label="Mirror this library"
      hint="Assets with their prompts, seeds, tags, favourites and projects, and finished job records, go to your project. Off: nothing is sent or fetched."
    >
      <div className="settings-inline">
        <button
          type="button"
          role="switch"
          aria-checked={status.enabled}
          aria-label="Mirror this library to the cloud"
          className={`cloud-switch${status.enabled ? ' cloud-switch--on' : ''}`}
          disabled={call.busy !== null}
          onClick={() => void call.run('switch', () => api().sync.setEnabled({ enabled: !status.enabled }))}
          data-testid="cloud-switch"
        >
          <span className="cloud-switch-knob" aria-hidden="true" />
        </button>
        <span data-testid="cloud-state">{state}</span>
        {status.enabled && status.signedInAs ? (
          <>
            <button type="button" className="btn btn-secondary btn-small" disabled={call.busy !== null || status.paused} onClick={() => void call.run('now', () => api().sync.now())}>
              {call.busy === 'now' ? 'Syncing…' : 'Sync now'}
            </button>
            <button
              type="button"
              className="btn btn-ghost btn-small"
              disabled={call.busy !== null}
              onClick={() => void call.run('pause', () => (status.paused ? api().sync.resume() : api().sync.pause()))}
            >
              {status.paused ? 'Resume' : 'Pause'}
            </button>
          </>
        ) : null}
      </div>
      <dl className="cloud-facts">
        <dt>Last sync</dt>
        <dd data-testid="cloud-last-sync">{sinceText(status.lastSyncAt, now)}</dd>
        <dt>Waiting</dt>
        <dd data-testid="cloud-waiting">
          {status.waiting} change{status.waiting === 1 ? '' : 's'}
        </dd>
      </dl>
      {status.lastError ? (
        <p className="banner banner--warning" data-testid="cloud-problem">
          {asSentence(status.lastError)}
        </p>
      ) : null}
      {status.failures.length > 0 ? (
        <div className="cloud-failures" data-testid="cloud-failures">
          <p>
            The cloud refused {status.failures.length} change{status.failures.length === 1 ? '' : 's'}; they are kept here until sent again:
          </p>
          <ul>
            {status.failures.slice(0, 5).map((f) => (
              <li key={f.opId}>
                <code>
                  {f.table} {f.id.slice(0, 8)}
                </code>
                : {f.reason}
              </li>
            ))}
          </ul>
          <button type="button" className="btn btn-secondary btn-small" disabled={call.busy !== null} onClick={() => void call.run('retry', () => api().sync.retry())}>
            Retry
          </button>
        </div>
      ) : null}
      {status.enabled ? <FilesBlock files={status.files} busy={call.busy !== null} onRetry={() => void call.run('retry', () => api().sync.retry())} /> : null}
      <FieldError id="cloud-mirror-error" message={call.error} />
    </SettingRow>
  );
}

export function CloudSection() {
  const status = useCloudStatus();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(t);
  }, []);
  return (
    <SettingsSection id="settings-cloud" title="Cloud" subtitle="Optional: mirror the library and job records to your own Supabase project. The studio works fully offline either way.">
      {status === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <>
          <ProjectRow status={status} />
          <AccountRow status={status} />
          <MirrorRow status={status} now={now} />
          <MirrorChoices settings={status.files.settings} />
        </>
      )}
    </SettingsSection>
  );
}
