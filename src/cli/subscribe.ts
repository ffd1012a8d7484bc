/**
 * `fleare-cli subscribe <topic>`: prints every message published to the topic, one after another, until Ctrl-C
 * (or the server refuses the subscription). A JSON object or array is pretty-printed like the CLI's other output;
 * any other message (a string, a number) is printed as the server sent it; `--json` prints every message raw,
 * one per line. The subscription has a connection of its own (the client's `subscribe` stream), which
 * reconnects and subscribes again if the connection is lost.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { FleareClientShape } from "../client/FleareClient.js"
import type { ClientError } from "../client/errors.js"
import { type Palette, prettyJson } from "./format.js"

/** Where the subscription prints. */
export interface SubscribeOutput {
  /** One message (its lines). */
  readonly message: (text: string) => void
  /** Status lines (the subscription is live), kept off stdout so that it holds only messages. */
  readonly info: (text: string) => void
  readonly json: boolean
  readonly palette: Palette
}

/** The text printed for one message. */
export const formatMessage = (raw: string, json: boolean, palette: Palette): string =>
  json ? raw : (prettyJson(raw, palette) ?? raw)

/** Subscribes to `topic` and prints its messages; runs until interrupted (Ctrl-C) or the subscription fails. */
export const printSubscription = (
  client: FleareClientShape,
  topic: string,
  out: SubscribeOutput
): Effect.Effect<void, ClientError> =>
  Stream.runForEach(
    client.subscribe(topic, {
      onSubscribed: Effect.sync(() => out.info(`Subscribed to ${JSON.stringify(topic)}; Ctrl-C to stop.`))
    }),
    (m) => Effect.sync(() => out.message(formatMessage(m.raw, out.json, out.palette)))
  )
