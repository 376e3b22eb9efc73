/**
 * Wires the engine's events and first answers into the store, outside React. Components only read
 * the store; nothing here renders.
 */
import type { Connection } from './api/connection.ts';
import { toWireError } from './api/errors.ts';
import type { StudioApi } from './contract.ts';
import type { StudioStore } from './store.ts';

export const JOB_HISTORY_LIMIT = 200;

export function connectStore(api: StudioApi, connection: Connection, store: StudioStore): () => void {
  const s = () => store.getState();
  let stopped = false;

  const report = (what: string) => (error: unknown) => {
    if (stopped) return;
    const wire = toWireError(error);
    // A server that stopped, or refuses this tab's link, is said once by the connection notice,
    // not by a toast for every read that failed because of it.
    if (wire.code === 'unauthorized' || wire.code === 'unreachable') return;
    s().notify({ kind: 'error', title: `Could not load ${what}`, message: wire.message });
  };

  // A job starting, finishing or jumping ahead moves every queued job's place in line and the
  // queue's counts, and change events carry neither (positions are computed on reads), so both are
  // re-read after each such change; reads are coalesced while one is in flight.
  let refreshing = false;
  let refreshAgain = false;
  function refreshQueue() {
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    Promise.all([api.queue.state(), api.jobs.list({ states: ['queued'] })])
      .then(([queue, jobs]) => {
        if (stopped) return;
        s().setQueue(queue);
        s().upsertJobs(jobs);
      })
      .catch(() => {
        // the next change or reconnect reads again; a toast here would only be noise
      })
      .finally(() => {
        refreshing = false;
        if (refreshAgain && !stopped) {
          refreshAgain = false;
          refreshQueue();
        }
      });
  }

  const unsubscribers = [
    api.jobs.onChanged((job) => {
      const before = s().jobs[job.id]?.status.state;
      s().upsertJobs([job]);
      if (before !== job.status.state || job.status.state === 'queued') refreshQueue();
    }),
    api.jobs.onProgress((event) => s().applyProgress(event)),
    // Finished jobs cleared from the list by any front door (another window, `studio jobs clear`).
    api.jobs.onCleared(({ ids }) => s().markCleared(ids)),
    api.queue.onChanged((queue) => {
      s().setQueue(queue);
      refreshQueue();
    }),
    api.gpu.onChanged((gpu) => s().setGpu(gpu)),
    // Add model…: progress of each preparation, and the new model list once one is prepared.
    api.models.onPreparation((preparation) => {
      const before = s().preparations[preparation.id]?.state;
      s().upsertPreparations([preparation]);
      if (preparation.state === 'done' && before !== 'done' && s().preparations[preparation.id] === preparation) {
        s().notify({
          kind: 'info',
          title: 'Model ready',
          message: preparation.reused
            ? `${preparation.name} was prepared before and is ready: pick it in the Workspace.`
            : `${preparation.name} is prepared: pick it in the Workspace.`,
        });
      }
    }),
    api.models.onChanged((models) => s().setModels(models)),
    // Engine notices (a worker crashed and was restarted, a crash loop stopped a slot…) as toasts.
    api.app.onNotice((notice) =>
      s().notify({
        kind: notice.level === 'info' ? 'info' : 'error',
        title: notice.level === 'error' ? 'The engine needs attention' : notice.level === 'warning' ? 'Engine warning' : 'Engine',
        message: notice.message,
      }),
    ),
    // Settings change from any front door (this window, another one, `studio settings set`).
    api.settings.onChanged(({ changed, state }) => {
      s().setSettings(state);
      if (changed.includes('modelDirs') || changed.includes('providers')) {
        api.app.info().then((info) => !stopped && s().setAppInfo(info), report('app information'));
      }
      if (changed.includes('modelDirs')) api.models.list().then((models) => !stopped && s().setModels(models), report('the model list'));
    }),
  ];

  function loadLive() {
    api.jobs.list({ limit: JOB_HISTORY_LIMIT }).then((jobs) => !stopped && s().upsertJobs(jobs), report('the job list'));
    api.queue.state().then((q) => !stopped && s().setQueue(q), report('the queue state'));
    api.gpu.status().then((g) => !stopped && s().setGpu(g), report('GPU status'));
    api.settings.get().then((settings) => !stopped && s().setSettings(settings), report('the settings'));
    api.models.list().then((models) => !stopped && s().setModels(models), report('the model list'));
    // Reload-safe: preparations keep running in the engine while no window watches them.
    api.models.preparations().then((list) => !stopped && s().upsertPreparations(list), report('the model preparations'));
  }

  let everOpen = connection.state === 'open';
  s().setConnection(connection.state);
  unsubscribers.push(
    connection.onState((state) => {
      s().setConnection(state);
      // Events sent while the socket was down are lost; re-read what they would have changed.
      if (state === 'open') {
        if (everOpen) loadLive();
        everOpen = true;
      }
    }),
  );
  connection.connect();

  api.app.info().then((info) => !stopped && s().setAppInfo(info), report('app information'));
  api.catalog.list().then((presets) => !stopped && s().setPresets(presets), report('the job types'));
  loadLive();

  return () => {
    stopped = true;
    for (const u of unsubscribers) u();
  };
}
