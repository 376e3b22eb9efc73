/**
 * Exporting an X/Y sheet as one PNG (library.exportSheet) at the size the cap is set for: 6×6 cells
 * of 1024² pictures, from a real library on disk. The pictures are smooth colour fields with ±6 of
 * noise (closer to a photograph than flat colour or pure noise: both would flatter or punish the PNG
 * size). Figures: the time from the request to the PNG's bytes, the file's size, the answer's size
 * on the wire (base64), and the process's peak memory above what it held before.
 *
 *   npm run bench -- sheet
 */
import sharp from 'sharp';
import { exportSheet } from '../../src-main/engine/library/sheet.ts';
import { pilPng } from '../fixtures/library/formats.ts';
import { addAsset, makeWorld } from '../fixtures/library/world.ts';
import type { Bench, Figure } from './harness.ts';
import { rng } from './harness.ts';

const SIDE = 1024;
const N = 6;

function picture(seed: number): Buffer {
  const random = rng(seed);
  const [r0, g0, b0] = [random() * 200, random() * 200, random() * 200];
  const rgb = Buffer.alloc(SIDE * SIDE * 3);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const i = (y * SIDE + x) * 3;
      const wave = 40 * Math.sin((x + seed * 37) / 90) * Math.cos(y / 70);
      rgb[i] = Math.max(0, Math.min(255, r0 + wave + (random() - 0.5) * 12));
      rgb[i + 1] = Math.max(0, Math.min(255, g0 + (y / SIDE) * 50 + (random() - 0.5) * 12));
      rgb[i + 2] = Math.max(0, Math.min(255, b0 - wave + (random() - 0.5) * 12));
    }
  }
  return pilPng({ width: SIDE, height: SIDE, rgb, text: [['parameters', `a sheet cell ${seed}\nSteps: ${seed}, Sampler: Euler, CFG scale: 5, Seed: 1, Size: 1024x1024`]] });
}

export const sheetBench: Bench = {
  name: 'sheet',
  async run(): Promise<Figure[]> {
    const w = makeWorld();
    try {
      const ids: string[] = [];
      for (let i = 0; i < N * N; i++) {
        const id = addAsset(w, { bytes: picture(i + 1) });
        w.db.run('UPDATE assets SET width = ?, height = ? WHERE id = ?', SIDE, SIDE, id);
        ids.push(id);
      }
      const values = Array.from({ length: N }, (_, i) => `value ${i + 1}`);
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const t0 = performance.now();
      const out = await exportSheet({ db: w.db, resolveMedia: (id, variant) => w.library.resolveMedia(id, variant) }, { x: { name: 'Steps', values }, y: { name: 'Seed', values }, cells: ids });
      const ms = performance.now() - t0;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      const bytes = Buffer.from(out.png, 'base64');
      const meta = await sharp(bytes).metadata();
      return [
        { name: `export a ${N}×${N} sheet of ${SIDE}² pictures`, value: ms / 1000, unit: 's', note: `${meta.width}×${meta.height}, cells ${out.cellWidth}×${out.cellHeight}` },
        { name: 'largest side', value: Math.max(out.width, out.height), unit: 'px', target: { op: '<', value: 8192 } },
        { name: 'PNG size', value: bytes.length / 1e6, unit: 'MB' },
        { name: 'answer on the wire (base64)', value: out.png.length / 1e6, unit: 'MB' },
        { name: 'peak memory above the start', value: (peak - before) / 2 ** 20, unit: 'MiB' },
      ];
    } finally {
      await w.close();
    }
  },
};
