/**
 * Type tests for the one contract: the channel list, the handlers the engine implements, the verbs
 * the preload exposes and the bridges that derive from them must all name the same things.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { registerIpcGateway } from '../../../src-main/app/ipc-gateway.ts';
import type { Engine } from '../../../src-main/engine/engine.ts';
import type { buildStudioApi } from '../../../src-preload/bridge.ts';
import type {
  CHANNELS,
  Channel,
  Channels,
  EVENT_NAMES,
  EventName,
  Events,
  Handlers,
  ParamsIn,
  ParamsOut,
  Result,
  StudioApi,
  channels,
} from '../../../src-preload/contract/index.ts';

type Split<S extends string> = S extends `${infer N}.${infer V}` ? [N, V] : never;
type OnVerb<E extends string> = `on${Capitalize<Split<E>[1]>}`;

/** Every verb the API has, written back as `namespace.verb`. */
type ApiPaths = { [N in keyof StudioApi & string]: `${N}.${keyof StudioApi[N] & string}` }[keyof StudioApi & string];

/** Channels whose verb exists on StudioApi with the contract's params and result. */
type ChannelsWithVerb = {
  [C in Channel]: Split<C> extends [infer N extends keyof StudioApi, infer V extends string]
    ? V extends keyof StudioApi[N]
      ? StudioApi[N][V] extends (params?: ParamsIn<C>) => Promise<Result<C>>
        ? C
        : never
      : never
    : never;
}[Channel];

/** Events whose `on<Verb>` exists on StudioApi and hands the listener the event's payload. */
type EventsWithVerb = {
  [E in EventName]: Split<E> extends [infer N extends keyof StudioApi, string]
    ? OnVerb<E> extends keyof StudioApi[N]
      ? StudioApi[N][OnVerb<E>] extends (listener: (payload: Events[E]) => void) => () => void
        ? E
        : never
      : never
    : never;
}[EventName];

type EventPaths = { [E in EventName]: `${Split<E>[0]}.${OnVerb<E>}` }[EventName];

describe('contract', () => {
  it('lists exactly the channels the channel map defines', () => {
    expectTypeOf<(typeof CHANNELS)[number]>().toEqualTypeOf<Channel>();
    expectTypeOf<keyof typeof channels>().toEqualTypeOf<Channel>();
    expectTypeOf<keyof Channels>().toEqualTypeOf<Channel>();
  });

  it('has one handler per channel, no more and no fewer', () => {
    expectTypeOf<keyof Handlers>().toEqualTypeOf<Channel>();
    expectTypeOf<Handlers['jobs.enqueue']>().toEqualTypeOf<(params: ParamsOut<'jobs.enqueue'>) => Promise<Result<'jobs.enqueue'>>>();
  });

  it('lists exactly the events the Events map defines', () => {
    expectTypeOf<(typeof EVENT_NAMES)[number]>().toEqualTypeOf<EventName>();
    expectTypeOf<keyof Events>().toEqualTypeOf<EventName>();
  });

  it('gives StudioApi a verb for every channel and an on<Verb> for every event, and nothing else', () => {
    expectTypeOf<ChannelsWithVerb>().toEqualTypeOf<Channel>();
    expectTypeOf<EventsWithVerb>().toEqualTypeOf<EventName>();
    expectTypeOf<ApiPaths>().toEqualTypeOf<Channel | EventPaths>();
  });

  it('spells the verbs the renderer uses', () => {
    expectTypeOf<StudioApi['jobs']['enqueue']>().toEqualTypeOf<(params?: ParamsIn<'jobs.enqueue'>) => Promise<Result<'jobs.enqueue'>>>();
    expectTypeOf<StudioApi['jobs']['onChanged']>().parameter(0).toEqualTypeOf<(payload: Events['jobs.changed']) => void>();
  });

  it('is implemented by the engine and consumed by the gateway and the preload as is', () => {
    expectTypeOf<Engine['handlers']>().toEqualTypeOf<Handlers>();
    expectTypeOf<Parameters<typeof registerIpcGateway>[0]['handlers']>().toEqualTypeOf<Handlers>();
    expectTypeOf<ReturnType<typeof buildStudioApi>>().toEqualTypeOf<StudioApi>();
  });
});
