/* Site-wide behaviour. Served as a static file so that a strict Content-Security-Policy
   (no inline script) holds. Every page works without it. */
(function () {
  "use strict";
  function navMenu() {
    var bar = document.getElementById("topbar");
    var toggle = bar && bar.querySelector(".nav-toggle");
    if (!toggle) return;
    // Narrow screens: the nav collapses into a menu button (CSS decides when, via .js-nav).
    bar.classList.add("js-nav");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = bar.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  function revealWithOffer() {
    // Sub-fields of an offer (data-shown-by="<checkbox id>") show only while it is ticked.
    var blocks = document.querySelectorAll("[data-shown-by]");
    Array.prototype.forEach.call(blocks, function (block) {
      var box = document.getElementById(block.getAttribute("data-shown-by"));
      if (!box) return;
      function sync() { block.hidden = !box.checked; }
      box.addEventListener("change", sync);
      sync();
    });
  }
  function extendPreview() {
    // T6: show the resulting end date as the partner picks (the Preview button does the same
    // without JavaScript). Messages come translated in data attributes.
    var form = document.getElementById("extend-form");
    if (!form) return;
    var box = document.getElementById("extend-preview");
    var d = form.dataset;
    function parse(s) { var p = s.split("-"); return new Date(Date.UTC(+p[0], +p[1] - 1, +p[2])); }
    function para(text, cls, id) {
      var p = document.createElement("p");
      if (cls) p.className = cls;
      if (id) p.id = id;
      p.textContent = text;
      return p;
    }
    function update() {
      var picked = form.querySelector("input[name=days]:checked");
      if (!picked) return;
      var end = parse(d.today);
      end.setUTCDate(end.getUTCDate() + parseInt(picked.value, 10));
      var iso = end.toISOString().slice(0, 10);
      box.textContent = "";
      var p = para(d.msgEnd + " ");
      var strong = document.createElement("strong");
      strong.id = "new-end";
      // The server formats each possible end date (one date format per locale).
      strong.textContent = d["end-" + picked.value] || iso;
      p.appendChild(strong);
      p.appendChild(document.createTextNode("."));
      box.appendChild(p);
      if (iso < d.currentEnd) box.appendChild(para(d.msgShort, "msg msg-warning", "shorten-warning"));
      // T7: past the 120-day cap is refused; inside it, a device trial's extension is a request.
      if (d.cap && iso > d.cap) box.appendChild(para(d.msgCap, "msg msg-warning", "cap-warning"));
      else if (d.cap) box.appendChild(para(d.msgAsk, "msg", "approval-note"));
    }
    form.addEventListener("change", update);
    update();
  }
  function bulkPage() {
    // Bulk actions: "Select this page" ticks every row's box (without JavaScript, tick them
    // one by one or use "select all matching").
    var page = document.getElementById("bulk-page");
    if (!page) return;
    page.hidden = false;
    page.parentNode.hidden = false;
    page.addEventListener("change", function () {
      var boxes = document.querySelectorAll("input.bulk-pick");
      Array.prototype.forEach.call(boxes, function (box) { box.checked = page.checked; });
    });
  }
  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }
  ready(function () { navMenu(); revealWithOffer(); extendPreview(); bulkPage(); });
})();
