// Live processing status: every table with data-files-url is refreshed from the hub's small JSON
// endpoint while one of its files is still uploading or being processed. No page reloads.
(function () {
  "use strict";
  const gettext = window.gettext || ((text) => text); // the catalog at /jsi18n/ (docs/i18n.md)
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const interpolate = window.interpolate || ((text, values) => text.replace(/%\((\w+)\)s/g, (m, key) => values[key]));
  const POLL_MS = 2000;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function humanSize(bytes) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let n = bytes, i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
  }

  function statusCell(file) {
    const cell = el("td", { class: "file-status" });
    const label = file.status === "processing" && file.progress ? `${file.status_label} ${file.progress}%` : file.status_label;
    cell.appendChild(el("span", { class: `status status-${file.status}`, "data-status": file.status }, label));
    if (file.status === "processing") {
      const bar = el("progress", { max: "100", value: String(file.progress || 0) });
      cell.appendChild(bar);
    }
    if (file.status_message) cell.appendChild(el("small", { class: "status-message" }, file.status_message));
    (file.hints || []).forEach((hint) => cell.appendChild(el("small", { class: "hint" }, hint)));
    if (file.scan_message && file.status !== "ready") {
      const details = el("details", { class: "scan-report" });
      details.appendChild(el("summary", {}, gettext("Scan report")));
      details.appendChild(el("pre", {}, file.scan_message));
      cell.appendChild(details);
    }
    if (file.duplicate) cell.appendChild(el("small", { class: "muted" }, gettext("Identical to a file already on the hub: stored once.")));
    return cell;
  }

  function copyable(ariaLabel, value, data) {
    const dd = el("dd", {});
    dd.appendChild(el("code", data, value));
    dd.appendChild(document.createTextNode(" "));
    dd.appendChild(el("button", { type: "button", class: "copy", "data-copy": value, "aria-label": ariaLabel }, gettext("Copy")));
    return dd;
  }

  // The creator's Remove / Make primary buttons (data-manage-base on the table): plain forms to the
  // pages' POST views, as the server renders them.
  function actionForm(table, file, action, label, cls, testid) {
    const form = el("form", { method: "post", action: `${table.dataset.manageBase}/files/${file.id}/${action}` });
    form.appendChild(el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: table.dataset.csrf }));
    form.appendChild(el("input", { type: "hidden", name: "next", value: table.dataset.next || "" }));
    form.appendChild(el("button", { type: "submit", class: cls, "data-testid": `${testid}-${file.id}` }, label));
    return form;
  }

  function actions(table, file) {
    const cell = el("td", { class: "file-actions" });
    if (file.status === "ready" && !file.primary && file.type !== "Image") {
      cell.appendChild(actionForm(table, file, "primary", gettext("Make primary"), "secondary", "primary"));
    }
    const label = file.status === "uploading" ? gettext("Cancel upload") : gettext("Remove");
    cell.appendChild(actionForm(table, file, "delete", label, "danger", "remove"));
    return cell;
  }

  // The same cells as templates/models_app/_files_table.html.
  function row(file, table) {
    const tr = el("tr", { "data-file-id": String(file.id) });
    const name = el("td", { class: "file-name" }, file.name);
    if (file.primary) {
      name.appendChild(document.createTextNode(" "));
      name.appendChild(el("span", { class: "badge" }, gettext("primary")));
    }
    if (file.detected_summary) name.appendChild(el("small", { class: "detected" }, interpolate(gettext("Detected: %(summary)s"), { summary: file.detected_summary }, true)));
    tr.appendChild(name);
    tr.appendChild(el("td", {}, humanSize(file.size)));
    const format = [file.format_label || file.format, file.fp, file.size_variant].filter(Boolean).join(" · ");
    tr.appendChild(el("td", {}, format));
    tr.appendChild(statusCell(file));
    const hash = el("td", { class: "hash" });
    if (file.hashes) {
      const list = el("dl", { class: "hashes" });
      list.appendChild(el("dt", {}, "AutoV2"));
      list.appendChild(copyable(interpolate(gettext("Copy the AutoV2 of %(name)s"), { name: file.name }, true), file.hashes.AutoV2, { "data-autov2": file.hashes.AutoV2 }));
      list.appendChild(el("dt", {}, "SHA256"));
      list.appendChild(copyable(interpolate(gettext("Copy the SHA256 of %(name)s"), { name: file.name }, true), file.hashes.SHA256, { class: "sha256", "data-sha256": file.hashes.SHA256 }));
      hash.appendChild(list);
    } else {
      hash.appendChild(el("span", { class: "muted" }, gettext("not yet computed")));
    }
    tr.appendChild(hash);
    const download = el("td", { class: "file-download" });
    if (file.status === "ready") {
      download.appendChild(el("a", { class: "button download", href: `/api/download/models/${file.version_id}?fileId=${file.id}`, "data-testid": `download-${file.id}` }, gettext("Download")));
    }
    tr.appendChild(download);
    if (table.dataset.manageBase) tr.appendChild(actions(table, file));
    return tr;
  }

  async function refresh(table) {
    const response = await fetch(table.dataset.filesUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) return true;
    const data = await response.json();
    const body = table.tBodies[0];
    body.replaceChildren(...data.files.map((file) => row(file, table)));
    if (!data.files.length) {
      const empty = el("tr", {});
      empty.appendChild(el("td", { colspan: table.dataset.manageBase ? "7" : "6", class: "muted" }, gettext("No files yet.")));
      body.appendChild(empty);
    }
    table.dispatchEvent(new CustomEvent("files-updated", { detail: data.files }));
    return data.files.some((f) => !f.finished);
  }

  function watch(table) {
    let timer = null;
    const tick = async () => {
      let again = true;
      try { again = await refresh(table); } catch (e) { again = true; }
      if (again || table.dataset.alwaysPoll) timer = setTimeout(tick, POLL_MS);
      else timer = null;
    };
    table.hubRefresh = () => { if (timer) clearTimeout(timer); tick(); };
    // The server drew the rows: poll only while one of them is still changing, so a finished table is
    // never redrawn under the visitor's finger (or a test's click).
    const changing = table.querySelector('[data-status="uploading"], [data-status="pending"], [data-status="processing"]');
    if (changing || table.dataset.alwaysPoll) tick();
  }

  window.hubFileStatus = { refresh: (table) => table && table.hubRefresh && table.hubRefresh() };
  document.querySelectorAll("table[data-files-url]").forEach(watch);
})();
