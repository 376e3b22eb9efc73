import { useId } from 'react';
import type { ReactNode } from 'react';
import { useStudio } from '../../../store.ts';
import { fieldOf } from '../store.ts';
import type { WorkspaceDraft } from '../store.ts';

/** The engine's messages start lower-case (they read well after a field name); alone they start a sentence. */
export const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * The error for `field`, if any — the last refusal that named it (the engine's, or a Generate
 * press), else the form's own check as typed — as props for the control (aria-invalid,
 * aria-describedby) and the message to show under it.
 */
export function useFieldError(field: keyof WorkspaceDraft | 'enhancement' | 'other'): {
  readonly props: { 'aria-invalid'?: true; 'aria-describedby'?: string };
  readonly message: ReactNode;
} {
  const id = useId();
  const error = useStudio((s) =>
    s.formError && fieldOf(s.formError.field) === field
      ? s.formError.message
      : field !== 'enhancement' && field !== 'other'
        ? (s.liveErrors[field] ?? null)
        : null,
  );
  if (error === null) return { props: {}, message: null };
  return {
    props: { 'aria-invalid': true, 'aria-describedby': id },
    message: (
      <p className="field-error" id={id}>
        {sentence(error)}
      </p>
    ),
  };
}
