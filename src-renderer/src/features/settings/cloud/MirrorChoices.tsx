/**
 * Settings → Cloud → What is mirrored: which assets' files go up (all, favourites, chosen projects),
 * videos over a size as thumbnails only, originals from other desktops by themselves or on open, a
 * speed limit, and the project's file limit. Records (prompts, tags, projects, jobs) always go.
 * Each choice saves through `sync.setMirror`; typed fields are checked as they are typed and saved on
 * Enter or leaving the field.
 */
import { useEffect, useState } from 'react';
import { toWireError } from '../../../api/errors.ts';
import { getStudioApi } from '../../../api/index.ts';
import type { MirrorScope, MirrorSettings, ProjectView } from '../../../contract.ts';
import { FieldError, Saved, SettingRow } from '../components/parts.tsx';
import { asSentence } from '../logic.ts';
import { setCloudStatus } from './cloud-store.ts';
import { fieldText, readField } from './mirror-form.ts';
import type { MirrorField, MirrorPatch } from './mirror-form.ts';

/** Saves a patch; the answer is the new status. Remembers what was saved last, and a refusal. */
function useMirrorSave() {
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Shown at once while it is saved (a radio or a box follows the click, not the answer).
  const [pending, setPending] = useState<MirrorPatch | null>(null);
  const save = async (what: string, patch: MirrorPatch): Promise<boolean> => {
    setBusy(true);
    setPending(patch);
    setError(null);
    try {
      setCloudStatus(await getStudioApi().sync.setMirror(patch));
      setSaved(what);
      return true;
    } catch (e) {
      setError(asSentence(toWireError(e).message));
      setSaved(null);
      return false;
    } finally {
      setBusy(false);
      setPending(null);
    }
  };
  return { saved, error, busy, pending, save, clearSaved: () => setSaved(null) };
}

type Save = ReturnType<typeof useMirrorSave>;

/** A number typed in MB or KB/s: checked on each keystroke, saved on Enter or blur when it reads well. */
function TypedField({ field, label, unit, value, save, placeholder }: { field: MirrorField; label: string; unit: string; value: number | null; save: Save; placeholder?: string }) {
  const id = `cloud-mirror-${field}`;
  const [text, setText] = useState(() => fieldText(field, value));
  const [dirty, setDirty] = useState(false);
  useEffect(() => {
    if (!dirty) setText(fieldText(field, value));
  }, [dirty, field, value]);
  const reading = readField(field, text);
  const problem = dirty && !reading.ok ? reading.message : null;
  const commit = async () => {
    if (!dirty || !reading.ok) return;
    if (await save.save(field, reading.patch)) setDirty(false);
  };
  return (
    <div className="cloud-mirror-field">
      <label htmlFor={id}>{label}</label>
      <div className="settings-inline">
        <input
          id={id}
          className="settings-number"
          type="text"
          inputMode="decimal"
          value={text}
          placeholder={placeholder}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${id}-error` : undefined}
          onChange={(e) => {
            setText(e.target.value);
            setDirty(true);
            save.clearSaved();
          }}
          onBlur={() => void commit()}
          onKeyDown={(e) => e.key === 'Enter' && void commit()}
        />
        <span className="muted">{unit}</span>
        <Saved show={save.saved === field} />
      </div>
      <FieldError id={`${id}-error`} message={problem} />
    </div>
  );
}

const SCOPES: readonly { value: MirrorScope; label: string }[] = [
  { value: 'all', label: 'All assets' },
  { value: 'favorites', label: 'Favourites' },
  { value: 'projects', label: 'Chosen projects' },
];

function ProjectPicker({ settings, save }: { settings: MirrorSettings; save: Save }) {
  const [projects, setProjects] = useState<readonly ProjectView[] | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    getStudioApi()
      .library.projectsList()
      .then(
        (p) => live && setProjects(p),
        (e: unknown) => live && setFailed(asSentence(toWireError(e).message)),
      );
    return () => {
      live = false;
    };
  }, []);
  const chosen = new Set(settings.projectIds);
  const toggle = (id: string, on: boolean) => {
    const next = on ? [...settings.projectIds, id] : settings.projectIds.filter((p) => p !== id);
    void save.save('projects', { scope: 'projects', projectIds: next });
  };
  if (failed) return <p className="field-error">The projects could not be listed: {failed}</p>;
  if (projects === null) return <p className="muted">Loading projects…</p>;
  if (projects.length === 0) return <p className="settings-hint">The library has no projects yet: make one in the Library, then choose it here.</p>;
  return (
    <fieldset className="cloud-projects" data-testid="cloud-mirror-projects">
      <legend>Projects to mirror</legend>
      <div className="choice">
        {projects.map((p) => (
          <label key={p.id}>
            <input type="checkbox" checked={chosen.has(p.id)} disabled={save.busy} onChange={(e) => toggle(p.id, e.target.checked)} />
            {p.title}
          </label>
        ))}
      </div>
      {chosen.size === 0 ? <p className="settings-hint">No project chosen: only records are mirrored, no files.</p> : null}
    </fieldset>
  );
}

export function MirrorChoices({ settings: stored }: { settings: MirrorSettings }) {
  const save = useMirrorSave();
  const settings: MirrorSettings = { ...stored, ...save.pending };
  return (
    <SettingRow
      label="What is mirrored"
      hint="Which files go to the cloud. Prompts, seeds, tags, projects and job records are always mirrored; thumbnails of other desktops' assets always come."
    >
      <div className="cloud-mirror" data-testid="cloud-mirror">
        <fieldset className="cloud-scope">
          <legend>Files of</legend>
          <div className="choice cloud-scope-options">
            {SCOPES.map((s) => (
              <label key={s.value}>
                <input type="radio" name="cloud-mirror-scope" checked={settings.scope === s.value} disabled={save.busy} onChange={() => void save.save('scope', { scope: s.value })} />
                {s.label}
              </label>
            ))}
            <Saved show={save.saved === 'scope' || save.saved === 'projects'} />
          </div>
        </fieldset>
        {settings.scope === 'projects' ? <ProjectPicker settings={settings} save={save} /> : null}
        <TypedField field="videoThumbOnlyOverBytes" label="Videos over this size send their thumbnail only (empty: always the original)" unit="MB" value={settings.videoThumbOnlyOverBytes} save={save} placeholder="none" />
        <div className="cloud-mirror-field">
          <label htmlFor="cloud-mirror-downloads">Bring originals from other desktops</label>
          <div className="settings-inline">
            <select
              id="cloud-mirror-downloads"
              className="select"
              value={settings.downloadOriginals ? 'auto' : 'on-open'}
              disabled={save.busy}
              onChange={(e) => void save.save('downloads', { downloadOriginals: e.target.value === 'auto' })}
            >
              <option value="auto">automatically</option>
              <option value="on-open">when I open them</option>
            </select>
            <Saved show={save.saved === 'downloads'} />
          </div>
        </div>
        <TypedField field="bandwidthLimit" label="Speed limit, up and down (empty: none)" unit="KB/s" value={settings.bandwidthLimit} save={save} placeholder="none" />
        <TypedField field="projectFileLimit" label="Project file limit (Supabase → Storage → Settings; 50 MB on the free plan)" unit="MB" value={settings.projectFileLimit} save={save} />
        <FieldError id="cloud-mirror-save-error" message={save.error} />
      </div>
    </SettingRow>
  );
}
