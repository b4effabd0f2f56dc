/**
 * @module Turning what arrives into a record: safe names, kind and class.
 */
import { withKindAndClass } from './classify.js';
import { safeNames } from './names.js';
import type { Attributes, Labels } from './record.js';

export interface RawRecord {
  timestamp: bigint;
  observedTimestamp: bigint;
  labels: Labels;
  attributes?: Attributes;
  body: string;
}

const SAFE_KEY = /^[A-Za-z_:][A-Za-z0-9_:]*$/;

function safeIfNeeded(map: Readonly<Record<string, string>>): Record<string, string> {
  for (const k in map) if (!SAFE_KEY.test(k)) return safeNames(map);
  return map as Record<string, string>;
}

export function normalizeLabels(labels: Labels): Labels {
  return withKindAndClass(safeIfNeeded(labels));
}
