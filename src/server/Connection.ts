/**
 * The connection actor: one fiber per connection, holding its session state in a `Ref`. It reads whatever
 * bytes have arrived, decodes every complete frame, runs the commands in order (plain synchronous handlers on
 * the hot path), encodes all replies and writes them with one write. Typed errors become `Error` replies;
 * a defect in a handler is logged and answered `internal server error`, and the connection lives on.
 */
import { Cause, Effect, Exit, Ref } from "effect"
import type { CommandContext, CommandSpec, ServerServices } from "../commands/Command.js"
import { lookupCommand } from "../commands/registry.js"
import {
  AuthFailed,
  type CommandError,
  InternalError,
  isCommandError,
  PermissionDenied,
  ProtocolError,
  Unauthorized,
  UnknownCommand
} from "../errors.js"
import { FrameDecoder, violationMessage } from "../protocol/Frame.js"
import { decodeCommand, type FrameWriter } from "../protocol/Message.js"
import { errorText, type OkResult, type Reply } from "../protocol/Reply.js"
import { AuthMessages, type AccountsShape } from "../session/Accounts.js"
import { mayRun } from "../session/Role.js"
import { active, expired, type SessionState, unauthenticated } from "./SessionState.js"
import type { Conn } from "./Transport.js"

/** What every connection of a server shares. */
export interface ConnectionDeps {
  readonly services: ServerServices
  readonly accounts: AccountsShape
  /** The process-wide reply encoder (used synchronously, so it can be shared). */
  readonly writer: FrameWriter
}

/** One reply waiting to be written. Handshake errors carry no client id, as in Fleare. */
interface Pending {
  readonly ok: boolean
  readonly result: OkResult
  readonly withClientId: boolean
}

const unauthorized = new Unauthorized()
const invalidCommand = new ProtocolError({ message: "invalid command format", fatal: false })

const isAuth = (name: string): boolean => name.length === 4 && name.toUpperCase() === "AUTH"

/** Runs one connection until the peer leaves, the connection is killed, or a fatal protocol error. */
export const runConnection = (deps: ConnectionDeps, conn: Conn): Effect.Effect<void> =>
  Effect.gen(function* () {
    const { services, accounts, writer } = deps
    const clientId = services.connections.nextClientId(conn.remoteAddress, conn.remotePort)
    const clock = yield* Effect.clock
    const state = yield* Ref.make<SessionState>(unauthenticated)
    const logDefect = (command: string, cause: Cause.Cause<unknown>) =>
      Effect.logError(`command ${command} failed with a defect; answered "internal server error"`, cause).pipe(
        Effect.annotateLogs({ clientId })
      )

    services.connections.add(clientId, { kill: conn.kill })
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        services.connections.remove(clientId)
        conn.end()
        const s = yield* Ref.get(state)
        if (s._tag !== "Unauthenticated") yield* Effect.ignoreLogged(services.sessions.remove(clientId))
      })
    )
    if (accounts.anonymousUser !== undefined) {
      // Authentication is off: the connection gets its session at accept.
      const created = yield* Effect.exit(
        services.sessions.create(clientId, accounts.anonymousUser, clock.unsafeCurrentTimeNanos())
      )
      if (Exit.isSuccess(created)) yield* Ref.set(state, active(created.value))
      else yield* logDefect("(session create)", created.cause)
    }

    const decoder = new FrameDecoder(services.config.server.max_frame_bytes)
    const pending: Array<Pending> = []
    const ok = (result: OkResult) => pending.push({ ok: true, result, withClientId: true })
    const error = (e: CommandError) =>
      pending.push({ ok: false, result: errorText(e), withClientId: e._tag !== "AuthFailed" })

    const flush = (): void => {
      if (pending.length === 0) return
      for (const p of pending) writer.response(p.withClientId ? clientId : "", "", p.ok ? "Ok" : "Error", p.result)
      pending.length = 0
      conn.write(writer.take())
    }

    /** AUTH: decides, creates or replaces the session; true when the connection must close. */
    const auth = (args: ReadonlyArray<string>, now: bigint) =>
      Effect.gen(function* () {
        if (args.length !== 0 && args.length !== 2) {
          error(new AuthFailed({ message: AuthMessages.invalidArguments }))
          return true
        }
        const exit = yield* Effect.exit(
          Effect.flatMap(accounts.authenticate(args[0] ?? "", args[1] ?? ""), (user) =>
            services.sessions.create(clientId, user, now)
          )
        )
        if (Exit.isSuccess(exit)) {
          yield* Ref.set(state, active(exit.value))
          ok("Connected")
          return false
        }
        const failure = Cause.failureOption(exit.cause)
        if (failure._tag === "Some" && failure.value._tag === "AuthFailed") {
          error(failure.value)
          return true
        }
        yield* logDefect("AUTH", exit.cause)
        error(new InternalError({ cause: exit.cause }))
        return false
      })

    const runEffectCommand = (
      spec: CommandSpec & { kind: "effect" },
      ctx: CommandContext,
      args: ReadonlyArray<string>
    ) =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(spec.run(ctx, args))
        if (Exit.isSuccess(exit)) return ok(exit.value)
        const failure = Cause.failureOption(exit.cause)
        if (failure._tag === "Some") {
          if (failure.value._tag === "SessionStoreError" || failure.value._tag === "InternalError")
            yield* logDefect(spec.name, exit.cause)
          return error(failure.value)
        }
        yield* logDefect(spec.name, exit.cause)
        error(new InternalError({ cause: exit.cause }))
      })

    /** Runs the commands of one read, in order. Returns true when the connection must close. */
    const runBatch = (frames: ReadonlyArray<Buffer>, now: bigint) =>
      Effect.gen(function* () {
        let current = yield* Ref.get(state)
        let ctx: CommandContext | undefined
        let storeFailed = false
        if (current._tag === "Active") {
          // Every frame of one read was received at the same moment: one touch stamps them all.
          const touched = yield* Effect.exit(services.sessions.touch(clientId, now))
          if (Exit.isSuccess(touched)) ctx = { clientId, session: touched.value, now, services }
          else if (
            Cause.failureOption(touched.cause).pipe((f) => f._tag === "Some" && f.value._tag === "Unauthorized")
          ) {
            current = expired(current.session)
            yield* Ref.set(state, current)
          } else {
            yield* logDefect("(session touch)", touched.cause)
            storeFailed = true
          }
        }
        for (const frame of frames) {
          const command = decodeCommand(frame)
          if (command === undefined) {
            error(invalidCommand)
            continue
          }
          const { command: name, args } = command
          if (isAuth(name)) {
            if (yield* auth(args, now)) return true
            current = yield* Ref.get(state)
            if (current._tag === "Active") ctx = { clientId, session: current.session, now, services }
            storeFailed = false
            continue
          }
          if (storeFailed) {
            error(new InternalError({ cause: "session store failed" }))
            continue
          }
          if (ctx === undefined) {
            error(unauthorized)
            continue
          }
          const spec = lookupCommand(name)
          if (spec === undefined) {
            error(new UnknownCommand({ name }))
            continue
          }
          if (!mayRun(ctx.session.user.role, spec.class)) {
            error(new PermissionDenied({ role: ctx.session.user.role, command: spec.name }))
            continue
          }
          if (spec.kind === "effect") {
            yield* runEffectCommand(spec, ctx, args)
            continue
          }
          let reply: Reply
          try {
            reply = spec.run(ctx, args)
          } catch (defect) {
            yield* logDefect(spec.name, Cause.die(defect))
            reply = new InternalError({ cause: defect })
          }
          if (typeof reply === "string" || reply instanceof Uint8Array) ok(reply)
          else if (isCommandError(reply)) error(reply)
          else {
            yield* logDefect(spec.name, Cause.die(new Error("handler returned a non-reply value")))
            error(new InternalError({ cause: reply }))
          }
        }
        return false
      })

    while (true) {
      const chunks = yield* conn.read
      if (chunks === undefined) break
      const now = clock.unsafeCurrentTimeNanos()
      let frames: Array<Buffer> = []
      let fatal: ProtocolError | undefined
      for (const chunk of chunks) {
        const decoded = decoder.push(chunk)
        frames = frames.length === 0 ? decoded.frames : frames.concat(decoded.frames)
        if (decoded.violation !== undefined) {
          fatal = new ProtocolError({ message: violationMessage(decoded.violation), fatal: true })
          break
        }
      }
      const close = frames.length > 0 ? yield* runBatch(frames, now) : false
      const barrier = services.durability.barrier()
      if (barrier !== undefined) {
        // Acknowledge nothing that is not yet as durable as promised.
        const durable = yield* Effect.exit(barrier)
        if (Exit.isFailure(durable)) {
          yield* Effect.logError(
            "writes could not be made durable; closing the connection unacknowledged",
            durable.cause
          )
          pending.length = 0
          break
        }
      }
      if (fatal !== undefined && !close) error(fatal)
      flush()
      if (close || fatal !== undefined) break
    }
  }).pipe(
    Effect.scoped,
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("connection ended by a defect", cause)
    )
  )
