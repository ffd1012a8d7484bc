/**
 * The server-side script that commits one key's write, and how fleare keys map to Redis keys.
 *
 * A fleare key `k` lives in the Redis hash `<prefix>k:<k>` with the fields `v` (the value's stored text, as the
 * write-ahead log keeps it), `t` (Fleare's kind number), `e` (the absolute expiry in epoch nanoseconds, "0" for
 * none; `TTL` answers from it exactly as in memory) and `n` (the version: a token unique to every write, so a
 * key deleted and written again never shows a version a reader saw before). The hash itself carries the expiry
 * as a Redis `PEXPIREAT` (milliseconds, rounded up), so a key expires on every server at once.
 */

/** The Redis key of the hash holding fleare key `key`. */
export const dataKey = (prefix: string, key: string): string => prefix + "k:" + key

/** The version a reader saw for a key that does not exist. */
export const ABSENT = ""

/** The expected version of a blind write (SET's: whatever the key held is replaced). */
export const ANY_VERSION = "*"

/**
 * Commits one key: `KEYS[1]` the hash; `ARGV` = expected version (`*` any, "" absent), op (`s` set, `d` delete,
 * `x` new expiry for the value in place), the new version, kind, text, expiry in ns, expiry in ms ("0": none).
 * Answers 1 when applied, 0 when the key's version is no longer the expected one (the caller retries).
 */
export const COMMIT_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], 'n')
if not cur then cur = '' end
if ARGV[1] ~= '*' and cur ~= ARGV[1] then return 0 end
local op = ARGV[2]
if op == 'd' then
  redis.call('DEL', KEYS[1])
  return 1
end
if op == 's' then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'n', ARGV[3], 't', ARGV[4], 'v', ARGV[5], 'e', ARGV[6])
else
  if cur == '' then return 0 end
  redis.call('HSET', KEYS[1], 'n', ARGV[3], 'e', ARGV[6])
end
if ARGV[7] == '0' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIREAT', KEYS[1], ARGV[7])
end
return 1
`
