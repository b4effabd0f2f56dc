/** @module Loki push ingestion (`POST /loki/api/v1/push`): decoding and validation as Loki does them. */
export {
  DEFAULT_MAX_PUSH_BYTES,
  DEFAULT_MAX_PUSH_ENTRIES,
  type DecodeOptions,
  decodeInflatedPushBody,
  decodePushBody,
  inflatePushBody,
} from './decode.js';
export { decodeJsonPush, MISSING_STREAMS_MESSAGE } from './json.js';
export {
  formatLabels,
  isValidLabelName,
  type LabelPair,
  LabelParseError,
  labelSetText,
  type ParsedLabels,
  parseLabels,
} from './labels.js';
export { parseMediaType } from './media-type.js';
export {
  decodePushRequest,
  type EncodableStream,
  encodePushRequest,
  PushRequestType,
  pushProtoRoot,
} from './proto.js';
export { type DecodedStream, GO_ZERO_TIME_NS, type PushEntry, type PushStream } from './types.js';
export {
  DEFAULT_PUSH_LIMITS,
  groupPushErrors,
  type PushLimits,
  type PushValidation,
  validatePush,
} from './validate.js';
