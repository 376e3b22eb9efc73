/**
 * Small pieces the Settings sections share: a section with its heading, a field's error line, a
 * check's result, a whole-number input, a path input.
 */
import { useId, useState } from 'react';
import type { ReactNode } from 'react';
import type { SettingsCheckItem } from '../../../contract.ts';
import { appFolderPicker } from '../use-settings.ts';
import type { SaveState } from '../use-settings.ts';

/** One panel of the view: its title (which names the section), a line on what it holds, an optional action. */
export function SettingsSection({
  id,
  title,
  subtitle,
  action,
  children,
}: {
  id: string;
  title: ReactNode;
  subtitle: ReactNode;
  action?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className="panel settings-section" aria-labelledby={id}>
      <div className="settings-section-head">
        <div>
          <h2 className="panel-title" id={id}>
            {title}
          </h2>
          <p className="panel-subtitle">{subtitle}</p>
        </div>
        {action}
      </div>
      {children}
    </section>
  );
}

export function FieldError({ id, message }: { id: string; message: string | null }) {
  return message ? (
    <p className="field-error" id={id} role="alert">
      {message}
    </p>
  ) : null;
}

export function Saved({ show }: { show: boolean }) {
  return show ? (
    <span className="settings-saved" role="status">
      Saved
    </span>
  ) : null;
}

export function SettingRow({ label, hint, htmlFor, children }: { label: string; hint?: ReactNode; htmlFor?: string; children: ReactNode }) {
  return (
    <div className="settings-row">
      <div className="settings-row-label">
        {htmlFor ? <label htmlFor={htmlFor}>{label}</label> : <span className="settings-label">{label}</span>}
        {hint ? <p className="settings-hint">{hint}</p> : null}
      </div>
      <div className="settings-row-control">{children}</div>
    </div>
  );
}

/**
 * A whole number typed in a field, with its unit and the "Saved" mark. Each edit goes to `onDraft`
 * (and clears the field's complaint); leaving the field or pressing Enter commits it. The error
 * line, `${id}-error`, is the caller's FieldError.
 */
export function NumberInput({
  id,
  value,
  unit,
  save,
  onDraft,
  onCommit,
}: {
  id: string;
  value: string;
  unit: string;
  save: SaveState;
  onDraft(text: string): void;
  onCommit(): void;
}) {
  return (
    <div className="settings-inline">
      <input
        id={id}
        className="settings-number"
        type="text"
        inputMode="numeric"
        value={value}
        aria-invalid={save.error ? true : undefined}
        aria-describedby={save.error ? `${id}-error` : undefined}
        onChange={(e) => {
          onDraft(e.target.value);
          save.clear();
        }}
        onBlur={onCommit}
        onKeyDown={(e) => e.key === 'Enter' && onCommit()}
      />
      <span className="muted">{unit}</span>
      <Saved show={save.saved} />
    </div>
  );
}

export function CheckResults({ items, label }: { items: readonly SettingsCheckItem[] | undefined; label: string }) {
  if (!items || items.length === 0) return null;
  return (
    <ul className="check-results" aria-label={label}>
      {items.map((item) => (
        <li key={item.item} className={`check-result check-result--${item.ok === null ? 'unknown' : item.ok ? 'ok' : 'problem'}`}>
          <span className="check-mark" aria-hidden="true">
            {item.ok === null ? '?' : item.ok ? '✓' : '!'}
          </span>
          <div>
            <p className="check-detail">{item.detail}</p>
            {item.fix && item.ok !== true ? <p className="check-fix">{item.fix}</p> : null}
          </div>
        </li>
      ))}
    </ul>
  );
}

/**
 * A folder path: typed, or chosen with the app's folder dialog where there is one. `onSubmit` gets
 * the trimmed path; Enter submits too.
 */
export function PathInput({
  label,
  placeholder,
  submitLabel,
  pickTitle,
  busy,
  error,
  initial = '',
  clearOnSubmit = false,
  onSubmit,
  onEdit,
}: {
  label: string;
  placeholder: string;
  submitLabel: string;
  pickTitle: string;
  busy: boolean;
  error: string | null;
  initial?: string;
  clearOnSubmit?: boolean;
  onSubmit(path: string): Promise<boolean>;
  onEdit?(): void;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  const [value, setValue] = useState(initial);
  const pick = appFolderPicker();
  const submit = async (path: string) => {
    const ok = await onSubmit(path.trim());
    if (ok && clearOnSubmit) setValue('');
  };
  return (
    <div className="field path-field">
      <label htmlFor={id} className="visually-hidden">
        {label}
      </label>
      <div className="path-row">
        <input
          id={id}
          type="text"
          spellCheck={false}
          autoComplete="off"
          placeholder={placeholder}
          value={value}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          onChange={(e) => {
            setValue(e.target.value);
            onEdit?.();
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              void submit(value);
            }
          }}
        />
        {pick ? (
          <button
            type="button"
            className="btn btn-ghost"
            disabled={busy}
            onClick={() => {
              void pick(pickTitle).then((chosen) => {
                if (chosen) {
                  setValue(chosen);
                  onEdit?.();
                }
              });
            }}
          >
            Browse…
          </button>
        ) : null}
        <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => void submit(value)}>
          {submitLabel}
        </button>
      </div>
      <FieldError id={errorId} message={error} />
    </div>
  );
}
