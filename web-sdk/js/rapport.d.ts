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

/** A Rapport instance (contract §7; the rest of the API arrives with the Browser SDK issue). */
export interface Rapport {
  /** Resolves once the core is loaded and the page's placements are rendered. */
  readonly ready: Promise<Rapport>;
  /** The bundle version deciding in this page, once ready. */
  readonly version: string | null;
  /** Decides one placement locally; synchronous after `ready`. */
  decide(placement: string): Decision;
  /** Fills every `[data-rapport-placement]` the edge did not fill; returns the decisions made. */
  render(): Decision[];
}

export interface RapportOptions {
  /** Where rapport_bg.wasm is served. */
  wasmUrl: string | URL;
  /** The origin of the Rapport edge API (`/v1/*`). */
  endpoint: string | URL;
}

export function createRapport(options: RapportOptions): Rapport;

declare global {
  interface Window {
    rapport: Rapport;
  }
}
