/**
 * The connection actor: one fiber per connection, holding its session state in a `Ref`. It reads whatever
 * bytes have arrived, decodes every complete frame, runs the commands in order, encodes the replies and writes
 * them with one write per read.
 *
 * The hot path is plain synchronous code: a read's frames run in one synchronous pass (`runFrames`) that
 * encodes each reply straight into the shared `FrameWriter`; the fiber only steps in for what needs an Effect
 * (AUTH, commands declared `kind: "effect"`, logging a defect, waiting for durability). Typed errors become
 * `Error` replies; a defect in a handler is logged and answered `internal server error`, and the connection
 * lives on.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Ref from "effect/Ref"
import type { CommandContext, EffectCommand, ServerServices } from "../commands/Command.js"
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
import { type Command, decodeCommand, type FrameWriter } from "../protocol/Message.js"
import { errorText, type OkResult } from "../protocol/Reply.js"
import { AuthMessages, type AccountsShape } from "../session/Accounts.js"
import { mayRun } from "../session/Role.js"
import { active, expired, type SessionState, unauthenticated } from "./SessionState.js"
import type { Conn } from "./Transport.js"

/** What every connection of a server shares. */
export interface ConnectionDeps {
  readonly services: ServerServices
  readonly accounts: AccountsShape
  /** The process-wide reply encoder: used only synchronously, and emptied before the fiber yields. */
  readonly writer: FrameWriter
}

const unauthorized = new Unauthorized()
const invalidCommand = new ProtocolError({ message: "invalid command format", fatal: false })

const isAuth = (name: string): boolean => name.length === 4 && name.toUpperCase() === "AUTH"

/**
 * Where the synchronous pass over a read's frames stopped: at its end, or at a frame that needs the fiber
 * (an Effect command, AUTH, a defect to log).
 */
type Stop =
  | { readonly _tag: "Done" }
  | { readonly _tag: "Auth"; readonly index: number; readonly args: ReadonlyArray<string> }
  | {
      readonly _tag: "Effect"
      readonly index: number
      readonly spec: EffectCommand
      readonly args: ReadonlyArray<string>
    }
  | { readonly _tag: "Defect"; readonly index: number; readonly command: string; readonly cause: Cause.Cause<unknown> }

const done: Stop = { _tag: "Done" }

/** Runs one connection until the peer leaves, the connection is killed, or a fatal protocol error. */
export const runConnection = (deps: ConnectionDeps, conn: Conn): Effect.Effect<void> =>
  Effect.gen(function* () {
    const { services, accounts, writer } = deps
    const clientId = services.connections.nextClientId(conn.remoteAddress, conn.remotePort)
    const clock = yield* Effect.clock
    const state = yield* Ref.make<SessionState>(unauthenticated)
    // The fiber is the only writer of `state`, so it keeps the current value at hand instead of reading the Ref
    // on every request; every change goes through `setState`, which updates both.
    let current: SessionState = unauthenticated
    let ctx: CommandContext | undefined
    /** The context of commands received at `now` under an active session. */
    const contextAt = (s: SessionState & { _tag: "Active" }, now: bigint): CommandContext => ({
      clientId,
      user: s.user,
      session: s.session,
      now,
      services
    })
    const setState = (next: SessionState, now: bigint) => {
      current = next
      ctx = next._tag === "Active" ? contextAt(next, now) : undefined
      return Ref.set(state, next)
    }
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
      const now = clock.unsafeCurrentTimeNanos()
      const created = yield* Effect.exit(services.sessions.create(clientId, accounts.anonymousUser, now))
      if (Exit.isSuccess(created)) yield* setState(active(created.value, accounts.anonymousUser), now)
      else yield* logDefect("(session create)", created.cause)
    }

    const decoder = new FrameDecoder(services.config.server.max_frame_bytes)
    /** Replies encoded before the fiber yielded mid-read (the shared writer is emptied before any yield). */
    let parked: Array<Buffer> = []

    const ok = (result: OkResult): void => writer.response(clientId, "", "Ok", result)
    // Handshake errors carry no client id, as in Fleare.
    const error = (e: CommandError): void =>
      writer.response(e._tag === "AuthFailed" ? "" : clientId, "", "Error", errorText(e))
    const park = (): void => {
      if (writer.length > 0) parked.push(writer.take())
    }
    const takeOutput = (): Buffer | undefined => {
      if (parked.length === 0) return writer.length > 0 ? writer.take() : undefined
      park()
      const out = parked.length === 1 ? parked[0]! : Buffer.concat(parked)
      parked = []
      return out
    }

    /** Runs frames from `from` synchronously until the end or a frame that needs the fiber. */
    const runFrames = (frames: ReadonlyArray<Buffer>, from: number): Stop => {
      for (let i = from; i < frames.length; i++) {
        const command: Command | undefined = decodeCommand(frames[i]!)
        if (command === undefined) {
          error(invalidCommand)
          continue
        }
        const { command: name, args } = command
        if (isAuth(name)) return { _tag: "Auth", index: i, args }
        if (ctx === undefined) {
          error(unauthorized)
          continue
        }
        const spec = lookupCommand(name)
        if (spec === undefined) {
          error(new UnknownCommand({ name }))
          continue
        }
        if (!mayRun(ctx.user.role, spec.class)) {
          error(new PermissionDenied({ role: ctx.user.role, command: spec.name }))
          continue
        }
        if (spec.kind === "effect") return { _tag: "Effect", index: i, spec, args }
        let reply
        try {
          reply = spec.run(ctx, args)
        } catch (defect) {
          return { _tag: "Defect", index: i, command: spec.name, cause: Cause.die(defect) }
        }
        if (typeof reply === "string" || reply instanceof Uint8Array) ok(reply)
        else if (isCommandError(reply)) error(reply)
        else
          return {
            _tag: "Defect",
            index: i,
            command: spec.name,
            cause: Cause.die(new Error("handler returned a non-reply value"))
          }
      }
      return done
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
            Effect.map(services.sessions.create(clientId, user, now), (handle) => active(handle, user))
          )
        )
        if (Exit.isSuccess(exit)) {
          yield* setState(exit.value, now)
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

    const runEffectCommand = (spec: EffectCommand, context: CommandContext, args: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(spec.run(context, args))
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

    /**
     * Carries on from a frame the synchronous pass stopped at: runs what needs the fiber, then resumes the
     * synchronous pass after it, until the read is done. True when the connection must close (a failed AUTH).
     */
    const runRest = (frames: ReadonlyArray<Buffer>, first: Exclude<Stop, { _tag: "Done" }>, now: bigint) =>
      Effect.gen(function* () {
        let stop: Stop = first
        while (stop._tag !== "Done") {
          park()
          switch (stop._tag) {
            case "Auth":
              if (yield* auth(stop.args, now)) return true
              break
            case "Effect":
              yield* runEffectCommand(stop.spec, ctx!, stop.args)
              break
            case "Defect":
              yield* logDefect(stop.command, stop.cause)
              error(new InternalError({ cause: stop.cause }))
              break
          }
          stop = runFrames(frames, stop.index + 1)
        }
        return false
      })

    /** A read in progress: its frames, where the synchronous pass stopped, and a refused frame if any. */
    interface Read {
      readonly frames: ReadonlyArray<Buffer>
      readonly stop: Stop
      readonly now: bigint
      readonly fatal: ProtocolError | undefined
    }

    /** Decodes a read's chunks and runs its frames synchronously as far as they go (the hot path). */
    const startRead = (chunks: ReadonlyArray<Buffer>, now: bigint): Read => {
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
      return { frames, stop: frames.length > 0 ? runFrames(frames, 0) : done, now, fatal }
    }

    /** Finishes a read in the fiber: what the synchronous pass left, durability, the write. True: close. */
    const finishRead = (read: Read) =>
      Effect.gen(function* () {
        const close = read.stop._tag === "Done" ? false : yield* runRest(read.frames, read.stop, read.now)
        if (read.fatal !== undefined && !close) error(read.fatal)
        const out = takeOutput()
        const barrier = services.durability.barrier()
        if (barrier !== undefined) {
          // Acknowledge nothing that is not yet as durable as promised.
          const durable = yield* Effect.exit(barrier)
          if (Exit.isFailure(durable)) {
            yield* Effect.logError(
              "writes could not be made durable; closing the connection unacknowledged",
              durable.cause
            )
            return true
          }
        }
        if (out !== undefined) conn.write(out)
        return close || read.fatal !== undefined
      })

    /** A read the fast path started and handed over to the fiber. */
    let handedOver: Read | undefined
    /** Set when the log failed under a fast-path read: the fiber logs it and closes. */
    let durabilityFailure: unknown = undefined

    // The fast path: input that arrives while this fiber is parked waiting for it is run right away, on the
    // actor's behalf, without waking the fiber (a fiber wake-up costs more than a whole PING). The fiber is
    // idle, so nothing else touches the actor's state meanwhile. Whatever needs an Effect (a session change,
    // AUTH, an Effect command, a defect to log, a durability wait, closing) is handed to the fiber, in order.
    conn.setFastPath((chunk) => {
      if (current._tag !== "Active") return "decline"
      const now = clock.unsafeCurrentTimeNanos()
      if (!current.session.touch(now)) return "decline"
      ctx = contextAt(current, now)
      const read = startRead([chunk], now)
      if (read.stop._tag === "Done" && read.fatal === undefined) {
        const out = takeOutput()
        // Writes are acknowledged once durable: the log calls back in order, without waking this fiber.
        const waiting = services.durability.afterDurable((failure) => {
          if (failure !== undefined) {
            // Acknowledge nothing more: the fiber wakes (input ended), logs the failure and closes.
            durabilityFailure = failure
            return conn.kill()
          }
          if (out !== undefined) conn.write(out)
        })
        if (!waiting && out !== undefined) conn.write(out)
        return "handled"
      }
      park()
      handedOver = read
      return "wake"
    })

    while (true) {
      const chunks = yield* conn.read
      if (handedOver !== undefined) {
        const read = handedOver
        handedOver = undefined
        if (yield* finishRead(read)) break
      }
      if (durabilityFailure !== undefined) {
        yield* Effect.logError(
          "writes could not be made durable; closing the connection unacknowledged",
          durabilityFailure
        )
        break
      }
      if (chunks === undefined) break
      if (chunks.length === 0) continue
      const now = clock.unsafeCurrentTimeNanos()
      if (current._tag === "Active") {
        // Every frame of one read was received at the same moment: one touch stamps them all.
        if (current.session.touch(now)) ctx = contextAt(current, now)
        else yield* setState(expired(current.session), now)
      }
      if (yield* finishRead(startRead(chunks, now))) break
    }
  }).pipe(
    Effect.scoped,
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("connection ended by a defect", cause)
    )
  )
