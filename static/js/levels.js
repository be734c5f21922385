// Content above the viewer's levels, listed blurred: <button data-reveal> un-blurs the card, version or
// image it sits in (docs/moderation.md#nsfw-levels). A static file: the CSP allows no inline script.
(function () {
  "use strict";
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-reveal]");
    if (!button) return;
    const blurred = button.closest(".blurred");
    if (blurred) blurred.classList.remove("blurred");
    button.remove();
  });
})();
