/**
 * Hybrid logical clocks for the cloud mirror: the clock every synced change carries, in the text form
 * supabase/migrations compares (`WWWWWWWWWWWWWWW:CCCCCC:device` — wall milliseconds, a counter, the
 * device id), so plain string order is clock order with the device id breaking ties.
 *
 * The algorithm is Kulkarni et al., "Logical Physical Clocks" (2014): a clock never goes backwards,
 * stays close to wall time, and after observing another device's clock every later local clock is
 * greater than it. Written here from the paper's rules.
 */

/** The text form; the migration's sync_apply checks the same pattern. */
export const HLC_PATTERN = /^[0-9]{15}:[0-9]{6}:[A-Za-z0-9_-]{1,64}$/;
const DEVICE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const COUNTER_MAX = 999_999;
const WALL_MAX = 999_999_999_999_999;
/** The server refuses clocks further ahead of its own time than this (sync_apply). */
export const MAX_AHEAD_MS = 86_400_000;

export interface HlcParts {
  readonly wall: number;
  readonly counter: number;
  readonly device: string;
}

export function formatHlc({ wall, counter, device }: HlcParts): string {
  if (!Number.isSafeInteger(wall) || wall < 0 || wall > WALL_MAX) throw new RangeError(`HLC wall time must be whole milliseconds from 0 to ${WALL_MAX} (got ${wall})`);
  if (!Number.isSafeInteger(counter) || counter < 0 || counter > COUNTER_MAX) throw new RangeError(`HLC counter must be from 0 to ${COUNTER_MAX} (got ${counter})`);
  if (!DEVICE_PATTERN.test(device)) throw new RangeError(`device id must be 1 to 64 letters, digits, "_" or "-" (got ${JSON.stringify(device)})`);
  return `${String(wall).padStart(15, '0')}:${String(counter).padStart(6, '0')}:${device}`;
}

/** The parts of a clock, or null when the text is not one. */
export function parseHlc(text: string): HlcParts | null {
  if (!HLC_PATTERN.test(text)) return null;
  return { wall: Number(text.slice(0, 15)), counter: Number(text.slice(16, 22)), device: text.slice(23) };
}

/** Clock order: plain code-unit order of the text (what PostgreSQL's "C" collation does). */
export function compareHlc(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class HybridClock {
  readonly device: string;
  private readonly now: () => number;
  private wall: number;
  private counter: number;

  /** `saved`: the last clock this device issued or observed, as saved across restarts. */
  constructor(device: string, now: () => number = Date.now, saved?: { wall: number; counter: number }) {
    formatHlc({ wall: 0, counter: 0, device }); // validates the device id
    this.device = device;
    this.now = now;
    this.wall = saved?.wall ?? 0;
    this.counter = saved?.counter ?? 0;
  }

  /** What to save so a restarted app keeps issuing greater clocks even if the wall clock went back. */
  get state(): { wall: number; counter: number } {
    return { wall: this.wall, counter: this.counter };
  }

  /** A new clock for a local change: greater than every clock issued or observed before. */
  next(): string {
    const pt = Math.floor(this.now());
    if (pt > this.wall) {
      this.wall = pt;
      this.counter = 0;
    } else {
      this.bump();
    }
    return formatHlc({ wall: this.wall, counter: this.counter, device: this.device });
  }

  /**
   * Takes in a clock pulled from another device, so the next local clock is greater than it. A clock
   * more than a day ahead of this machine's time is refused (the server refuses those too): adopting
   * it would pin every later local clock to a wrong future time.
   */
  observe(remote: string): void {
    const r = parseHlc(remote);
    if (!r) throw new RangeError(`"${remote}" is not a hybrid logical clock (15-digit milliseconds:6-digit counter:device id)`);
    const pt = Math.floor(this.now());
    if (r.wall > pt + MAX_AHEAD_MS) {
      throw new RangeError(
        `clock ${remote} from device ${r.device} is more than a day ahead of this computer's time: check the date and time on both`,
      );
    }
    const wall = Math.max(this.wall, r.wall, pt);
    if (wall === this.wall && wall === r.wall) {
      this.counter = Math.max(this.counter, r.counter);
      this.bump();
    } else if (wall === this.wall) {
      this.bump();
    } else if (wall === r.wall) {
      this.wall = wall;
      this.counter = r.counter;
      this.bump();
    } else {
      this.wall = wall;
      this.counter = 0;
    }
  }

  /** counter + 1; past the counter's 6 digits the clock moves one millisecond on instead. */
  private bump(): void {
    if (this.counter < COUNTER_MAX) {
      this.counter += 1;
    } else {
      this.wall += 1;
      this.counter = 0;
    }
  }
}
