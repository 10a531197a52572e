/** An offer chosen for a placement, with its rendered content. */
export interface DecisionItem {
  offer: string;
  tags: string[];
  content: { html?: string; data?: unknown };
}

/** One decision for one placement (contract §5). */
export interface Decision {
  placement: string;
  decision_id: string;
  fallback: boolean;
  items: DecisionItem[];
  experiment: { id: string; variant: string } | null;
  error?: { type: string; message: string; path: string };
}

/** The profile view (contract §5). */
export interface ProfileView {
  attributes: Record<string, unknown>;
  computed: Record<string, unknown>;
  visits: number;
  first_seen: number | null;
  last_seen: number | null;
  audiences: Record<string, boolean>;
  consent: { personalization: 'granted' | 'denied' | 'pending' };
  identities: Record<string, string[]>;
  experiments: Record<string, string>;
}

/** An event as recorded and sent to the edge. */
export interface RapportEvent {
  id: string;
  type: string;
  ts: number;
  props: Record<string, unknown>;
  origin?: string;
  outcome?: 'applied' | 'duplicate' | 'dropped';
}

/** A Rapport instance (contract §7). */
export interface Rapport {
  /** Resolves once the core is loaded and the page's placements are rendered. */
  readonly ready: Promise<Rapport>;
  /** The bundle version deciding in this page, once ready. */
  readonly version: string | null;
  /** Events waiting to reach the edge. */
  readonly pending: number;
  /** Records a custom signal; the next decision sees it at once. */
  track(type: string, props?: Record<string, unknown>): unknown;
  /** Decides one placement locally; synchronous after `ready`. `trace` explains every offer not chosen. */
  decide(placement: string, options?: { trace?: boolean }): Decision & { trace?: { offer: string; eligible: boolean; reason: string }[] };
  /** Fills every `[data-rapport-placement]` the edge did not fill; returns the decisions made. */
  render(): Decision[];
  /** Re-decides every placement, the edge's too (after a signal that should change them). */
  refresh(): Decision[];
  /** Adds to the request context rules see, e.g. `{ store: { checked_in: true } }`. */
  setContext(more: Record<string, unknown>): Record<string, unknown>;
  /** The context local decisions use. */
  context(): Record<string, unknown>;
  /** Links an identity, with optional traits, to this profile. */
  identify(namespace: string, id: string, traits?: Record<string, unknown>): unknown;
  /** Sets personalization consent; takes effect before it returns. Returns the consent in force. */
  consent(choice: { personalization: 'granted' | 'denied' }): 'granted' | 'denied' | 'pending';
  /** The profile view. */
  profile(): ProfileView;
  /** Subscribes to `ready`, `decision` or `event`; returns an unsubscribe function. */
  on(event: 'ready' | 'decision' | 'event', fn: (detail: any) => void): () => void;
  /** Sends queued events now. */
  flush(): Promise<void>;
}

export interface RapportOptions {
  /** Where rapport_bg.wasm is served. */
  wasmUrl: string | URL;
  /** The origin of the Rapport edge API (`/v1/*`). */
  endpoint: string | URL;
  /** Record page views, SPA navigations and clicks without being asked (default true). */
  autoTrack?: boolean;
}

export function createRapport(options: RapportOptions): Rapport;

declare global {
  interface Window {
    rapport: Rapport;
  }
}
