import { describe, expect, it } from 'vitest';
import { CHANNELS, EVENT_NAMES, channels, eventVerb, splitName } from '../../../src-preload/contract/index.ts';

const NAME = /^[a-z][a-zA-Z]*\.[a-z][a-zA-Z]*$/;

describe('contract names', () => {
  it('CHANNELS is the channel map, in order, without duplicates', () => {
    expect(CHANNELS).toEqual(Object.keys(channels));
    expect(new Set(CHANNELS).size).toBe(CHANNELS.length);
  });

  it('names every channel and event namespace.verb, so each maps to studio.<namespace>.<verb>', () => {
    for (const name of [...CHANNELS, ...EVENT_NAMES]) expect(name).toMatch(NAME);
    expect(splitName('jobs.moveToFront')).toEqual(['jobs', 'moveToFront']);
    expect(eventVerb('jobs.changed')).toBe('onChanged');
    expect(eventVerb('gpu.changed')).toBe('onChanged');
  });

  it('never lets a call verb and an event subscription share a name', () => {
    const verbs = [
      ...CHANNELS.map((c) => splitName(c).join('.')),
      ...EVENT_NAMES.map((e) => `${splitName(e)[0]}.${eventVerb(e)}`),
    ];
    expect(new Set(verbs).size).toBe(verbs.length);
    for (const c of CHANNELS) expect(splitName(c)[1]).not.toMatch(/^on[A-Z]/);
  });

  it('has a params schema for every channel that refuses unknown keys', () => {
    for (const channel of CHANNELS) {
      const result = channels[channel].params.safeParse({ unexpectedKey: 1 });
      expect(result.success, channel).toBe(false);
    }
  });
});
