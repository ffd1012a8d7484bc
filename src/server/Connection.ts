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
 *
 * Memory: a server holds thousands of idle connections, so the actor is one object whose methods are shared
 * (no closures per connection beyond the two the transport calls back), and its fiber, while parked, holds a
 * single read continuation: the loop is a flat `read → handle → read` chain, not a generator, and the
 * connection is released by an observer of the fiber's exit rather than by a scope or `ensuring` wrapper (each
 * of those keeps several suspended frames per connection). See docs/PERFORMANCE.md.
 */
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Ref from "effect/Ref"
import type { CommandContext, EffectCommand, ServerServices } from "../commands/Command.js"
import type { CommandSpec } from "../commands/Command.js"
import { isAuthBytes } from "../commands/registry.js"
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
import { FrameDecoder, FrameSpans, type FrameViolation, violationMessage } from "../protocol/Frame.js"
import { decodeCommandInto, type FrameWriter, type NameSpan } from "../protocol/Message.js"
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
  /** The command table's byte lookup (`lookupCommandBytes`, or a store backend's table): fixed at startup. */
  readonly lookup: (buf: Buffer, start: number, end: number) => CommandSpec | undefined
  /** Runs the clean-up Effect of a connection whose fiber has ended (removing its session), in the server's runtime. */
  readonly runDetached: (effect: Effect.Effect<void>) => void
}

const unauthorized = new Unauthorized()
const invalidCommand = new ProtocolError({ message: "invalid command format", fatal: false })
const DURABILITY_FAILED = "writes could not be made durable; closing the connection unacknowledged"

/** Where the command name of the frame being dispatched lies (a scratch, used only synchronously). */
const name: NameSpan = { start: 0, end: 0 }
/** The frames of the read being run synchronously (a scratch: a read handed to the fiber takes a copy). */
const scratchFrames = new FrameSpans()

/**
 * Where the synchronous pass over a read's frames stopped, when it stopped before the end: at a frame that
 * needs the fiber (AUTH, an Effect command, a defect to log). `undefined` means it ran to the end.
 */
type Stop =
  | { readonly _tag: "Auth"; readonly index: number; readonly args: ReadonlyArray<string> }
  | {
      readonly _tag: "Effect"
      readonly index: number
      readonly spec: EffectCommand
      readonly args: ReadonlyArray<string>
    }
  | { readonly _tag: "Defect"; readonly index: number; readonly command: string; readonly cause: Cause.Cause<unknown> }

/** A read in progress: its frames, where the synchronous pass stopped, and a refused frame if any. */
interface Read {
  readonly frames: FrameSpans
  readonly stop: Stop | undefined
  readonly now: bigint
  readonly fatal: ProtocolError | undefined
}

type ActiveState = SessionState & { readonly _tag: "Active" }

class ConnectionActor {
  readonly clientId: string
  readonly state: Ref.Ref<SessionState> = Ref.unsafeMake<SessionState>(unauthenticated)
  /** The value in `state`: the actor is its only writer, so it keeps it at hand (`setState` updates both). */
  private current: SessionState = unauthenticated
  /** The context commands run in under an active session, stamped with the current read's time. */
  private ctx: CommandContext | undefined = undefined
  private readonly decoder: FrameDecoder
  /** Replies encoded before the fiber yielded mid-read (the shared writer is emptied before any yield). */
  private parked: Array<Buffer> | undefined = undefined
  /** A read the fast path started and handed over to the fiber. */
  private handedOver: Read | undefined = undefined
  /** Set when the log failed under a fast-path read: the fiber logs it and closes. */
  private durabilityFailure: unknown = undefined
  /** One turn of the loop: wait for input, then handle it (built once; the loop repeats it). */
  readonly next: Effect.Effect<void>

  constructor(
    private readonly deps: ConnectionDeps,
    private readonly conn: Conn,
    private readonly clock: Clock.Clock
  ) {
    const { services } = deps
    this.clientId = services.connections.nextClientId(conn.remoteAddress, conn.remotePort)
    this.decoder = new FrameDecoder(services.config.server.max_frame_bytes)
    this.next = Effect.flatMap(conn.read, (chunks) => this.onRead(chunks))
    services.connections.add(this.clientId, conn)
    conn.setFastPath((chunk) => this.fastPath(chunk))
  }

  // ---- the synchronous part ----

  private contextAt(s: ActiveState, now: bigint): CommandContext {
    return { clientId: this.clientId, user: s.user, session: s.session, now, services: this.deps.services }
  }

  private setState(next: SessionState, now: bigint): Effect.Effect<void> {
    this.current = next
    this.ctx = next._tag === "Active" ? this.contextAt(next, now) : undefined
    return Ref.set(this.state, next)
  }

  private ok(result: OkResult): void {
    this.deps.writer.response(this.clientId, "", "Ok", result)
  }

  /** Handshake errors carry no client id, as in Fleare. */
  private error(e: CommandError): void {
    this.deps.writer.response(e._tag === "AuthFailed" ? "" : this.clientId, "", "Error", errorText(e))
  }

  private park(): void {
    const writer = this.deps.writer
    if (writer.length === 0) return
    if (this.parked === undefined) this.parked = [writer.take()]
    else this.parked.push(writer.take())
  }

  private takeOutput(): Buffer | undefined {
    const writer = this.deps.writer
    if (this.parked === undefined) return writer.length > 0 ? writer.take() : undefined
    this.park()
    const parked = this.parked
    this.parked = undefined
    return parked.length === 1 ? parked[0]! : Buffer.concat(parked)
  }

  /** Runs frames from `from` synchronously until the end or a frame that needs the fiber. */
  private runFrames(frames: FrameSpans, from: number): Stop | undefined {
    const { bufs, starts, ends } = frames
    for (let i = from; i < frames.length; i++) {
      const frame = bufs[i]!
      const args = decodeCommandInto(frame, name, starts[i]!, ends[i]!)
      if (args === undefined) {
        this.error(invalidCommand)
        continue
      }
      if (isAuthBytes(frame, name.start, name.end)) return { _tag: "Auth", index: i, args }
      const ctx = this.ctx
      if (ctx === undefined) {
        this.error(unauthorized)
        continue
      }
      const spec = this.deps.lookup(frame, name.start, name.end)
      if (spec === undefined) {
        this.error(new UnknownCommand({ name: frame.toString("utf8", name.start, name.end) }))
        continue
      }
      if (!mayRun(ctx.user.role, spec.class)) {
        this.error(new PermissionDenied({ role: ctx.user.role, command: spec.name }))
        continue
      }
      if (spec.kind === "effect") return { _tag: "Effect", index: i, spec, args }
      let reply
      try {
        reply = spec.run(ctx, args)
      } catch (defect) {
        return { _tag: "Defect", index: i, command: spec.name, cause: Cause.die(defect) }
      }
      if (typeof reply === "string" || reply instanceof Uint8Array) this.ok(reply)
      else if (isCommandError(reply)) this.error(reply)
      else {
        const cause = Cause.die(new Error("handler returned a non-reply value"))
        return { _tag: "Defect", index: i, command: spec.name, cause }
      }
    }
    return undefined
  }

  /** Decodes a read's chunk(s) and runs its frames synchronously as far as they go (the hot path). */
  private startRead(chunks: Buffer | ReadonlyArray<Buffer>, now: bigint): Read {
    const frames = scratchFrames
    frames.clear()
    let violation: FrameViolation | undefined
    if (chunks instanceof Uint8Array) violation = this.decoder.pushSpans(chunks, frames)
    else
      for (let i = 0; i < chunks.length && violation === undefined; i++)
        violation = this.decoder.pushSpans(chunks[i]!, frames)
    const fatal =
      violation === undefined ? undefined : new ProtocolError({ message: violationMessage(violation), fatal: true })
    const stop = frames.length > 0 ? this.runFrames(frames, 0) : undefined
    // A read the fiber must finish outlives this synchronous pass: it keeps its own copy of the spans.
    return { frames: stop === undefined ? frames : frames.copy(), stop, now, fatal }
  }

  /**
   * The fast path: input that arrives while the fiber is parked waiting for it is run right away, on the
   * actor's behalf, without waking the fiber (a fiber wake-up costs more than a whole PING). The fiber is idle,
   * so nothing else touches the actor's state meanwhile. Whatever needs an Effect (a session change, AUTH, an
   * Effect command, a defect to log, a durability wait, closing) is handed to the fiber, in order.
   */
  private fastPath(chunk: Buffer): "handled" | "wake" | "decline" {
    const current = this.current
    if (current._tag !== "Active") return "decline"
    const now = this.clock.unsafeCurrentTimeNanos()
    if (!current.session.touch(now)) return "decline"
    this.ctx = this.contextAt(current, now)
    const read = this.startRead(chunk, now)
    if (read.stop === undefined && read.fatal === undefined) {
      const out = this.takeOutput()
      // Writes are acknowledged once durable: the log calls back in order, without waking this fiber.
      const waiting = this.deps.services.durability.afterDurable((failure) => {
        if (failure !== undefined) {
          // Acknowledge nothing more: the fiber wakes (input ended), logs the failure and closes.
          this.durabilityFailure = failure
          return this.conn.kill()
        }
        if (out !== undefined) this.conn.write(out)
      })
      if (!waiting && out !== undefined) this.conn.write(out)
      return "handled"
    }
    this.park()
    this.handedOver = read
    return "wake"
  }

  // ---- the fiber's part ----

  /** Starts the actor: with authentication off, the connection gets its session at accept. */
  start(): Effect.Effect<void> {
    const anonymous = this.deps.accounts.anonymousUser
    if (anonymous === undefined) return this.next
    const now = this.clock.unsafeCurrentTimeNanos()
    return Effect.flatMap(Effect.exit(this.deps.services.sessions.create(this.clientId, anonymous, now)), (created) =>
      Exit.isSuccess(created)
        ? Effect.zipRight(this.setState(active(created.value, anonymous), now), this.next)
        : Effect.zipRight(this.logDefect("(session create)", created.cause), this.next)
    )
  }

  /** One wake-up of the fiber: a read the fast path handed over, then whatever `read` returned. */
  private onRead(chunks: ReadonlyArray<Buffer> | undefined): Effect.Effect<void> {
    const read = this.handedOver
    if (read === undefined) return this.onInput(chunks)
    this.handedOver = undefined
    return Effect.flatMap(this.finishRead(read), (close) => (close ? Effect.void : this.onInput(chunks)))
  }

  private onInput(chunks: ReadonlyArray<Buffer> | undefined): Effect.Effect<void> {
    if (this.durabilityFailure !== undefined) return Effect.logError(DURABILITY_FAILED, this.durabilityFailure)
    if (chunks === undefined) return Effect.void
    if (chunks.length === 0) return this.next
    const now = this.clock.unsafeCurrentTimeNanos()
    const current = this.current
    if (current._tag === "Active") {
      // Every frame of one read was received at the same moment: one touch stamps them all.
      if (current.session.touch(now)) this.ctx = this.contextAt(current, now)
      else
        return Effect.flatMap(this.setState(expired(current.session), now), () =>
          this.continueAfter(this.startRead(chunks, now))
        )
    }
    return this.continueAfter(this.startRead(chunks, now))
  }

  /** Finishes a read, then loops unless the connection must close. */
  private continueAfter(read: Read): Effect.Effect<void> {
    if (read.stop === undefined && read.fatal === undefined) {
      // The common case: every frame ran synchronously; only durability may still need the fiber.
      const waiting = this.flushOutput()
      if (waiting === undefined) return this.next
      return Effect.flatMap(waiting, (close) => (close ? Effect.void : this.next))
    }
    return Effect.flatMap(this.finishRead(read), (close) => (close ? Effect.void : this.next))
  }

  /**
   * Sends the replies encoded so far, once they are as durable as promised: `undefined` when they were written
   * at once (nothing to wait for), else the wait, which answers true (close) if the writes could not be made
   * durable.
   */
  private flushOutput(): Effect.Effect<boolean> | undefined {
    const out = this.takeOutput()
    const barrier = this.deps.services.durability.barrier()
    if (barrier === undefined) {
      if (out !== undefined) this.conn.write(out)
      return undefined
    }
    return Effect.flatMap(Effect.exit(barrier), (durable) => {
      // Acknowledge nothing that is not yet as durable as promised.
      if (Exit.isFailure(durable)) return Effect.as(Effect.logError(DURABILITY_FAILED, durable.cause), true)
      if (out !== undefined) this.conn.write(out)
      return Effect.succeed(false)
    })
  }

  /** Finishes a read in the fiber: what the synchronous pass left, durability, the write. True: close. */
  private finishRead(read: Read): Effect.Effect<boolean> {
    const self = this
    return Effect.gen(function* () {
      const close = read.stop === undefined ? false : yield* self.runRest(read.frames, read.stop, read.now)
      if (read.fatal !== undefined && !close) self.error(read.fatal)
      const waiting = self.flushOutput()
      if (waiting !== undefined && (yield* waiting)) return true
      return close || read.fatal !== undefined
    })
  }

  /**
   * Carries on from a frame the synchronous pass stopped at: runs what needs the fiber, then resumes the
   * synchronous pass after it, until the read is done. True when the connection must close (a failed AUTH).
   */
  private runRest(frames: FrameSpans, first: Stop, now: bigint): Effect.Effect<boolean> {
    const self = this
    return Effect.gen(function* () {
      let stop: Stop | undefined = first
      while (stop !== undefined) {
        self.park()
        switch (stop._tag) {
          case "Auth":
            if (yield* self.auth(stop.args, now)) return true
            break
          case "Effect":
            yield* self.runEffectCommand(stop.spec, self.ctx!, stop.args)
            break
          case "Defect":
            yield* self.logDefect(stop.command, stop.cause)
            self.error(new InternalError({ cause: stop.cause }))
            break
        }
        stop = self.runFrames(frames, stop.index + 1)
      }
      return false
    })
  }

  /** AUTH: decides, creates or replaces the session; true when the connection must close. */
  private auth(args: ReadonlyArray<string>, now: bigint): Effect.Effect<boolean> {
    const self = this
    const { accounts, services } = this.deps
    return Effect.gen(function* () {
      if (args.length !== 0 && args.length !== 2) {
        self.error(new AuthFailed({ message: AuthMessages.invalidArguments }))
        return true
      }
      const exit = yield* Effect.exit(
        Effect.flatMap(accounts.authenticate(args[0] ?? "", args[1] ?? ""), (user) =>
          Effect.map(services.sessions.create(self.clientId, user, now), (handle) => active(handle, user))
        )
      )
      if (Exit.isSuccess(exit)) {
        yield* self.setState(exit.value, now)
        self.ok("Connected")
        return false
      }
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "Some" && failure.value._tag === "AuthFailed") {
        self.error(failure.value)
        return true
      }
      yield* self.logDefect("AUTH", exit.cause)
      self.error(new InternalError({ cause: exit.cause }))
      return false
    })
  }

  private runEffectCommand(
    spec: EffectCommand,
    context: CommandContext,
    args: ReadonlyArray<string>
  ): Effect.Effect<void> {
    return Effect.flatMap(Effect.exit(spec.run(context, args)), (exit) => {
      if (Exit.isSuccess(exit)) return Effect.sync(() => this.ok(exit.value))
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "Some") {
        const e = failure.value
        const log = e._tag === "SessionStoreError" || e._tag === "InternalError"
        return Effect.zipRight(
          log ? this.logDefect(spec.name, exit.cause) : Effect.void,
          Effect.sync(() => this.error(e))
        )
      }
      return Effect.zipRight(
        this.logDefect(spec.name, exit.cause),
        Effect.sync(() => this.error(new InternalError({ cause: exit.cause })))
      )
    })
  }

  private logDefect(command: string, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return Effect.logError(`command ${command} failed with a defect; answered "internal server error"`, cause).pipe(
      Effect.annotateLogs({ clientId: this.clientId })
    )
  }

  /**
   * Releases the connection once its fiber has ended, however it ended (the peer left, a fatal error, the
   * server shutting down and interrupting it): unregisters it, ends the socket, and removes its session.
   */
  release(): void {
    const { services } = this.deps
    services.connections.remove(this.clientId)
    this.conn.end()
    if (this.current._tag !== "Unauthenticated")
      this.deps.runDetached(Effect.ignoreLogged(services.sessions.remove(this.clientId)))
  }
}

const logUnlessInterrupted = (cause: Cause.Cause<unknown>): Effect.Effect<void> =>
  Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("connection ended by a defect", cause)

/** Runs one connection until the peer leaves, the connection is killed, or a fatal protocol error. */
export const runConnection = (deps: ConnectionDeps, conn: Conn): Effect.Effect<void> =>
  Effect.clockWith((clock) =>
    Effect.withFiberRuntime<void>((fiber) => {
      const actor = new ConnectionActor(deps, conn, clock)
      fiber.addObserver(() => actor.release())
      return Effect.catchAllCause(actor.start(), logUnlessInterrupted)
    })
  )
