/**
 * The engine's WorkerSpawner inside Electron: each inference worker is a utilityProcess (a Node
 * process Chromium's service manager supervises), so a CUDA abort or an OOM kill ends that process
 * and never the window. Its stdout/stderr go to a log file, one prefixed line at a time.
 */
import type { ForkOptions, UtilityProcess } from 'electron';
import type { WorkerChannel, WorkerSpawner } from '../engine/inference/spawner.ts';

/** What this file touches on a forked UtilityProcess, in electron's own types. */
export interface WorkerProcess {
  readonly pid: UtilityProcess['pid'];
  readonly stdout: UtilityProcess['stdout'];
  readonly stderr: UtilityProcess['stderr'];
  postMessage: UtilityProcess['postMessage'];
  kill: UtilityProcess['kill'];
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/** The part of electron's `utilityProcess` module this file uses. */
export interface UtilityProcessModule {
  fork(modulePath: string, args: string[], options: ForkOptions): WorkerProcess;
}

/** Where worker output goes (a file stream in the app, an array in tests). */
export interface LogSink {
  write(text: string): unknown;
}

export interface UtilitySpawnerOptions {
  readonly utilityProcess: UtilityProcessModule;
  /** Shown in the OS task manager and Electron's process metrics. */
  readonly serviceName?: string;
  readonly log: LogSink;
  /** Sends SIGKILL by pid where signals exist; utilityProcess.kill() alone is a SIGTERM. */
  readonly killByPid?: (pid: number) => void;
  readonly now?: () => Date;
}

type Readable = NonNullable<WorkerProcess['stdout']>;

/** Copies a stream to the log line by line, each line tagged with the worker's pid and stream. */
function pipeLines(stream: Readable | null, tag: () => string, options: UtilitySpawnerOptions): void {
  if (!stream) return;
  const now = options.now ?? (() => new Date());
  let pending = '';
  const emit = (line: string) => options.log.write(`${now().toISOString()} ${tag()} ${line}\n`);
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (pending + chunk).split(/\r?\n/);
    pending = lines.pop() ?? '';
    for (const line of lines) emit(line);
  });
  stream.on('end', () => {
    if (pending !== '') emit(pending);
    pending = '';
  });
}

const defaultKillByPid = (pid: number): void => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone: its exit event reports it
  }
};

export function createUtilitySpawner(options: UtilitySpawnerOptions): WorkerSpawner {
  const serviceName = options.serviceName ?? 'OurVidz Studio inference';
  const killByPid = options.killByPid ?? defaultKillByPid;

  return (entry, spawn): WorkerChannel => {
    const child = options.utilityProcess.fork(entry, [...spawn.args], {
      serviceName,
      env: { ...process.env, ...spawn.env },
      stdio: 'pipe',
    });
    const exitCallbacks: ((code: number | null, signal: string | null) => void)[] = [];
    let exited = false;
    let killed = false;
    const reportExit = (code: number | null, signal: string | null) => {
      if (exited) return;
      exited = true;
      for (const cb of exitCallbacks) cb(code, signal);
    };
    // utilityProcess reports a code only; a kill we asked for is reported as that signal, like fork().
    child.on('exit', (code) => reportExit(killed ? null : code, killed ? 'SIGKILL' : null));

    const tag = (stream: string) => () => `[worker ${child.pid ?? '?'} ${stream}]`;
    pipeLines(child.stdout, tag('out'), options);
    pipeLines(child.stderr, tag('err'), options);

    return {
      get pid() {
        return child.pid;
      },
      send(message) {
        if (exited) return;
        try {
          child.postMessage(message);
        } catch {
          // raced the exit; the exit callback reports it
        }
      },
      onMessage(callback) {
        child.on('message', (message: unknown) => callback(message));
      },
      onExit(callback) {
        exitCallbacks.push(callback);
      },
      kill() {
        if (exited) return;
        killed = true;
        const pid = child.pid;
        if (pid !== undefined && process.platform !== 'win32') killByPid(pid);
        else child.kill(); // Windows: TerminateProcess, already forceful
      },
    };
  };
}
