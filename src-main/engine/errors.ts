/**
 * Errors a user can see. Each carries a stable code (for scripts and the UI) and a message that says
 * what happened and what to do next.
 */
export class StudioError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  constructor(code: string, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StudioError';
    this.code = code;
    this.field = options.field;
  }
}

export function toWireError(e: unknown): { code: string; message: string; field?: string } {
  if (e instanceof StudioError) return { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) };
  if (e instanceof Error && e.name === 'ParamError') {
    return { code: 'invalid_params', message: e.message, field: (e as Error & { field: string }).field };
  }
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}
