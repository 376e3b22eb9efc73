export * from './catalog.ts';
export * from './status.ts';
export * from './channels.ts';
export * from './settings.ts';
export * from './library.ts';
export * from './recipes.ts';
export * from './samplers.ts';
export * from './sync.ts';
