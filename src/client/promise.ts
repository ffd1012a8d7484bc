/**
 * The client for plain Node code: the same methods returning Promises. A failed call rejects with the typed
 * error itself (`FleareError`, `Unauthorized` or `ConnectionError`, all `Error`s with a `_tag`).
 *
 *   const fleare = await createClient({ user: "root", password: "root" })
 *   await fleare.set("k", "v")
 *   const off = await fleare.subscribe("news", (m) => console.log(m.data))
 *   await off()
 *   await fleare.close()
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Stream from "effect/Stream"
import { FleareClient, type FleareClientConfig, type FleareClientShape } from "./FleareClient.js"
import type { PushMessage } from "./Subscriber.js"

type Promisified<T> = {
  // `infer P extends ReadonlyArray<unknown>`: the methods' rest parameters are readonly arrays.
  readonly [K in keyof T]: T[K] extends (
    ...args: infer P extends ReadonlyArray<unknown>
  ) => Effect.Effect<infer A, infer _E, never>
    ? (...args: P) => Promise<A>
    : never
}

/** The promise client: every method of `FleareClientShape` but `subscribe`, plus a callback `subscribe`. */
export type FleareClientPromise = Promisified<Omit<FleareClientShape, "subscribe">> & {
  /**
   * Calls `onMessage` for each message on `topic` once the server confirmed the subscription; resolves with a
   * function that ends it. `onError` hears why the subscription failed if it does (after its retries).
   */
  readonly subscribe: (
    topic: string,
    onMessage: (message: PushMessage) => void,
    onError?: (error: unknown) => void
  ) => Promise<() => Promise<void>>
  /** Closes every connection. */
  readonly close: () => Promise<void>
}

/** Connects (rejecting if it cannot) and returns the promise client. */
export const createClient = async (config: Partial<FleareClientConfig> = {}): Promise<FleareClientPromise> => {
  const runtime = ManagedRuntime.make(FleareClient.layer(config))
  const run = <A, E>(effect: Effect.Effect<A, E, FleareClient>): Promise<A> =>
    runtime
      .runPromiseExit(effect)
      .then((exit) => (Exit.isSuccess(exit) ? exit.value : Promise.reject(Cause.squash(exit.cause))))
  let client: FleareClientShape
  try {
    client = await run(FleareClient)
  } catch (e) {
    await runtime.dispose()
    throw e
  }
  const methods: Record<string, unknown> = {}
  for (const [name, f] of Object.entries(client)) {
    if (name === "subscribe" || typeof f !== "function") continue
    methods[name] = (...args: Array<unknown>) => run((f as (...a: Array<unknown>) => Effect.Effect<unknown>)(...args))
  }
  const subscribe = (topic: string, onMessage: (m: PushMessage) => void, onError?: (error: unknown) => void) =>
    new Promise<() => Promise<void>>((resolve, reject) => {
      let started = false
      const onSubscribed = Effect.sync(() => {
        if (started) return
        started = true
        resolve(() => runtime.runPromise(Fiber.interrupt(fiber)).then(() => undefined))
      })
      const fiber = runtime.runFork(
        Stream.runForEach(client.subscribe(topic, { onSubscribed }), (m) => Effect.sync(() => onMessage(m)))
      )
      fiber.addObserver((exit) => {
        if (Exit.isSuccess(exit) || Exit.isInterrupted(exit)) return
        const error = Cause.squash(exit.cause)
        if (started) onError?.(error)
        else reject(error)
      })
    })
  // The method table is built from the service's own keys, so it has exactly the shape's methods.
  return {
    ...(methods as Promisified<Omit<FleareClientShape, "subscribe">>),
    subscribe,
    close: () => runtime.dispose()
  }
}
