/** The renderer's single door to the shared contract (types, channel names, presets, schemas). */
export * from '../../src-preload/contract/index.ts';
