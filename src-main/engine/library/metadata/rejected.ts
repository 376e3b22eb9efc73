import type { ImportSkipReason } from '../../../../src-preload/contract/library.ts';

/** A file the library will not take, with the reason and a sentence that says what to do. */
export class MediaRejected extends Error {
  readonly reason: ImportSkipReason;
  constructor(reason: ImportSkipReason, message: string) {
    super(message);
    this.name = 'MediaRejected';
    this.reason = reason;
  }
}
