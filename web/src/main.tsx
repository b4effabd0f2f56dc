/**
 * @module The kjournal web page (issue 18): the shell (views, URL state, the token dialog) and the
 * views. Served by `kjournal serve` at `/` and `/ui/` (src/api/ui/static.ts), built by web/build.mjs.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getToken, onUnauthorized, setToken } from './api.ts';
import { Explore } from './explore.tsx';
import { Audit, Events, Pods } from './kube.tsx';
import { readState, type UrlState, VIEWS, type View, writeState } from './state.ts';
import { Tail } from './tail.tsx';
import { Timeline } from './timeline.tsx';

function TokenDialog({ reason, onDone }: { reason: string; onDone(): void }) {
  const [token, setText] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <div class="modal-backdrop">
      <div role="dialog" aria-modal="true" aria-labelledby="token-title" class="modal-frame">
        <form
          class="modal"
          data-testid="token-dialog"
          onSubmit={(e) => {
            e.preventDefault();
            setToken(token.trim());
            onDone();
          }}
        >
          <h2 id="token-title">Sign in</h2>
          <p>
            This server wants a bearer token ({reason}). It is kept for this browser tab only (sessionStorage)
            and sent to this server alone.
          </p>
          <label>
            Token{' '}
            <input
              type="password"
              ref={input}
              data-testid="token"
              autocomplete="off"
              value={token}
              onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <button type="submit" class="primary" data-testid="sign-in">
            Sign in
          </button>
        </form>
      </div>
    </div>
  );
}

function App() {
  const [state, setState] = useState<UrlState>(readState);
  const [auth, setAuth] = useState<string | undefined>();
  const [epoch, setEpoch] = useState(0);
  const [signedIn, setSignedIn] = useState(getToken() !== '');

  useEffect(() => {
    const onPop = () => setState(readState());
    addEventListener('popstate', onPop);
    const off = onUnauthorized((_s, message) =>
      setAuth(getToken() ? `the token was refused: ${message}` : 'none given yet'),
    );
    // The first screen is up: the browser test prints this.
    (window as unknown as { kjournalFirstScreen: number }).kjournalFirstScreen = performance.now();
    return () => {
      removeEventListener('popstate', onPop);
      off();
    };
  }, []);

  const update = (patch: Partial<UrlState>, push = false): void => {
    setState((old) => {
      const next = { ...old, ...patch };
      writeState(next, push || (patch.view !== undefined && patch.view !== old.view));
      return next;
    });
  };

  const props = { state, update };
  const views: Record<View, () => preact.JSX.Element> = {
    explore: () => <Explore {...props} />,
    tail: () => <Tail {...props} />,
    pods: () => <Pods {...props} />,
    events: () => <Events {...props} />,
    audit: () => <Audit {...props} />,
    timeline: () => <Timeline {...props} />,
  };
  return (
    <>
      <header class="top">
        <a class="brand" href="/ui/">
          kjournal
        </a>
        <nav aria-label="Views">
          {VIEWS.map(([v, label]) => (
            <button
              key={v}
              type="button"
              class={`tab${state.view === v ? ' active' : ''}`}
              aria-current={state.view === v ? 'page' : undefined}
              data-testid={`tab-${v}`}
              onClick={() => update({ view: v }, true)}
            >
              {label}
            </button>
          ))}
        </nav>
        <span class="spacer" />
        {signedIn && (
          <button
            type="button"
            class="small"
            onClick={() => {
              setToken('');
              setSignedIn(false);
              setEpoch((n) => n + 1);
            }}
          >
            Sign out
          </button>
        )}
      </header>
      <main key={epoch}>{views[state.view]()}</main>
      {auth && (
        <TokenDialog
          reason={auth}
          onDone={() => {
            setAuth(undefined);
            setSignedIn(getToken() !== '');
            setEpoch((n) => n + 1);
          }}
        />
      )}
    </>
  );
}

render(<App />, document.getElementById('app')!);
