// The model page: versions as tabs (every version stays in the page and is linkable by #version-id).
// Copy buttons for trigger words are in copy.js.
(function () {
  "use strict";
  const tabs = Array.from(document.querySelectorAll(".version-tabs [data-tab]"));
  function show(id) {
    tabs.forEach((tab) => tab.setAttribute("aria-selected", String(tab.dataset.tab === id)));
    document.querySelectorAll("section.version").forEach((panel) => { panel.hidden = panel.id !== id; });
  }
  if (tabs.length) {
    tabs.forEach((tab) => tab.addEventListener("click", (event) => {
      event.preventDefault();
      show(tab.dataset.tab);
      history.replaceState(null, "", `#${tab.dataset.tab}`);
    }));
    const wanted = window.location.hash.slice(1);
    show(tabs.some((t) => t.dataset.tab === wanted) ? wanted : tabs[0].dataset.tab);
  }
})();
