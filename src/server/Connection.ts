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
 * Fairness and limits (issue 10): the synchronous pass runs under a budget (output bytes, and time checked every
 * few frames); past it the rest of the read goes to the fiber, which sends what is ready, waits for the socket to
 * drain while the client's unread output is over the soft limit, else yields to the event loop, then goes on.
 * A client whose unread output passes `misc.max_output_buffer_bytes` is dropped; a command with more than
 * `server.max_args_per_command` arguments is refused (its decoding stops at the cap); frames before AUTH are
 * held to `security.max_unauthenticated_frame_bytes`; failed AUTHs are rate-limited per remote address.
 *
 * Memory: a server holds thousands of idle connections, so the actor is one object whose methods are shared
 * (no closures per connection beyond the two the transport calls back), and its fiber, while parked, holds a
 * single read continuation: the loop is a flat `read → handle → read` chain, not a generator, and the
 * connection is released by an observer of the fiber's exit rather than by a scope or `ensuring` wrapper (each
 * of those keeps several suspended frames per connection). See docs/PERFORMANCE.md.
 */
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import type * as Tracer from "effect/Tracer"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Ref from "effect/Ref"
import type * as Fiber from "effect/Fiber"
import type { CommandContext, CommandSpec, EffectCommand, PubSubPort, ServerServices } from "../commands/Command.js"
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
import { counters, errorPrefixIndex } from "../ops/Counters.js"
import { LATENCY_SAMPLE_MASK, requestDuration } from "../ops/Histograms.js"
import { endCommandSpan, startCommandSpan } from "../ops/Tracing.js"
import { FrameDecoder, FrameSpans, type FrameViolation, violationMessage } from "../protocol/Frame.js"
import { decodeCommandInto, FrameWriter, type NameSpan, TOO_MANY_ARGS } from "../protocol/Message.js"
import { errorText, NO_REPLY, type OkResult } from "../protocol/Reply.js"
import { AuthMessages, type AccountsShape } from "../session/Accounts.js"
import type { AuthLimiter } from "../session/AuthLimiter.js"
import { DurabilityError } from "../persistence/Durability.js"
import { roleMask } from "../session/Role.js"
import { type PushOwner, PushOutbox } from "./PushOutbox.js"
import { active, expired, type SessionState, unauthenticated } from "./SessionState.js"
import type { ConnectionHandle } from "./Connections.js"
import {
  BATCH_MILLIS,
  BATCH_OUTPUT_BYTES,
  CHECK_EVERY,
  type ConnectionLimits,
  MAX_CONNECTIONS_REPLY,
  yieldToEventLoop
} from "./Limits.js"
import type { Conn } from "./Transport.js"
import { replaceReplies } from "./UnloggedReplies.js"

/** What every connection of a server shares. */
export interface ConnectionDeps {
  readonly services: ServerServices
  readonly accounts: AccountsShape
  readonly limits: ConnectionLimits
  /** Failed AUTHs per remote address. */
  readonly authLimiter: AuthLimiter
  /** The process-wide reply encoder: used only synchronously, and emptied before the fiber yields. */
  readonly writer: FrameWriter
  /** The command table's byte lookup (`lookupCommandBytes`, or a store backend's table): fixed at startup. */
  readonly lookup: (buf: Buffer, start: number, end: number) => CommandSpec | undefined
  /** Runs the clean-up Effect of a connection whose fiber has ended (removing its session), in the server's runtime. */
  readonly runDetached: (effect: Effect.Effect<void>) => void
  /** With `tracing.enable`: the tracer that gets a span per command (see ops/Tracing.ts). */
  readonly tracer?: Tracer.Tracer | undefined
  /**
   * Whether writes go to a log (the durability is not `Durability.none`): only then can the log fail, so only
   * then does a write check the log's state and note its reply (about 40 ns per write saved without a log).
   */
  readonly logsWrites?: boolean | undefined
}

const unauthorized = new Unauthorized()
const invalidCommand = new ProtocolError({ message: "invalid command format", fatal: false })
const replyTooLarge = new ProtocolError({ message: "reply too large for one frame", fatal: false })

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
  /** The budget is spent: `index` is the next frame to run, after a turn of the event loop. */
  | { readonly _tag: "Yield"; readonly index: number }

/** A read in progress: its frames, where the synchronous pass stopped, and a refused frame if any. */
interface Read {
  readonly frames: FrameSpans
  readonly stop: Stop | undefined
  readonly now: bigint
  readonly fatal: ProtocolError | undefined
}

type ActiveState = SessionState & { readonly _tag: "Active" }

/** Why the connection was closed by the server, logged when it is released. */
interface CloseReason {
  readonly level: "info" | "warning"
  readonly message: string
}

class ConnectionActor implements PubSubPort, PushOwner, ConnectionHandle {
  readonly clientId: string
  /**
   * When the connection was accepted, and when it was last active (Clock epoch nanos): input arrived, or a
   * batch of a long read went on. A client that neither sends nor lets its replies drain goes stale.
   */
  readonly acceptedAt: bigint
  lastActiveAt: bigint
  /** Has authenticated once (AUTH succeeded, or authentication is off). */
  authenticated = false
  /** The connection's session state: the actor model keeps it in a `Ref` owned by the connection's fiber. */
  readonly state: Ref.Ref<SessionState> = Ref.unsafeMake<SessionState>(unauthenticated)
  /** The value in `state`: the actor is its only writer, so it keeps it at hand (`setState` updates both). */
  private current: SessionState = unauthenticated
  /** The command classes the session's role may run (`roleMask`); 0 without a session. */
  private allowedClasses = 0
  /** The context commands run in under an active session, stamped with the current read's time. */
  private ctx: CommandContext | undefined = undefined
  private readonly decoder: FrameDecoder
  /** Replies encoded before the fiber yielded mid-read (the shared writer is emptied before any yield). */
  private parked: Array<Buffer> | undefined = undefined
  /** A read the fast path started and handed over to the fiber. */
  private handedOver: Read | undefined = undefined
  /** The frame indices of this read's writes that answered Ok: answered again if the log cannot take them. */
  private writes: Array<number> | undefined = undefined
  /** The connection's pub/sub side, made on its first SUBSCRIBE. */
  private outbox: PushOutbox | undefined = undefined
  /**
   * Reads whose replies are not yet written (encoded, parked, or waiting for durability): while there are any,
   * pushes wait in the outbox, so they are written after those replies (see PushOutbox.ts).
   */
  private pendingReads = 0
  /** Set when the server closed the connection (a limit): logged at release. */
  private closeReason: CloseReason | undefined = undefined
  /** The client_id and status fields of this connection's `Ok` replies, encoded at its first (FrameWriter.ok). */
  private okPrefix: string | undefined = undefined
  /** One turn of the loop: wait for input, then handle it (built once; the loop repeats it). */
  readonly next: Effect.Effect<void>

  constructor(
    private readonly deps: ConnectionDeps,
    private readonly conn: Conn,
    private readonly clock: Clock.Clock
  ) {
    const { services } = deps
    this.clientId = services.connections.nextClientId(conn.remoteAddress, conn.remotePort)
    this.acceptedAt = this.lastActiveAt = clock.unsafeCurrentTimeNanos()
    const { limits } = deps
    this.decoder = new FrameDecoder(
      deps.accounts.anonymousUser === undefined ? limits.unauthenticatedFrameBytes : limits.maxFrameBytes
    )
    this.next = Effect.flatMap(conn.read, (chunks) => this.onRead(chunks))
    services.connections.add(this.clientId, this)
    counters.connectionsAccepted += 1
    conn.setFastPath(this)
  }

  // ---- the registry's handle ----

  kill(): void {
    this.conn.kill()
  }

  /** Closes now, dropping unsent output; `message` is logged (with the client id) when the connection ends. */
  close(message: string, level: "info" | "warning" = "warning"): void {
    if (this.closeReason === undefined) this.closeReason = { level, message }
    this.conn.abort()
  }

  /**
   * Writes replies (counting their bytes), and drops a client whose unread output is over
   * `misc.max_output_buffer_bytes`.
   */
  private writeOut(out: Buffer): void {
    const conn = this.conn
    counters.bytesOut += out.length
    conn.write(out)
    const pending = conn.pendingOutputBytes()
    if (pending > this.deps.limits.maxOutputBytes)
      this.close(
        `closed: ${pending} bytes of unread replies exceed misc.max_output_buffer_bytes (${this.deps.limits.maxOutputBytes})`
      )
  }

  // ---- the synchronous part ----

  private contextAt(s: ActiveState, now: bigint): CommandContext {
    return {
      clientId: this.clientId,
      user: s.user,
      session: s.session,
      now,
      services: this.deps.services,
      pubsub: this
    }
  }

  private setState(next: SessionState, now: bigint): Effect.Effect<void> {
    this.current = next
    this.ctx = next._tag === "Active" ? this.contextAt(next, now) : undefined
    this.allowedClasses = next._tag === "Active" ? roleMask(next.user.role) : 0
    const set = Ref.set(this.state, next)
    // A session that ended takes its subscriptions with it.
    const outbox = this.outbox
    return next._tag === "Active" || outbox === undefined
      ? set
      : Effect.zipRight(this.deps.services.broker.unsubscribeAll(outbox), set)
  }

  // ---- pub/sub ----

  subscriber(): PushOutbox {
    if (this.outbox !== undefined) return this.outbox
    const { pubsub } = this.deps.services.config
    const limits = { queue: pubsub.subscriber_queue, maxOutputBytes: pubsub.subscriber_max_output_bytes }
    return (this.outbox = new PushOutbox(this.clientId, this.conn, this, limits))
  }

  existing(): PushOutbox | undefined {
    return this.outbox
  }

  get subscribed(): boolean {
    return this.outbox !== undefined
  }

  outputHeld(): boolean {
    return this.pendingReads > 0
  }

  sessionLive(now: bigint): boolean {
    const current = this.current
    return current._tag === "Active" && current.session.live(now)
  }

  /** Writes a read's replies (if any); pushes that waited behind them follow. */
  private sent(out: Buffer | undefined): void {
    if (out !== undefined) this.writeOut(out)
    if (--this.pendingReads === 0 && this.outbox !== undefined) this.outbox.flush()
  }

  private ok(result: OkResult): void {
    const prefix = (this.okPrefix ??= FrameWriter.okPrefix(this.clientId))
    if (!this.deps.writer.ok(prefix, result)) this.error(replyTooLarge)
  }

  /** Handshake errors carry no client id, as in Fleare. */
  private error(e: CommandError): void {
    counters.errorsByPrefix[errorPrefixIndex(e)]! += 1
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

  /**
   * Runs frames from `from` synchronously until the end, a frame that needs the fiber, or the end of the budget
   * (see `BATCH_OUTPUT_BYTES`): a counter and a length compare per frame, the time read every `CHECK_EVERY`.
   */
  private runFrames(frames: FrameSpans, from: number): Stop | undefined {
    const { bufs, starts, ends } = frames
    const writer = this.deps.writer
    const maxArgs = this.deps.limits.maxArgs
    let countdown = CHECK_EVERY
    let startedAt = 0
    for (let i = from; i < frames.length; i++) {
      if (writer.length >= BATCH_OUTPUT_BYTES) return { _tag: "Yield", index: i }
      if (--countdown === 0) {
        countdown = CHECK_EVERY
        // The clock starts at the first check: a short pass never reads it.
        if (startedAt === 0) startedAt = performance.now()
        else if (performance.now() - startedAt > BATCH_MILLIS) return { _tag: "Yield", index: i }
      }
      const frame = bufs[i]!
      const args = decodeCommandInto(frame, name, starts[i]!, ends[i]!, maxArgs)
      if (args === undefined) {
        this.error(invalidCommand)
        continue
      }
      if (args === TOO_MANY_ARGS) {
        this.error(this.tooManyArgs())
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
      if ((this.allowedClasses & spec.classBit) === 0) {
        spec.stats.error += 1
        this.error(new PermissionDenied({ role: ctx.user.role, command: spec.name }))
        continue
      }
      // While the log cannot be written, writes are refused before they change anything.
      const logs = this.deps.logsWrites !== false && spec.class === "write"
      const logFailure = logs ? ctx.services.durability.failure() : undefined
      if (logFailure !== undefined) {
        this.error(logFailure.refusal)
        continue
      }
      if (spec.kind === "effect") return { _tag: "Effect", index: i, spec, args }
      const span = this.deps.tracer === undefined ? undefined : this.startSpan(this.deps.tracer, spec.name)
      let reply
      try {
        reply = spec.run(ctx, args)
      } catch (defect) {
        spec.stats.internal += 1
        if (span !== undefined) this.endSpan(span, "defect")
        return { _tag: "Defect", index: i, command: spec.name, cause: Cause.die(defect) }
      }
      if (typeof reply === "string" || reply instanceof Uint8Array) {
        spec.stats.ok += 1
        if (span !== undefined) this.endSpan(span, undefined)
        this.ok(reply)
        if (logs) (this.writes ??= []).push(i)
      } else if (isCommandError(reply)) {
        if (reply._tag === "InternalError" || reply._tag === "SessionStoreError") spec.stats.internal += 1
        else spec.stats.error += 1
        if (span !== undefined) this.endSpan(span, reply)
        this.error(reply)
      } else {
        spec.stats.internal += 1
        if (span !== undefined) this.endSpan(span, "defect")
        const cause = Cause.die(new Error("handler returned a non-reply value"))
        return { _tag: "Defect", index: i, command: spec.name, cause }
      }
    }
    return undefined
  }

  private tooManyArgs(): ProtocolError {
    const limit = this.deps.limits.maxArgs
    return new ProtocolError({
      message: `too many arguments: a command may have at most ${limit} (server.max_args_per_command)`,
      fatal: false
    })
  }

  private startSpan(tracer: Tracer.Tracer, command: string): Tracer.Span {
    return startCommandSpan(tracer, command, this.clientId, this.clock.unsafeCurrentTimeNanos())
  }

  private endSpan(span: Tracer.Span, error: CommandError | "defect" | undefined): void {
    endCommandSpan(span, this.clock.unsafeCurrentTimeNanos(), error)
  }

  /** Decodes a read's chunk(s) and runs its frames synchronously as far as they go (the hot path). */
  private startRead(chunks: Buffer | ReadonlyArray<Buffer>, now: bigint): Read {
    this.pendingReads++
    // The latency histogram samples one read in LATENCY_SAMPLE_MASK + 1: two clock reads per read would cost
    // more than the rest of the counting together (see docs/PERFORMANCE.md).
    const sampled = (++counters.reads & LATENCY_SAMPLE_MASK) === 0
    const started = sampled ? performance.now() : 0
    const frames = scratchFrames
    frames.clear()
    let violation: FrameViolation | undefined
    if (chunks instanceof Uint8Array) {
      counters.bytesIn += chunks.length
      violation = this.decoder.pushSpans(chunks, frames)
    } else
      for (let i = 0; i < chunks.length && violation === undefined; i++) {
        counters.bytesIn += chunks[i]!.length
        violation = this.decoder.pushSpans(chunks[i]!, frames)
      }
    const fatal = violation === undefined ? undefined : this.refusedFrame(violation)
    const stop = frames.length > 0 ? this.runFrames(frames, 0) : undefined
    if (sampled && stop === undefined) requestDuration.unsafeUpdate((performance.now() - started) / 1000, [])
    // A read the fiber must finish outlives this synchronous pass: it keeps its own copy of the spans.
    return { frames: stop === undefined ? frames : frames.copy(), stop, now, fatal }
  }

  private refusedFrame(violation: FrameViolation): ProtocolError {
    const beforeAuth =
      violation._tag === "FrameTooLarge" && !this.authenticated && violation.limit < this.deps.limits.maxFrameBytes
    const message =
      violationMessage(violation) + (beforeAuth ? " before AUTH (security.max_unauthenticated_frame_bytes)" : "")
    return new ProtocolError({ message, fatal: true })
  }

  /**
   * The fast path: input that arrives while the fiber is parked waiting for it is run right away, on the
   * actor's behalf, without waking the fiber (a fiber wake-up costs more than a whole PING). The fiber is idle,
   * so nothing else touches the actor's state meanwhile. Whatever needs an Effect (a session change, AUTH, an
   * Effect command, a defect to log, a durability wait, closing) is handed to the fiber, in order.
   */
  fastPath(chunk: Buffer): "handled" | "wake" | "decline" {
    const current = this.current
    if (current._tag !== "Active") return "decline"
    const now = this.clock.unsafeCurrentTimeNanos()
    if (!current.session.touch(now)) return "decline"
    this.lastActiveAt = now
    this.ctx = this.contextAt(current, now)
    const read = this.startRead(chunk, now)
    if (read.stop === undefined && read.fatal === undefined) {
      const out = this.takeOutput()
      const writes = this.writes
      this.writes = undefined
      // Writes are acknowledged once durable: the log calls back in order, without waking this fiber.
      const waiting = this.deps.services.durability.afterDurable((failure) => this.send(out, writes, failure))
      if (!waiting) {
        this.sent(out)
        this.reuseWrites(writes)
      }
      return "handled"
    }
    this.park()
    this.handedOver = read
    return "wake"
  }

  // ---- the fiber's part ----

  /** Starts the actor: with authentication off, the connection gets its session at accept. */
  start(): Effect.Effect<void> {
    // Logged from a fiber of its own: annotating a log line in this fiber (`Effect.annotateLogs`, a
    // `locally`) leaves the fiber its own entry for the log annotations, about 250 B for the connection's life.
    this.deps.runDetached(this.annotate(Effect.logInfo("connection opened")))
    const anonymous = this.deps.accounts.anonymousUser
    if (anonymous === undefined) return this.next
    this.authenticated = true
    const now = this.clock.unsafeCurrentTimeNanos()
    return Effect.flatMap(Effect.exit(this.deps.services.sessions.create(this.clientId, anonymous, now)), (created) => {
      if (Exit.isFailure(created)) return Effect.zipRight(this.logDefect("(session create)", created.cause), this.next)
      counters.sessionsCreated += 1
      return Effect.zipRight(this.setState(active(created.value, anonymous), now), this.next)
    })
  }

  /** `effect`'s log lines carry the peer's address and the client (= session) id. */
  private annotate<A>(effect: Effect.Effect<A>): Effect.Effect<A> {
    return Effect.annotateLogs(effect, {
      remote: remoteOf(this.conn),
      clientId: this.clientId
    })
  }

  /** One wake-up of the fiber: a read the fast path handed over, then whatever `read` returned. */
  private onRead(chunks: ReadonlyArray<Buffer> | undefined): Effect.Effect<void> {
    const read = this.handedOver
    if (read === undefined) return this.onInput(chunks)
    this.handedOver = undefined
    return Effect.flatMap(this.finishRead(read), (close) => (close ? Effect.void : this.onInput(chunks)))
  }

  private onInput(chunks: ReadonlyArray<Buffer> | undefined): Effect.Effect<void> {
    if (chunks === undefined) return Effect.void
    if (chunks.length === 0) return this.next
    const now = this.clock.unsafeCurrentTimeNanos()
    this.lastActiveAt = now
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
   * at once (nothing to wait for), else the wait (which answers false: the connection goes on either way; writes
   * the log could not take are answered with its error, see `send`).
   */
  private flushOutput(): Effect.Effect<boolean> | undefined {
    const out = this.takeOutput()
    const writes = this.writes
    this.writes = undefined
    const durability = this.deps.services.durability
    // Writes that ran before the log began failing (this read waited for the fiber meanwhile): not logged.
    const failed = writes === undefined || writes.length === 0 ? undefined : durability.failure()
    const barrier = failed === undefined ? durability.barrier() : undefined
    if (barrier === undefined) {
      this.send(out, writes, failed)
      this.reuseWrites(writes)
      return undefined
    }
    return Effect.map(Effect.exit(barrier), (durable) => {
      this.send(out, writes, Exit.isFailure(durable) ? durable.cause : undefined)
      return false
    })
  }

  /** Keeps a write list no callback holds, for the next read (no allocation per write without persistence). */
  private reuseWrites(writes: Array<number> | undefined): void {
    if (writes === undefined) return
    writes.length = 0
    this.writes = writes
  }

  /**
   * Sends a read's replies once its writes are as durable as promised: if they cannot be (`failure`), the
   * replies to its writes become the log's `PersistenceError` (nothing unlogged is acknowledged); the rest stand.
   */
  private send(out: Buffer | undefined, writes: ReadonlyArray<number> | undefined, failure: unknown): void {
    if (failure !== undefined && writes !== undefined && writes.length > 0) {
      const error = durabilityErrorOf(failure)
      out = replaceReplies(out, this.clientId, writes, errorText(error.unlogged))
    }
    this.sent(out)
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
        let resumeAt = stop.index + 1
        switch (stop._tag) {
          case "Auth":
            if (yield* self.auth(stop.args, now)) return true
            break
          case "Effect":
            yield* self.runEffectCommand(stop.spec, self.ctx!, stop.args)
            // Answered again if the log cannot take it (whatever it answered: an error becomes that error).
            if (stop.spec.class === "write") (self.writes ??= []).push(stop.index)
            break
          case "Defect":
            yield* self.logDefect(stop.command, stop.cause)
            self.error(new InternalError({ cause: stop.cause }))
            break
          case "Yield": {
            // Send what is ready, then let other connections run: wait for the socket to drain while this
            // client's unread output is over the soft limit (it is not reading), else one turn of the loop.
            resumeAt = stop.index
            // The read goes on after this partial send: it stays pending (flushing ends one pending read), so
            // pushes keep waiting behind its replies.
            self.pendingReads++
            const waiting = self.flushOutput()
            if (waiting !== undefined && (yield* waiting)) return true
            if (self.closeReason !== undefined) return true
            if (self.conn.pendingOutputBytes() > self.deps.limits.softOutputBytes) yield* self.conn.drained()
            else yield* yieldToEventLoop
            if (self.closeReason !== undefined) return true
            self.lastActiveAt = self.clock.unsafeCurrentTimeNanos()
            break
          }
        }
        stop = self.runFrames(frames, resumeAt)
      }
      return false
    })
  }

  /** AUTH: decides, creates or replaces the session; true when the connection must close. */
  private auth(args: ReadonlyArray<string>, now: bigint): Effect.Effect<boolean> {
    const self = this
    const { accounts, services, authLimiter } = this.deps
    const address = this.conn.remoteAddress
    return Effect.gen(function* () {
      const lockedFor = authLimiter.lockedFor(address, now)
      if (lockedFor !== undefined) {
        self.error(new AuthFailed({ message: AuthMessages.lockedOut(lockedFor) }))
        return true
      }
      if (args.length !== 0 && args.length !== 2) {
        // No user name to log: a one-argument AUTH (Redis style) carries the password.
        yield* self.authFailed(undefined, now)
        self.error(new AuthFailed({ message: AuthMessages.invalidArguments }))
        return true
      }
      // Checked again when the password check's turn comes: AUTHs queued before a lockout are dropped unhashed.
      const proceed = () =>
        self.closeReason === undefined &&
        authLimiter.lockedFor(address, self.clock.unsafeCurrentTimeNanos()) === undefined
      const exit = yield* Effect.exit(
        Effect.flatMap(accounts.authenticate(args[0] ?? "", args[1] ?? "", proceed), (user) =>
          Effect.map(services.sessions.create(self.clientId, user, now), (handle) => active(handle, user))
        )
      )
      if (Exit.isSuccess(exit)) {
        counters.auth.ok += 1
        counters.sessionsCreated += 1
        yield* self.setState(exit.value, now)
        self.authenticated = true
        self.decoder.maxFrameBytes = self.deps.limits.maxFrameBytes
        self.ok("Connected")
        return false
      }
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "Some" && failure.value._tag === "AuthFailed") {
        const lockedNow = authLimiter.lockedFor(address, self.clock.unsafeCurrentTimeNanos())
        if (lockedNow !== undefined) {
          // Locked out while it waited: refused like any AUTH during the lockout (not a new failure).
          self.error(new AuthFailed({ message: AuthMessages.lockedOut(lockedNow) }))
          return true
        }
        yield* self.authFailed(args[0] ?? "", now)
        self.error(failure.value)
        return true
      }
      counters.auth.internal += 1
      yield* self.logDefect("AUTH", exit.cause)
      self.error(new InternalError({ cause: exit.cause }))
      return false
    })
  }

  /**
   * A failed AUTH: logged with the remote address and the user name (never the password), counted against the
   * address, and answered only after the address's growing delay (the connection then closes, as in Fleare).
   */
  private authFailed(username: string | undefined, now: bigint): Effect.Effect<void> {
    const address = this.conn.remoteAddress
    const outcome = this.deps.authLimiter.fail(address, now)
    counters.auth.error += 1
    counters.authFailures += 1
    const user =
      username === undefined
        ? "(invalid arguments)"
        : JSON.stringify(username.length > 64 ? `${username.slice(0, 64)}...` : username)
    const log = Effect.logWarning(
      `AUTH failed for user ${user} from ${address} (${outcome.failures} recent failures from this address` +
        (outcome.lockedOut ? `; locked out for ${this.deps.services.config.security.auth_lockout_seconds} s)` : ")")
    ).pipe((log) =>
      this.annotate(username === undefined ? log : Effect.annotateLogs(log, "user", username.slice(0, 64)))
    )
    return outcome.delayMillis > 0 ? Effect.zipRight(log, Effect.sleep(outcome.delayMillis)) : log
  }

  private runEffectCommand(
    spec: EffectCommand,
    context: CommandContext,
    args: ReadonlyArray<string>
  ): Effect.Effect<void> {
    const span = this.deps.tracer === undefined ? undefined : this.startSpan(this.deps.tracer, spec.name)
    return Effect.flatMap(Effect.exit(spec.run(context, args)), (exit) => {
      if (span !== undefined) {
        const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
        this.endSpan(span, failure === undefined ? undefined : failure._tag === "Some" ? failure.value : "defect")
      }
      if (Exit.isSuccess(exit)) {
        spec.stats.ok += 1
        const value = exit.value
        return value === NO_REPLY ? Effect.void : Effect.sync(() => this.ok(value))
      }
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "Some") {
        const e = failure.value
        const log = e._tag === "SessionStoreError" || e._tag === "InternalError"
        if (log) spec.stats.internal += 1
        else spec.stats.error += 1
        return Effect.zipRight(
          log ? this.logDefect(spec.name, exit.cause) : Effect.void,
          Effect.sync(() => this.error(e))
        )
      }
      spec.stats.internal += 1
      return Effect.zipRight(
        this.logDefect(spec.name, exit.cause),
        Effect.sync(() => this.error(new InternalError({ cause: exit.cause })))
      )
    })
  }

  private logDefect(command: string, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return this.annotate(
      Effect.logError(`command ${command} failed with a defect; answered "internal server error"`, cause)
    )
  }

  /**
   * Releases the connection once its fiber has ended, however it ended (the peer left, a fatal error, the
   * server shutting down and interrupting it, a defect: logged here): unregisters it, ends the socket, and
   * removes its session.
   */
  release(exit: Exit.Exit<void>): void {
    const { services } = this.deps
    services.connections.remove(this.clientId)
    const outbox = this.outbox
    if (outbox !== undefined) {
      outbox.close()
      this.deps.runDetached(services.broker.unsubscribeAll(outbox))
    }
    this.conn.end()
    const reason = this.closeReason
    const closedLog =
      reason === undefined
        ? Effect.logInfo("connection closed")
        : reason.level === "info"
          ? Effect.logInfo(`connection ${reason.message}`)
          : Effect.logWarning(`connection ${reason.message}`)
    const closed = this.annotate(
      Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)
        ? Effect.zipRight(Effect.logError("connection ended by a defect", exit.cause), closedLog)
        : closedLog
    )
    this.deps.runDetached(
      this.current._tag === "Unauthenticated"
        ? closed
        : Effect.zipRight(Effect.ignoreLogged(services.sessions.remove(this.clientId)), closed)
    )
  }
}

/** The log's error from a barrier's failure (a `DurabilityError`, or a Cause holding one). */
const durabilityErrorOf = (failure: unknown): DurabilityError => {
  const e = Cause.isCause(failure) ? Cause.squash(failure) : failure
  return e instanceof DurabilityError
    ? e
    : new DurabilityError({ cause: e, reason: "an unexpected error", sinceMillis: 0 })
}

/** The peer as `ip:port` (IPv6 in brackets), as log lines show it. */
const remoteOf = (conn: Conn): string => {
  const a = conn.remoteAddress
  const host = a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a
  return host.includes(":") ? `[${host}]:${conn.remotePort}` : `${host}:${conn.remotePort}`
}

/**
 * Runs one connection until the peer leaves, the connection is killed, or a fatal protocol error. Past
 * `misc.max_connections` the connection gets one `Error` frame, `max connections reached`, and is closed.
 */
export const runConnection = (deps: ConnectionDeps, conn: Conn): Effect.Effect<void> => {
  const max = deps.limits.maxConnections
  if (max > 0 && deps.services.connections.size >= max) {
    counters.connectionsRejected += 1
    conn.write(MAX_CONNECTIONS_REPLY)
    conn.end()
    return Effect.logWarning(
      `refused a connection from ${conn.remoteAddress}:${conn.remotePort}: max connections reached (misc.max_connections = ${max})`
    )
  }
  return Effect.clockWith((clock) =>
    Effect.withFiberRuntime<void>((fiber) => startActor(new ConnectionActor(deps, conn, clock), fiber))
  )
}

/**
 * Runs the actor in its fiber, released when the fiber ends. A function of its own so that the observer's
 * closure keeps only `actor` (made inside `runConnection`'s callbacks it would keep their scopes too, 88 B).
 * No `catchAllCause` around the loop: its frame would stay on the parked fiber's stack for the connection's
 * life, holding `start()`'s whole effect ("connection opened" with its log annotations, about 1.3 KB); a defect
 * that ends the fiber is logged by `release`, from the exit.
 */
const startActor = (actor: ConnectionActor, fiber: Fiber.RuntimeFiber<void, never>): Effect.Effect<void> => {
  fiber.addObserver((exit) => actor.release(exit))
  return actor.start()
}
