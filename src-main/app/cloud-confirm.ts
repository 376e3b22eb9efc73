/**
 * Pointing the cloud mirror at another Supabase project, from the window, needs the person's yes in
 * a native dialog drawn by main. The window could otherwise (a compromised renderer, a script that
 * got in) call `sync.configure` with an attacker's project and have every later upload — originals,
 * prompts, job records — go there without anyone seeing it. Setting the first project, or saving the
 * same project again (a new anon key for it), asks nothing: neither sends anything anywhere new
 * before the person signs in to it.
 *
 * The CLI and `studio serve` do not pass through here: the CLI is the person at their own terminal,
 * and `studio serve` takes calls only with its session token (docs/cli.md).
 */
import type { MessageBoxOptions } from 'electron';
import type { Handlers } from '../../src-preload/contract/index.ts';
import { StudioError } from '../engine/errors.ts';
import { parseCloudConfig } from '../engine/sync/cloud.ts';

export interface CloudConfirmOptions {
  /** Electron's dialog.showMessageBox, bound to the main window. */
  readonly showMessageBox: (options: MessageBoxOptions) => Promise<{ response: number }>;
  readonly log?: (message: string) => void;
}

/** The dialog: the change in plain words, the safe choice (keep) the default and the Escape answer. */
export function cloudChangeDialog(from: string, to: string): MessageBoxOptions {
  return {
    type: 'warning',
    title: 'Change the cloud project?',
    message: `Mirror this library to ${to} instead of ${from}?`,
    detail:
      'From now on your assets, prompts and job records would be sent to the new project, and you are signed out of the current one. ' +
      'If you did not ask for this in Settings → Cloud, choose Keep.',
    buttons: [`Keep ${from}`, 'Change project'],
    defaultId: 0,
    cancelId: 0,
    noLink: true,
  };
}

/** The engine's handlers with `sync.configure` asking first when it would change the project's URL. */
export function confirmCloudProjectChange(handlers: Handlers, options: CloudConfirmOptions): Handlers {
  const configure = handlers['sync.configure'];
  return {
    ...handlers,
    'sync.configure': async (params) => {
      // The engine parses it again; here it only has to know where it points (a bad one is refused there).
      let next: string | null = null;
      try {
        next = parseCloudConfig(params).url;
      } catch {
        next = null;
      }
      const current = next === null ? null : (await handlers['sync.status'](undefined)).url;
      if (next !== null && current !== null && current !== next) {
        const { response } = await options.showMessageBox(cloudChangeDialog(current, next));
        if (response !== 1) {
          options.log?.(`kept the cloud project ${current}: the change to ${next} was not confirmed`);
          throw new StudioError('cancelled', `the cloud project was not changed: it is still ${current} (the change to ${next} was not confirmed)`);
        }
        options.log?.(`cloud project change to ${next} confirmed in the dialog`);
      }
      return configure(params);
    },
  };
}
