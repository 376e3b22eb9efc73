import { GenerateRequestSchema, JOB_TYPES, describeIssues } from '../../contract.ts';
import type { GenerateRequest, JobType } from '../../contract.ts';
import type { WorkspaceDraft } from './store.ts';

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export function isJobType(value: string): value is JobType {
  return (JOB_TYPES as readonly string[]).includes(value);
}

/** Empty means "use the default"; other text is sent as a number (NaN included, which the schema refuses with the field's range). */
function optionalNumber(text: string): number | undefined {
  const t = text.trim();
  return t === '' ? undefined : Number(t);
}

/**
 * The Workspace form as a request, checked with the same schema the engine uses, so a mistake is
 * named next to its field before anything is sent.
 */
export function draftToRequest(draft: WorkspaceDraft): { request: GenerateRequest } | { error: FieldError } {
  const seed = optionalNumber(draft.seed);
  const steps = optionalNumber(draft.steps);
  const request: GenerateRequest = {
    type: draft.type,
    prompt: draft.prompt,
    ...(draft.negativePrompt.trim() ? { negativePrompt: draft.negativePrompt } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(steps !== undefined ? { steps } : {}),
  };
  const parsed = GenerateRequestSchema.safeParse(request);
  if (!parsed.success) {
    const e = describeIssues(parsed.error);
    return { error: { field: e.field, message: e.message } };
  }
  return { request };
}
