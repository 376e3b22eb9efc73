/**
 * Reusing a recipe from any picture, as A1111's PNG Info and ComfyUI's drop-to-load do: drop a
 * PNG, JPEG, WebP or MP4 (ours, A1111, ComfyUI, InvokeAI…) anywhere on the Workspace, choose one
 * with "Load settings…", or paste an A1111 infotext into the prompt. The engine reads the file;
 * what came in and what could not be taken is said in a report at the top of the form.
 */
import { useRef, useState } from 'react';
import type { DragEvent, ReactNode } from 'react';
import { RECIPE_LIMITS } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import type { RecipeFile, WorkspaceActions } from '../actions.ts';
import { useWorkspaceActions } from '../use-workspace-actions.ts';
import { CloseIcon } from '../../../components/icons.tsx';

/** Files whose recipe is text (a ComfyUI workflow saved as .json, an infotext saved as .txt). */
const TEXT_FILE = /\.(json|txt)$/i;

/** A dropped or chosen file's recipe into the form: media through the engine's readers, text files as pasted text. */
export async function loadFile(actions: WorkspaceActions, file: File): Promise<boolean> {
  if (TEXT_FILE.test(file.name) && file.size <= RECIPE_LIMITS.maxTextChars) {
    const read = await actions.loadRecipeText(await file.text());
    if (!read) useStudio.getState().notify({ kind: 'error', title: 'No settings in it', message: `${file.name} holds no A1111 infotext or tool record.` });
    return read;
  }
  return actions.loadRecipeFile(file as RecipeFile);
}

/**
 * Text worth asking the engine about when pasted: an A1111 infotext (a prompt, maybe a negative
 * prompt, then a `Steps: …, Sampler: …` line) or a JSON record. Anything else pastes as typed.
 */
export function looksLikeRecipe(text: string): boolean {
  const t = text.trim();
  if (t.startsWith('{') && t.endsWith('}')) return true;
  const last = t.split('\n').pop() ?? '';
  return /(^|, )Steps: \d+/.test(last) && (last.match(/\b[\w ]+: /g)?.length ?? 0) >= 3;
}

/** What came into the form and from where, with anything that could not be taken as it was. */
export function RecipeReportPanel() {
  const report = useStudio((s) => s.recipeReport);
  const dismiss = useStudio((s) => s.dismissRecipeReport);
  if (!report) return null;
  return (
    <section className="ws-recipe-report" aria-label="Loaded settings" data-testid="recipe-report">
      <div className="ws-recipe-report-head">
        <p className="ws-recipe-report-title" role="status">
          {report.title}
        </p>
        <button type="button" className="ws-icon-btn ws-recipe-report-close" aria-label="Dismiss the note about loaded settings" onClick={dismiss}>
          <CloseIcon size={14} />
        </button>
      </div>
      {report.notes.length > 0 ? (
        <ul className="ws-recipe-notes">
          {report.notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      ) : (
        <p className="ws-hint">Every setting was taken as it was. Change anything, then Generate.</p>
      )}
    </section>
  );
}

/** "Load settings…": a file chooser for those who do not drag (and for the keyboard). */
export function LoadRecipeButton() {
  const actions = useWorkspaceActions();
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <button
        type="button"
        className="btn btn-ghost btn-small ws-load-recipe"
        aria-busy={busy}
        title="Fill the form from a picture or clip made by this studio, A1111, ComfyUI, InvokeAI and others (or drop one anywhere here)"
        onClick={() => input.current?.click()}
      >
        Load settings…
      </button>
      <input
        ref={input}
        type="file"
        className="visually-hidden"
        tabIndex={-1}
        aria-hidden="true"
        accept=".png,.jpg,.jpeg,.webp,.mp4,.m4v,.json,.txt,image/png,image/jpeg,image/webp,video/mp4"
        data-testid="recipe-file-input"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (!file) return;
          setBusy(true);
          void loadFile(actions, file).finally(() => setBusy(false));
        }}
      />
    </>
  );
}

const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes('Files');

/** The whole Workspace takes a dropped file; an overlay says what dropping it does. */
export function RecipeDropZone({ className, children }: { className: string; children: ReactNode }) {
  const actions = useWorkspaceActions();
  const [over, setOver] = useState(false);
  const [reading, setReading] = useState(false);
  return (
    <div
      className={className}
      data-dragging={over || undefined}
      onDragEnter={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setOver(true);
      }}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false);
      }}
      onDrop={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setOver(false);
        const file = e.dataTransfer.files[0];
        if (!file) return;
        setReading(true);
        void loadFile(actions, file).finally(() => setReading(false));
      }}
    >
      {children}
      {over || reading ? (
        <div className="ws-drop-overlay" aria-hidden={!reading}>
          <div className="ws-drop-card" role={reading ? 'status' : undefined}>
            <p className="ws-drop-title">{reading ? 'Reading its settings…' : 'Drop to use its settings'}</p>
            <p className="ws-hint">A PNG, JPEG, WebP or MP4 from this studio, A1111, Forge, ComfyUI, InvokeAI, Fooocus, SwarmUI or NovelAI</p>
          </div>
        </div>
      ) : null}
    </div>
  );
}
