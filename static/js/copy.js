// Copy buttons: <button data-copy="text">Copy</button> puts the text on the clipboard
// (trigger words on model pages, a new API key on the settings page).
(function () {
  "use strict";
  const gettext = window.gettext || ((text) => text); // the catalog at /jsi18n/ (docs/i18n.md)
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const interpolate = window.interpolate || ((text, values) => text.replace(/%\((\w+)\)s/g, (m, key) => values[key]));
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      button.textContent = gettext("Copied");
    } catch (e) {
      button.textContent = gettext("Select and copy");
    }
    setTimeout(() => { button.textContent = gettext("Copy"); }, 1500);
  });
})();
