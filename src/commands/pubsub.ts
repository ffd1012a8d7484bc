/**
 * Pub/sub: SUBSCRIBE, UNSUBSCRIBE and PUBLISH (SPEC §4.9). A successful (UN)SUBSCRIBE sends no reply frame;
 * their errors are Fleare's texts, bare. PUBLISH converts the message as Fleare does (EnsureUnmarshal, then Go's
 * `json.Marshal`: JSON re-encoded compact with sorted keys, anything else as a quoted JSON string) and answers an
 * empty `Ok`. Extra arguments are ignored, as in Fleare.
 *
 * Unlike Fleare, an empty topic counts as missing: a push's topic is what tells a client it is not a reply, and
 * protobuf leaves an empty string out of the frame, so a push on topic "" would shift a client's replies.
 */
import * as Effect from "effect/Effect"
import { fail } from "../errors.js"
import { marshal } from "../protocol/gojson/Marshal.js"
import { NO_REPLY } from "../protocol/Reply.js"
import { ensureUnmarshal } from "./args.js"
import { type CommandSpec, effectCommand } from "./Command.js"

const missingSubscribeTopic = fail.bare("missing topic for subscribe")
const missingUnsubscribeTopic = fail.bare("missing topic for unsubscribe")
const missingPublishArgs = fail.bare("missing topic or message for publish")

const subscribe = effectCommand({
  name: "SUBSCRIBE",
  syntax: "SUBSCRIBE <topic>",
  summary: "Subscribes this connection to a topic: no reply; each message published there arrives as a push.",
  class: "subscribe",
  run: (ctx, args) => {
    const topic = args[0]
    if (topic === undefined || topic === "") return Effect.fail(missingSubscribeTopic)
    return Effect.as(ctx.services.broker.subscribe(topic, ctx.pubsub.subscriber()), NO_REPLY)
  }
})

const unsubscribe = effectCommand({
  name: "UNSUBSCRIBE",
  syntax: "UNSUBSCRIBE <topic>",
  summary: "Ends this connection's subscription to a topic: no reply.",
  class: "subscribe",
  run: (ctx, args) => {
    const topic = args[0]
    if (topic === undefined || topic === "") return Effect.fail(missingUnsubscribeTopic)
    const subscriber = ctx.pubsub.existing()
    if (subscriber === undefined) return Effect.succeed(NO_REPLY)
    return Effect.as(ctx.services.broker.unsubscribe(topic, subscriber), NO_REPLY)
  }
})

const publish = effectCommand({
  name: "PUBLISH",
  syntax: "PUBLISH <topic> <message>",
  summary: "Sends a message (JSON, or text sent as a JSON string) to the topic's subscribers; answers empty.",
  class: "publish",
  run: (ctx, args) => {
    if (args.length < 2 || args[0] === "") return Effect.fail(missingPublishArgs)
    return Effect.as(ctx.services.broker.publish(args[0]!, marshal(ensureUnmarshal(args[1]!))), "")
  }
})

/** The pub/sub commands. */
export const pubsubCommands: ReadonlyArray<CommandSpec> = [subscribe, unsubscribe, publish]
