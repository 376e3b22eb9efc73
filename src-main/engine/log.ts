/**
 * The engine's log: one line per event in <data>/logs/engine.log, kept under a size cap by rolling
 * to engine.log.1. Writes are synchronous appends: rare, small, and they must survive a crash.
 */
import { appendFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const MAX_BYTES = 5 * 1024 * 1024;

export class EngineLog {
  readonly file: string;
  private written = 0;

  constructor(logsDir: string) {
    this.file = join(logsDir, 'engine.log');
    try {
      this.written = statSync(this.file).size;
    } catch {
      this.written = 0;
    }
  }

  write(level: LogLevel, source: string, message: string): void {
    const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${source}] ${message.replace(/\s*\n\s*/g, ' ')}\n`;
    try {
      if (this.written + line.length > MAX_BYTES) {
        renameSync(this.file, `${this.file}.1`);
        this.written = 0;
      }
      appendFileSync(this.file, line);
      this.written += line.length;
    } catch {
      // A log that cannot be written (disk full) must never take the engine down.
    }
  }
}
