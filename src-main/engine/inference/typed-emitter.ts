/** A minimal typed event emitter: `on` returns its own unsubscribe; a throwing listener cannot break the emitter. */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown }> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (listener as (p: Events[K]) => void)(payload);
      } catch (error) {
        // A listener's bug must not stop the others, nor take the engine down.
        console.error(`listener for "${String(event)}" threw:`, error);
      }
    }
  }
}
