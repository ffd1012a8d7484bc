/**
 * Starts the real server in this process on a free port (port 0), through the same layers `main.ts` uses,
 * with the configuration patched per test.
 */
import { Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import { type DeepPartial, ServerConfig, type ServerConfigShape } from "../../src/config/ServerConfig.js"
import { FleareServer } from "../../src/server/Server.js"

export interface TestServer {
  readonly port: number
  readonly server: FleareServer["Type"]
  readonly close: () => Promise<void>
}

/** Starts a server with the embedded defaults plus `patch`; logs below `logLevel` (default: none) are dropped. */
export const startServer = async (
  patch: DeepPartial<ServerConfigShape> = {},
  options: { readonly logLevel?: LogLevel.LogLevel; readonly layer?: Layer.Layer<FleareServer> } = {}
): Promise<TestServer> => {
  const config = ServerConfig.unsafeMake({ ...patch, server: { host: "127.0.0.1", port: 0, ...patch.server } })
  const layer =
    options.layer ??
    FleareServer.layerNode.pipe(
      Layer.provide(ServerConfig.layer(config)),
      Layer.provide(Logger.minimumLogLevel(options.logLevel ?? LogLevel.None))
    )
  const runtime = ManagedRuntime.make(layer)
  const server = await runtime.runPromise(FleareServer)
  return { port: server.address.port, server, close: () => runtime.dispose() }
}

/** Runs `f` against a fresh server and always closes it. */
export const withServer = async <A>(
  patch: DeepPartial<ServerConfigShape>,
  f: (server: TestServer) => Promise<A>
): Promise<A> => {
  const s = await startServer(patch)
  try {
    return await f(s)
  } finally {
    await s.close()
  }
}
