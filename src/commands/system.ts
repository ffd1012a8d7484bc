/**
 * Commands about the connection itself and the server's sessions: PING, SESSION, SESSION.LIST, SESSION.KILL.
 */
import * as Effect from "effect/Effect"
import { fail } from "../errors.js"
import { counters } from "../ops/Counters.js"
import { sessionJson } from "../session/Session.js"
import { effectCommand, syncCommand, type CommandSpec } from "./Command.js"

const ping = syncCommand({
  name: "PING",
  syntax: "PING [message ...]",
  summary: "Answers PONG followed by the arguments joined by spaces.",
  class: "connection",
  // Fleare's Sprintf("%s %s", "PONG", join(args)): a trailing space when there are no args.
  run: (_ctx, args) => "PONG " + args.join(" ")
})

const session = syncCommand({
  name: "SESSION",
  syntax: "SESSION",
  summary: "Returns the caller's session as JSON (user, status, created_at, last_accessed_at).",
  class: "connection",
  run: (ctx) => sessionJson(ctx.session.current())
})

const sessionList = effectCommand({
  name: "SESSION.LIST",
  syntax: "SESSION.LIST",
  summary: "Returns every live session as a JSON array (passwords masked).",
  class: "admin",
  run: (ctx) => Effect.map(ctx.services.sessions.list, (all) => "[" + all.map(sessionJson).join(",") + "]")
})

const sessionKill = effectCommand({
  name: "SESSION.KILL",
  syntax: "SESSION.KILL <session_id>",
  summary: "Ends a session and closes its connection: 1 if it existed, 0 if not.",
  class: "admin",
  run: (ctx, args) =>
    Effect.gen(function* () {
      if (args.length !== 1)
        return yield* fail.argument("Session id must be provided, Syntax: SESSION.KILL <session_id>")
      const id = args[0]!
      const existed = yield* ctx.services.sessions.remove(id)
      if (existed) counters.sessionsKilled += 1
      const conn = ctx.services.connections.get(id)
      conn?.kill()
      return existed || conn !== undefined ? "1" : "0"
    })
})

/** The system commands. */
export const systemCommands: ReadonlyArray<CommandSpec> = [ping, session, sessionList, sessionKill]
