// Pan (drag) and zoom (wheel, buttons) a workflow graph by changing its SVG viewBox (docs/workflows.md).
(function () {
  "use strict";
  function parseBox(svg) {
    return svg.getAttribute("viewBox").split(/\s+/).map(Number);
  }
  function setBox(svg, box) {
    svg.setAttribute("viewBox", box.map(function (v) { return Math.round(v * 10) / 10; }).join(" "));
  }
  function zoom(svg, factor, cx, cy) {
    var b = parseBox(svg);
    var w = b[2] * factor, h = b[3] * factor;
    var fx = cx === undefined ? 0.5 : cx, fy = cy === undefined ? 0.5 : cy;
    setBox(svg, [b[0] + (b[2] - w) * fx, b[1] + (b[3] - h) * fy, w, h]);
  }
  function init(root) {
    if (root.dataset.wfReady) return;
    root.dataset.wfReady = "1";
    var svg = root.querySelector("svg.wf-svg");
    if (!svg) return;
    var initial = svg.getAttribute("viewBox");
    root.querySelectorAll("[data-wf-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var action = button.dataset.wfZoom;
        if (action === "reset") svg.setAttribute("viewBox", initial);
        else zoom(svg, action === "in" ? 0.8 : 1.25);
      });
    });
    svg.addEventListener("wheel", function (event) {
      event.preventDefault();
      var rect = svg.getBoundingClientRect();
      zoom(svg, event.deltaY < 0 ? 0.9 : 1.1,
        (event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height);
    }, { passive: false });
    var drag = null;
    svg.addEventListener("pointerdown", function (event) {
      drag = { x: event.clientX, y: event.clientY, box: parseBox(svg) };
      svg.setPointerCapture(event.pointerId);
      svg.classList.add("wf-dragging");
    });
    svg.addEventListener("pointermove", function (event) {
      if (!drag) return;
      var rect = svg.getBoundingClientRect();
      var scale = Math.max(drag.box[2] / rect.width, drag.box[3] / rect.height);
      setBox(svg, [drag.box[0] - (event.clientX - drag.x) * scale,
        drag.box[1] - (event.clientY - drag.y) * scale, drag.box[2], drag.box[3]]);
    });
    function end() { drag = null; svg.classList.remove("wf-dragging"); }
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);
  }
  function start() { document.querySelectorAll(".wf-graph").forEach(init); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
