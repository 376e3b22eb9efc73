/**
 * Settings → Cloud → Account's sign-up and reset forms as the person types: nothing said while a
 * field is empty, the contract's own sentence for a wrong address or a password under Supabase's
 * default minimum (6), and the button on only when the engine would take the fields.
 */
import { describe, expect, it } from 'vitest';
import { RESET_PASSWORD_SENT } from '../../../src-preload/contract/index.ts';
import { RESET_SENT_NOTE, resetProblem, resetReady, signUpProblems, signUpReady } from '../../../src-renderer/src/features/settings/cloud/account-form.ts';

describe('Settings → Cloud account forms', () => {
  it('say nothing about empty fields, and keep Create off until both are right', () => {
    expect(signUpProblems('', '')).toEqual({ email: null, password: null });
    expect(signUpReady('', '')).toBe(false);
    expect(signUpReady('me@example.com', '')).toBe(false);
  });

  it('say what is wrong with the address and the password as they are typed', () => {
    expect(signUpProblems('me@', '')).toEqual({ email: 'Enter the email address for the new account', password: null });
    expect(signUpProblems('me@example.com', 'abc')).toEqual({
      email: null,
      password: "A password has at least 6 characters (Supabase's default minimum; the project may ask for more)",
    });
    expect(signUpReady('me@example.com', 'abc')).toBe(false);
    expect(signUpProblems('me@example.com', 'abcdef')).toEqual({ email: null, password: null });
    expect(signUpReady('me@example.com', 'abcdef')).toBe(true);
  });

  it('the reset form takes an address only, and its answer is the neutral sentence', () => {
    expect(resetProblem('')).toBeNull();
    expect(resetReady('')).toBe(false);
    expect(resetProblem('nobody')).toBe('Enter the email address of the account');
    expect(resetReady('nobody@example.com')).toBe(true);
    expect(RESET_SENT_NOTE.startsWith(`${RESET_PASSWORD_SENT}.`)).toBe(true);
  });
});
