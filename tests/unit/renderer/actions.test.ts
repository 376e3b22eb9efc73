import { describe, expect, it } from 'vitest';
import type { StudioApi } from '../../../src-preload/contract/index.ts';
import { createActions } from '../../../src-renderer/src/actions.ts';
import { StudioApiError, toWireError } from '../../../src-renderer/src/api/errors.ts';
import { createStudioStore } from '../../../src-renderer/src/store.ts';
import { job, queued } from './jobs.ts';

function refusingApi(error: unknown): StudioApi {
  const fail = async () => {
    throw error;
  };
  return {
    jobs: { enqueue: fail, cancel: fail, retry: fail, moveToFront: fail },
    queue: { pause: fail, resume: fail },
    models: { list: fail },
  } as unknown as StudioApi;
}

describe('actions', () => {
  it("shows the engine's refusal as a toast and hands back the field it names", async () => {
    const wire = { code: 'invalid_params', message: 'width must be a multiple of 8 for sdxl_image_fast (got 1001)', field: 'request.width' };
    const store = createStudioStore();
    const actions = createActions(refusingApi(new StudioApiError(wire)), store);
    await expect(actions.enqueue({ type: 'sdxl_image_fast', prompt: 'x', width: 1001 })).resolves.toEqual({ error: wire });
    expect(store.getState().notices).toMatchObject([{ kind: 'error', title: 'Could not queue the job', message: wire.message }]);
    expect(store.getState().submitted).toEqual([]);
  });

  it('turns a failed cancel into a toast without touching the job', async () => {
    const store = createStudioStore();
    store.getState().upsertJobs([job('a', queued(1).status)]);
    const actions = createActions(refusingApi(new StudioApiError({ code: 'not_cancellable', message: 'job a is already done' })), store);
    await actions.cancel('a');
    expect(store.getState().notices.map((n) => n.message)).toEqual(['job a is already done']);
    expect(store.getState().jobs.a!.status.state).toBe('queued');
  });

  it('shows the sentence from an Electron IPC rejection, not its wrapper', () => {
    const ipc = new Error("Error invoking remote method 'jobs.cancel': Error: job a is already done");
    expect(toWireError(ipc)).toEqual({ code: 'error', message: 'job a is already done' });
  });
});
