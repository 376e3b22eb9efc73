/**
 * The Library's small dialogs: confirm, tag, move to a project, export, import. Each says what will
 * happen to how many assets, and stays open (with the engine's sentence in a toast) if it fails.
 */
import { AlertDialog, Dialog } from 'radix-ui';
import { useId, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import type { LibraryProgress } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import { CloseIcon } from '../../../components/icons.tsx';

/** "Importing 120 of 1,000 · img-00120.png", while the engine reports a long task of this kind. */
function TaskProgress({ task }: { task: LibraryProgress['task'] }) {
  const progress = useStudio((s) => s.libraryProgress);
  if (!progress || progress.task !== task || progress.total === 0) return null;
  const verb = task === 'import' ? 'Importing' : task === 'export' ? 'Exporting' : 'Working on';
  return (
    <div className="task-progress" role="status">
      <div className="progress" aria-hidden="true">
        <div className="progress-indicator" style={{ width: `${Math.round((progress.done / progress.total) * 100)}%` }} />
      </div>
      <span>
        {verb} {progress.done.toLocaleString()} of {progress.total.toLocaleString()}
        {progress.current ? ` · ${progress.current}` : ''}
      </span>
    </div>
  );
}

function FormDialog(props: {
  open: boolean;
  onOpenChange(open: boolean): void;
  title: string;
  description: ReactNode;
  submitLabel: string;
  busy: boolean;
  canSubmit: boolean;
  onSubmit(): void;
  children: ReactNode;
  task?: LibraryProgress['task'];
}) {
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (props.canSubmit && !props.busy) props.onSubmit();
  };
  return (
    <Dialog.Root open={props.open} onOpenChange={props.onOpenChange}>
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content className="dialog">
          <form onSubmit={submit} className="dialog-form">
            <Dialog.Title className="dialog-title">{props.title}</Dialog.Title>
            <Dialog.Description className="dialog-description">{props.description}</Dialog.Description>
            {props.children}
            {props.busy && props.task ? <TaskProgress task={props.task} /> : null}
            <div className="dialog-actions">
              <Dialog.Close className="btn btn-ghost" type="button">
                Cancel
              </Dialog.Close>
              <button type="submit" className="btn btn-primary" disabled={!props.canSubmit || props.busy}>
                {props.busy ? 'Working…' : props.submitLabel}
              </button>
            </div>
          </form>
          <Dialog.Close className="dialog-x" aria-label="Close">
            <CloseIcon />
          </Dialog.Close>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

/** Runs an async action with a busy flag, closing the dialog when it reports success. */
function useSubmit(onDone: () => void) {
  const [busy, setBusy] = useState(false);
  const run = (action: () => Promise<boolean>) => {
    setBusy(true);
    action()
      .then((ok) => ok && onDone())
      .finally(() => setBusy(false));
  };
  return { busy, run };
}

export function parseTags(text: string): string[] {
  return [...new Set(text.split(',').map((t) => t.trim()).filter((t) => t.length > 0 && t.length <= 64))];
}

export function TagDialog(props: { open: boolean; onOpenChange(open: boolean): void; count: number; onTag(tags: string[]): Promise<boolean> }) {
  const tags = useStudio((s) => s.libraryTags);
  const [text, setText] = useState('');
  const id = useId();
  const close = () => {
    setText('');
    props.onOpenChange(false);
  };
  const { busy, run } = useSubmit(close);
  const chosen = parseTags(text);
  const add = (name: string) => {
    if (!chosen.includes(name)) setText(chosen.length ? `${chosen.join(', ')}, ${name}` : name);
  };
  return (
    <FormDialog
      open={props.open}
      onOpenChange={(o) => (o ? props.onOpenChange(true) : close())}
      title={`Tag ${props.count.toLocaleString()} ${props.count === 1 ? 'asset' : 'assets'}`}
      description="Separate tags with commas. Tags you already use are below."
      submitLabel="Add tags"
      busy={busy}
      canSubmit={chosen.length > 0}
      onSubmit={() => run(() => props.onTag(chosen))}
    >
      <div className="field">
        <label htmlFor={id}>Tags</label>
        <input id={id} className="input" autoFocus value={text} onChange={(e) => setText(e.target.value)} placeholder="keeper, portfolio" />
      </div>
      {tags.length > 0 ? (
        <div className="tag-suggestions" aria-label="Existing tags">
          {tags.slice(0, 30).map((t) => (
            <button key={t.id} type="button" className={`tag-chip${chosen.includes(t.name) ? ' tag-chip--on' : ''}`} onClick={() => add(t.name)}>
              {t.name}
            </button>
          ))}
        </div>
      ) : null}
    </FormDialog>
  );
}

export function ProjectDialog(props: {
  open: boolean;
  onOpenChange(open: boolean): void;
  count: number;
  onMove(target: { projectId: string | null } | { newTitle: string }): Promise<boolean>;
}) {
  const projects = useStudio((s) => s.libraryProjects);
  const [choice, setChoice] = useState<string>('new');
  const [title, setTitle] = useState('');
  const id = useId();
  const close = () => {
    setTitle('');
    props.onOpenChange(false);
  };
  const { busy, run } = useSubmit(close);
  const valid = choice !== 'new' || title.trim() !== '';
  return (
    <FormDialog
      open={props.open}
      onOpenChange={(o) => (o ? props.onOpenChange(true) : close())}
      title={`Move ${props.count.toLocaleString()} ${props.count === 1 ? 'asset' : 'assets'} to a project`}
      description="An asset belongs to one project at a time; moving it takes it out of the one it was in."
      submitLabel="Move"
      busy={busy}
      canSubmit={valid}
      onSubmit={() => run(() => props.onMove(choice === 'new' ? { newTitle: title.trim() } : { projectId: choice === 'none' ? null : choice }))}
    >
      <div className="field">
        <label htmlFor={`${id}-p`}>Project</label>
        <select id={`${id}-p`} className="select" value={choice} onChange={(e) => setChoice(e.target.value)}>
          <option value="new">A new project…</option>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.title} ({p.assetCount.toLocaleString()})
            </option>
          ))}
          <option value="none">No project</option>
        </select>
      </div>
      {choice === 'new' ? (
        <div className="field">
          <label htmlFor={`${id}-t`}>Title of the new project</label>
          <input id={`${id}-t`} className="input" autoFocus value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} placeholder="Spring lookbook" />
        </div>
      ) : null}
    </FormDialog>
  );
}

export function FolderDialog(props: {
  open: boolean;
  onOpenChange(open: boolean): void;
  title: string;
  description: ReactNode;
  submitLabel: string;
  withSidecar?: boolean;
  /** Offer copies without generation data (which rules the sidecar out). */
  withStripMetadata?: boolean;
  /** The engine task whose progress to show while it runs. */
  task?: LibraryProgress['task'];
  onSubmit(dir: string, sidecar: boolean, stripMetadata: boolean): Promise<boolean>;
}) {
  const [dir, setDir] = useState('');
  const [sidecar, setSidecar] = useState(true);
  const [strip, setStrip] = useState(false);
  const id = useId();
  const close = () => props.onOpenChange(false);
  const { busy, run } = useSubmit(close);
  return (
    <FormDialog
      open={props.open}
      onOpenChange={(o) => (o ? props.onOpenChange(true) : close())}
      title={props.title}
      description={props.description}
      submitLabel={props.submitLabel}
      busy={busy}
      task={props.task}
      canSubmit={dir.trim() !== ''}
      onSubmit={() => run(() => props.onSubmit(dir.trim(), sidecar && !strip, strip))}
    >
      <div className="field">
        <label htmlFor={`${id}-d`}>Folder on this machine</label>
        <input id={`${id}-d`} className="input input--mono" autoFocus value={dir} onChange={(e) => setDir(e.target.value)} placeholder="/home/you/Pictures/exports" spellCheck={false} />
      </div>
      {props.withSidecar ? (
        <label className="check-row">
          <input type="checkbox" checked={sidecar && !strip} disabled={strip} onChange={(e) => setSidecar(e.target.checked)} />
          Also write each file’s recipe (prompt, seed, settings) as a JSON file beside it
        </label>
      ) : null}
      {props.withStripMetadata ? (
        <label className="check-row">
          <input type="checkbox" checked={strip} onChange={(e) => setStrip(e.target.checked)} />
          Strip generation data: copies without the prompt, recipe or AI-made tag, for sharing
        </label>
      ) : null}
    </FormDialog>
  );
}

export function ConfirmDialog(props: {
  open: boolean;
  onOpenChange(open: boolean): void;
  title: string;
  description: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm(): void;
}) {
  return (
    <AlertDialog.Root open={props.open} onOpenChange={props.onOpenChange}>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="dialog-overlay dialog-overlay--top" />
        <AlertDialog.Content className="dialog dialog--top">
          <AlertDialog.Title className="dialog-title">{props.title}</AlertDialog.Title>
          <AlertDialog.Description className="dialog-description">{props.description}</AlertDialog.Description>
          <div className="dialog-actions">
            <AlertDialog.Cancel className="btn btn-ghost">Cancel</AlertDialog.Cancel>
            <AlertDialog.Action className={`btn ${props.danger ? 'btn-danger-solid' : 'btn-primary'}`} onClick={props.onConfirm}>
              {props.confirmLabel}
            </AlertDialog.Action>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}
