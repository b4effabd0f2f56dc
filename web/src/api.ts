/**
 * @module The page's one way to the server: fetch with the session's bearer token (asked once,
 * kept in sessionStorage only: gone when the tab closes), errors as ApiError with the status and the
 * server's own words (Loki answers plain text, the Kubernetes API a Status), and the tail WebSocket
 * with the token in kube-apiserver's subprotocol (a browser cannot set Authorization on a WebSocket).
 */

const TOKEN_KEY = 'kjournal.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function getToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

type AuthListener = (status: number, message: string) => void;
const authListeners = new Set<AuthListener>();

/** Called on every 401 (the token is missing or wrong): the page asks for one. */
export function onUnauthorized(listener: AuthListener): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

function headers(): Record<string, string> {
  const token = getToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function errorOf(res: Response): Promise<ApiError> {
  const body = await res.text();
  let message = body.trim();
  try {
    const status = JSON.parse(body) as { kind?: string; message?: string; error?: string };
    message = status.message ?? status.error ?? message;
  } catch {
    // Loki's errors are plain text.
  }
  return new ApiError(res.status, message || res.statusText);
}

/** Attempts of a read the server answers "busy" (429/503 with a short Retry-After). */
const BUSY_ATTEMPTS = 3;
/** The longest Retry-After waited for; a longer one is the error. */
const BUSY_WAIT_MAX_S = 5;

/** Seconds to wait before asking again, when the answer says so and it is short. */
function retryAfter(res: Response): number | undefined {
  if (res.status !== 429 && res.status !== 503) return undefined;
  const s = Number(res.headers.get('retry-after'));
  return Number.isFinite(s) && s >= 0 && s <= BUSY_WAIT_MAX_S ? s : undefined;
}

export async function getJson<T>(
  path: string,
  params: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<T> {
  const qs = new URLSearchParams(params).toString();
  let res: Response;
  // A busy server (its query queue full, as on a loaded machine) says when to come back: the page
  // waits and asks again rather than show nothing (completion cached the refusal, and stayed empty).
  for (let attempt = 1; ; attempt++) {
    res = await fetch(`${path}${qs ? `?${qs}` : ''}`, {
      headers: headers(),
      ...(signal ? { signal } : {}),
    });
    const wait = attempt < BUSY_ATTEMPTS ? retryAfter(res) : undefined;
    if (wait === undefined) break;
    await res.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, Math.max(wait, 0.2) * 1000));
    signal?.throwIfAborted();
  }
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401) for (const l of authListeners) l(res.status, err.message);
    throw err;
  }
  return (await res.json()) as T;
}

/** base64url without padding, as kube-apiserver's WebSocket token protocol wants it. */
function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Opens a WebSocket to `path` on this server, carrying the session's token when there is one. */
export function openWebSocket(path: string, params: Record<string, string>): WebSocket {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${proto}//${location.host}${path}?${new URLSearchParams(params)}`;
  const token = getToken();
  return token
    ? new WebSocket(url, ['kjournal.tail', `base64url.bearer.authorization.k8s.io.${base64url(token)}`])
    : new WebSocket(url);
}

/** Loki's streams answer. */
export interface StreamsResult {
  resultType: 'streams';
  result: { stream: Record<string, string>; values: [string, string, Record<string, unknown>?][] }[];
}
/** Loki's matrix answer. */
export interface MatrixResult {
  resultType: 'matrix';
  result: { metric: Record<string, string>; values: [number, string][] }[];
}
export interface QueryResponse {
  status: string;
  data: StreamsResult | MatrixResult | { resultType: 'vector' | 'scalar'; result: unknown };
}
export interface ValuesResponse {
  status: string;
  data?: string[];
}

/** A Kubernetes list of the core.kjournal API. */
export interface KubeList<T = Record<string, unknown>> {
  kind: string;
  items: T[];
  metadata?: { continue?: string };
}
