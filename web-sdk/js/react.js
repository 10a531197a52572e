// A React hook for frontend teams: `const decision = useOffer('hero')`. React is a peer: this
// file imports it and the bundler provides it. The decision is local and re-made when a signal
// (not an impression or click) changes the profile.
import { useEffect, useState } from 'react';

export function useOffer(placement, rapport = globalThis.rapport) {
  const [decision, setDecision] = useState(null);
  useEffect(() => {
    let live = true;
    const update = () => live && setDecision(rapport.decide(placement));
    rapport.ready.then(update);
    const off = rapport.on('event', (e) => {
      if (e.type !== 'impression' && e.type !== 'click') update();
    });
    return () => {
      live = false;
      off();
    };
  }, [placement, rapport]);
  return decision;
}
