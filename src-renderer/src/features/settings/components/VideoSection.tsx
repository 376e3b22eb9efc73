import { useState } from 'react';
import type { SettingsState } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import type { SettingsActions } from '../actions.ts';
import { useSave } from '../use-settings.ts';
import { CheckResults, PathInput, Saved, SettingRow, SettingsSection } from './parts.tsx';

export function VideoSection({ state, actions }: { state: SettingsState; actions: SettingsActions }) {
  const save = useSave(actions);
  const checks = useStudio((s) => s.settingsChecks.ffmpeg);
  const [checking, setChecking] = useState(false);
  const stored = state.values.ffmpegPath;
  const check = () => {
    setChecking(true);
    void actions.check(['ffmpeg']).finally(() => setChecking(false));
  };

  return (
    <SettingsSection
      id="settings-video"
      title="Video"
      subtitle="Video jobs write H.264 MP4 files with ffmpeg (it needs the libx264 encoder, and ffprobe beside it)."
    >
      <SettingRow label="ffmpeg" hint={stored === null ? 'Using ffmpeg from PATH.' : 'Using the ffmpeg set here.'}>
        <PathInput
          key={stored ?? ''}
          label="ffmpeg program or folder"
          placeholder="ffmpeg from PATH (or type the program’s path)"
          submitLabel="Save"
          pickTitle="Choose the folder that holds ffmpeg"
          busy={save.saving}
          error={save.error}
          initial={stored ?? ''}
          onEdit={save.clear}
          onSubmit={async (path) => {
            const ok = await save.save({ ffmpegPath: path === '' ? null : path });
            if (ok) check();
            return ok;
          }}
        />
        <div className="settings-inline">
          <button type="button" className="btn btn-secondary btn-small" disabled={checking} onClick={check}>
            {checking ? 'Checking…' : 'Check'}
          </button>
          {stored !== null ? (
            <button type="button" className="btn btn-ghost btn-small" disabled={save.saving} onClick={() => void save.save({ ffmpegPath: null }).then((ok) => ok && check())}>
              Use ffmpeg from PATH
            </button>
          ) : null}
          <Saved show={save.saved} />
        </div>
        <CheckResults items={checks} label="ffmpeg check" />
      </SettingRow>
    </SettingsSection>
  );
}
