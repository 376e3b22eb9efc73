/**
 * Settings → Cloud → Account while signed out: sign in, create an account, or ask for a link to set
 * a new password — all with Supabase Auth, from here (sync.login, sync.signUp, sync.resetPassword).
 * One form shows at a time; the typed address carries from one to the next. Sign-up and reset are
 * checked as the person types with the contract's sentences. A project that confirms addresses by
 * email signs nobody in at sign-up: the sign-in form comes back saying to check the email. The reset
 * answer is the same whatever the address, so the studio never tells who has an account.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent, ReactNode, Ref } from 'react';
import { toWireError } from '../../../api/errors.ts';
import { getStudioApi } from '../../../api/index.ts';
import { SUPABASE_MIN_PASSWORD } from '../../../contract.ts';
import { FieldError } from '../components/parts.tsx';
import { asSentence } from '../logic.ts';
import { CONFIRM_EMAIL_NOTE, RESET_SENT_NOTE, resetProblem, resetReady, signUpProblems, signUpReady } from './account-form.ts';
import type { AccountMode } from './account-form.ts';
import { setCloudStatus, supabaseDashboardUsers } from './cloud-store.ts';

/** A labelled input with its as-typed problem (and an optional hint) read out with it. */
function Field({
  label,
  problem,
  hint,
  inputRef,
  ...input
}: {
  label: string;
  problem?: string | null;
  hint?: string;
  inputRef?: Ref<HTMLInputElement>;
  type: string;
  autoComplete: string;
  value: string;
  onChange: (value: string) => void;
}) {
  const id = useId();
  // The hint says the rule; once broken, the problem says it instead (not both).
  const shownHint = problem ? undefined : hint;
  const described = [problem ? `${id}-problem` : null, shownHint ? `${id}-hint` : null].filter((x) => x !== null).join(' ');
  return (
    <label className="cloud-field">
      <span>{label}</span>
      <input
        ref={inputRef}
        className="input"
        type={input.type}
        autoComplete={input.autoComplete}
        value={input.value}
        onChange={(e) => input.onChange(e.target.value)}
        {...(problem ? { 'aria-invalid': true } : {})}
        {...(described ? { 'aria-describedby': described } : {})}
      />
      {shownHint ? (
        <span className="cloud-field-hint" id={`${id}-hint`}>
          {shownHint}
        </span>
      ) : null}
      {problem ? (
        <span className="field-error" id={`${id}-problem`}>
          {problem}
        </span>
      ) : null}
    </label>
  );
}

/** One line for the project's owner: users can also be added in the Supabase dashboard. */
function OwnerHint({ url }: { url: string }) {
  const dashboard = supabaseDashboardUsers(url);
  return (
    <p className="settings-hint" data-testid="cloud-account-help">
      Project owner? Users can also be added in the Supabase dashboard → Authentication → Users
      {dashboard ? (
        <>
          {' '}
          (
          <a href={dashboard} target="_blank" rel="noreferrer noopener">
            open it
          </a>
          )
        </>
      ) : null}
      .
    </p>
  );
}

export function SignedOutAccount({ url }: { url: string }) {
  const [mode, setMode] = useState<AccountMode>('signin');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const backRef = useRef<HTMLButtonElement>(null);
  const focus = useRef<'email' | 'password' | 'back' | null>(null);
  const [focusAsked, setFocusAsked] = useState(0);
  const titleId = useId();

  // After a switch of form or an answer, what comes next gets the focus (nothing on first show).
  useEffect(() => {
    const target = focus.current === 'email' ? emailRef : focus.current === 'password' ? passwordRef : focus.current === 'back' ? backRef : null;
    focus.current = null;
    target?.current?.focus();
  }, [focusAsked]);
  const focusNext = (what: 'email' | 'password' | 'back') => {
    focus.current = what;
    setFocusAsked((n) => n + 1);
  };

  const go = (next: AccountMode, then: 'email' | 'password' = 'email', keepNote = false) => {
    setMode(next);
    setPassword('');
    setError(null);
    if (!keepNote) setNote(null);
    focusNext(then);
  };

  /** Runs one call; a refusal comes back as the row's sentence. */
  const run = async (call: () => Promise<void>) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await call();
    } catch (e) {
      setError(asSentence(toWireError(e).message));
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const api = getStudioApi();
    if (mode === 'signin') {
      if (email === '' || password === '') return;
      void run(async () => {
        setCloudStatus(await api.sync.login({ email, password }));
        setPassword('');
      });
    } else if (mode === 'signup') {
      if (!signUpReady(email, password)) return;
      void run(async () => {
        const r = await api.sync.signUp({ email, password });
        setCloudStatus(r.status);
        if (r.confirmEmail) {
          go('signin', 'password', true);
          setNote(CONFIRM_EMAIL_NOTE);
        }
      });
    } else {
      if (!resetReady(email)) return;
      void run(async () => {
        setCloudStatus(await api.sync.resetPassword({ email }));
        setNote(RESET_SENT_NOTE);
        focusNext('back');
      });
    }
  };

  const signUpCheck = signUpProblems(email, password);
  const emailField = (problem: string | null, autoComplete: string) => (
    <Field label="Email" type="email" autoComplete={autoComplete} value={email} onChange={setEmail} problem={problem} inputRef={emailRef} />
  );
  let title: string;
  let fields: ReactNode;
  let button: { label: string; busyLabel: string; ready: boolean };
  if (mode === 'signin') {
    title = 'Sign in';
    fields = (
      <>
        {emailField(null, 'username')}
        <Field label="Password" type="password" autoComplete="current-password" value={password} onChange={setPassword} inputRef={passwordRef} />
      </>
    );
    button = { label: 'Sign in', busyLabel: 'Signing in…', ready: email !== '' && password !== '' };
  } else if (mode === 'signup') {
    title = 'Create an account';
    fields = (
      <>
        {emailField(signUpCheck.email, 'email')}
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={setPassword}
          problem={signUpCheck.password}
          hint={`At least ${SUPABASE_MIN_PASSWORD} characters (Supabase’s default; the project may ask for more).`}
          inputRef={passwordRef}
        />
      </>
    );
    button = { label: 'Create account', busyLabel: 'Creating…', ready: signUpReady(email, password) };
  } else {
    title = 'Forgot password?';
    fields = emailField(resetProblem(email), 'email');
    button = { label: 'Send reset link', busyLabel: 'Sending…', ready: resetReady(email) };
  }

  return (
    <form className="cloud-form" aria-labelledby={titleId} noValidate onSubmit={submit} data-testid={`cloud-account-${mode}`}>
      <p className="cloud-form-title" id={titleId}>
        {title}
      </p>
      {mode === 'reset' ? <p className="settings-hint">Supabase emails a link to the address; the link opens the page where a new password is chosen.</p> : null}
      {fields}
      <div className="settings-inline">
        <button type="submit" className="btn btn-primary btn-small" disabled={!button.ready}>
          {busy ? button.busyLabel : button.label}
        </button>
        {mode === 'signin' ? (
          <>
            <button type="button" className="btn-link" onClick={() => go('signup')}>
              Create an account
            </button>
            <button type="button" className="btn-link" onClick={() => go('reset')}>
              Forgot password?
            </button>
          </>
        ) : (
          <button type="button" ref={backRef} className="btn btn-ghost btn-small" onClick={() => go('signin', email === '' ? 'email' : 'password')}>
            Back to sign in
          </button>
        )}
      </div>
      {/* Always present, so that a note put in it is read out. */}
      <p className="cloud-account-note" role="status" data-testid="cloud-account-note">
        {note}
      </p>
      <FieldError id="cloud-signin-error" message={error} />
      <OwnerHint url={url} />
    </form>
  );
}
