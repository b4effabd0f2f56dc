/** @module OTLP logs (protobuf and JSON) decoded, and mapped to records as Loki 3 maps them. */
export { decodeOtlpJson, otlpJsonResponse } from './json.js';
export type { AnyValue, OtlpLogRecord, OtlpResourceLogs } from './model.js';
export { decodeOtlpProto, encodeOtlpProtoResponse, encodeRpcStatus } from './proto.js';
export { normalizeLabel, OTLP_INDEX_ATTRIBUTES, otlpRecords } from './records.js';
