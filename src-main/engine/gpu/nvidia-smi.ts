/**
 * Pure parser for
 *   nvidia-smi --query-gpu=index,name,memory.used,memory.total,utilization.gpu --format=csv,noheader,nounits
 * One line per GPU, e.g. `0, NVIDIA GeForce RTX 4090, 1873, 24564, 7`. A value the driver does
 * not report reads `[N/A]` or `[Not Supported]` (MIG slices, unified-memory parts such as GB10):
 * it becomes null, never 0. Lines that are not GPU rows (driver errors, "GPU has fallen off the
 * bus") are returned as problems so the monitor can show them.
 */

export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,name,memory.used,memory.total,utilization.gpu',
  '--format=csv,noheader,nounits',
] as const;

export interface GpuReading {
  readonly index: number;
  readonly name: string;
  readonly memoryUsedMb: number | null;
  readonly memoryTotalMb: number | null;
  readonly utilizationPct: number | null;
}

export interface NvidiaSmiParse {
  readonly gpus: readonly GpuReading[];
  /** Lines that were not GPU rows, trimmed (empty lines dropped). */
  readonly problems: readonly string[];
}

/** null for a value the driver does not report; undefined for text that is not a number at all. */
function numberField(text: string): number | null | undefined {
  const t = text.trim();
  if (/^\[.*\]$/.test(t) || t === 'N/A') return null;
  if (!/^-?\d+(\.\d+)?$/.test(t)) return undefined;
  return Number(t);
}

export function parseNvidiaSmiCsv(output: string): NvidiaSmiParse {
  const gpus: GpuReading[] = [];
  const problems: string[] = [];
  for (const raw of output.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const fields = line.split(',');
    if (fields.length < 5) {
      problems.push(line);
      continue;
    }
    // The name sits between the index and the three numbers; rejoin it should it hold a comma.
    const index = numberField(fields[0]!);
    const tail = fields.slice(-3).map(numberField);
    const name = fields.slice(1, -3).join(',').trim();
    if (index === null || index === undefined || !Number.isInteger(index) || tail.some((v) => v === undefined) || name === '') {
      problems.push(line);
      continue;
    }
    const [used, total, util] = tail as (number | null)[];
    gpus.push({ index, name, memoryUsedMb: used ?? null, memoryTotalMb: total ?? null, utilizationPct: util ?? null });
  }
  return { gpus, problems };
}
