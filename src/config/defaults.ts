/**
 * The embedded configuration: Fleare's YAML shape with fleare-ts's defaults, used when no file is given and as
 * the base that a file, an override and flags are merged onto. Listens on loopback only, auth on with Fleare's
 * default `root`/`root` account, persistence off, so `npm start` serves at once and safely.
 */
export const embeddedDefaults = {
  server: {
    host: "127.0.0.1",
    port: 9219,
    max_frame_bytes: 10 * 1024 * 1024
  },
  logging: { level: "info", file: "" },
  memory: { max_size_mb: 0, eviction_policy: "noeviction" },
  security: {
    enable_auth: true,
    auth_method: "basic",
    users: [{ username: "root", password: "root", role: "root" }],
    session_idle_timeout_seconds: 0
  },
  persistence: {
    enable: false,
    path: "./data",
    after_write_count: 1,
    fsync: "always",
    rewrite_min_bytes: 64 * 1024 * 1024,
    rewrite_percentage: 100,
    shutdown_timeout_seconds: 10
  },
  shard: { mode: "local", shard_count: 2 },
  backup: { enable: false, interval_minutes: 60, backup_dir: "./backups", keep: 5 },
  misc: { max_connections: 10000, timeout_seconds: 30, insertmode: false },
  store: {
    backend: "memory",
    redis: {
      nodes: ["127.0.0.1:7000"],
      key_prefix: "fleare:",
      wait_replicas: 0,
      wait_timeout_ms: 1000,
      command_timeout_ms: 2000
    }
  }
}
