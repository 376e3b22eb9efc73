import { useState } from 'react';
import { appVerbs } from '../../../api/app-verbs.ts';
import type { SettingsState } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import type { SettingsActions } from '../actions.ts';
import { useSave } from '../use-settings.ts';
import { CheckResults, FieldError, Saved, SettingRow, SettingsSection } from './parts.tsx';

/**
 * The ffmpeg program is never typed here: the engine runs it, so the window may not name one
 * (settings.update refuses). The app offers its native chooser, whose choice main stores; a browser
 * under `studio serve` says where it is set instead. Clearing it (ffmpeg from PATH) works anywhere.
 */
export function VideoSection({ state, actions }: { state: SettingsState; actions: SettingsActions }) {
  const save = useSave(actions);
  const checks = useStudio((s) => s.settingsChecks.ffmpeg);
  const [checking, setChecking] = useState(false);
  const [choosing, setChoosing] = useState(false);
  const stored = state.values.ffmpegPath;
  const pickFfmpeg = appVerbs().pickFfmpeg;
  const errorId = 'settings-ffmpeg-error';
  const check = () => {
    setChecking(true);
    void actions.check(['ffmpeg']).finally(() => setChecking(false));
  };
  const choose = async (pick: NonNullable<typeof pickFfmpeg>) => {
    save.clear();
    setChoosing(true);
    try {
      const answer = await pick();
      if (answer.outcome === 'refused') save.fail(answer.message);
      if (answer.outcome === 'set') check();
    } catch (e) {
      save.fail(`The ffmpeg chooser could not open (${e instanceof Error ? e.message : String(e)}). Try again.`);
    } finally {
      setChoosing(false);
    }
  };

  return (
    <SettingsSection
      id="settings-video"
      title="Video"
      subtitle="Video jobs write H.264 MP4 files with ffmpeg (it needs the libx264 encoder, and ffprobe beside it)."
    >
      <SettingRow label="ffmpeg" hint={stored === null ? 'Using ffmpeg from PATH.' : 'Using the ffmpeg chosen for the studio.'}>
        {stored !== null ? (
          <code className="folder-path" data-testid="ffmpeg-path">
            {stored}
          </code>
        ) : null}
        {pickFfmpeg ? null : (
          <p className="settings-hint" data-testid="ffmpeg-where">
            A browser cannot name the program the studio runs. To use another ffmpeg, run{' '}
            <code>studio settings set ffmpegPath /path/to/ffmpeg</code> in a terminal, or choose it in the app (Settings → Video →
            Choose ffmpeg…); the change shows here at once.
          </p>
        )}
        <div className="settings-inline">
          {pickFfmpeg ? (
            <button
              type="button"
              className="btn btn-secondary btn-small"
              disabled={choosing || save.saving}
              aria-describedby={save.error ? errorId : undefined}
              onClick={() => void choose(pickFfmpeg)}
            >
              {choosing ? 'Choosing…' : 'Choose ffmpeg…'}
            </button>
          ) : null}
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
        <FieldError id={errorId} message={save.error} />
        <CheckResults items={checks} label="ffmpeg check" />
      </SettingRow>
    </SettingsSection>
  );
}
