/**
 * Library channels (query, organise, trash, import, export) and their events. Spread into the one
 * contract in channels.ts; the engine implements them in src-main/engine/library/handlers.ts.
 */
export const libraryChannels = {} as const;
