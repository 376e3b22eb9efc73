export * from './catalog.ts';
export * from './status.ts';
export * from './channels.ts';
