// The wildcard "try it" box on a Wildcards model's page: sends the template to
// POST /api/hub/wildcards/expand with this pack and any packs picked by name, and lists the prompts.
// All text from the server goes in with textContent, never as HTML.
(function () {
  "use strict";
  const gettext = window.gettext || ((text) => text); // the catalog at /jsi18n/ (docs/i18n.md)
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const interpolate = window.interpolate || ((text, values) => text.replace(/%\((\w+)\)s/g, (m, key) => values[key]));
  if (window.hubWildcardsBound) return; // the panel (and this script) appear once per version
  window.hubWildcardsBound = true;

  function jsonHeaders(form) {
    // The token is on the panel, not in the form: without JavaScript the form is a GET (no token in URLs).
    const panel = form.closest("[data-csrf]");
    return { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": panel ? panel.dataset.csrf : "" };
  }

  function bind(form) {
    const own = Number(form.dataset.versionId);
    const chosen = new Map(); // version id -> label
    const errorBox = form.querySelector("[data-testid=wildcard-error]");
    const countBox = form.querySelector("[data-testid=wildcard-count]");
    const output = form.querySelector("[data-testid=wildcard-prompts]");
    const results = form.querySelector("[data-testid=wildcard-pack-results]");
    const chosenList = form.querySelector("[data-testid=wildcard-packs-chosen]");
    const query = form.querySelector("[name=pack_query]");

    function showChosen() {
      chosenList.replaceChildren();
      chosen.forEach((label, id) => {
        const li = document.createElement("li");
        li.textContent = label + " ";
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "secondary";
        remove.textContent = "remove";
        remove.addEventListener("click", () => { chosen.delete(id); showChosen(); });
        li.appendChild(remove);
        chosenList.appendChild(li);
      });
    }

    let timer = null;
    query.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        results.replaceChildren();
        const q = query.value.trim();
        if (!q) return;
        const response = await fetch(`/api/hub/wildcards/packs?q=${encodeURIComponent(q)}`, { headers: { Accept: "application/json" } });
        if (!response.ok) return;
        (await response.json()).filter((p) => p.version_id !== own).forEach((pack) => {
          const li = document.createElement("li");
          const add = document.createElement("button");
          add.type = "button";
          add.className = "secondary";
          add.dataset.testid = "wildcard-add-pack";
          add.textContent = `add ${pack.model_name} (${pack.version_name})`;
          add.addEventListener("click", () => {
            chosen.set(pack.version_id, `${pack.model_name} (${pack.version_name})`);
            showChosen();
            results.replaceChildren();
            query.value = "";
          });
          li.appendChild(add);
          results.appendChild(li);
        });
      }, 250);
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errorBox.hidden = true;
      countBox.hidden = true;
      output.replaceChildren();
      const data = new FormData(form);
      const body = {
        template: data.get("template"),
        version_ids: [own, ...chosen.keys()],
        mode: data.get("mode"),
        count: Number(data.get("count") || 5),
        with_count: data.get("with_count") === "on",
      };
      if (data.get("seed") !== "") body.seed = Number(data.get("seed"));
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const response = await fetch("/api/hub/wildcards/expand", { method: "POST", headers: jsonHeaders(form), body: JSON.stringify(body) });
        const answer = await response.json().catch(() => ({ detail: interpolate(gettext("The hub answered %(status)s."), { status: response.status }, true) }));
        if (!response.ok) {
          const detail = answer.detail || Object.entries(answer).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ");
          errorBox.textContent = detail;
          errorBox.hidden = false;
          return;
        }
        answer.prompts.forEach((prompt) => {
          const li = document.createElement("li");
          li.textContent = prompt;
          output.appendChild(li);
        });
        const notes = [];
        if (answer.seed !== null && answer.seed !== undefined) notes.push(interpolate(gettext("seed %(seed)s"), { seed: answer.seed }, true));
        if (answer.combinatorial_count !== null && answer.combinatorial_count !== undefined) {
          notes.push(answer.combinatorial_count_more
            ? interpolate(gettext("more than %(count)s combinations"), { count: answer.combinatorial_count.toLocaleString(document.documentElement.lang) }, true)
            : interpolate(ngettext("%(count)s combination", "%(count)s combinations", answer.combinatorial_count), { count: answer.combinatorial_count.toLocaleString(document.documentElement.lang) }, true));
        }
        if (answer.missing && answer.missing.length) notes.push(interpolate(gettext("not in these packs: %(names)s"), { names: answer.missing.map((m) => `__${m}__`).join(", ") }, true));
        countBox.textContent = notes.join(" · ");
        countBox.hidden = !notes.length;
      } catch (err) {
        errorBox.textContent = gettext("The hub could not be reached; try again.");
        errorBox.hidden = false;
      } finally {
        button.disabled = false;
      }
    });
  }

  function start() { document.querySelectorAll("form.wildcard-try").forEach(bind); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
