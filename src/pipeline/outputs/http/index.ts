/**
 * @module The HTTP outputs by type: `loki`, `kjournal`, `elasticsearch`, `webhook`, `splunk`, `s3`.
 */
import type { OutputFactory } from '../output.js';
import { elasticsearchOutput } from './elasticsearch.js';
import { kjournalOutput } from './kjournal.js';
import { lokiOutput } from './loki.js';
import { s3Output } from './s3.js';
import { splunkOutput } from './splunk.js';
import { webhookOutput } from './webhook.js';

export const HTTP_OUTPUTS: Readonly<Record<string, OutputFactory>> = {
  loki: lokiOutput,
  kjournal: kjournalOutput,
  elasticsearch: elasticsearchOutput,
  webhook: webhookOutput,
  splunk: splunkOutput,
  s3: s3Output,
};
