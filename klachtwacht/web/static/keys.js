/* klachtwacht: single-key shortcuts on top of plain forms (everything works without this file).
   1/2/3 choose klacht/beleidsvraag/overig, n opens the next message, ? shows the help.
   Off when <body data-sneltoetsen="uit"> (WCAG 2.1.4) and never while typing in a field. */
(function () {
  "use strict";
  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || target.isContentEditable) return true;
    if (tag !== "input") return false;
    var type = (target.getAttribute("type") || "text").toLowerCase();
    return ["radio", "checkbox", "submit", "button", "reset"].indexOf(type) < 0;
  }
  function nextLink() {
    return document.getElementById("kw-volgende") || document.querySelector("#wachtrij a.kw-open");
  }
  document.addEventListener("keydown", function (event) {
    if (document.body.getAttribute("data-sneltoetsen") !== "aan") return;
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var help = document.getElementById("kw-help");
    if (event.key === "?") {
      if (!help) return;
      event.preventDefault();
      if (help.open) { help.close(); } else { help.showModal(); }
      return;
    }
    if (help && help.open) return;
    if (event.key === "1" || event.key === "2" || event.key === "3") {
      var radio = document.querySelector('input[type="radio"][data-key="' + event.key + '"]');
      if (!radio) return;
      event.preventDefault();
      radio.checked = true;
      radio.focus();
      var follow = radio.value === "beleidsvraag" ? document.getElementById("beantwoorder")
        : radio.value === "overig" ? document.getElementById("soort-overig") : null;
      if (follow && !follow.value) follow.focus();
      return;
    }
    if (event.key === "n") {
      var link = nextLink();
      if (link) { event.preventDefault(); window.location.assign(link.href); }
    }
  });
}());
