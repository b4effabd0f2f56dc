/**
 * @module An HTTP Accept header as Kubernetes clients write it: media types in order of
 * preference, each with its parameters (`as=Table;g=meta.k8s.io;v=v1`). Used to choose between
 * plain JSON, tables and aggregated discovery.
 */

export interface MediaRange {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
}

export function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  return accept.split(',').map((part) => {
    const [type = '', ...rest] = part.split(';');
    return {
      type: type.trim(),
      params: new Map(rest.map((p) => p.trim().split('=') as [string, string])),
    };
  });
}
