/**
 * A pub/sub subscription on its own connection (SPEC §4.9, §8.4). SUBSCRIBE gets no reply, so it must never
 * share a pooled connection (its missing reply would not shift anything, but a failure reply would). A PING
 * sent right after it is the barrier: the server answers in order, so an `Error` before the PONG is the
 * SUBSCRIBE's refusal, and the PONG means the subscription is live. Push frames carry the topic.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Mailbox from "effect/Mailbox"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { request, type WireConnection } from "./Connection.js"
import { type ClientError, type ConnectionError, replyError, type Unauthorized } from "./errors.js"

/** One published message as a subscriber receives it. */
export interface PushMessage {
  readonly topic: string
  /** The payload as sent (the server re-encodes it as JSON: a plain text arrives as a JSON string). */
  readonly raw: string
  /** The payload parsed as JSON, or `raw` when it is not JSON. */
  readonly data: unknown
}

/** Parses a push payload: JSON when it is, the text itself otherwise. */
export const parsePayload = (raw: string): unknown => {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

/** Options of a subscription. */
export interface SubscribeOptions {
  /** Runs each time the server has confirmed the subscription (again after a reconnect). */
  readonly onSubscribed?: Effect.Effect<void>
}

/**
 * The messages published to `topic`, from the moment the server confirmed the subscription. The connection
 * is closed (which drops the subscription server-side) when the stream ends. When the connection is lost,
 * the stream reconnects and subscribes again by `reconnect`; messages published in the gap are lost.
 */
export const subscribe = (
  openConnection: Effect.Effect<WireConnection, ConnectionError | Unauthorized>,
  topic: string,
  reconnect: Schedule.Schedule<unknown, unknown>,
  options: SubscribeOptions = {}
): Stream.Stream<PushMessage, ClientError> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const conn = yield* Effect.acquireRelease(openConnection, (c) => Effect.sync(() => c.close()))
      const mailbox = yield* Mailbox.make<PushMessage, ClientError>()
      conn.onPush = (push) => {
        if (push.topic === topic) mailbox.unsafeOffer({ topic, raw: push.result, data: parsePayload(push.result) })
      }
      conn.onClose = (error) => {
        mailbox.unsafeDone(Exit.fail(error))
      }
      conn.send("SUBSCRIBE", [topic], undefined)
      const ack = yield* request(conn, "PING", [])
      if (ack.status !== "Ok") return yield* Effect.fail(replyError(ack.result))
      if (options.onSubscribed) yield* options.onSubscribed
      return Mailbox.toStream(mailbox)
    })
  ).pipe(Stream.retry(Schedule.whileInput(reconnect, (e: ClientError) => e._tag === "ConnectionError")))
