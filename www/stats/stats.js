// The offer stats page: what the offers achieve, from GET /v1/admin/stats (admin token), drawn
// as plain SVG. Click-through per offer with 95% Wilson intervals, the split of each
// experiment's variants, and a daily time series.
(function () {
  const $ = (s) => document.querySelector(s);
  const NS = 'http://www.w3.org/2000/svg';

  /** 95% Wilson score interval for k successes in n trials. */
  function wilson(k, n) {
    if (!n) return [0, 0, 0];
    const z = 1.96;
    const p = k / n;
    const d = 1 + (z * z) / n;
    const centre = (p + (z * z) / (2 * n)) / d;
    const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
    return [p, Math.max(0, centre - half), Math.min(1, centre + half)];
  }

  function svg(width, height) {
    const el = document.createElementNS(NS, 'svg');
    el.setAttribute('viewBox', `0 0 ${width} ${height}`);
    el.setAttribute('width', width);
    el.setAttribute('height', height);
    return el;
  }

  function add(parent, name, attrs, text) {
    const el = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    parent.append(el);
    return el;
  }

  /** Horizontal bars of click-through with interval whiskers, one row per label. */
  function rateChart(rows) {
    const width = 640;
    const rowH = 28;
    const left = 200;
    const max = Math.max(0.05, ...rows.map((r) => r.ci[2]));
    const x = (v) => left + (v / max) * (width - left - 60);
    const chart = svg(width, rows.length * rowH + 24);
    rows.forEach((r, i) => {
      const y = i * rowH + 8;
      add(chart, 'text', { x: 0, y: y + 14, 'font-size': 12 }, r.label);
      add(chart, 'rect', { x: left, y, width: Math.max(1, x(r.ci[0]) - left), height: 18, fill: '#2f5d50', class: 'bar' });
      add(chart, 'line', { x1: x(r.ci[1]), x2: x(r.ci[2]), y1: y + 9, y2: y + 9, stroke: '#c0392b', 'stroke-width': 2, class: 'ci' });
      add(chart, 'text', { x: x(r.ci[2]) + 6, y: y + 14, 'font-size': 11 }, `${(100 * r.ci[0]).toFixed(1)}% of ${r.n}`);
    });
    return chart;
  }

  /** Daily lines for impressions, clicks and conversions. */
  function timeSeries(days) {
    const width = 640;
    const height = 200;
    const dates = Object.keys(days).sort();
    const chart = svg(width, height + 30);
    if (!dates.length) return chart;
    const max = Math.max(1, ...dates.flatMap((d) => [days[d].impressions ?? 0]));
    const x = (i) => 40 + (dates.length === 1 ? 0 : (i / (dates.length - 1)) * (width - 60));
    const y = (v) => height - (v / max) * (height - 20);
    const colours = { impressions: '#2f5d50', clicks: '#c0392b', conversions: '#8e44ad' };
    for (const [kind, colour] of Object.entries(colours)) {
      const points = dates.map((d, i) => `${x(i)},${y(days[d][kind] ?? 0)}`).join(' ');
      add(chart, 'polyline', { points, fill: 'none', stroke: colour, 'stroke-width': 2, class: `series ${kind}` });
      dates.forEach((d, i) => add(chart, 'circle', { cx: x(i), cy: y(days[d][kind] ?? 0), r: 3, fill: colour }));
    }
    add(chart, 'text', { x: 40, y: height + 20, 'font-size': 11 }, dates[0]);
    add(chart, 'text', { x: width - 80, y: height + 20, 'font-size': 11 }, dates[dates.length - 1]);
    return chart;
  }

  async function load() {
    const token = $('#token').value || sessionStorage.getItem('demo:admin-token') || '';
    sessionStorage.setItem('demo:admin-token', token);
    const r = await fetch('/v1/admin/stats', { headers: { authorization: `Bearer ${token}` } });
    if (!r.ok) {
      $('#status').textContent = r.status === 401 ? 'That token is not the admin token.' : `Error ${r.status}`;
      return;
    }
    const stats = await r.json();
    $('#status').textContent = '';
    const offers = Object.entries(stats.offers ?? {}).map(([id, c]) => ({
      label: id,
      n: c.impressions,
      ci: wilson(Math.min(c.clicks, c.impressions), c.impressions),
    }));
    $('#offers').replaceChildren(rateChart(offers));
    const experiments = Object.entries(stats.experiments ?? {}).flatMap(([exp, variants]) => {
      const total = Object.values(variants).reduce((s, v) => s + v.impressions, 0);
      return Object.entries(variants).map(([variant, c]) => ({
        label: `${exp} / ${variant} (${total ? Math.round((100 * c.impressions) / total) : 0}% of impressions)`,
        n: c.impressions,
        ci: wilson(Math.min(c.clicks, c.impressions), c.impressions),
      }));
    });
    $('#variants').replaceChildren(rateChart(experiments));
    $('#days').replaceChildren(timeSeries(stats.days ?? {}));
  }

  $('#stats-form').addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  if (sessionStorage.getItem('demo:admin-token')) load();
})();
