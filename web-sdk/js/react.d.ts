import type { Decision, Rapport } from './rapport';

/** The local decision for `placement`, or null until the SDK is ready. */
export function useOffer(placement: string, rapport?: Rapport): Decision | null;
