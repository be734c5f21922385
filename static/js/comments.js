// The comments section without page reloads (docs/comments.md#pages): every form in it is posted
// with fetch and the section is replaced by the server's new HTML; "Older/Newer comments" links load
// the section alone. Without this script the same forms and links work as plain requests.
(function () {
  "use strict";

  function replaceSection(section, html, commentId) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var fresh = holder.content.firstElementChild;
    if (!fresh) return;
    section.replaceWith(fresh);
    var focus = commentId && document.getElementById("comment-" + commentId);
    if (focus) {
      focus.scrollIntoView({ block: "nearest" });
    }
    var field = fresh.querySelector("[data-focus]"); // a reply or edit form just opened
    if (field) field.focus();
  }

  function say(section, text) {
    var status = section.querySelector("[data-comment-status]");
    if (status) status.textContent = text;
  }

  // The form's fields plus the button that was pressed (the reaction buttons carry the kind).
  function formData(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    return data;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var section = form.closest && form.closest("[data-comments]");
    if (!section || form.dataset.plain) return;
    event.preventDefault();
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(form.action, {
      method: "POST",
      body: formData(form, event.submitter),
      credentials: "same-origin",
      headers: { "X-Comments": "fragment" },
    })
      .then(function (response) {
        return response.text().then(function (text) {
          if (response.ok) {
            replaceSection(section, text, response.headers.get("X-Comment-Id"));
          } else {
            buttons.forEach(function (b) { b.disabled = false; });
            say(section, text);
          }
        });
      })
      .catch(function () {
        buttons.forEach(function (b) { b.disabled = false; });
        form.dataset.plain = "1"; // the request failed: send the form the plain way
        form.requestSubmit(event.submitter || undefined);
      });
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-comments] a[data-fragment]");
    if (!link) return;
    var section = link.closest("[data-comments]");
    event.preventDefault();
    fetch(link.dataset.fragment, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var onComment = link.hash.indexOf("#comment-") === 0;
        replaceSection(section, html, onComment ? link.hash.slice(9) : null);
        var fresh = document.getElementById("comments");
        if (fresh && !onComment) fresh.scrollIntoView({ block: "start" });
      })
      .catch(function () { window.location.href = link.href; });
  });
})();
