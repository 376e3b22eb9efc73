/**
 * Add model…: choose a checkpoint file or a diffusers folder (the app's chooser, a drop, or a typed
 * path in a browser), see what the engine found in its header, name it, pick a VAE when it has none
 * inside, and start preparing it. A refusal is the engine's one sentence, and Add stays disabled.
 * A part of a WAN 2.1 model (ComfyUI's transformer, text encoder or VAE file) asks for the parts
 * still needed, shows what each chosen file is, and adds them together as one model.
 */
import { Dialog } from 'radix-ui';
import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { appVerbs } from '../../../api/app-verbs.ts';
import type { ModelInspection } from '../../../contract.ts';
import { CheckIcon, CloseIcon, FileIcon, FolderIcon } from '../../../components/icons.tsx';
import { useStudio } from '../../../store.ts';
import { asSentence, cleanPath } from '../logic.ts';
import { useModelsActions } from '../use-models-actions.ts';

type Check =
  | { readonly status: 'idle' }
  | { readonly status: 'checking'; readonly path: string }
  | { readonly status: 'done'; readonly path: string; readonly inspection: ModelInspection }
  | { readonly status: 'error'; readonly path: string; readonly message: string };

const IDLE: Check = { status: 'idle' };
/** How long typing pauses before the path is checked. */
const TYPING_PAUSE_MS = 450;

const KIND_LABEL: Readonly<Record<Extract<ModelInspection, { ok: true }>['kind'], string>> = {
  sdxl_single_file: 'Single-file checkpoint (the A1111 / ComfyUI / Civitai layout)',
  sdxl_diffusers: 'Diffusers folder',
  sdxl_vae: 'SDXL VAE',
  wan_part: 'One part of a WAN 2.1 model',
  wan_model: 'WAN 2.1 text-to-video model',
};

type WanPartName = NonNullable<Extract<ModelInspection, { ok: true }>['wan']>['missing'][number];

const WAN_PART_LABEL: Readonly<Record<WanPartName | 'tokenizer', string>> = {
  transformer: 'Transformer',
  textEncoder: 'Text encoder',
  vae: 'VAE',
  tokenizer: 'Tokenizer',
};

/** In a sentence: "Still needed: text encoder and VAE." */
const WAN_PART_WORDS: Readonly<Record<WanPartName, string>> = { transformer: 'transformer', textEncoder: 'text encoder', vae: 'VAE' };

const WAN_PART_EXAMPLE: Readonly<Record<WanPartName, string>> = {
  transformer: 'wan2.1_t2v_1.3B_fp16.safetensors',
  textEncoder: 'umt5_xxl_fp16.safetensors or umt5_xxl_fp8_e4m3fn_scaled.safetensors',
  vae: 'wan_2.1_vae.safetensors',
};

/** The parts of a WAN model chosen together, checked as one set (a pause after the last edit). */
function useSetCheck(paths: readonly string[]): Check {
  const actions = useModelsActions();
  const [check, setCheck] = useState<Check>(IDLE);
  const key = paths.join('\n');
  useEffect(() => {
    if (paths.length < 2) {
      setCheck(IDLE);
      return;
    }
    let live = true;
    const t = setTimeout(() => {
      setCheck({ status: 'checking', path: key });
      void actions.inspect(paths[0]!, paths).then((result) => {
        if (!live) return;
        setCheck('error' in result ? { status: 'error', path: key, message: result.error.message } : { status: 'done', path: key, inspection: result.inspection });
      });
    }, TYPING_PAUSE_MS);
    return () => {
      live = false;
      clearTimeout(t);
    };
    // the joined paths decide; actions is stable
  }, [key]);
  return check.status !== 'idle' && check.path !== key ? IDLE : check;
}

/** What each chosen file of a WAN model is, and what is still missing. */
function WanParts({ check }: { check: Check }) {
  if (check.status !== 'done' || !check.inspection.ok || !check.inspection.wan) return <Finding check={check} role="model" />;
  const { parts, missing } = check.inspection.wan;
  return (
    <div className="add-model-found" data-testid="wan-set">
      <span className="add-model-found-mark" aria-hidden="true">
        {missing.length === 0 ? <CheckIcon /> : null}
      </span>
      <div>
        {missing.length > 0 ? (
          <p className="add-model-description" role="status">
            Still needed: {missing.map((m) => WAN_PART_WORDS[m]).join(' and ')}.
          </p>
        ) : (
          <p className="add-model-description">{check.inspection.description}</p>
        )}
        <ul className="add-model-kind" aria-label="Parts found">
          {parts.map((p) => (
            <li key={p.path}>
              {WAN_PART_LABEL[p.part]}: {p.description}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

/** Checks a path with the engine, one answer at a time: an answer for a path since edited is dropped. */
function usePathCheck(path: string): { check: Check; run(path: string): void } {
  const actions = useModelsActions();
  const [check, setCheck] = useState<Check>(IDLE);
  const ticket = useRef(0);
  const run = (raw: string) => {
    const p = cleanPath(raw);
    const mine = ++ticket.current;
    if (p === '') {
      setCheck(IDLE);
      return;
    }
    setCheck({ status: 'checking', path: p });
    void actions.inspect(p).then((result) => {
      if (mine !== ticket.current) return;
      setCheck('error' in result ? { status: 'error', path: p, message: result.error.message } : { status: 'done', path: p, inspection: result.inspection });
    });
  };
  const cleaned = cleanPath(path);
  const checkedPath = check.status === 'idle' ? '' : check.path;
  // Typing pauses: check what is there (a pasted path is checked a moment later, without a click).
  useEffect(() => {
    if (cleaned === checkedPath) return;
    const t = setTimeout(() => run(cleaned), cleaned === '' ? 0 : TYPING_PAUSE_MS);
    return () => clearTimeout(t);
    // run is recreated each render; only the path (and what was last checked) decides.
  }, [cleaned, checkedPath]);
  return { check: check.status !== 'idle' && check.path !== cleaned ? IDLE : check, run };
}

/** What the engine found, or why it will not take the file. */
function Finding({ check, role }: { check: Check; role: 'model' | 'vae' }) {
  if (check.status === 'idle') return null;
  if (check.status === 'checking') {
    return (
      <p className="add-model-checking" role="status">
        <span className="models-spinner" aria-hidden="true" /> Reading the header…
      </p>
    );
  }
  if (check.status === 'error') {
    return (
      <p className="add-model-refusal" role="alert">
        {asSentence(check.message)}
      </p>
    );
  }
  const found = check.inspection;
  if (!found.ok) {
    return (
      <p className="add-model-refusal" role="alert" data-testid={`${role}-refusal`}>
        {asSentence(found.message)}
      </p>
    );
  }
  const wrongKind =
    role === 'model' && found.kind === 'sdxl_vae'
      ? 'This is an SDXL VAE, not a checkpoint: choose it as the VAE of a checkpoint that has none inside.'
      : role === 'vae' && found.kind !== 'sdxl_vae'
        ? `This is a whole model (${found.description}), not a VAE: choose a VAE file here.`
        : null;
  if (wrongKind) {
    return (
      <p className="add-model-refusal" role="alert" data-testid={`${role}-refusal`}>
        {wrongKind}
      </p>
    );
  }
  return (
    <div className="add-model-found" data-testid={`${role}-found`}>
      <span className="add-model-found-mark" aria-hidden="true">
        <CheckIcon />
      </span>
      <div>
        <p className="add-model-description">{found.description}</p>
        {role === 'model' ? <p className="add-model-kind">{KIND_LABEL[found.kind]}</p> : null}
        {role === 'model' && found.preparedAs ? (
          <p className="add-model-kind">
            Prepared before as <code>{found.preparedAs}</code>: adding it again takes no time.
          </p>
        ) : null}
      </div>
    </div>
  );
}

function PathRow({
  id,
  value,
  placeholder,
  onChange,
  onPick,
  invalid,
  describedBy,
  autoFocus,
}: {
  id: string;
  value: string;
  placeholder: string;
  onChange(value: string): void;
  onPick: { file?: () => void; folder?: () => void };
  invalid: boolean;
  describedBy?: string;
  autoFocus?: boolean;
}) {
  return (
    <div className="add-model-path">
      <input
        id={id}
        className="input input--mono"
        type="text"
        spellCheck={false}
        autoComplete="off"
        autoFocus={autoFocus}
        placeholder={placeholder}
        value={value}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={describedBy}
        onChange={(e) => onChange(e.target.value)}
      />
      {onPick.file ? (
        <button type="button" className="btn btn-ghost btn-small" onClick={onPick.file}>
          <FileIcon /> File…
        </button>
      ) : null}
      {onPick.folder ? (
        <button type="button" className="btn btn-ghost btn-small" onClick={onPick.folder}>
          <FolderIcon /> Folder…
        </button>
      ) : null}
    </div>
  );
}

function AddModelForm({ initialPath, note, onDone }: { initialPath: string; note: string | null; onDone(): void }) {
  const actions = useModelsActions();
  const app = appVerbs();
  const pathId = useId();
  const nameId = useId();
  const vaeId = useId();
  const vaeHintId = useId();
  const [path, setPath] = useState(initialPath);
  const [name, setName] = useState('');
  const nameEdited = useRef(false);
  const [vae, setVae] = useState('');
  const [adding, setAdding] = useState(false);
  const [addError, setAddError] = useState<string | null>(null);
  const model = usePathCheck(path);
  const vaeCheck = usePathCheck(vae);
  // A WAN part: the other parts' files, one field per part still needed.
  const [others, setOthers] = useState<readonly string[]>(['', '']);
  const first = model.check.status === 'done' && model.check.inspection.ok ? model.check.inspection : null;
  const wanMissing = first?.kind === 'wan_part' ? (first.wan?.missing ?? []) : [];
  const wanPaths = first?.kind === 'wan_part' ? [cleanPath(path), ...others.slice(0, wanMissing.length).map(cleanPath)].filter((p) => p !== '') : [];
  const wanCheck = useSetCheck(wanPaths);
  const wanSet = wanCheck.status === 'done' && wanCheck.inspection.ok && wanCheck.inspection.kind === 'wan_model' ? wanCheck.inspection : null;

  const found = first?.kind === 'wan_part' ? wanSet : first;
  const usable = found !== null && found.kind !== 'sdxl_vae' && found.kind !== 'wan_part';
  const needsVae = usable && found.needsVae;
  const vaeUsable =
    !needsVae || cleanPath(vae) === '' || (vaeCheck.check.status === 'done' && vaeCheck.check.inspection.ok && vaeCheck.check.inspection.kind === 'sdxl_vae');
  const canAdd = usable && vaeUsable && !adding;

  // The suggested name arrives with the finding; a name the person typed stays.
  const suggested = found?.suggestedName ?? null;
  useEffect(() => {
    if (suggested !== null && !nameEdited.current) setName(suggested);
  }, [suggested]);

  const choose = (pick: ((title: string) => Promise<string | null>) | null, title: string, set: (p: string) => void) =>
    pick
      ? () => {
          void pick(title).then((chosen) => {
            if (chosen) set(chosen);
          });
        }
      : undefined;

  const editPath = (value: string) => {
    setPath(value);
    setAddError(null);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!found) {
      if (!first) model.run(path);
      return;
    }
    if (!canAdd) return;
    setAdding(true);
    setAddError(null);
    const result = await actions.add({
      path: cleanPath(path),
      paths: wanSet ? wanPaths : null,
      name: name.trim() || null,
      vae: needsVae && cleanPath(vae) !== '' ? cleanPath(vae) : null,
    });
    setAdding(false);
    if ('error' in result) setAddError(asSentence(result.error.message));
    else onDone();
  };

  return (
    <form className="dialog-form" onSubmit={(e) => void submit(e)} noValidate>
      <Dialog.Title className="dialog-title">Add model</Dialog.Title>
      <Dialog.Description className="dialog-description">
        An SDXL checkpoint (.safetensors), a diffusers folder, or a WAN 2.1 model (its folder, or ComfyUI&apos;s transformer, text
        encoder and VAE files). The studio reads the headers to tell what it is, then prepares it to run here; the weights are used where
        they are, not copied.
      </Dialog.Description>
      {note ? (
        <p className="add-model-note" role="status">
          {note}
        </p>
      ) : null}
      <div className="field">
        <label htmlFor={pathId}>Checkpoint file or diffusers folder</label>
        <PathRow
          id={pathId}
          value={path}
          placeholder={app.pickModelFile ? '/path/to/model.safetensors' : 'Paste the full path, e.g. /home/you/models/juggernautXL.safetensors'}
          onChange={editPath}
          onPick={{
            file: choose(app.pickModelFile, 'Choose a checkpoint', editPath),
            folder: choose(app.pickFolder, 'Choose a diffusers model folder', editPath),
          }}
          invalid={model.check.status === 'error' || (model.check.status === 'done' && !usable)}
          autoFocus={initialPath === ''}
        />
      </div>
      <Finding check={model.check} role="model" />
      {first?.kind === 'wan_part'
        ? wanMissing.map((part, i) => (
            <div className="field" key={part}>
              <label htmlFor={`${pathId}-wan-${i}`}>{WAN_PART_LABEL[part]} file</label>
              <PathRow
                id={`${pathId}-wan-${i}`}
                value={others[i] ?? ''}
                placeholder={WAN_PART_EXAMPLE[part]}
                onChange={(v) => setOthers((o) => o.map((x, j) => (j === i ? v : x)))}
                onPick={{ file: choose(app.pickModelFile, `Choose the WAN ${WAN_PART_WORDS[part]} file`, (v) => setOthers((o) => o.map((x, j) => (j === i ? v : x)))) }}
                invalid={wanCheck.status === 'done' && !wanCheck.inspection.ok}
              />
            </div>
          ))
        : null}
      {first?.kind === 'wan_part' && wanPaths.length > 1 ? <WanParts check={wanCheck} /> : null}
      {usable ? (
        <div className="field">
          <label htmlFor={nameId}>Name</label>
          <input
            id={nameId}
            className="input"
            type="text"
            autoComplete="off"
            maxLength={120}
            value={name}
            onChange={(e) => {
              nameEdited.current = true;
              setName(e.target.value);
            }}
          />
          <p className="add-model-hint">Shown in the Workspace&apos;s model list and written into each picture&apos;s settings.</p>
        </div>
      ) : null}
      {needsVae ? (
        <div className="field">
          <label htmlFor={vaeId}>VAE file</label>
          <PathRow
            id={vaeId}
            value={vae}
            placeholder="Empty: an SDXL VAE from your model folders"
            onChange={setVae}
            onPick={{ file: choose(app.pickModelFile, 'Choose the SDXL VAE file', setVae) }}
            invalid={!vaeUsable && vaeCheck.check.status === 'done'}
            describedBy={vaeHintId}
          />
          <p className="add-model-hint" id={vaeHintId}>
            This checkpoint has no VAE inside. Leave this empty and the studio uses an SDXL VAE it finds in your model folders (such as
            sdxl_vae.safetensors), if there is one; otherwise choose the VAE file here.
          </p>
          <Finding check={vaeCheck.check} role="vae" />
        </div>
      ) : null}
      {addError ? (
        <p className="add-model-refusal" role="alert">
          {addError}
        </p>
      ) : null}
      <div className="dialog-actions">
        <Dialog.Close className="btn btn-ghost" type="button">
          Cancel
        </Dialog.Close>
        <button type="submit" className="btn btn-primary" disabled={!canAdd}>
          {adding ? 'Adding…' : 'Add'}
        </button>
      </div>
    </form>
  );
}

export function AddModelDialog() {
  const state = useStudio((s) => s.addModel);
  const close = useStudio((s) => s.closeAddModel);
  return (
    <Dialog.Root open={state !== null} onOpenChange={(open) => !open && close()}>
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content className="dialog add-model-dialog">
          {state ? <AddModelForm key={state.opened} initialPath={state.path} note={state.note} onDone={close} /> : null}
          <Dialog.Close className="dialog-x" aria-label="Close">
            <CloseIcon />
          </Dialog.Close>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
