// "Load more" fetches the next cards (same URL, cursor included) and appends them in place, so the
// page stays shareable and works without JavaScript as plain links.
(function () {
  "use strict";
  const gettext = window.gettext || ((text) => text); // the catalog at /jsi18n/ (docs/i18n.md)
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const interpolate = window.interpolate || ((text, values) => text.replace(/%\((\w+)\)s/g, (m, key) => values[key]));
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("[data-load-more]");
    if (!link) return;
    event.preventDefault();
    link.textContent = gettext("Loading…");
    const url = new URL(link.href, window.location.href);
    url.searchParams.set("fragment", "cards");
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) { link.textContent = gettext("Could not load more; try again"); return; }
    const holder = document.createElement("div");
    holder.innerHTML = await response.text();
    link.replaceWith(...holder.childNodes);
  });
})();
