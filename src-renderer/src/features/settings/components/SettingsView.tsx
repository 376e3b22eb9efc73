import { useState } from 'react';
import { ViewHeader } from '../../../app/ViewHeader.tsx';
import { SETTINGS_CHECKS } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import { useSettingsActions } from '../use-settings.ts';
import { GpuSection } from './GpuSection.tsx';
import { LibrarySection } from './LibrarySection.tsx';
import { ModelsSection } from './ModelsSection.tsx';
import { PerformanceSection } from './PerformanceSection.tsx';
import { VideoSection } from './VideoSection.tsx';
import { CloudSection } from '../cloud/CloudSection.tsx';
import '../settings.css';

export function SettingsView() {
  const state = useStudio((s) => s.settings);
  const dataDir = useStudio((s) => s.appInfo?.dataDir ?? null);
  const actions = useSettingsActions();
  const [checking, setChecking] = useState(false);

  return (
    <div className="view settings-view">
      <ViewHeader
        title="Settings"
        description={
          <>
            How the studio uses this machine. Changes apply at once, in the app, in <code>studio serve</code> and in the CLI alike.
          </>
        }
        actions={
          <button
            type="button"
            className="btn btn-secondary"
            disabled={checking || state === null}
            onClick={() => {
              setChecking(true);
              void actions.check(SETTINGS_CHECKS).finally(() => setChecking(false));
            }}
          >
            {checking ? 'Checking…' : 'Check everything'}
          </button>
        }
      />
      {state === null ? (
        <p className="muted">Loading the settings…</p>
      ) : (
        <>
          {state.warnings.map((w) => (
            <p key={w} className="banner banner--warning" role="alert">
              {w}
            </p>
          ))}
          <ModelsSection state={state} actions={actions} />
          <GpuSection state={state} actions={actions} />
          <VideoSection state={state} actions={actions} />
          <LibrarySection state={state} actions={actions} />
          <PerformanceSection state={state} actions={actions} />
          <CloudSection />
          <p className="settings-footer muted">
            Stored in <code>{state.file}</code>
            {dataDir ? (
              <>
                {' '}
                · data folder <code>{dataDir}</code>
              </>
            ) : null}
          </p>
        </>
      )}
    </div>
  );
}
