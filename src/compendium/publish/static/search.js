// The compendium's site search: MiniSearch over window.compendiumSearchDocs (search-index.js).
// Results are built with textContent only: no text from the index is parsed as HTML.
(function () {
  "use strict";
  var form = document.getElementById("compendium-search");
  var input = document.getElementById("compendium-q");
  var out = document.getElementById("compendium-search-results");
  var docs = window.compendiumSearchDocs;
  if (!form || !input || !out || !docs || typeof MiniSearch === "undefined") { return; }
  // The words of the results' heading, in the page's language: the sidebar carries them
  // (data-* attributes, from the message catalogue), "few"/"many" as Polish plurals need.
  var words = {none: out.getAttribute("data-none"), one: out.getAttribute("data-one"),
               few: out.getAttribute("data-few"), many: out.getAttribute("data-many")};
  function counted(n) {
    var few = n % 10 >= 2 && n % 10 <= 4 && !(n % 100 >= 12 && n % 100 <= 14);
    return n + " " + (n === 1 ? words.one : few ? words.few : words.many);
  }
  function fold(term) {
    return term.normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/\u0142/g, "l").replace(/\u0141/g, "L").toLowerCase();
  }
  var index = new MiniSearch({
    fields: ["page", "section", "text"],
    storeFields: ["href", "page", "section", "text"],
    processTerm: function (term) { return fold(term); },
    searchOptions: {prefix: true, fuzzy: 0.15, combineWith: "AND", boost: {page: 3, section: 2}}
  });
  index.addAll(docs);
  function snippet(text, terms) {
    var folded = fold(text), at = -1;
    for (var i = 0; i < terms.length && at < 0; i++) { at = folded.indexOf(fold(terms[i])); }
    var start = Math.max(0, at - 60);
    return (start > 0 ? "\u2026" : "") + text.slice(start, start + 180) +
      (start + 180 < text.length ? "\u2026" : "");
  }
  function show() {
    var q = input.value.trim();
    out.textContent = "";
    if (q.length < 2) { out.hidden = true; return; }
    var hits = index.search(q).slice(0, 20);
    var head = document.createElement("p");
    head.className = "compendium-search-count";
    head.textContent = hits.length ? counted(hits.length) + " \u201c" + q + "\u201d"
      : words.none + " \u201c" + q + "\u201d";
    out.appendChild(head);
    var list = document.createElement("ol");
    hits.forEach(function (hit) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = hit.href;
      a.textContent = hit.page + (hit.section !== hit.page ? " \u203a " + hit.section : "");
      var p = document.createElement("p");
      p.textContent = snippet(hit.text, hit.terms);
      li.appendChild(a); li.appendChild(p); list.appendChild(li);
    });
    out.appendChild(list);
    out.hidden = false;
  }
  form.addEventListener("submit", function (event) { event.preventDefault(); show(); });
  input.addEventListener("input", show);
  var q = new URLSearchParams(window.location.search).get("q");
  if (q) { input.value = q; show(); }
})();
