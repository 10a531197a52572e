#!/usr/bin/env python3
"""Writes the demo store's static pages (www/**/index.html) from one layout, so the header,
consent banner and footer are written once. Run it after editing this file; the pages are
committed (the worker serves www/ as it is)."""
import html
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2] / "www"

PRODUCTS = {
    "running": ("Running", "Light shoes and layers for the long run.", [
        ("RUN-1", "Tempo trainer", 129.90), ("RUN-2", "Trail racer", 149.00), ("RUN-3", "Wind shell", 89.00)]),
    "coats": ("Coats", "Waxed, down and rain coats for every weather.", [
        ("C-1", "Harbour waxed coat", 189.00), ("C-2", "Alpine down parka", 259.00), ("C-3", "City rain mac", 139.00)]),
    "tents": ("Tents", "Shelter for two, four, or a whole expedition.", [
        ("T-1", "Ridge 2 tent", 299.00), ("T-2", "Basecamp 4", 449.00)]),
    "dress": ("Dress shoes", "Leather for the office and the evening.", [
        ("D-1", "Oxford, black", 179.00), ("D-2", "Derby, brown", 169.00)]),
}

LAYOUT = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · Northwind Outfitters</title>
  <link rel="stylesheet" href="/style.css">
  <script src="/sdk/rapport.js" async></script>
  <script src="/site.js" defer></script>{head}
</head>
<body>
  <header>
    <a class="brand" href="/">Northwind Outfitters</a>
    <nav>{nav}<a href="/cart/">Cart (<span id="cart-count">0</span>)</a></nav>
    <div class="tools">
      <label><input type="checkbox" id="in-store"> I'm in the Berlin store</label>
      <form id="sign-in">
        <input name="id" placeholder="Member id" aria-label="Member id" required>
        <input name="first_name" placeholder="First name" aria-label="First name">
        <select name="tier" aria-label="Tier"><option>silver</option><option>gold</option></select>
        <button>Sign in</button>
      </form>
      <button id="support" data-rapport-track="support_chat" data-rapport-prop-topic="late delivery">Chat with support</button>
    </div>
  </header>
  <main>
    <section class="hero" data-rapport-placement="hero"><h2>Northwind Outfitters</h2></section>
{body}
  </main>
  <aside id="consent-banner" hidden>
    <p>May we personalize what you see, using what you do here? Nothing personal is kept without your yes.</p>
    <button id="consent-yes">Yes, personalize</button> <button id="consent-no">No thanks</button>
  </aside>
  <footer><small>A Rapport demo store: personalized at the edge and in your browser, consented, never pushy.
    <a href="#privacy">Privacy choices</a> · <a href="/playground/">Catalog playground</a> · <a href="/stats/">Offer stats</a> · <a href="?rapport_debug=1">Debug</a></small></footer>
</body>
</html>
"""


def nav():
    return "".join(f'<a href="/{slug}/">{html.escape(name)}</a>' for slug, (name, _, _) in PRODUCTS.items())


def product_card(category, sku, name, price):
    return f"""      <article class="product">
        <h3>{html.escape(name)}</h3><p>€{price:.2f}</p>
        <button data-rapport-track="product_view" data-rapport-prop-category="{category}" data-rapport-prop-sku="{sku}">View details</button>
        <button class="add" data-sku="{sku}" data-name="{html.escape(name)}" data-price="{price}" data-rapport-track="add_to_cart" data-rapport-prop-sku="{sku}" data-rapport-prop-category="{category}">Add to cart</button>
      </article>"""


def page(path, title, body, script=None, module=False):
    target = ROOT / path / "index.html" if path else ROOT / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    kind = ' type="module"' if module else " defer"
    head = f'\n  <script src="{script}"{kind}></script>' if script else ""
    target.write_text(LAYOUT.format(title=html.escape(title), nav=nav(), body=body, head=head))


page("", "Home", """    <section class="notice" data-rapport-placement="notice"></section>
    <h1>Gear for every trail, city and season</h1>
    <ul class="categories">
      <li><a href="/running/">Running</a></li><li><a href="/coats/">Coats</a></li>
      <li><a href="/tents/">Tents</a></li><li><a href="/dress/">Dress shoes</a></li>
    </ul>""")
for slug, (name, blurb, items) in PRODUCTS.items():
    cards = "\n".join(product_card(slug, *item) for item in items)
    page(slug, name, f"""    <h1>{html.escape(name)}</h1><p>{html.escape(blurb)}</p>
    <div class="products">
{cards}
    </div>""")
page("cart", "Cart", """    <h1>Your cart</h1>
    <ul id="cart-items"></ul>
    <p>Total: €<span id="cart-total">0.00</span></p>
    <button id="checkout">Buy now</button>
    <p id="thanks" hidden>Thank you! Your order is on its way.</p>""")
page("stats", "Offer stats", """    <h1>What the offers achieve</h1>
    <form id="stats-form"><input id="token" type="password" placeholder="Admin token" aria-label="Admin token"> <button>Show</button> <span id="status"></span></form>
    <h2>Click-through per offer</h2><p>Bars are clicks per impression; red whiskers are 95% Wilson intervals.</p>
    <div id="offers"></div>
    <h2>Experiment variants</h2>
    <div id="variants"></div>
    <h2>Per day</h2><p><span style="color:#2f5d50">impressions</span>, <span style="color:#c0392b">clicks</span>, <span style="color:#8e44ad">conversions</span></p>
    <div id="days"></div>""", script="/stats/stats.js")
page("playground", "Catalog playground", """    <h1>Catalog playground</h1>
    <p>Edit the catalog: the same core that decides at the edge checks it as you type. Pick or write a journey and run it: every decision, and why.</p>
    <div id="playground" class="playground">
      <section>
        <h2>Catalog <small id="catalog-status"></small></h2>
        <textarea id="catalog" spellcheck="false" aria-label="Catalog"></textarea>
        <ul id="errors" class="errors"></ul>
      </section>
      <section>
        <h2>Journey</h2>
        <select id="journey-pick" aria-label="Example journeys"></select>
        <input id="profile-id" placeholder="Profile id (default visitor)" aria-label="Profile id">
        <textarea id="journey" spellcheck="false" aria-label="Journey"></textarea>
        <button id="run">Run the journey</button>
        <pre id="journey-errors" class="errors"></pre>
      </section>
    </div>
    <table id="results"><thead><tr><th>When</th><th>Decision</th><th>Why not the others</th></tr></thead><tbody></tbody></table>""", script="/playground/playground.js", module=True)
