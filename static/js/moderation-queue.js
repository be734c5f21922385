// The moderation queue's keyboard (docs/moderation.md#the-queue): j/k move between rows, x selects
// the current row, Enter opens it, d/h/r dismiss/hide/remove the selected rows (the current row when
// none is selected) with the reason typed above. A file, not an inline script: the CSP allows none.
(function () {
  "use strict";
  var form = document.getElementById("mod-bulk");
  if (!form) return;
  var rows = Array.prototype.slice.call(form.querySelectorAll(".mod-row"));
  var actionSelect = document.getElementById("mod-bulk-action");
  var reason = document.getElementById("mod-bulk-reason");
  var current = -1;
  var keys = { d: "dismiss", h: "hide", r: "remove" };

  function focusRow(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (row, j) { row.classList.toggle("current", j === current); });
    rows[current].focus();
  }

  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" && event.target.type !== "checkbox") return;
    if (tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) return;
    var key = event.key;
    if (key === "j") { focusRow(current + 1); event.preventDefault(); }
    else if (key === "k") { focusRow(current - 1); event.preventDefault(); }
    else if (key === "x" && current >= 0) {
      var box = rows[current].querySelector("input[type=checkbox]");
      box.checked = !box.checked;
      event.preventDefault();
    } else if (key === "Enter" && current >= 0 && tag !== "input") {
      rows[current].querySelector("a.mod-open").click();
      event.preventDefault();
    } else if (keys[key]) {
      var selected = form.querySelectorAll("input[name=target]:checked");
      if (!selected.length && current >= 0) rows[current].querySelector("input[type=checkbox]").checked = true;
      if (!form.querySelectorAll("input[name=target]:checked").length) return;
      actionSelect.value = keys[key];
      event.preventDefault();
      if (!reason.value.trim()) { reason.focus(); return; }  // a decision always carries its reason
      form.requestSubmit ? form.requestSubmit() : form.submit();
    }
  });
})();
