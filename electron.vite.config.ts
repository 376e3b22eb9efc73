/**
 * Three builds: main (+ the inference worker) as ESM for Electron's Node, the preload as one
 * self-contained CommonJS file (a sandboxed preload may only `require('electron')`), and the React
 * renderer with a relative base so both Electron and `studio serve` can serve out/renderer.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

const root = import.meta.dirname;

/**
 * Each model family's pipeline (src-main/engine/pipelines/<family>/index.ts) is its own entry,
 * out/main/pipelines/<family>.js, because the worker imports it by path at run time; main.ts hands
 * those paths to the engine as `pipelineModules`.
 */
const pipelinesDir = resolve(root, 'src-main/engine/pipelines');
const pipelineEntries = Object.fromEntries(
  readdirSync(pipelinesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(resolve(pipelinesDir, d.name, 'index.ts')))
    .map((d) => [`pipelines/${d.name}`, resolve(pipelinesDir, d.name, 'index.ts')]),
);

/**
 * The PNG encoding thread (media/png-pool.ts), the video thread (media/video-encoder.ts) and the
 * ffmpeg host process it forks (media/ffmpeg-host.ts) are started by path from inside the bundled
 * pipelines, so each is an entry of its own beside them: out/main/pipelines/png-thread.js,
 * video-thread.js and ffmpeg-host.js.
 */
const threadEntries = {
  'pipelines/png-thread': resolve(root, 'src-main/engine/media/png-thread.ts'),
  'pipelines/video-thread': resolve(root, 'src-main/engine/media/video-thread.ts'),
  'pipelines/ffmpeg-host': resolve(root, 'src-main/engine/media/ffmpeg-host.ts'),
  // Model preparation (Add model…) runs on a thread the engine starts from main.
  'pipelines/prepare-thread': resolve(root, 'src-main/engine/checkpoints/prepare-thread.ts'),
  // Each inference worker (worker.js) starts this thread to end itself when its engine dies.
  'pipelines/parent-watch': resolve(root, 'src-main/engine/inference/parent-watch.ts'),
};

/**
 * Data files the engine reads at run time (src-main/engine/resources.ts finds them), copied into
 * out/main/resources/ so the packaged app (which ships out/** only) has them.
 */
const SHIPPED_RESOURCES = ['clip/bpe_simple_vocab_16e6.txt.gz', 'clip/LICENSE'];

const shipResources = {
  name: 'ourvidz-ship-resources',
  generateBundle(this: { emitFile(file: { type: 'asset'; fileName: string; source: Uint8Array }): string }) {
    for (const rel of SHIPPED_RESOURCES) {
      this.emitFile({ type: 'asset', fileName: `resources/${rel}`, source: readFileSync(resolve(root, 'resources', rel)) });
    }
  },
};

/** Native or runtime-loaded packages that must stay in node_modules (asar-unpacked where native). */
const NATIVE_EXTERNALS = ['onnxruntime-node', 'onnxruntime-common', 'fluent-ffmpeg'];

export default defineConfig({
  main: {
    plugins: [shipResources],
    build: {
      outDir: resolve(root, 'out/main'),
      // Every package.json dependency stays external (loaded from the packaged node_modules).
      externalizeDeps: true,
      rolldownOptions: {
        input: {
          index: resolve(root, 'src-main/app/main.ts'),
          worker: resolve(root, 'src-main/engine/inference/worker-main.ts'),
          ...pipelineEntries,
          ...threadEntries,
        },
        external: NATIVE_EXTERNALS,
        output: {
          entryFileNames: '[name].js',
          chunkFileNames: 'chunks/[name]-[hash].js',
        },
      },
      sourcemap: true,
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      // Bundle everything (zod, the contract): nothing but 'electron' can be required in the sandbox.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve(root, 'src-preload/index.ts') },
        output: {
          format: 'cjs',
          entryFileNames: '[name].cjs',
          // One file: a sandboxed preload cannot require a sibling chunk.
          codeSplitting: false,
        },
      },
      sourcemap: true,
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    base: './',
    plugins: [react()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      rolldownOptions: {
        input: { index: resolve(root, 'src-renderer/index.html') },
      },
      sourcemap: true,
    },
  },
});
