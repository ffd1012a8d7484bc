/**
 * The embedded configuration: Fleare's YAML shape with fleare-ts's defaults, used when no file is given and as
 * the base that a file, an override and flags are merged onto. Listens on loopback only, auth on with Fleare's
 * default `root`/`root` account, persistence off, so `npm start` serves at once and safely.
 */
export const embeddedDefaults = {
  server: {
    host: "127.0.0.1",
    port: 9219,
    max_frame_bytes: 10 * 1024 * 1024,
    // issue 10 (connection limits): see README "Limits and security"
    max_args_per_command: 100_000
  },
  logging: { level: "info", file: "", format: "text" },
  memory: { max_size_mb: 0, eviction_policy: "noeviction" },
  security: {
    enable_auth: true,
    auth_method: "basic",
    users: [{ username: "root", password: "root", role: "root" }],
    session_idle_timeout_seconds: 0,
    // issue 10 (connection limits): see README "Limits and security"
    auth_timeout_seconds: 10,
    max_unauthenticated_frame_bytes: 64 * 1024,
    auth_max_failures: 10,
    auth_lockout_seconds: 60
  },
  persistence: {
    enable: false,
    path: "./data",
    after_write_count: 1,
    fsync: "always",
    rewrite_min_bytes: 64 * 1024 * 1024,
    rewrite_percentage: 100,
    shutdown_timeout_seconds: 10,
    retry_min_ms: 100,
    retry_max_ms: 5000
  },
  shard: { mode: "local", shard_count: 2 },
  backup: { enable: false, interval_minutes: 60, backup_dir: "./backups", keep: 5 },
  misc: {
    max_connections: 10000,
    timeout_seconds: 0,
    insertmode: false,
    // issue 10 (connection limits): see README "Limits and security"
    max_output_buffer_bytes: 64 * 1024 * 1024
  },
  pubsub: {
    subscriber_queue: 1000,
    subscriber_max_output_bytes: 32 * 1024 * 1024
  },
  metrics: { host: "127.0.0.1", port: 0, sample_seconds: 5 },
  tracing: {
    enable: false,
    otlp_url: "http://127.0.0.1:4318/v1/traces",
    service_name: "fleare-ts",
    export_interval_seconds: 5
  },
  limits: { max_ref_paths: 100, max_path_segments: 1000, max_expression_bytes: 64 * 1024 },
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
