/**
 * Helpers for the operations tests: the real server program with its metrics server on, and plain HTTP GETs.
 */
import * as http from "node:http"
import * as net from "node:net"
import { type ServerProcess, spawnServer } from "./process.js"

/** A port free right now on loopback (the metrics port must be given: 0 in the configuration means off). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

/** A GET's status, content type and body; never rejects on an HTTP status. */
export const httpGet = (port: number, path: string): Promise<{ status: number; contentType: string; body: string }> =>
  new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, timeout: 10_000, agent: false }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (d: string) => (body += d))
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), body })
      )
    })
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: timeout`)))
    req.on("error", reject)
  })

export interface OpsServer extends ServerProcess {
  readonly metricsPort: number
}

/** The server program with `--metrics-port` on a free port, plus `args`. */
export const spawnWithMetrics = async (args: ReadonlyArray<string> = []): Promise<OpsServer> => {
  const metricsPort = await freePort()
  const server = await spawnServer([...args, "--metrics-port", String(metricsPort)])
  return { ...server, metricsPort }
}
