// Search as you type: the header box shows the best matches under it while you type.
(function () {
  "use strict";
  const form = document.querySelector("form.search");
  if (!form) return;
  const input = form.querySelector("input[name=q]");
  const box = document.createElement("div");
  box.className = "suggestions-box";
  box.setAttribute("data-testid", "search-suggestions");
  form.appendChild(box);
  let timer = null, last = "";
  input.setAttribute("autocomplete", "off");
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (q === last) return;
      last = q;
      if (q.length < 2) { box.innerHTML = ""; return; }
      const response = await fetch(`/search/?fragment=suggestions&q=${encodeURIComponent(q)}`);
      if (response.ok && input.value.trim() === q) box.innerHTML = await response.text();
    }, 200);
  });
  document.addEventListener("click", (event) => { if (!form.contains(event.target)) box.innerHTML = ""; });
})();
