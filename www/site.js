// The demo store's own script: what a real site writes around Rapport. A cart, a consent
// banner, sign-in, the in-store toggle and the support chat button feed Rapport signals;
// after each meaningful signal the page's placements are decided again, locally.
(function () {
  const $ = (selector) => document.querySelector(selector);
  const cart = {
    items: () => JSON.parse(localStorage.getItem('demo:cart') ?? '[]'),
    save: (items) => localStorage.setItem('demo:cart', JSON.stringify(items)),
  };

  function waitForRapport() {
    return new Promise((resolve) => {
      const check = () => (window.rapport ? resolve(window.rapport) : setTimeout(check, 10));
      check();
    });
  }

  function showCart() {
    const items = cart.items();
    const count = $('#cart-count');
    if (count) count.textContent = String(items.length);
    const list = $('#cart-items');
    if (!list) return;
    list.replaceChildren(
      ...items.map((item) => {
        const li = document.createElement('li');
        li.textContent = `${item.name}, €${item.price.toFixed(2)}`;
        return li;
      }),
    );
    $('#cart-total').textContent = items.reduce((sum, i) => sum + i.price, 0).toFixed(2);
  }

  function debugPanel(rapport) {
    if (!new URLSearchParams(location.search).has('rapport_debug')) return;
    const panel = document.createElement('aside');
    panel.id = 'rapport-debug';
    document.body.append(panel);
    const draw = () => {
      const profile = rapport.profile();
      const placements = [...document.querySelectorAll('[data-rapport-placement]')].map((el) =>
        el.getAttribute('data-rapport-placement'),
      );
      const decisions = [...new Set(placements)].map((p) => rapport.decide(p, { trace: true }));
      const section = (title, value) => {
        const h = document.createElement('h4');
        h.textContent = title;
        const pre = document.createElement('pre');
        pre.textContent = JSON.stringify(value, null, 2);
        return [h, pre];
      };
      panel.replaceChildren(
        ...section('Audiences', profile.audiences),
        ...section('Profile', { ...profile, audiences: undefined }),
        ...decisions.flatMap((d) =>
          section(`Decision: ${d.placement}`, {
            shown: d.items.map((i) => i.offer),
            fallback: d.fallback,
            experiment: d.experiment,
            why_not: d.trace ?? [],
          }),
        ),
      );
    };
    draw();
    rapport.on('event', draw);
  }

  async function start() {
    const rapport = await waitForRapport();
    await rapport.ready;
    if (sessionStorage.getItem('demo:in-store')) {
      rapport.setContext({ store: { checked_in: true, id: 'berlin-mitte' } });
      $('#in-store').checked = true;
      rapport.refresh();
    }
    rapport.on('event', (e) => {
      if (!['impression', 'click', 'page_view'].includes(e.type) && e.outcome === 'applied') rapport.refresh();
    });

    const banner = $('#consent-banner');
    banner.hidden = rapport.profile().consent.personalization !== 'pending';
    $('#consent-yes').addEventListener('click', () => {
      rapport.consent({ personalization: 'granted' });
      banner.hidden = true;
      rapport.refresh();
    });
    $('#consent-no').addEventListener('click', () => {
      rapport.consent({ personalization: 'denied' });
      banner.hidden = true;
      rapport.refresh();
    });
    document.querySelectorAll('a[href="#privacy"]').forEach((a) =>
      a.addEventListener('click', (e) => {
        e.preventDefault();
        banner.hidden = false;
      }),
    );

    $('#in-store').addEventListener('change', (e) => {
      const inStore = e.target.checked;
      if (inStore) sessionStorage.setItem('demo:in-store', '1');
      else sessionStorage.removeItem('demo:in-store');
      rapport.setContext({ store: { checked_in: inStore, id: 'berlin-mitte' } });
      rapport.refresh();
    });

    $('#sign-in').addEventListener('submit', (e) => {
      e.preventDefault();
      const form = new FormData(e.target);
      const traits = { tier: form.get('tier') };
      if (form.get('first_name')) traits.first_name = form.get('first_name');
      rapport.identify('crm', String(form.get('id')), traits);
    });

    document.querySelectorAll('button.add').forEach((button) =>
      button.addEventListener('click', () => {
        const { sku, name, price } = button.dataset;
        cart.save([...cart.items(), { sku, name, price: Number(price) }]);
        showCart();
      }),
    );
    const checkout = $('#checkout');
    if (checkout) {
      checkout.addEventListener('click', () => {
        const items = cart.items();
        if (!items.length) return;
        const total = Math.round(items.reduce((sum, i) => sum + i.price, 0) * 100) / 100;
        rapport.track('purchase', { total, skus: items.map((i) => i.sku) });
        cart.save([]);
        showCart();
        $('#thanks').hidden = false;
      });
    }
    showCart();
    debugPanel(rapport);
  }

  start();
})();
