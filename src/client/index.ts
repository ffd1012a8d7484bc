/**
 * The Fleare client: `FleareClient` (Effect service and layer), the promise facade `createClient`, and the
 * typed errors.
 */
export {
  FleareClient,
  make,
  defaultReconnect,
  type FleareClientConfig,
  type FleareClientShape,
  type SessionInfo,
  type ServerStatus,
  type Value
} from "./FleareClient.js"
export { createClient, type FleareClientPromise } from "./promise.js"
export { type PushMessage, type SubscribeOptions } from "./Subscriber.js"
export { type Reply } from "./Connection.js"
export { FleareError, Unauthorized, ConnectionError, type ClientError, errorMessage, replyError } from "./errors.js"
