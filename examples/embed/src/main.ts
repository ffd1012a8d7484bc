import { FleareClient, FleareServer, ServerConfig } from "fleare-ts"
import { Effect, Layer } from "effect"

// The server on a free port, with the embedded defaults: loopback only, user root/root, persistence off.
const Server = FleareServer.layerNode.pipe(Layer.provide(ServerConfig.layerMake({ server: { port: 0 } })))

// The Effect client, connected to the port the server bound.
const Client = FleareClient.layerEffect(
  Effect.map(FleareServer, (server) => ({ port: server.address.port, user: "root", password: "root" }))
)

const program = Effect.gen(function* () {
  const fleare = yield* FleareClient
  yield* fleare.set("greeting", "hello")
  const greeting = yield* fleare.get("greeting")
  const visits = yield* fleare.numIncr("visits")
  yield* Effect.log(`greeting=${greeting} visits=${visits}`)
})

// Runs the program, then closes the client and shuts the server down (the layers' scope ends).
program.pipe(Effect.provide(Client.pipe(Layer.provideMerge(Server))), Effect.runPromise)
