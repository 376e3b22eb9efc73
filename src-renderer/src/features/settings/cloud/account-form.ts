/**
 * Settings → Cloud → Account: the checks of the sign-up and password-reset forms as the person
 * types, with the contract's own sentences (so the form says what the engine would), and the words
 * shown after each. Pure, so they are unit-tested without a window.
 */
import { RESET_PASSWORD_SENT, SyncResetPasswordSchema, SyncSignUpSchema } from '../../../contract.ts';

/** Which form the signed-out Account row shows. */
export type AccountMode = 'signin' | 'signup' | 'reset';

export interface AccountProblems {
  readonly email: string | null;
  readonly password: string | null;
}

const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function problemOf(result: { success: boolean; error?: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } }, field: string): string | null {
  if (result.success) return null;
  const issue = result.error?.issues.find((i) => i.path[0] === field);
  return issue ? capital(issue.message) : null;
}

/**
 * What is wrong with the sign-up fields as typed: an empty field says nothing yet (the Create
 * button stays off until both are filled), a wrong one says why.
 */
export function signUpProblems(email: string, password: string): AccountProblems {
  const r = SyncSignUpSchema.safeParse({ email, password });
  return {
    email: email === '' ? null : problemOf(r, 'email'),
    password: password === '' ? null : problemOf(r, 'password'),
  };
}

/** The sign-up can be sent: both fields filled and right. */
export function signUpReady(email: string, password: string): boolean {
  return SyncSignUpSchema.safeParse({ email, password }).success;
}

/** What is wrong with the reset form's address as typed (nothing while empty). */
export function resetProblem(email: string): string | null {
  return email === '' ? null : problemOf(SyncResetPasswordSchema.safeParse({ email }), 'email');
}

export function resetReady(email: string): boolean {
  return SyncResetPasswordSchema.safeParse({ email }).success;
}

/** Shown on the sign-in form after a sign-up the project wants confirmed by email. */
export const CONFIRM_EMAIL_NOTE =
  'Check your email to confirm, then sign in. No email within a few minutes? The address may already have an account: sign in, or use “Forgot password?”.';

/** Shown after asking for a reset link, whatever the address (the studio never tells who has an account). */
export const RESET_SENT_NOTE = `${RESET_PASSWORD_SENT}. Open it to choose a new password, then sign in here.`;
