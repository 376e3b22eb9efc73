/**
 * Checks the form as it is typed, with the engine's own schema and rules (request.ts,
 * `draftErrors`), each mistake at its field. A new mistake shows after a short pause, so typing
 * "1024" does not flash an error at "1"; a mistake put right goes at once.
 */
import { useEffect } from 'react';
import { useStudio } from '../../../store.ts';
import { draftErrors } from '../request.ts';
import type { FieldErrors } from '../request.ts';

export const LIVE_ERROR_DELAY_MS = 400;

function same(a: FieldErrors, b: FieldErrors): boolean {
  const ka = Object.keys(a) as (keyof FieldErrors)[];
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export function useLiveValidation(delayMs = LIVE_ERROR_DELAY_MS): void {
  const draft = useStudio((s) => s.draft);
  const setLiveErrors = useStudio((s) => s.setLiveErrors);
  useEffect(() => {
    const shown = useStudio.getState().liveErrors;
    // After a Generate press that found the prompt empty, that stays said until it is written.
    const errors = draftErrors(draft, { forSubmit: shown.prompt !== undefined });
    const kept: Partial<Record<keyof FieldErrors, string>> = {};
    for (const key of Object.keys(shown) as (keyof FieldErrors)[]) {
      if (errors[key] !== undefined) kept[key] = errors[key];
    }
    if (!same(kept, shown)) setLiveErrors(kept);
    if (same(errors, kept)) return;
    const timer = setTimeout(() => setLiveErrors(errors), delayMs);
    return () => clearTimeout(timer);
  }, [draft, delayMs, setLiveErrors]);
}
